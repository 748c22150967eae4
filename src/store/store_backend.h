/*
 * store_backend.h - what a tenant-store backend is: one table of
 * operations.  store.c picks the table once per call from the
 * tenant_store setting (store_backend_for()) and only ever calls through
 * it, so a backend is one file holding its table (store_file.c,
 * store_pg.c) plus its own internals.
 */
#ifndef TENANTRELAY_STORE_BACKEND_H
#define TENANTRELAY_STORE_BACKEND_H

#include <stdint.h>

#include "tenantrelay/store.h"

/*
 * Every operation has the meaning store.h gives its public namesake; conf
 * is the caller's (tenant_store: the path or URI; change_log).  On error
 * each sets err (and txn_begin errno: the system's when the lock could not
 * be taken, else EINVAL).
 *
 * No lookup operation: every backend hands out whole snapshots, and the
 * snapshot (struct tenant_store, tenant.h) answers the lookups by id,
 * domain and address, the same for all backends.
 */
struct store_backend {
    const char *name;           /* "file", "postgresql": for messages */

    /* The whole store as one snapshot; *version: the store version (a
     * backend without versions leaves the 0 store.c set).  load takes a
     * store that does not exist yet for an empty one (tenantrelayctl
     * creates it); load_whole never does (the daemons route by it). */
    struct tenant_store *(*load)(const struct conf *conf, uint64_t *version, struct conf_error *err);
    struct tenant_store *(*load_whole)(const struct conf *conf, uint64_t *version,
                                       struct conf_error *err);

    /* A write: begin takes the store's write lock and reads the view
     * (the records of id and of every claimed name; id NULL: all), or
     * returns NULL.  The txn is the backend's own, opaque to store.c. */
    void *(*txn_begin)(const struct conf *conf, const char *id, char *const *domains,
                       char *const *addresses, struct conf_error *err);
    const struct tenant_store *(*txn_view)(const void *txn);
    /* Saves repl/added - STORE_RACE if the store moved past what begin
     * read (the version check) - AND appends the change-log entry
     * (action, id, fields): the append is part of commit, not a separate
     * operation, so that a backend can make both one transaction. */
    enum store_result (*txn_commit)(void *txn, const struct tenant *const *repl,
                                    const struct tenant *added, const char *action, const char *id,
                                    const char *fields, struct conf_error *err);
    /* Release the lock, rolling back what was not committed; never NULL. */
    void (*txn_end)(void *txn);
};

extern const struct store_backend store_backend_file;       /* store_file.c */
extern const struct store_backend store_backend_pg;         /* store_pg.c */

/* The backend that serves the tenant_store setting (a path: the file store). */
const struct store_backend *store_backend_for(const char *tenant_store);

#endif
