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
    /* Group commit of queue/ (spool_sync_queue), guarded by sync_lock. */
    pthread_mutex_t sync_lock;
    pthread_cond_t sync_cond;
    unsigned long long sync_ticket;     /* last ticket handed out */
    unsigned long long sync_done;       /* every ticket up to this one is synced */
    unsigned long long sync_failures;   /* count of failed directory fsyncs */
    int sync_errno;                     /* errno of the last failure */
    int syncing;                        /* a leader is in fsync(queue/) now */
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
