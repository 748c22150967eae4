/*
 * store.c - the tenant-store interface (store.h): picks the backend from
 * the tenant_store setting; the file backend's transaction is the flock,
 * the partial load and the atomic rewrite of src/tenant/.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "tenantrelay/mymalloc.h"
#include "tenantrelay/store_live.h"
#include "tenantrelay/tenant_write.h"
#include "store_int.h"

struct store_txn {
    const struct conf *conf;
    int lock;                   /* file store: the flock fd */
    struct tenant_store *view;  /* file store */
    struct store_pg_txn *pg;    /* PostgreSQL store */
};

static struct tenant_store *load_any(const struct conf *conf, bool whole, uint64_t *version,
                                     struct conf_error *err)
{
    struct tenant_store *s;

    if (version)
        *version = 0;
    if ((s = store_live_acquire(conf->tenant_store, version, NULL)) != NULL)
        return s;
    if (store_is_pg(conf->tenant_store))
        return store_pg_load(conf->tenant_store, version, err);
    return whole ? tenant_store_load_whole(conf->tenant_store, err)
                 : tenant_store_load(conf->tenant_store, err);
}

struct tenant_store *store_load(const struct conf *conf, uint64_t *version, struct conf_error *err)
{
    return load_any(conf, false, version, err);
}

struct tenant_store *store_load_whole(const struct conf *conf, uint64_t *version,
                                      struct conf_error *err)
{
    return load_any(conf, true, version, err);
}

struct store_txn *store_txn_begin(const struct conf *conf, const char *id, char *const *domains,
                                  char *const *addresses, struct conf_error *err)
{
    struct store_txn *t = mycalloc(1, sizeof(*t));

    t->conf = conf;
    t->lock = -1;
    if (store_is_pg(conf->tenant_store)) {
        if ((t->pg = store_pg_txn_begin(conf->tenant_store, id, domains, addresses, err)) == NULL) {
            errno = EINVAL;
            goto fail;
        }
        return t;
    }
    if ((t->lock = tenant_store_lock(conf->tenant_store, err)) < 0)
        goto fail;
    t->view = id ? tenant_store_load_for_update(conf->tenant_store, id, domains, addresses, err)
                 : tenant_store_load(conf->tenant_store, err);
    if (t->view == NULL) {
        errno = EINVAL;         /* the lock was taken: the content is bad */
        goto fail;
    }
    return t;
fail:
    {
        int e = errno;

        store_txn_end(t);
        errno = e;
    }
    return NULL;
}

const struct tenant_store *store_txn_view(const struct store_txn *t)
{
    return t->pg ? store_pg_txn_view(t->pg) : t->view;
}

enum store_result store_txn_commit(struct store_txn *t, const struct tenant *const *repl,
                                   const struct tenant *added, const char *action, const char *id,
                                   const char *fields, struct conf_error *err)
{
    if (t->pg)
        return store_pg_txn_commit(t->pg, repl, added, action, id, fields, err);
    if (tenant_store_rewrite(t->conf->tenant_store, t->view, repl, added, err) < 0)
        return STORE_ERROR;
    if (tenant_changelog_append(t->conf->change_log, action, id, fields, err) < 0) {
        size_t n = strlen(err->text);

        snprintf(err->text + n, sizeof(err->text) - n, " (the change itself was saved)");
        return STORE_ERROR;
    }
    return STORE_OK;
}

void store_txn_end(struct store_txn *t)
{
    if (t == NULL)
        return;
    store_pg_txn_end(t->pg);
    tenant_store_free(t->view);
    tenant_store_unlock(t->lock);
    myfree(t);
}
