/*
 * spool_msg.c - writing one message into the spool: temp file, buffered
 * appends, and the commit that makes it durable before the 250 (see the
 * commit sequence in spool.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "spool_private.h"
#include "tenantrelay/dbuf.h"
#include "tenantrelay/errstr.h"
#include "tenantrelay/fdio.h"
#include "tenantrelay/mymalloc.h"

#define SPOOL_WBUF 65536

struct spool_msg {
    struct spool *spool;
    char id[SPOOL_QID_LEN + 1];
    char tmp_msg[SPOOL_TMP_NAME];       /* its name in tmp/ until the commit */
    char tmp_env[SPOOL_TMP_NAME];       /* the envelope's, once created */
    off_t old_size;                     /* a reused file's old content, overwritten */
    int fd;
    char *buf;
    size_t buflen;
    size_t size;
    int error;                  /* first errno; sticky */
};

/* 11 base-36 digits of the time in microseconds then 5 of a sequence:
 * fixed width and digits before letters, so ids sort by arrival. */
static void make_qid(struct spool *s, char *out)
{
    static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    struct timeval tv;
    unsigned long long t;
    unsigned seq;

    gettimeofday(&tv, NULL);
    t = (unsigned long long)tv.tv_sec * 1000000ULL + (unsigned long long)tv.tv_usec;
    pthread_mutex_lock(&s->lock);
    seq = s->seq++;
    pthread_mutex_unlock(&s->lock);
    for (int i = 10; i >= 0; i--, t /= 36)
        out[i] = digits[t % 36];
    seq %= 36u * 36u * 36u * 36u * 36u;
    for (int i = 15; i >= 11; i--, seq /= 36)
        out[i] = digits[seq % 36];
    out[SPOOL_QID_LEN] = 0;
}

struct spool_msg *spool_msg_begin(struct spool *s, char *err, size_t errlen)
{
    struct spool_msg *m = mycalloc(1, sizeof(*m));

    m->spool = s;
    m->fd = -1;
    /* Ids are unique by construction (time and sequence); a clock stepped
     * back onto a queued message's id fails the commit (RENAME_NOREPLACE)
     * and never replaces that message. */
    make_qid(s, m->id);
    m->fd = spool_tmp_open(s, SPOOL_POOL_MSG, m->tmp_msg, &m->old_size);
    if (m->fd < 0) {
        errstr_set(err, errlen, "cannot create a spool file: %s", strerror(errno));
        myfree(m);
        return NULL;
    }
    m->buf = mymalloc(SPOOL_WBUF);
    return m;
}

const char *spool_msg_id(const struct spool_msg *m)
{
    return m->id;
}

size_t spool_msg_size(const struct spool_msg *m)
{
    return m->size;
}

static int flush_buf(struct spool_msg *m)
{
    if (m->error)
        return -1;
    if (m->buflen && fdio_write_all(m->fd, m->buf, m->buflen) < 0) {
        m->error = errno;
        return -1;
    }
    m->buflen = 0;
    return 0;
}

int spool_msg_write(struct spool_msg *m, const void *data, size_t len)
{
    if (m->error) {
        errno = m->error;
        return -1;
    }
    m->size += len;
    if (m->buflen + len > SPOOL_WBUF && flush_buf(m) < 0)
        return -1;
    if (len >= SPOOL_WBUF) {
        if (fdio_write_all(m->fd, data, len) < 0) {
            m->error = errno;
            return -1;
        }
        return 0;
    }
    memcpy(m->buf + m->buflen, data, len);
    m->buflen += len;
    return 0;
}

static void msg_free(struct spool_msg *m)
{
    if (m->fd >= 0)
        close(m->fd);
    myfree(m->buf);
    myfree(m);
}

void spool_msg_abort(struct spool_msg *m)
{
    if (m == NULL)
        return;
    if (m->tmp_msg[0])
        unlinkat(m->spool->tmp_fd, m->tmp_msg, 0);
    if (m->tmp_env[0])
        unlinkat(m->spool->tmp_fd, m->tmp_env, 0);
    msg_free(m);
}

/* One "key value" line; values must be single lines. */
static int env_line(struct dbuf *b, const char *key, const char *value)
{
    if (value == NULL)
        return 0;
    if (strpbrk(value, "\r\n"))
        return -1;
    dbuf_printf(b, "%s %s\n", key, value);
    return 0;
}

int spool_envelope_format(const struct spool_envelope *env, struct dbuf *b)
{
    int bad = 0;

    dbuf_printf(b, "tenantrelay-envelope 1\nid %s\n", env->id);
    bad |= env_line(b, "tenant", env->tenant);
    dbuf_printf(b, "tenant_source %s\n", spool_tenant_source_name(env->tenant_source));
    bad |= env_line(b, "sender", env->sender ? env->sender : "");
    dbuf_printf(b, "arrival %lld\nflags %u\nsize %zu\n", (long long)env->arrival, env->flags,
                env->size);
    bad |= env_line(b, "client_addr", env->client_addr);
    bad |= env_line(b, "helo", env->helo);
    bad |= env_line(b, "message_id", env->message_id);
    for (int i = 0; env->recipients && env->recipients[i]; i++)
        bad |= env_line(b, "recipient", env->recipients[i]);
    return bad ? -1 : 0;
}

int spool_msg_commit(struct spool_msg *m, struct spool_envelope *env, char *err, size_t errlen)
{
    struct spool *s = m->spool;
    struct dbuf b = DBUF_INIT;
    char from[SPOOL_QID_LEN + 8];
    int efd = -1;
    off_t env_old_size = 0;
    int rc = -1;

    memcpy(env->id, m->id, sizeof(env->id));
    env->size = m->size;
    if (flush_buf(m) < 0) {
        errno = m->error;
        errstr_set(err, errlen, "cannot write the message: %s", strerror(errno));
        goto cleanup;
    }
    if (spool_envelope_format(env, &b) < 0) {
        errno = EINVAL;
        errstr_set(err, errlen, "envelope field with a line break");
        goto cleanup;
    }
    if (b.len > SPOOL_META_MAX) {
        /* Never write what spool_envelope_read() would refuse. */
        errno = EFBIG;
        errstr_set(err, errlen, "envelope of %zu bytes exceeds %d", b.len, SPOOL_META_MAX);
        goto cleanup;
    }
    efd = spool_tmp_open(s, SPOOL_POOL_ENV, m->tmp_env, &env_old_size);
    if (efd < 0 || fdio_write_all(efd, b.data, b.len) < 0
        || (env_old_size > (off_t)b.len && ftruncate(efd, (off_t)b.len) < 0)) {
        errstr_set(err, errlen, "cannot write the envelope: %s", strerror(errno));
        goto cleanup;
    }
    /* A reused file keeps nothing of its last message past ours. */
    if (m->old_size > (off_t)m->size && ftruncate(m->fd, (off_t)m->size) < 0) {
        m->error = errno;
        errstr_set(err, errlen, "cannot write the message: %s", strerror(errno));
        goto cleanup;
    }
    /* Both files written before either is synced, and their write-back
     * started together: the first fsync's journal commit then carries both
     * files' allocations, and the second usually finds nothing left to
     * commit (one journal commit per message instead of two). */
    (void)sync_file_range(m->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
    (void)sync_file_range(efd, 0, 0, SYNC_FILE_RANGE_WRITE);
    if (fsync(m->fd) < 0) {
        m->error = errno;
        errstr_set(err, errlen, "cannot write the message: %s", strerror(errno));
        goto cleanup;
    }
    if (fsync(efd) < 0) {
        errstr_set(err, errlen, "cannot write the envelope: %s", strerror(errno));
        goto cleanup;
    }
    /* The .msg first: a .env in queue/ always has its content next to it. */
    snprintf(from, sizeof(from), "%s.msg", m->id);
    if (renameat2(s->tmp_fd, m->tmp_msg, s->queue_fd, from, RENAME_NOREPLACE) < 0) {
        errstr_set(err, errlen, "cannot queue the message: %s", strerror(errno));
        goto cleanup;
    }
    m->tmp_msg[0] = 0;
    snprintf(from, sizeof(from), "%s.env", m->id);
    if (renameat2(s->tmp_fd, m->tmp_env, s->queue_fd, from, RENAME_NOREPLACE) < 0) {
        errstr_set(err, errlen, "cannot queue the envelope: %s", strerror(errno));
        snprintf(from, sizeof(from), "%s.msg", m->id);
        unlinkat(s->queue_fd, from, 0);
        goto cleanup;
    }
    m->tmp_env[0] = 0;
    /* Grouped with the other sessions committing now (spool_dir.c). */
    if (spool_sync_queue(s, err, errlen) < 0) {
        /* Not acknowledged, so it must not stay: take it back out. */
        int saved = errno;

        unlinkat(s->queue_fd, from, 0);
        snprintf(from, sizeof(from), "%s.msg", m->id);
        unlinkat(s->queue_fd, from, 0);
        errno = saved;
        goto cleanup;
    }
    rc = 0;
cleanup:
    if (efd >= 0)
        close(efd);
    dbuf_free(&b);
    if (rc == 0) {
        msg_free(m);
    } else {
        int saved = errno;

        spool_msg_abort(m);
        errno = saved;
    }
    return rc;
}
