/*
 * spool_private.h - what the spool's own files share (not for callers).
 */
#ifndef TENANTRELAY_SPOOL_PRIVATE_H
#define TENANTRELAY_SPOOL_PRIVATE_H

#include <pthread.h>

#include "tenantrelay/spool.h"

/* One group-commit channel (spool_dir.c), guarded by its own lock. */
struct spool_gsync {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned long long ticket;  /* last ticket handed out */
    unsigned long long done;    /* every ticket up to this one is synced */
    unsigned long long failures;        /* count of failed syncs */
    int error;                  /* errno of the last failure */
    int syncing;                /* a leader is syncing now */
};

struct spool {
    char *dir;
    int queue_fd;               /* queue/, kept open to fsync it */
    int tmp_fd;                 /* tmp/ */
    pthread_mutex_t lock;       /* guards seq */
    unsigned seq;
    struct spool_gsync dir_sync;        /* fsync(queue/) for spool_sync_queue */
};

void spool_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int spool_fsync_dir(int fd, const char *what, char *err, size_t errlen);
/* Make every change of queue/ made by this thread before the call durable:
 * one fsync(queue/) serves every caller waiting at the time (group commit). */
int spool_sync_queue(struct spool *s, char *err, size_t errlen);
int spool_tenant_source_parse(const char *name);
/* Write all of buf to fd (EINTR retried).  0 or -1 with errno. */
int spool_write_all(int fd, const void *buf, size_t len);
struct dbuf;
/* The .env text of env.  -1 when a field holds a line break. */
int spool_envelope_format(const struct spool_envelope *env, struct dbuf *b);

#endif
