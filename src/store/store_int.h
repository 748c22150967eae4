/*
 * store_int.h - the PostgreSQL backend's internals, shared by its files
 * (store_pg*.c) and the daemons' live copy (store_live.c): the connection,
 * whole-store load and write transaction.
 */
#ifndef TENANTRELAY_STORE_INT_H
#define TENANTRELAY_STORE_INT_H

#include <libpq-fe.h>
#include <stdint.h>

#include "tenantrelay/store.h"

/* The schema version this build creates and reads. */
#define STORE_PG_SCHEMA 2
/* The LISTEN/NOTIFY channel; the payload is the new store version. */
#define STORE_PG_CHANNEL "tenantrelay_store"

/* Connect with a bounded connect timeout (seconds); NULL with err.  The
 * error never carries the URI (it may hold a password). */
PGconn *store_pg_connect(const char *uri, int timeout, struct conf_error *err);
/* err gets "what: the server's message" (first line). */
void store_pg_error(struct conf_error *err, const char *what, PGconn *c, const PGresult *r);
/* Run one statement without parameters; 0 or -1 with err. */
int store_pg_exec(PGconn *c, const char *sql, struct conf_error *err);
/* The schema version in the database: 0 when there is no schema. -1 err. */
int store_pg_schema_version(PGconn *c, struct conf_error *err);
/* The current store version, or -1 with err (no schema: an error). */
int64_t store_pg_version(PGconn *c, struct conf_error *err);

/* Every record as one snapshot, read in one REPEATABLE READ transaction,
 * with its version.  NULL with err. */
struct tenant_store *store_pg_load_all(PGconn *c, uint64_t *version, struct conf_error *err);
/* The store at its current version given old, the snapshot at version
 * from: the rows the change log names since then merged over old (a full
 * load when that cannot be trusted, or old is NULL).  NULL with err. */
struct tenant_store *store_pg_load_since(PGconn *c, const struct tenant_store *old, uint64_t from,
                                         uint64_t *version, struct conf_error *err);
/* The same, connecting first. */
struct tenant_store *store_pg_load(const char *uri, uint64_t *version, struct conf_error *err);

/* The tenants matching cond (SQL over alias t, with $1.. params) and
 * their claims, read in the caller's transaction.  NULL with err. */
struct tenant_store *store_pg_load_where(PGconn *c, const char *cond, int nparams,
                                         const char *const *params, struct conf_error *err);
/* Insert n records (claims too) inside the caller's transaction, written
 * at store version.  0; -1 with err; -2 a lost race (a claim or id taken
 * meanwhile, a serialization failure). */
int store_pg_put_records(PGconn *c, const struct tenant *const *recs, size_t n, uint64_t version,
                         struct conf_error *err);
/* True for errors that mean "another change won": serialization failure,
 * deadlock, unique violation. */
bool store_pg_is_race(const PGresult *r);

struct store_pg_txn;
struct store_pg_txn *store_pg_txn_begin(const char *uri, const char *id, char *const *domains,
                                        char *const *addresses, struct conf_error *err);
const struct tenant_store *store_pg_txn_view(const struct store_pg_txn *t);
enum store_result store_pg_txn_commit(struct store_pg_txn *t, const struct tenant *const *repl,
                                      const struct tenant *added, const char *action,
                                      const char *id, const char *fields, struct conf_error *err);
void store_pg_txn_end(struct store_pg_txn *t);

#endif
