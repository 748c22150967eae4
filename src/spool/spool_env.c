/*
 * spool_env.c - the envelope (.env) and delivery state (.state) files:
 * small "key value" text files, one field per line, so that an operator can
 * read them and a newer version can add keys without breaking older readers.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spool_private.h"
#include "tenantrelay/dbuf.h"
#include "tenantrelay/errstr.h"
#include "tenantrelay/fdio.h"
#include "tenantrelay/mymalloc.h"


/* Read a whole small file of queue/ into b. */
static int read_file(struct spool *s, const char *name, struct dbuf *b)
{
    int fd = openat(s->queue_fd, name, O_RDONLY | O_CLOEXEC);
    char chunk[8192];
    ssize_t n;

    if (fd < 0)
        return -1;
    while ((n = fdio_read_all(fd, chunk, sizeof(chunk))) > 0) {
        dbuf_append(b, chunk, (size_t)n);
        if (b->len > SPOOL_META_MAX) {
            close(fd);
            errno = EFBIG;
            return -1;
        }
    }
    if (n < 0) {
        int saved = errno;

        close(fd);
        errno = saved;
        return -1;
    }
    close(fd);
    return 0;
}

/* Split the next "key value\n" line off *p; false at the end. */
static bool next_field(char **p, char **key, char **value)
{
    char *line = *p, *nl, *sp;

    if (*line == 0)
        return false;
    nl = strchr(line, '\n');
    if (nl) {
        *nl = 0;
        *p = nl + 1;
    } else {
        *p = line + strlen(line);
    }
    sp = strchr(line, ' ');
    *key = line;
    if (sp) {
        *sp = 0;
        *value = sp + 1;
    } else {
        *value = line + strlen(line);
    }
    return true;
}

static void push(char ***v, int *n, const char *s)
{
    *v = myrealloc(*v, sizeof(**v) * (size_t)(*n + 2));
    (*v)[(*n)++] = mystrdup(s);
    (*v)[*n] = NULL;
}

int spool_envelope_read(struct spool *s, const char *qid, struct spool_envelope *env, char *err,
                        size_t errlen)
{
    struct dbuf b = DBUF_INIT;
    char name[SPOOL_QID_LEN + 8];
    char *p, *key, *value;
    int rc = -1;

    memset(env, 0, sizeof(*env));
    if (spool_check_qid(qid, err, errlen) < 0)
        return -1;
    snprintf(name, sizeof(name), "%s.env", qid);
    if (read_file(s, name, &b) < 0) {
        errstr_set(err, errlen, "%s: %s", qid, errno == ENOENT ? "no such message" : strerror(errno));
        goto cleanup;
    }
    p = b.data ? b.data : (char *)"";
    if (!next_field(&p, &key, &value) || strcmp(key, "tenantrelay-envelope") != 0) {
        errno = EINVAL;
        errstr_set(err, errlen, "%s: not an envelope file", qid);
        goto cleanup;
    }
    snprintf(env->id, sizeof(env->id), "%s", qid);
    while (next_field(&p, &key, &value)) {
        if (strcmp(key, "tenant") == 0) {
            myfree(env->tenant);
            env->tenant = mystrdup(value);
        } else if (strcmp(key, "tenant_source") == 0) {
            int k = spool_tenant_source_parse(value);
            env->tenant_source = k < 0 ? SPOOL_TENANT_NONE : (enum spool_tenant_source)k;
        } else if (strcmp(key, "sender") == 0) {
            myfree(env->sender);
            env->sender = mystrdup(value);
        } else if (strcmp(key, "arrival") == 0) {
            env->arrival = (time_t)strtoll(value, NULL, 10);
        } else if (strcmp(key, "flags") == 0) {
            env->flags = (unsigned)strtoul(value, NULL, 10);
        } else if (strcmp(key, "size") == 0) {
            env->size = (size_t)strtoull(value, NULL, 10);
        } else if (strcmp(key, "client_addr") == 0) {
            myfree(env->client_addr);
            env->client_addr = mystrdup(value);
        } else if (strcmp(key, "helo") == 0) {
            myfree(env->helo);
            env->helo = mystrdup(value);
        } else if (strcmp(key, "message_id") == 0) {
            myfree(env->message_id);
            env->message_id = mystrdup(value);
        } else if (strcmp(key, "recipient") == 0) {
            push(&env->recipients, &env->recipient_count, value);
        }
    }
    if (env->sender == NULL)
        env->sender = mystrdup("");
    if (env->recipients == NULL)
        env->recipients = mycalloc(1, sizeof(char *));
    rc = 0;
cleanup:
    dbuf_free(&b);
    if (rc < 0)
        spool_envelope_free(env);
    return rc;
}

void spool_envelope_free(struct spool_envelope *env)
{
    for (int i = 0; env->recipients && env->recipients[i]; i++)
        myfree(env->recipients[i]);
    myfree(env->recipients);
    myfree(env->tenant);
    myfree(env->sender);
    myfree(env->client_addr);
    myfree(env->helo);
    myfree(env->message_id);
    memset(env, 0, sizeof(*env));
}

int spool_state_read(struct spool *s, const char *qid, struct spool_state *st, char *err,
                     size_t errlen)
{
    struct dbuf b = DBUF_INIT;
    char name[SPOOL_QID_LEN + 8];
    char *p, *key, *value;
    int n = 0;

    memset(st, 0, sizeof(*st));
    st->state = SPOOL_QUEUED;
    if (spool_check_qid(qid, err, errlen) < 0)
        return -1;
    snprintf(name, sizeof(name), "%s.state", qid);
    if (read_file(s, name, &b) < 0) {
        dbuf_free(&b);
        if (errno == ENOENT)
            return 0;           /* never tried */
        errstr_set(err, errlen, "%s: %s", qid, strerror(errno));
        return -1;
    }
    p = b.data ? b.data : (char *)"";
    while (next_field(&p, &key, &value)) {
        if (strcmp(key, "state") == 0) {
            int k = spool_state_parse(value);
            st->state = k < 0 ? SPOOL_QUEUED : (enum spool_state_kind)k;
        } else if (strcmp(key, "attempts") == 0) {
            st->attempts = atoi(value);
        } else if (strcmp(key, "next_attempt") == 0) {
            st->next_attempt = (time_t)strtoll(value, NULL, 10);
        } else if (strcmp(key, "last_attempt") == 0) {
            st->last_attempt = (time_t)strtoll(value, NULL, 10);
        } else if (strcmp(key, "last_reply") == 0) {
            myfree(st->last_reply);
            st->last_reply = mystrdup(value);
        } else if (strcmp(key, "done") == 0) {
            push(&st->done_recipients, &n, value);
        }
    }
    dbuf_free(&b);
    return 0;
}

/* Replies may be multi-line: keep the file one field per line. */
static void append_single_line(struct dbuf *b, const char *s)
{
    for (; *s; s++)
        dbuf_append_char(b, (unsigned char)*s < 32 || *s == 127 ? ' ' : *s);
}

int spool_state_save(struct spool *s, const char *qid, const struct spool_state *st, char *err,
                     size_t errlen)
{
    struct dbuf b = DBUF_INIT;
    static unsigned seq;
    char tmp[SPOOL_QID_LEN + 40], name[SPOOL_QID_LEN + 8];
    int fd = -1, rc = -1;

    if (spool_check_qid(qid, err, errlen) < 0)
        return -1;
    dbuf_printf(&b, "tenantrelay-state 1\nstate %s\nattempts %d\nnext_attempt %lld\nlast_attempt %lld\n",
                spool_state_name(st->state), st->attempts, (long long)st->next_attempt,
                (long long)st->last_attempt);
    if (st->last_reply) {
        dbuf_append_str(&b, "last_reply ");
        append_single_line(&b, st->last_reply);
        dbuf_append_char(&b, '\n');
    }
    for (int i = 0; st->done_recipients && st->done_recipients[i]; i++) {
        dbuf_append_str(&b, "done ");
        append_single_line(&b, st->done_recipients[i]);
        dbuf_append_char(&b, '\n');
    }
    /* Unique per process and call: two threads may save at once. */
    snprintf(tmp, sizeof(tmp), "%s.state.%d.%u", qid, (int)getpid(),
             __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
    snprintf(name, sizeof(name), "%s.state", qid);
    fd = openat(s->tmp_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || fdio_write_all(fd, b.data, b.len) < 0 || fsync(fd) < 0) {
        errstr_set(err, errlen, "%s: cannot write the state: %s", qid, strerror(errno));
        goto cleanup;
    }
    if (renameat(s->tmp_fd, tmp, s->queue_fd, name) < 0) {
        errstr_set(err, errlen, "%s: cannot replace the state: %s", qid, strerror(errno));
        goto cleanup;
    }
    rc = spool_sync_queue(s, err, errlen);
cleanup:
    if (fd >= 0)
        close(fd);
    if (rc < 0) {
        int saved = errno;
        unlinkat(s->tmp_fd, tmp, 0);
        errno = saved;
    }
    dbuf_free(&b);
    return rc;
}

void spool_state_free(struct spool_state *st)
{
    for (int i = 0; st->done_recipients && st->done_recipients[i]; i++)
        myfree(st->done_recipients[i]);
    myfree(st->done_recipients);
    myfree(st->last_reply);
    memset(st, 0, sizeof(*st));
}
