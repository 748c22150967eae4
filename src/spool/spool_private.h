/*
 * spool_private.h - what the spool's own files share (not for callers).
 */
#ifndef TENANTRELAY_SPOOL_PRIVATE_H
#define TENANTRELAY_SPOOL_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

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

/* A delivered message's file in tmp/ waiting to be reused (spool_recycle.c). */
struct spool_free_file {
    unsigned name;              /* tmp/fNNNNNNNN */
    unsigned long long ticket;  /* dir_sync ticket of its removal from queue/ */
    time_t freed;               /* when: unused files are deleted after a while */
};

/* Files are reused for the same kind (sizes alike: rarely a truncation). */
enum spool_pool_kind { SPOOL_POOL_MSG, SPOOL_POOL_ENV, SPOOL_POOLS };

/* A ring of SPOOL_FREE_MAX entries in removal order, oldest at head. */
struct spool_pool {
    struct spool_free_file *files;
    size_t head, count;
};

struct spool {
    char *dir;
    int queue_fd;               /* queue/, kept open to fsync it */
    int tmp_fd;                 /* tmp/ */
    pthread_mutex_t lock;       /* guards seq, tmp_seq and the free pool */
    unsigned seq;
    unsigned tmp_seq;           /* names of files in tmp/ */
    struct spool_pool pools[SPOOL_POOLS];
    struct spool_gsync dir_sync;        /* fsync(queue/) for spool_sync_queue */
};

/* Longest tmp/ name: "f" and 8 hex digits. */
#define SPOOL_TMP_NAME 16

int spool_fsync_dir(int fd, const char *what, char *err, size_t errlen);
/* 0 when qid has the queue-id form, else -1 (EINVAL, err says so): a
 * name from outside never reaches a path. */
int spool_check_qid(const char *qid, char *err, size_t errlen);
/* Make every change of queue/ made by this thread before the call durable:
 * one fsync(queue/) serves every caller waiting at the time (group commit). */
int spool_sync_queue(struct spool *s, char *err, size_t errlen);
/* A ticket for a change of queue/ this thread just made, without waiting:
 * the change is durable once spool_sync_covers(ticket) is true. */
unsigned long long spool_sync_ticket(struct spool *s);
bool spool_sync_covers(struct spool *s, unsigned long long ticket);
/* A file in tmp/ open for writing at offset 0: a recycled one of kind
 * when the pool has one whose removal is durable, else a new one.  Its
 * name goes to name (SPOOL_TMP_NAME bytes), its current size (old content
 * to overwrite; the writer truncates to what it wrote) to *old_size.
 * -1 with errno on failure. */
int spool_tmp_open(struct spool *s, enum spool_pool_kind kind, char *name, off_t *old_size);
int spool_tenant_source_parse(const char *name);
struct dbuf;
/* The .env text of env.  -1 when a field holds a line break. */
int spool_envelope_format(const struct spool_envelope *env, struct dbuf *b);

#endif
