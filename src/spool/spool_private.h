/*
 * spool_private.h - what the spool's own files share (not for callers).
 */
#ifndef TENANTRELAY_SPOOL_PRIVATE_H
#define TENANTRELAY_SPOOL_PRIVATE_H

#include <pthread.h>

#include "tenantrelay/spool.h"

struct spool {
    char *dir;
    int queue_fd;               /* queue/, kept open to fsync it */
    int tmp_fd;                 /* tmp/ */
    pthread_mutex_t lock;       /* guards seq */
    unsigned seq;
};

void spool_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int spool_fsync_dir(int fd, const char *what, char *err, size_t errlen);
int spool_tenant_source_parse(const char *name);
/* Write all of buf to fd (EINTR retried).  0 or -1 with errno. */
int spool_write_all(int fd, const void *buf, size_t len);
struct dbuf;
/* The .env text of env.  -1 when a field holds a line break. */
int spool_envelope_format(const struct spool_envelope *env, struct dbuf *b);

#endif
