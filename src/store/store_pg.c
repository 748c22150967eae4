/*
 * store_pg.c - the PostgreSQL backend of the tenant store
 * (store_backend.h): its table of operations over store_pg_load.c (reads)
 * and store_pg_write.c (the transaction: row lock on the store version,
 * version check, tr_changes row and NOTIFY in one commit).  The schema
 * and the administration are store_pg_schema.c; a daemon's live copy,
 * which store.c consults before any of this, is store_live.c.
 */
#include "config.h"

#include <errno.h>

#include "store_backend.h"
#include "store_int.h"

/* A PostgreSQL store is always read whole: a missing schema or an
 * unreachable database is an error, never an empty store. */
static struct tenant_store *pg_load(const struct conf *conf, uint64_t *version,
                                    struct conf_error *err)
{
    return store_pg_load(conf->tenant_store, version, err);
}

static void *pg_txn_begin(const struct conf *conf, const char *id, char *const *domains,
                          char *const *addresses, struct conf_error *err)
{
    struct store_pg_txn *t = store_pg_txn_begin(conf->tenant_store, id, domains, addresses, err);

    if (t == NULL)
        errno = EINVAL;         /* the database was not reached, or not read */
    return t;
}

static const struct tenant_store *pg_txn_view(const void *t)
{
    return store_pg_txn_view(t);
}

static enum store_result pg_txn_commit(void *t, const struct tenant *const *repl,
                                       const struct tenant *added, const char *action,
                                       const char *id, const char *fields, struct conf_error *err)
{
    return store_pg_txn_commit(t, repl, added, action, id, fields, err);
}

static void pg_txn_end(void *t)
{
    store_pg_txn_end(t);
}

const struct store_backend store_backend_pg = {
    .name = "postgresql",
    .load = pg_load,
    .load_whole = pg_load,
    .txn_begin = pg_txn_begin,
    .txn_view = pg_txn_view,
    .txn_commit = pg_txn_commit,
    .txn_end = pg_txn_end,
};
