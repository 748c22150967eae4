/*
 * spool_recycle.c - reusing the files of delivered messages.
 *
 * Why: every message used to cost two new inodes at acceptance and two
 * freed ones at delivery.  On ext4 without a journal (this project's
 * machines) the inode allocator skips every inode freed in the last few
 * seconds, reading its inode-table block each time, so at a thousand
 * messages a second file creation took over half of the daemon's CPU.
 * A delivered message's files are instead moved to tmp/, emptied, and
 * handed to the next message: no inode is allocated or freed on the hot
 * path.
 *
 * The safety rule: a file leaves queue/ by a rename that is not synced at
 * once; if it were rewritten before that removal reached the disk, a crash
 * could bring the old name back pointing at another message's bytes.  So a
 * file is reused only after an fsync(queue/) that started after its
 * removal (the group-commit ticket), and acceptance syncs queue/ all the
 * time.  Only the delivery worker that owns a message recycles it (nothing
 * else has it open or mapped); every other removal unlinks.  The pool is
 * memory only: start-up recovery empties tmp/ and the pool starts empty.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "spool_private.h"
#include "tenantrelay/mymalloc.h"

/* Two files per message: room for a burst of 512 messages in flight. */
#define SPOOL_FREE_MAX 1024

static void tmp_name(unsigned n, char *name)
{
    snprintf(name, SPOOL_TMP_NAME, "f%08X", n);
}

/* Take the oldest-removed file whose removal is durable; false if none. */
static bool pool_take(struct spool *s, unsigned *name)
{
    unsigned long long done;
    bool found = false;

    pthread_mutex_lock(&s->dir_sync.lock);
    done = s->dir_sync.done;
    pthread_mutex_unlock(&s->dir_sync.lock);
    pthread_mutex_lock(&s->lock);
    /* A ring in removal order: tickets grow from head to tail. */
    if (s->free_count > 0 && s->free_files[s->free_head].ticket <= done) {
        *name = s->free_files[s->free_head].name;
        s->free_head = (s->free_head + 1) % SPOOL_FREE_MAX;
        s->free_count--;
        found = true;
    }
    pthread_mutex_unlock(&s->lock);
    return found;
}

int spool_tmp_open(struct spool *s, char *name)
{
    unsigned n;
    int fd;

    if (pool_take(s, &n)) {
        tmp_name(n, name);
        fd = openat(s->tmp_fd, name, O_WRONLY | O_CLOEXEC);
        if (fd >= 0)
            return fd;
        /* Gone (an operator cleaning tmp/?): fall through to a new one. */
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

/* Move queue/NAME to the pool (emptied), or unlink it when the pool is
 * full or anything fails.  0, or -1 with errno when the file stays. */
static int recycle_one(struct spool *s, const char *queue_name)
{
    char name[SPOOL_TMP_NAME], path[4096];
    unsigned n;
    bool room;

    pthread_mutex_lock(&s->lock);
    room = s->free_count < SPOOL_FREE_MAX;
    n = s->tmp_seq++;
    pthread_mutex_unlock(&s->lock);
    tmp_name(n, name);
    if (!room || renameat(s->queue_fd, queue_name, s->tmp_fd, name) < 0)
        return unlinkat(s->queue_fd, queue_name, 0);
    /* Emptied now: no delivered content lingers, and a reuse can never
     * show a stale tail. */
    snprintf(path, sizeof(path), "%s/tmp/%s", s->dir, name);
    if (truncate(path, 0) < 0) {
        unlinkat(s->tmp_fd, name, 0);
        return 0;
    }
    pthread_mutex_lock(&s->lock);
    if (s->free_files == NULL)
        s->free_files = mycalloc(SPOOL_FREE_MAX, sizeof(*s->free_files));
    if (s->free_count < SPOOL_FREE_MAX) {
        /* The ticket is taken after the rename, under the pool lock, so
         * tickets grow along the ring. */
        size_t tail = (s->free_head + s->free_count) % SPOOL_FREE_MAX;

        s->free_files[tail].name = n;
        s->free_files[tail].ticket = spool_sync_ticket(s);
        s->free_count++;
        room = true;
    } else {
        room = false;
    }
    pthread_mutex_unlock(&s->lock);
    if (!room)
        unlinkat(s->tmp_fd, name, 0);
    return 0;
}

int spool_remove_delivered(struct spool *s, const char *qid, char *err, size_t errlen)
{
    char name[SPOOL_QID_LEN + 8];

    if (!spool_qid_is_valid(qid)) {
        errno = EINVAL;
        spool_seterr(err, errlen, "\"%s\" is not a queue id", qid);
        return -1;
    }
    /* The .env first, as in spool_remove(). */
    snprintf(name, sizeof(name), "%s.env", qid);
    if (recycle_one(s, name) < 0) {
        spool_seterr(err, errlen, "%s: %s", qid, errno == ENOENT ? "no such message" : strerror(errno));
        return -1;
    }
    snprintf(name, sizeof(name), "%s.state", qid);
    unlinkat(s->queue_fd, name, 0);
    snprintf(name, sizeof(name), "%s.msg", qid);
    recycle_one(s, name);
    return 0;
}

void spool_free_pool(struct spool *s)
{
    myfree(s->free_files);
    s->free_files = NULL;
    s->free_head = s->free_count = 0;
}
