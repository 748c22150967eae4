/*
 * delivery_int.h - the delivery module's shared state (private to
 * src/delivery).  Everything here is guarded by delivery.lock unless a
 * field says otherwise.
 */
#ifndef TENANTRELAY_DELIVERY_INT_H
#define TENANTRELAY_DELIVERY_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "tenantrelay/conf.h"
#include "tenantrelay/route.h"
#include "tenantrelay/smtpc.h"
#include "tenantrelay/spool.h"
#include "tenantrelay/tenant.h"

#define DELIVERY_DEFAULT_KEY "default"

/* A hash from a string key to a pointer (delivery_keymap.c).  The key is
 * borrowed: it must live as long as its entry (it is the value's own). */
struct keymap_entry;
struct keymap {
    struct keymap_entry **buckets;
    size_t nbuckets, count;
};
size_t keymap_hash(const char *key);
void *keymap_find(const struct keymap *km, const char *key);
void keymap_put(struct keymap *km, const char *key, void *value);
/* Remove the entry of key that holds value (no-op when absent). */
void keymap_remove(struct keymap *km, const char *key, const void *value);
void keymap_free(struct keymap *km);

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
    struct dmsg *route_next;    /* ready-queue link */
    struct dmsg *hash_next;     /* index bucket link */
    struct dmsg *prev, *next;   /* list of all messages, arrival order */
};

/* A route as delivery runs it: settings from the default route or the
 * tenant's record, its ready queue, its workers and its breaker. */
struct droute {
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
    time_t last_success;
    char *last_error;
    time_t last_error_time;
    struct dstats *next;
};

/* One TLS client context per (ca_file, verify) pair, shared by every route
 * and worker that uses it: building a context re-reads the CA file, the
 * largest single cost of opening a session. */
struct dtls {
    char *ca_file;              /* NULL: the system trust store */
    bool verify;
    struct tls_client_ctx *ctx;
    struct dtls *next;
};

struct delivery {
    pthread_mutex_t lock;
    pthread_cond_t sched_cond;
    pthread_t sched_thread;
    bool running;
    bool stopping;
    struct conf *conf;
    struct tenant_store *store;
    struct vault *vault;
    struct spool *spool;
    struct dmsg **buckets;
    size_t nbuckets;
    size_t count;
    struct dmsg *first, *last;
    struct droute *routes;          /* every route, retired ones too */
    struct keymap route_map;        /* key -> present route */
    struct dstats *stats;
    struct keymap stats_map;        /* id -> its figures */
    struct dtls *tls_contexts;
    struct dtls *old_tls_contexts;  /* before the last reload: may still be in use */
    int total_workers;
    pthread_cond_t workers_done;
    /* Old keyrings stay alive until stop: a worker may still use one. */
    struct vault **old_vaults;
    size_t old_vault_count;
    /* For the metrics: loads of the store so far, and when the last one was. */
    unsigned long store_generation;
    time_t store_loaded;
};

extern struct delivery delivery;

/* Index (delivery_index.c). */
struct dmsg *dindex_find(const char *qid);
struct dmsg *dindex_add(const char *qid);
void dindex_remove(struct dmsg *m);

/* Routes and workers (delivery_route.c). */
struct droute *droute_for_tenant(const char *tenant);
void droute_push(struct droute *r, struct dmsg *m);
void droute_refresh_all(void);
void droute_free_all(void);
/* Close the circuit breaker of r and release what it held. */
void droute_release(struct droute *r);
/* The route key a message of tenant goes by now ("default" or the id). */
const char *droute_key_of(const char *tenant);
/* Set every message of route key to held by the breaker, saving state. */
void droute_hold_messages(const char *key, const char *reason);

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
};
void attempt_run(const struct attempt_ctx *ctx, struct dmsg *m, struct attempt_result *res);

/* The shared TLS context for a route's settings, or NULL (built on demand;
 * lives until delivery_stop).  Call with the lock held. */
struct tls_client_ctx *dtls_context(const struct route *route);

/* Statistics (delivery_control.c). */
struct dstats *dstats_get(const char *id);

#endif
