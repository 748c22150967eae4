/*
 * spool_dir.c - the spool directory: opening, queue ids, paths, listing,
 * removal and start-up recovery (see spool.h for the layout and the rules).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool_private.h"
#include "tenantrelay/errstr.h"
#include "tenantrelay/msg.h"
#include "tenantrelay/mymalloc.h"

static const char *const state_names[] = { "queued", "deferred", "held", "failed" };
static const char *const source_names[] = { "none", "header", "sender", "auth", "milter" };

const char *spool_state_name(enum spool_state_kind kind)
{
    return (unsigned)kind < 4 ? state_names[kind] : "unknown";
}

int spool_state_parse(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(state_names[i], name) == 0)
            return i;
    return -1;
}

const char *spool_tenant_source_name(enum spool_tenant_source src)
{
    return (unsigned)src < 5 ? source_names[src] : "none";
}

int spool_tenant_source_parse(const char *name)
{
    for (int i = 0; i < 5; i++)
        if (strcmp(source_names[i], name) == 0)
            return i;
    return -1;
}

bool spool_qid_is_valid(const char *id)
{
    size_t i;

    for (i = 0; id[i]; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'A' && id[i] <= 'Z')))
            return false;
    return i == SPOOL_QID_LEN;
}

int spool_check_qid(const char *qid, char *err, size_t errlen)
{
    if (spool_qid_is_valid(qid))
        return 0;
    errno = EINVAL;
    errstr_set(err, errlen, "\"%s\" is not a queue id", qid);
    return -1;
}

/* mkdir that accepts an existing directory. */
static int ensure_dir(const char *path, bool create, char *err, size_t errlen)
{
    struct stat st;

    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return 0;
        errno = ENOTDIR;
        errstr_set(err, errlen, "%s: not a directory", path);
        return -1;
    }
    if (!create || errno != ENOENT || (mkdir(path, 0700) < 0 && errno != EEXIST)) {
        errstr_set(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

struct spool *spool_open(const char *dir, bool create, char *err, size_t errlen)
{
    struct spool *s = NULL;
    char path[4096];

    if (ensure_dir(dir, create, err, errlen) < 0)
        return NULL;
    snprintf(path, sizeof(path), "%s/tmp", dir);
    if (ensure_dir(path, create, err, errlen) < 0)
        return NULL;
    snprintf(path, sizeof(path), "%s/queue", dir);
    if (ensure_dir(path, create, err, errlen) < 0)
        return NULL;
    s = mycalloc(1, sizeof(*s));
    s->dir = mystrdup(dir);
    s->queue_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    snprintf(path, sizeof(path), "%s/tmp", dir);
    s->tmp_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->queue_fd < 0 || s->tmp_fd < 0) {
        errstr_set(err, errlen, "%s: %s", dir, strerror(errno));
        spool_close(s);
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->dir_sync.lock, NULL);
    pthread_cond_init(&s->dir_sync.cond, NULL);
    s->seq = (unsigned)getpid() * 7919u;
    return s;
}

/* Drop the recycler's pools (spool_recycle.c fills them; the files in
 * tmp/ stay for start-up recovery to empty).  Here, with the rest of
 * struct spool's teardown, so that spool_dir.c never calls up into the
 * recycler, which uses its queue ids and group commit. */
static void free_pools(struct spool *s)
{
    for (int k = 0; k < SPOOL_POOLS; k++) {
        myfree(s->pools[k].files);
        s->pools[k].files = NULL;
        s->pools[k].head = s->pools[k].count = 0;
    }
}

void spool_close(struct spool *s)
{
    if (s == NULL)
        return;
    if (s->queue_fd >= 0)
        close(s->queue_fd);
    if (s->tmp_fd >= 0)
        close(s->tmp_fd);
    free_pools(s);
    myfree(s->dir);
    myfree(s);
}

const char *spool_directory(const struct spool *s)
{
    return s->dir;
}

const char *spool_path(const struct spool *s, const char *qid, const char *suffix, char *buf,
                       size_t len)
{
    snprintf(buf, len, "%s/queue/%s%s", s->dir, qid, suffix);
    return buf;
}

int spool_fsync_dir(int fd, const char *what, char *err, size_t errlen)
{
    if (fsync(fd) < 0) {
        errstr_set(err, errlen, "fsync %s: %s", what, strerror(errno));
        return -1;
    }
    return 0;
}

/*
 * Group commit.  A caller takes a ticket after its renames or unlinks; an
 * fsync(queue/) that *starts* after the ticket was taken covers it.  When
 * no fsync is running, the caller leads one for every ticket handed out so
 * far; otherwise it waits for the running one to end and looks again.  So
 * while one directory fsync is in progress the next callers gather, and
 * the next fsync serves them all: one per batch, never a timer.  A failed
 * fsync fails every caller that was waiting while it ran (conservative:
 * its messages are not acknowledged and the client retries).
 */
static int group_sync(struct spool_gsync *g, int (*op)(int), int fd, const char *what, char *err,
                      size_t errlen)
{
    unsigned long long mine, failures;
    int rc = 0, e = 0;

    pthread_mutex_lock(&g->lock);
    mine = ++g->ticket;
    failures = g->failures;
    for (;;) {
        if (g->failures != failures) {
            e = g->error;
            rc = -1;
            break;
        }
        if (g->done >= mine)
            break;
        if (!g->syncing) {
            unsigned long long upto = g->ticket;
            int fe = 0;

            g->syncing = 1;
            pthread_mutex_unlock(&g->lock);
            if (op(fd) < 0)
                fe = errno;
            pthread_mutex_lock(&g->lock);
            g->syncing = 0;
            if (fe == 0) {
                g->done = upto;
            } else {
                g->failures++;
                g->error = fe;
            }
            pthread_cond_broadcast(&g->cond);
            continue;
        }
        pthread_cond_wait(&g->cond, &g->lock);
    }
    pthread_mutex_unlock(&g->lock);
    if (rc < 0) {
        errno = e;
        errstr_set(err, errlen, "%s: %s", what, strerror(e));
    }
    return rc;
}

int spool_sync_queue(struct spool *s, char *err, size_t errlen)
{
    return group_sync(&s->dir_sync, fsync, s->queue_fd, "fsync queue/", err, errlen);
}

unsigned long long spool_sync_ticket(struct spool *s)
{
    unsigned long long t;

    pthread_mutex_lock(&s->dir_sync.lock);
    t = ++s->dir_sync.ticket;
    pthread_mutex_unlock(&s->dir_sync.lock);
    return t;
}

bool spool_sync_covers(struct spool *s, unsigned long long ticket)
{
    bool done;

    pthread_mutex_lock(&s->dir_sync.lock);
    done = s->dir_sync.done >= ticket;
    pthread_mutex_unlock(&s->dir_sync.lock);
    return done;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names in dirfd with the given suffix whose stem is a queue id. */
static int list_suffix(int dirfd, const char *suffix, char ***out, size_t *count, char *err,
                       size_t errlen)
{
    DIR *d;
    struct dirent *de;
    size_t n = 0, cap = 16;
    char **v;
    size_t sl = strlen(suffix);
    int fd = dup(dirfd);

    if (fd < 0 || (d = fdopendir(fd)) == NULL) {
        if (fd >= 0)
            close(fd);
        errstr_set(err, errlen, "cannot read the spool: %s", strerror(errno));
        return -1;
    }
    rewinddir(d);
    v = mycalloc(cap, sizeof(*v));
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        char stem[SPOOL_QID_LEN + 1];

        if (l != SPOOL_QID_LEN + sl || strcmp(de->d_name + SPOOL_QID_LEN, suffix) != 0)
            continue;
        memcpy(stem, de->d_name, SPOOL_QID_LEN);
        stem[SPOOL_QID_LEN] = 0;
        if (!spool_qid_is_valid(stem))
            continue;
        if (n + 1 >= cap)
            v = myrealloc(v, sizeof(*v) * (cap *= 2));
        v[n++] = mystrdup(stem);
    }
    closedir(d);
    v[n] = NULL;
    qsort(v, n, sizeof(*v), cmp_str);
    *out = v;
    *count = n;
    return 0;
}

int spool_list(struct spool *s, char ***ids, size_t *count, char *err, size_t errlen)
{
    return list_suffix(s->queue_fd, ".env", ids, count, err, errlen);
}

void spool_ids_free(char **ids)
{
    if (ids == NULL)
        return;
    for (char **p = ids; *p; p++)
        myfree(*p);
    myfree(ids);
}

int spool_remove(struct spool *s, const char *qid, char *err, size_t errlen)
{
    char name[SPOOL_QID_LEN + 8];

    if (spool_check_qid(qid, err, errlen) < 0)
        return -1;
    /* The .env first: once it is gone the message no longer exists, so a
     * crash halfway leaves only debris that recovery removes. */
    snprintf(name, sizeof(name), "%s.env", qid);
    if (unlinkat(s->queue_fd, name, 0) < 0) {
        errstr_set(err, errlen, "%s: %s", qid, errno == ENOENT ? "no such message" : strerror(errno));
        return -1;
    }
    snprintf(name, sizeof(name), "%s.state", qid);
    unlinkat(s->queue_fd, name, 0);
    snprintf(name, sizeof(name), "%s.msg", qid);
    unlinkat(s->queue_fd, name, 0);
    return spool_sync_queue(s, err, errlen);
}

/* Remove every file of dirfd (tmp/ holds only unacknowledged data). */
static int empty_dir(int dirfd, size_t *removed)
{
    DIR *d;
    struct dirent *de;
    int fd = dup(dirfd);

    if (fd < 0 || (d = fdopendir(fd)) == NULL) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    rewinddir(d);
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (unlinkat(dirfd, de->d_name, 0) == 0)
            (*removed)++;
    }
    closedir(d);
    return 0;
}

static bool in_sorted(char **v, size_t n, const char *id)
{
    return bsearch(&id, v, n, sizeof(*v), cmp_str) != NULL;
}

int spool_recover(struct spool *s, char ***ids, size_t *count, char *err, size_t errlen)
{
    size_t removed = 0, nenv = 0, nmsg = 0, nstate = 0;
    char **env = NULL, **msgs = NULL, **states = NULL;
    char name[SPOOL_QID_LEN + 8];
    int rc = -1;

    if (empty_dir(s->tmp_fd, &removed) < 0) {
        errstr_set(err, errlen, "cannot empty tmp/: %s", strerror(errno));
        goto cleanup;
    }
    if (removed)
        msg_info("-", "spool recovery: removed %zu unacknowledged temp file(s)", removed);
    if (list_suffix(s->queue_fd, ".env", &env, &nenv, err, errlen) < 0
        || list_suffix(s->queue_fd, ".msg", &msgs, &nmsg, err, errlen) < 0
        || list_suffix(s->queue_fd, ".state", &states, &nstate, err, errlen) < 0)
        goto cleanup;
    /* A .msg or .state without .env never got its 250: debris of a crash. */
    for (size_t i = 0; i < nmsg; i++) {
        if (in_sorted(env, nenv, msgs[i]))
            continue;
        snprintf(name, sizeof(name), "%s.msg", msgs[i]);
        if (unlinkat(s->queue_fd, name, 0) == 0)
            msg_info(msgs[i], "spool recovery: removed message file without envelope");
    }
    for (size_t i = 0; i < nstate; i++) {
        if (in_sorted(env, nenv, states[i]))
            continue;
        snprintf(name, sizeof(name), "%s.state", states[i]);
        unlinkat(s->queue_fd, name, 0);
    }
    /* An .env without .msg cannot come from our commit order unless a
     * crash reordered the renames before the directory fsync, which also
     * means the client never got its 250. */
    size_t kept = 0;
    for (size_t i = 0; i < nenv; i++) {
        if (in_sorted(msgs, nmsg, env[i])) {
            env[kept++] = env[i];
            continue;
        }
        snprintf(name, sizeof(name), "%s.env", env[i]);
        unlinkat(s->queue_fd, name, 0);
        msg_warn(env[i], "spool recovery: removed envelope without message file");
        myfree(env[i]);
    }
    env[kept] = NULL;
    if (spool_fsync_dir(s->queue_fd, "queue/", err, errlen) < 0)
        goto cleanup;
    *ids = env;
    *count = kept;
    env = NULL;
    rc = 0;
cleanup:
    spool_ids_free(env);
    spool_ids_free(msgs);
    spool_ids_free(states);
    return rc;
}
