/*
 * store_live.h - a daemon's live copy of a PostgreSQL tenant store.
 *
 * tenantrelayd and tenantrelay-milter hold the whole store in memory.  A
 * watcher thread keeps one dedicated (never pooled) connection that
 * LISTENs for the writers' notifications - a hint - and reconciles by
 * version on every reconnect and every tenant_store_poll seconds - the
 * truth.  Each new snapshot is handed to the subscribers and written
 * atomically to the spool directory; when the database is down at start
 * the daemon starts from that snapshot.  While the database is
 * unreachable the snapshot is "stale": known tenants keep routing, mail
 * naming an unknown tenant is tempfailed (resolve.h), and the staleness is
 * logged and shown in `status`.  For a file store nothing here runs.
 */
#ifndef TENANTRELAY_STORE_LIVE_H
#define TENANTRELAY_STORE_LIVE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "tenantrelay/conf.h"
#include "tenantrelay/tenant.h"

struct store_live_info {
    bool active;                /* a PostgreSQL store is live in this process */
    bool stale;                 /* the database is unreachable now */
    uint64_t version;           /* the version served */
    time_t synced;              /* last time the database confirmed it (0: never) */
    bool from_snapshot;         /* started from the spool's snapshot file */
    time_t snapshot_at;         /* when the spool snapshot was last written (0: never) */
};

/* Start for conf (no-op returning 0 for a file store): load from the
 * database, or from the snapshot when it is unreachable; then watch.
 * program names this node in tr_nodes ("<hostname>/<program>").  -1 with
 * err when neither the database nor a snapshot can be read. */
int store_live_start(const struct conf *conf, const char *program, char *err, size_t errlen);
void store_live_stop(void);

/* A reference to the current snapshot when the live store serves the
 * setting tenant_store (release with tenant_store_free), else NULL.
 * version, stale: may be NULL. */
struct tenant_store *store_live_acquire(const char *tenant_store, uint64_t *version, bool *stale);
/* fn is called from the watcher thread with every new snapshot (borrowed:
 * take a reference with tenant_store_ref() to keep it) and arg. */
void store_live_subscribe(void (*fn)(struct tenant_store *snap, void *arg), void *arg);
void store_live_get_info(struct store_live_info *info);

/* The snapshot file in spool_directory, and its I/O: written atomically
 * (temp file, fsync, rename, directory fsync).  0 or -1 with err. */
int store_snapshot_write(const char *spool_dir, const struct tenant_store *s, uint64_t version,
                         struct conf_error *err);
struct tenant_store *store_snapshot_read(const char *spool_dir, uint64_t *version, time_t *written,
                                         struct conf_error *err);

#endif
