/*
 * store.c - the tenant-store interface (store.h): picks the backend
 * (store_backend.h) once per call from the tenant_store setting and calls
 * through its table; what is the same for every backend stays here (the
 * daemon's live snapshot first, the version 0 default).
 */
#include "config.h"

#include "tenantrelay/mymalloc.h"
#include "tenantrelay/store_live.h"
#include "store_backend.h"

struct store_txn {
    const struct store_backend *be;
    void *impl;                 /* the backend's own transaction */
};

const struct store_backend *store_backend_for(const char *tenant_store)
{
    /* One line per backend; a plain path is the file store. */
    if (store_is_pg(tenant_store))
        return &store_backend_pg;
    return &store_backend_file;
}

/* In a daemon the live copy answers (only ever active for the setting it
 * watches, so a backend without one never finds it). */
static struct tenant_store *load_live(const struct conf *conf, uint64_t *version)
{
    if (version)
        *version = 0;
    return store_live_acquire(conf->tenant_store, version, NULL);
}

struct tenant_store *store_load(const struct conf *conf, uint64_t *version, struct conf_error *err)
{
    struct tenant_store *s = load_live(conf, version);

    return s ? s : store_backend_for(conf->tenant_store)->load(conf, version, err);
}

struct tenant_store *store_load_whole(const struct conf *conf, uint64_t *version,
                                      struct conf_error *err)
{
    struct tenant_store *s = load_live(conf, version);

    return s ? s : store_backend_for(conf->tenant_store)->load_whole(conf, version, err);
}

struct store_txn *store_txn_begin(const struct conf *conf, const char *id, char *const *domains,
                                  char *const *addresses, struct conf_error *err)
{
    const struct store_backend *be = store_backend_for(conf->tenant_store);
    void *impl = be->txn_begin(conf, id, domains, addresses, err);
    struct store_txn *t;

    if (impl == NULL)
        return NULL;            /* errno: the backend's */
    t = mymalloc(sizeof(*t));
    t->be = be;
    t->impl = impl;
    return t;
}

const struct tenant_store *store_txn_view(const struct store_txn *t)
{
    return t->be->txn_view(t->impl);
}

enum store_result store_txn_commit(struct store_txn *t, const struct tenant *const *repl,
                                   const struct tenant *added, const char *action, const char *id,
                                   const char *fields, struct conf_error *err)
{
    return t->be->txn_commit(t->impl, repl, added, action, id, fields, err);
}

void store_txn_end(struct store_txn *t)
{
    if (t == NULL)
        return;
    t->be->txn_end(t->impl);
    myfree(t);
}
