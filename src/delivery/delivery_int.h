/*
 * delivery_int.h - the delivery engine's state (private to src/delivery).
 * There is no global: the daemon creates the engine (delivery_new) and
 * every function is handed it, or the route that points to it.
 * Everything here is guarded by the engine's lock (the lock member of
 * struct delivery) unless a field says otherwise.
 *
 * The files, bottom up: each calls functions only of the files above it
 * in this list, never one below (no call cycle among them).
 *   delivery_stats.c    per-tenant figures, counts by state (dcount)
 *   delivery_sched.c    the timer heap: when each message is next due
 *   delivery_index.c    the message table (by queue id, arrival order, age)
 *   delivery_gen.c      generations (keyring + TLS contexts) and the
 *                       keyring file's identity
 *   delivery_queue.c    a route's ready queue, and the route key a
 *                       tenant's mail goes by
 *   delivery_flush.c    state writes and removals, done off the lock
 *   delivery_limits.c   a route's limits: rate and AUTH circuit breaker
 *   delivery_route.c    the routes: creation, slow start, reload, retiring
 *   delivery_outcome.c  what an attempt's outcome does
 *   delivery_attempt.c  one attempt (runs without the lock)
 *   delivery_worker.c   a route's worker threads
 *   delivery_control.c  `status`, queue actions, /metrics gauges
 *   delivery.c          the engine: start, scheduler thread, enqueue,
 *                       reload (prepare/commit), store snapshots, stop
 */
#ifndef TENANTRELAY_DELIVERY_INT_H
#define TENANTRELAY_DELIVERY_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <time.h>

#include "tenantrelay/conf.h"
#include "tenantrelay/route.h"
#include "tenantrelay/hmap.h"
#include "tenantrelay/smtpc.h"
#include "tenantrelay/spool.h"
#include "tenantrelay/tenant.h"

#define DELIVERY_DEFAULT_KEY "default"

/* One queued message as the scheduler sees it (the spool has the rest). */
struct dmsg {
    char qid[SPOOL_QID_LEN + 1];
    char *tenant;               /* as recorded at acceptance; NULL: none */
    time_t arrival;
    enum spool_state_kind state;
    int attempts;
    time_t next_attempt;
    time_t last_attempt;
    bool in_flight;             /* a worker holds it */
    bool on_route;              /* in a route's ready queue */
    bool held_by_breaker;       /* released when the route's settings change */
    bool delete_requested;      /* by an operator while in flight */
    bool hold_requested;
    bool removing;              /* its files are being removed (dremove_queue) */
    int pending_writes;         /* state writes queued (dwrite_queue) */
    size_t heap_pos;            /* in the timer heap at this 1-based position; 0: not */
    struct droute *route;       /* the route whose ready queue holds it (on_route) */
    size_t age_pos;             /* in the arrival heap (delivery_index.c), 1-based */
    time_t due;                 /* its key in the heap */
    struct dmsg *route_next;    /* ready-queue link */
    struct dmsg *prev, *next;   /* list of all messages, arrival order */
};

/* A route as delivery runs it: settings from the default route or the
 * tenant's record, its ready queue, its workers and its breaker. */
struct droute {
    struct delivery *engine;    /* the engine it belongs to (set once) */
    char *key;                  /* tenant id, or "default" */
    struct route route;         /* current settings (a copy) */
    char *seal_tenant;          /* tenant id the password token is sealed for */
    unsigned generation;        /* bumped when settings change: sessions drop */
    bool present;               /* still a valid route after the last reload */
    struct dmsg *head, *tail;   /* ready queue */
    int queued;
    int workers;
    int idle_workers;
    int connecting;             /* workers opening a session (slow start) */
    pthread_cond_t cond;        /* workers wait here */
    int auth_failures;          /* consecutive */
    int down_failures;          /* consecutive connection-level failures */
    time_t down_until;          /* the upstream is unreachable until then */
    bool held;                  /* circuit breaker open */
    long long *starts;          /* ring of recent message starts, monotonic ms (rate_limit) */
    int starts_len, starts_pos, starts_count;
    struct droute *next;
};

/* Per-tenant figures for `status` (key "default" for the default route). */
struct dstats {
    char *id;
    long sent;
    long deferred, failed, held;    /* messages in the queue now, in that state */
    time_t last_success;
    char *last_error;
    time_t last_error_time;
    /* The entry as `status` prints it (JSON_COMPACT), kept between requests
     * so that a request costs a copy, not 100,000 jansson objects; stale
     * (NULL or dirty) after any change above (dstats_touch). */
    char *entry;
    size_t entry_len;
    bool dirty;
    struct dstats *next;
};

/* A generation: what one (re)load provides to sessions, freed when the
 * last worker using it lets go (refs counts the engine's gen itself, each
 * worker that pinned it, and generations borrowing its keyring). */
struct dgen {
    int refs;
    struct vault *vault;        /* NULL: no keyring */
    struct dgen *vault_owner;   /* non-NULL: vault is borrowed from it */
    struct tls_cache *tls;      /* TLS contexts built for this generation (tls/) */
};

/* The engine (one per daemon). */
struct delivery {
    pthread_mutex_t lock;
    pthread_cond_t sched_cond;
    pthread_t sched_thread;
    bool running;
    bool stopping;
    struct conf *conf;
    struct tenant_store *store;
    struct spool *spool;
    struct hmap by_qid;             /* queue id -> message (delivery_index.c) */
    size_t count;
    struct dmsg *first, *last;
    struct droute *routes;          /* every route, retired ones too */
    struct hmap route_map;          /* key -> present route */
    struct dstats *stats;
    struct hmap stats_map;          /* id -> its figures */
    unsigned long stats_store_generation;   /* store whose tenants all have figures */
    size_t status_ready_pos;        /* dstatus_prepare()'s place in the store ... */
    unsigned long status_ready_generation;  /* ... of this generation */
    long state_count[4];            /* messages by state (QUEUED: not kept, see dcount) */
    struct dmsg **age_heap;         /* every message, min-heap by arrival (oldest age) */
    size_t age_len, age_cap;
    struct dgen *gen;               /* the current generation */
    struct dmsg **heap;             /* timer heap (delivery_sched.c) */
    size_t heap_len, heap_cap;
    struct dwrite *writes, *writes_tail;    /* state writes for the scheduler thread */
    struct dremoval *removals;              /* message removals for the scheduler thread */
    bool flushing;                  /* the scheduler is writing them (lock let go) */
    pthread_cond_t flushed;         /* broadcast after each round of writes */
    int total_workers;
    pthread_cond_t workers_done;
    /* For the metrics: loads of the store so far, and when the last one was. */
    unsigned long store_generation;
    time_t store_loaded;
    /* The keyring file as last loaded (start, reload, or with a store
     * snapshot), guarded by keyring_lock, not lock: delivery_store_install
     * compares it outside the engine's lock (delivery_gen.c). */
    pthread_mutex_t keyring_lock;
    struct stat keyring_seen;
};

/* Statistics (delivery_stats.c). */
struct dstats *dstats_get(struct delivery *d, const char *id);
/* s's figures changed: its cached `status` entry is rebuilt on next use. */
void dstats_touch(struct dstats *s);
/* Free every figure (at stop). */
void dstats_free_all(struct delivery *d);
/* Count m (its tenant and state) in or out of the figures: +1 or -1. */
void dcount(struct delivery *d, const struct dmsg *m, int delta);
/* Change m's state, keeping the per-tenant counts of `status`. */
void dmsg_set_state(struct delivery *d, struct dmsg *m, enum spool_state_kind k);

/* The timer heap (delivery_sched.c); lock held.
 * dsched_update: after anything that changes when m is due (its state,
 * next_attempt, in_flight, on_route); it files m in the timer heap or takes
 * it out.  dsched_pop_due: the next message due at now, or NULL.
 * dsched_next: the earliest due time, false when none. */
void dsched_update(struct delivery *d, struct dmsg *m);
void dsched_remove(struct delivery *d, struct dmsg *m);
struct dmsg *dsched_pop_due(struct delivery *d, time_t now);
bool dsched_next(struct delivery *d, time_t *when);
void dsched_free(struct delivery *d);

/* Index (delivery_index.c).  dindex_remove takes m out of everything: the
 * timer heap, the counts, the table; then frees it. */
struct dmsg *dindex_find(struct delivery *d, const char *qid);
struct dmsg *dindex_add(struct delivery *d, const char *qid, time_t arrival);
void dindex_remove(struct delivery *d, struct dmsg *m);
/* The arrival of the oldest message in the index; 0 when empty.  O(1). */
time_t dindex_oldest(struct delivery *d);
/* Free the index's arrays (once every message is removed). */
void dindex_free(struct delivery *d);

/* Generations (delivery_gen.c); dgen_* with the lock held.
 * dgen_new: one holding vault (owned, NULL: none).  dgen_put: drop a
 * reference; the last one frees it.  dgen_replace: the current generation
 * becomes one with vault (NULL: the running keyring, borrowed) and fresh
 * TLS contexts. */
struct dgen *dgen_new(struct vault *vault);
void dgen_put(struct dgen *g);
void dgen_replace(struct delivery *d, struct vault *vault);
/* The keyring file: its identity now (false when it cannot be seen);
 * remember st as the one last loaded (all zero: none); whether the file
 * differs from the one last loaded (then it is remembered). */
bool dkeyring_stat(const struct conf *conf, struct stat *st);
void dkeyring_remember(struct delivery *d, const struct stat *st);
bool dkeyring_changed(struct delivery *d, const struct conf *conf);

/* A route's ready queue (delivery_queue.c).  droute_settings: what route
 * key should use now, or NULL when the key is no longer a route (tenant
 * removed or disabled).  droute_key_of: the route key a message of tenant
 * goes by now ("default" or the id).  droute_link: append m to r's ready
 * queue.  droute_pop: take the first message off r's ready queue, or NULL
 * when it is empty.  droute_unlink: take m out of its route's ready queue. */
const struct route *droute_settings(struct delivery *d, const char *key);
const char *droute_key_of(struct delivery *d, const char *tenant);
void droute_link(struct droute *r, struct dmsg *m);
struct dmsg *droute_pop(struct droute *r);
void droute_unlink(struct dmsg *m);

/* State writes and removals off the lock (delivery_flush.c).  Queue a
 * write of m's state file (state; next_attempt 0 when now_due; the reply
 * when not NULL); m stays unscheduled until it is written.  The writes and
 * removals are done by *_flush(), which release the lock during the I/O
 * and return true when there was work. */
struct dwrite;
struct dremoval;
void dwrite_queue(struct delivery *d, struct dmsg *m, enum spool_state_kind state, bool now_due,
                  const char *reply);
bool dwrite_flush(struct delivery *d);
void dwrite_free(struct delivery *d);
/* Queue the removal of m's files (then m leaves the index). */
void dremove_queue(struct delivery *d, struct dmsg *m, const char *why);
bool dremove_flush(struct delivery *d);
void dremove_free(struct delivery *d);

/* Limits (delivery_limits.c).  drate_set: size r's rate ring for its
 * route's rate_limit (emptied).  drate_wait_ms: milliseconds until r may
 * start its next message, 0: now.  drate_record: record a start at now,
 * the slot it took or -1 (no limit).  drate_finish: the message of slot
 * (started then) is done: it counts from its end. */
void drate_set(struct droute *r);
long long drate_wait_ms(const struct droute *r, long long now);
int drate_record(struct droute *r, long long now);
void drate_finish(struct droute *r, int slot, long long started);
/* Set every message of route key to held by the breaker, saving state. */
void droute_hold_messages(struct delivery *d, const char *key, const char *reason);
/* Close the circuit breaker of r and release what it held. */
void droute_release(struct droute *r);

/* Routes (delivery_route.c).  droute_for_tenant: the route a message of
 * tenant goes by now, created when needed.  droute_push: queue m on r; true
 * when r should start one more worker (slow start: delivery_worker.c).
 * droute_retire_if_unused: free r when it is retired and unused. */
struct droute *droute_for_tenant(struct delivery *d, const char *tenant);
bool droute_push(struct droute *r, struct dmsg *m);
void droute_retire_if_unused(struct droute *r);
void droute_refresh_all(struct delivery *d);
void droute_free_all(struct delivery *d);

/* One attempt (delivery_attempt.c): runs without the lock. */
enum attempt_outcome { ATTEMPT_SENT, ATTEMPT_DEFERRED, ATTEMPT_FAILED, ATTEMPT_AUTH_FAILED };
struct attempt_ctx {
    const struct conf *conf;
    struct tls_client_ctx *tls_ctx;     /* shared; NULL: the session builds its own */
    struct spool *spool;
    struct vault *vault;
    const char *route_key;
    const struct route *route;
    const char *seal_tenant;
    struct smtpc_session **session;     /* reused between attempts of a worker */
    int *session_messages;
};
struct attempt_result {
    enum attempt_outcome outcome;
    char reply[SMTPC_REPLY_MAX];    /* the upstream's reply, or our reason */
    time_t next_attempt;            /* when deferred */
    bool auth_ok;                   /* AUTH succeeded (or was not needed) */
    bool route_down;                /* failed before AUTH: the upstream itself is unusable */
    bool session_ok;                /* the session may carry the next message */
    bool gone;                      /* the message no longer exists */
    bool retenant;                  /* schedule again by tenant (owned; NULL: none) */
    char *tenant;
};
void attempt_run(const struct attempt_ctx *ctx, struct dmsg *m, struct attempt_result *res);
/* The breaker's count of an attempt's AUTH result on r (delivery_limits.c). */
void dbreaker_count(struct droute *r, const struct attempt_result *res);
/* Apply an attempt's outcome on m of r (delivery_outcome.c). */
void doutcome_apply(struct droute *r, struct dmsg *m, const struct attempt_result *res);

/* Workers (delivery_worker.c): start one more worker for r (lock held). */
void dworker_start(struct droute *r);

/* `status` made ready ahead of its first request (delivery_control.c),
 * lock held: figures for up to budget more of the store's tenants, their
 * entries serialised.  True while some remain (call again in a later
 * round, the lock let go in between). */
bool dstatus_prepare(struct delivery *d, size_t budget);

#endif
