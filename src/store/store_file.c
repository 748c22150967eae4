/*
 * store_file.c - the file backend of the tenant store (store_backend.h):
 * the store itself is the tenant module's (src/tenant/: shards, manifest,
 * flock, atomic rewrite, change-log file); this file only maps the
 * backend operations onto it.  A file store has no version: 0.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "tenantrelay/mymalloc.h"
#include "tenantrelay/tenant_write.h"
#include "store_backend.h"

struct file_txn {
    const struct conf *conf;
    int lock;                   /* the flock fd */
    struct tenant_store *view;
};

static struct tenant_store *file_load(const struct conf *conf, uint64_t *version,
                                      struct conf_error *err)
{
    (void)version;
    return tenant_store_load(conf->tenant_store, err);
}

static struct tenant_store *file_load_whole(const struct conf *conf, uint64_t *version,
                                            struct conf_error *err)
{
    (void)version;
    return tenant_store_load_whole(conf->tenant_store, err);
}

static void file_txn_end(void *arg)
{
    struct file_txn *t = arg;

    tenant_store_free(t->view);
    tenant_store_unlock(t->lock);
    myfree(t);
}

static void *file_txn_begin(const struct conf *conf, const char *id, char *const *domains,
                            char *const *addresses, struct conf_error *err)
{
    struct file_txn *t = mycalloc(1, sizeof(*t));
    int e;

    t->conf = conf;
    if ((t->lock = tenant_store_lock(conf->tenant_store, err)) < 0)
        goto fail;              /* errno: the system's */
    t->view = id ? tenant_store_load_for_update(conf->tenant_store, id, domains, addresses, err)
                 : tenant_store_load(conf->tenant_store, err);
    if (t->view == NULL) {
        errno = EINVAL;         /* the lock was taken: the content is bad */
        goto fail;
    }
    return t;
fail:
    e = errno;
    file_txn_end(t);
    errno = e;
    return NULL;
}

static const struct tenant_store *file_txn_view(const void *arg)
{
    return ((const struct file_txn *)arg)->view;
}

/* The flock already serialises writers, and the view was read under it:
 * nothing can have moved, so no version check.  The change log is a file
 * of its own, appended after the store: when that fails the change stays
 * saved, and err says so. */
static enum store_result file_txn_commit(void *arg, const struct tenant *const *repl,
                                         const struct tenant *added, const char *action,
                                         const char *id, const char *fields, struct conf_error *err)
{
    struct file_txn *t = arg;

    if (tenant_store_rewrite(t->conf->tenant_store, t->view, repl, added, err) < 0)
        return STORE_ERROR;
    if (tenant_changelog_append(t->conf->change_log, action, id, fields, err) < 0) {
        size_t n = strlen(err->text);

        snprintf(err->text + n, sizeof(err->text) - n, " (the change itself was saved)");
        return STORE_ERROR;
    }
    return STORE_OK;
}

const struct store_backend store_backend_file = {
    .name = "file",
    .load = file_load,
    .load_whole = file_load_whole,
    .txn_begin = file_txn_begin,
    .txn_view = file_txn_view,
    .txn_commit = file_txn_commit,
    .txn_end = file_txn_end,
};
