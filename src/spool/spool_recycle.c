/*
 * spool_recycle.c - reusing the files of delivered messages.
 *
 * Why: every message used to cost two new inodes at acceptance and two
 * freed ones at delivery.  On ext4 without a journal (this project's
 * machines) the inode allocator skips every inode freed in the last few
 * seconds, reading its inode-table block each time, so at a thousand
 * messages a second file creation took over half of the daemon's CPU.
 * A delivered message's files are instead moved to tmp/ and handed to the
 * next message, which overwrites them in place (its blocks are reused as
 * well: no allocation, no discard) and truncates any tail: no inode is
 * allocated or freed on the hot path.
 *
 * The safety rules:
 *  - A file leaves queue/ by a rename that is not synced at once; were it
 *    rewritten before that removal reached the disk, a crash could bring
 *    the old name back pointing at another message's bytes.  So a file is
 *    reused only after an fsync(queue/) that started after its removal
 *    (the group-commit ticket); acceptance syncs queue/ all the time.
 *  - Only the delivery worker that owns a message recycles it (nothing else
 *    has it open); every other removal unlinks.
 *  - A delivered message's bytes do not linger: a file not reused within
 *    SPOOL_FREE_IDLE seconds is deleted (spool_expire_free(), called by the
 *    delivery scheduler), and start-up recovery empties tmp/.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool_private.h"
#include "tenantrelay/errstr.h"
#include "tenantrelay/mymalloc.h"

/* Per kind: room for a burst of this many delivered messages. */
#define SPOOL_FREE_MAX 512

static void tmp_name(unsigned n, char *name)
{
    snprintf(name, SPOOL_TMP_NAME, "f%08X", n);
}

/* Take the oldest file of kind whose removal is durable; false if none. */
static bool pool_take(struct spool *s, enum spool_pool_kind kind, unsigned *name)
{
    struct spool_pool *p = &s->pools[kind];
    bool found = false;

    pthread_mutex_lock(&s->lock);
    /* Tickets grow from head to tail: if the head is not covered, none is.
     * (Lock order: s->lock, then the sync's, as in recycle_one().) */
    if (p->count > 0 && spool_sync_covers(s, p->files[p->head].ticket)) {
        *name = p->files[p->head].name;
        p->head = (p->head + 1) % SPOOL_FREE_MAX;
        p->count--;
        found = true;
    }
    pthread_mutex_unlock(&s->lock);
    return found;
}

int spool_tmp_open(struct spool *s, enum spool_pool_kind kind, char *name, off_t *old_size)
{
    struct stat st;
    unsigned n;
    int fd;

    *old_size = 0;
    if (pool_take(s, kind, &n)) {
        tmp_name(n, name);
        fd = openat(s->tmp_fd, name, O_WRONLY | O_CLOEXEC);
        if (fd >= 0 && fstat(fd, &st) == 0) {
            *old_size = st.st_size;
            return fd;
        }
        if (fd >= 0)
            close(fd);
        /* Gone (an operator cleaning tmp/?): a new one instead. */
    }
    for (int tries = 0; tries < 100; tries++) {
        pthread_mutex_lock(&s->lock);
        n = s->tmp_seq++;
        pthread_mutex_unlock(&s->lock);
        tmp_name(n, name);
        fd = openat(s->tmp_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

/* Move queue/NAME to the pool of kind, or unlink it when the pool is full
 * or the move fails.  0, or -1 with errno when the file stays. */
static int recycle_one(struct spool *s, enum spool_pool_kind kind, const char *queue_name)
{
    struct spool_pool *p = &s->pools[kind];
    char name[SPOOL_TMP_NAME];
    unsigned n;
    bool room;

    pthread_mutex_lock(&s->lock);
    room = p->count < SPOOL_FREE_MAX;
    n = s->tmp_seq++;
    pthread_mutex_unlock(&s->lock);
    tmp_name(n, name);
    if (!room || renameat(s->queue_fd, queue_name, s->tmp_fd, name) < 0)
        return unlinkat(s->queue_fd, queue_name, 0);
    pthread_mutex_lock(&s->lock);
    if (p->files == NULL)
        p->files = mycalloc(SPOOL_FREE_MAX, sizeof(*p->files));
    room = p->count < SPOOL_FREE_MAX;
    if (room) {
        /* The ticket is taken after the rename, under the pool lock, so
         * tickets grow along the ring. */
        struct spool_free_file *f = &p->files[(p->head + p->count) % SPOOL_FREE_MAX];

        f->name = n;
        f->ticket = spool_sync_ticket(s);
        f->freed = time(NULL);
        p->count++;
    }
    pthread_mutex_unlock(&s->lock);
    if (!room)
        unlinkat(s->tmp_fd, name, 0);
    return 0;
}

int spool_remove_delivered(struct spool *s, const char *qid, char *err, size_t errlen)
{
    char name[SPOOL_QID_LEN + 8];

    if (spool_check_qid(qid, err, errlen) < 0)
        return -1;
    /* The .env first, as in spool_remove(). */
    snprintf(name, sizeof(name), "%s.env", qid);
    if (recycle_one(s, SPOOL_POOL_ENV, name) < 0) {
        errstr_set(err, errlen, "%s: %s", qid, errno == ENOENT ? "no such message" : strerror(errno));
        return -1;
    }
    snprintf(name, sizeof(name), "%s.state", qid);
    unlinkat(s->queue_fd, name, 0);
    snprintf(name, sizeof(name), "%s.msg", qid);
    recycle_one(s, SPOOL_POOL_MSG, name);
    return 0;
}

size_t spool_expire_free(struct spool *s, int max_idle)
{
    time_t limit = time(NULL) - max_idle;
    size_t removed = 0;

    for (int k = 0; k < SPOOL_POOLS; k++) {
        struct spool_pool *p = &s->pools[k];

        for (;;) {
            char name[SPOOL_TMP_NAME];
            unsigned n;

            pthread_mutex_lock(&s->lock);
            if (p->count == 0 || p->files[p->head].freed > limit) {
                pthread_mutex_unlock(&s->lock);
                break;
            }
            n = p->files[p->head].name;
            p->head = (p->head + 1) % SPOOL_FREE_MAX;
            p->count--;
            pthread_mutex_unlock(&s->lock);
            tmp_name(n, name);
            if (unlinkat(s->tmp_fd, name, 0) == 0)
                removed++;
        }
    }
    return removed;
}
