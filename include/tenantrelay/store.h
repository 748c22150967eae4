/*
 * store.h - the tenant store behind one interface, whatever holds it:
 * files on this host (src/tenant/, the embedded default) or PostgreSQL
 * (tenant_store = "postgresql:" or "postgres:" URI, src/store/).
 *
 * Reads: store_load() gives the whole store as one immutable snapshot
 * (tenant.h).  A store that cannot be read whole is an error, never an
 * empty store.
 *
 * Writes go through a transaction: store_txn_begin() takes the store's
 * write lock (the file store's flock; PostgreSQL: a row lock on the store
 * version) and gives a view holding at least the record of id and every
 * record claiming one of the domains/addresses (NULL id: the whole store);
 * store_txn_commit() saves the new state (repl/added as in
 * tenant_store_rewrite(): repl[i] is the new value of the view's i-th
 * record, the same pointer if unchanged, NULL if removed), appends the
 * change-log entry, and for PostgreSQL bumps the store version and
 * notifies listeners, all in one transaction.  STORE_RACE: the change lost
 * to another one (nothing saved; tenantrelayctl exits 75).  Only sealed
 * tokens ever reach a backend.  Library functions, so that tenantrelayctl
 * and the HTTP API share them.
 *
 * Backends: each is one table of operations, struct store_backend
 * (src/store/store_backend.h: load, load_whole, txn_begin/view/commit/end;
 * lookups stay on the snapshot), and store.c calls only through the table
 * store_backend_for() picks from tenant_store.  A third backend: one file
 * src/store/store_NAME.c defining const struct store_backend
 * store_backend_NAME (its internals in files of its own as it grows), its
 * extern in store_backend.h, and one line in store_backend_for() that
 * recognises its tenant_store values (store_display_name() in
 * src/store/store_uri.c too if they can carry a password); then run
 * tests/integration/test_store_backends.sh's table against it.  Callers
 * see only this header.
 */
#ifndef TENANTRELAY_STORE_H
#define TENANTRELAY_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "tenantrelay/conf.h"
#include "tenantrelay/tenant.h"

enum store_result {
    STORE_OK = 0,
    STORE_ERROR = -1,           /* err says why; nothing saved */
    STORE_RACE = -2,            /* another change won: nothing saved, try again */
    STORE_CONFLICT = -3,        /* a domain or address belongs to another tenant */
    STORE_NOT_FOUND = -4,       /* no such tenant */
};

/* True when the tenant_store setting names a PostgreSQL store. */
bool store_is_pg(const char *tenant_store);

/* tenant_store as it may be logged: a URI without its password or query
 * (which may carry one).  Returns buf. */
const char *store_display_name(const char *tenant_store, char *buf, size_t len);

/* The whole store: in a daemon with a live store (store_live.h) its
 * current snapshot, else read now.  *version (may be NULL): the store
 * version (0 for a file store).  NULL with err on error. */
struct tenant_store *store_load(const struct conf *conf, uint64_t *version, struct conf_error *err);
/* The same for the daemons, which route by the result: a file store must
 * exist and be read whole (tenant_store_load_whole(); SPEC §5), where
 * store_load() takes a missing file store for an empty one (tenantrelayctl
 * creates it). */
struct tenant_store *store_load_whole(const struct conf *conf, uint64_t *version,
                                      struct conf_error *err);

struct store_txn;

/* Begin a write (see above).  NULL with err on error, and errno: the lock
 * could not be taken (errno from the system), or EINVAL (the store could
 * not be read, or the database was not reached). */
struct store_txn *store_txn_begin(const struct conf *conf, const char *id, char *const *domains,
                                  char *const *addresses, struct conf_error *err);
/* The records the transaction sees (owned by txn). */
const struct tenant_store *store_txn_view(const struct store_txn *txn);
/* Save (see above); fields names the fields changed (never values). */
enum store_result store_txn_commit(struct store_txn *txn, const struct tenant *const *repl,
                                   const struct tenant *added, const char *action, const char *id,
                                   const char *fields, struct conf_error *err)
    __attribute__((warn_unused_result));
/* Release the lock; a transaction not committed is rolled back.  NULL: no-op. */
void store_txn_end(struct store_txn *txn);

/* ---- One tenant at a time (tenantrelayctl, the HTTP API) ---- */

/* True when a and b are the same record, field by field (NULL: absent). */
bool store_tenant_same(const struct tenant *a, const struct tenant *b);
/* Save t, a whole record, in one transaction - only if the store's record
 * of t->id is still base (what the caller read, merged and probed; NULL:
 * the tenant must not exist yet): the optimistic check, STORE_RACE if
 * not.  STORE_CONFLICT: a domain or address of t is another tenant's.
 * fields: the names of the fields changed, for the change log. */
enum store_result store_tenant_put(const struct conf *conf, const struct tenant *base,
                                   const struct tenant *t, const char *fields, struct conf_error *err)
    __attribute__((warn_unused_result));
/* Remove tenant id.  STORE_NOT_FOUND when absent. */
enum store_result store_tenant_remove(const struct conf *conf, const char *id, struct conf_error *err)
    __attribute__((warn_unused_result));
/* Enable or disable tenant id; *changed: false when it already was. */
enum store_result store_tenant_set_enabled(const struct conf *conf, const char *id, bool on,
                                           bool *changed, struct conf_error *err)
    __attribute__((warn_unused_result));

/* ---- PostgreSQL administration (tenantrelayctl store init, import, status) ---- */

/* Create or migrate the schema (idempotent).  from, to: the schema versions before and after. */
int store_pg_init(const char *uri, int *from, int *to, struct conf_error *err);
/* Copy every record of the file store at path into an EMPTY PostgreSQL
 * store, in one transaction.  *count: records copied. */
int store_pg_import(const char *uri, const char *path, size_t *count, struct conf_error *err);
/* Schema version, store version, tenant count and each node's report, as
 * JSON text (caller frees with free()). */
char *store_pg_status(const char *uri, struct conf_error *err);

#endif
