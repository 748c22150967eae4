/*
 * delivery.c - the delivery engine: its life cycle (new, start, reload in
 * two steps, store snapshots, stop, free) and its scheduler thread (see
 * delivery.h).  The scheduler wakes for due retries (at most once a
 * second, or when told), moves due messages to their route's ready queue,
 * holds the mail of a route whose circuit breaker is open, and removes
 * failed messages once failed_retention has passed.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "delivery_int.h"
#include "tenantrelay/clock.h"
#include "tenantrelay/delivery.h"
#include "tenantrelay/msg.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/retry.h"
#include "tenantrelay/store.h"
#include "tenantrelay/tls.h"
#include "tenantrelay/vault.h"

struct delivery *delivery_new(void)
{
    struct delivery *d = mycalloc(1, sizeof(*d));

    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->sched_cond, NULL);
    pthread_cond_init(&d->workers_done, NULL);
    pthread_cond_init(&d->flushed, NULL);
    pthread_mutex_init(&d->keyring_lock, NULL);
    return d;
}

void delivery_free(struct delivery *d)
{
    if (d == NULL)
        return;
    pthread_mutex_destroy(&d->keyring_lock);
    pthread_cond_destroy(&d->flushed);
    pthread_cond_destroy(&d->workers_done);
    pthread_cond_destroy(&d->sched_cond);
    pthread_mutex_destroy(&d->lock);
    myfree(d);
}

/* Hold m because its route's breaker is open (the state file is written
 * by the scheduler thread, not under the lock). */
static void hold_for_breaker(struct delivery *d, struct dmsg *m)
{
    dmsg_set_state(d, m, SPOOL_HELD);
    m->held_by_breaker = true;
    dwrite_queue(d, m, SPOOL_HELD, false,
                 "held: the route's circuit breaker is open after repeated AUTH failures");
}

static void schedule(struct delivery *d, struct dmsg *m)
{
    struct droute *r;

    if (m->pending_writes > 0 || m->removing)
        return;                 /* dwrite_flush/dremove_flush bring it back */
    r = droute_for_tenant(d, m->tenant);
    if (r->held)
        hold_for_breaker(d, m);
    else if (droute_push(r, m))
        dworker_start(r);
    dsched_update(d, m);
}

/* Messages handed to routes per batch, between which the lock is let go:
 * a start-up with a large queue must not hold the listener's enqueue. */
#define SCHED_PER_ROUND 256
/* Tenants whose `status` entry one round readies (a few microseconds each). */
#define STATUS_PREPARE_SLICE 1000

static void *scheduler_main(void *arg)
{
    struct delivery *d = arg;

    pthread_mutex_lock(&d->lock);
    while (!d->stopping) {
        time_t now = time(NULL);
        time_t earliest = now + SPOOL_FREE_IDLE;
        struct timespec until;
        struct dmsg *m;
        int n = 0;
        bool more = false;

        /* Only what is due: the timer heap, never a walk of the queue. */
        while ((m = dsched_pop_due(d, now)) != NULL) {
            if (m->state == SPOOL_FAILED)
                dremove_queue(d, m, "failed_retention passed");
            else
                schedule(d, m);
            if (++n == SCHED_PER_ROUND) {
                more = true;
                break;
            }
        }
        /* The first `status` after a start or a new store would otherwise
         * serialise every tenant's entry at once (about 250 ms for 100,000
         * tenants): done here a slice at a time, the lock let go between. */
        more |= dstatus_prepare(d, STATUS_PREPARE_SLICE);
        /* File I/O (state writes, removals, expiry) without the lock. */
        d->flushing = true;
        more |= dwrite_flush(d);
        more |= dremove_flush(d);
        d->flushing = false;
        pthread_cond_broadcast(&d->flushed);
        pthread_mutex_unlock(&d->lock);
        /* Files of delivered messages not reused for a while are deleted:
         * no delivered content stays on disk longer than that. */
        spool_expire_free(d->spool, SPOOL_FREE_IDLE);
        pthread_mutex_lock(&d->lock);
        if (more || d->writes || d->removals)
            continue;
        {
            time_t next;

            if (dsched_next(d, &next) && next < earliest)
                earliest = next;
        }
        until.tv_sec = earliest > now ? earliest : now + 1;
        until.tv_nsec = 0;
        pthread_cond_timedwait(&d->sched_cond, &d->lock, &until);
    }
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

static struct dmsg *index_message(struct delivery *d, const char *qid, const char *tenant, time_t arrival)
{
    struct dmsg *m = dindex_find(d, qid);

    if (m == NULL) {
        m = dindex_add(d, qid, arrival);
        m->tenant = mystrdup_or_null(tenant);
        m->state = SPOOL_QUEUED;        /* not counted: only deferred, failed, held are */
    }
    return m;
}

/* When an envelope that cannot be read was written (its file's time), for
 * max_age; now when even that is unknown. */
static time_t env_time(struct spool *spool, const char *qid)
{
    char path[4096];
    struct stat st;

    if (stat(spool_path(spool, qid, ".env", path, sizeof(path)), &st) == 0)
        return st.st_mtime;
    return time(NULL);
}

void delivery_enqueue(struct delivery *d, const struct spool_envelope *env)
{
    struct dmsg *m;

    pthread_mutex_lock(&d->lock);
    if (d->running && !d->stopping) {
        m = index_message(d, env->id, env->tenant, env->arrival);
        if (!m->in_flight && !m->on_route)
            schedule(d, m);
    }
    pthread_mutex_unlock(&d->lock);
}

/* The new state a reload prepares; delivery_commit() installs it. */
struct delivery_next {
    struct conf *conf;
    struct tenant_store *store;
    struct vault *vault;        /* NULL: keep the running keyring */
    struct stat keyring_st;     /* the keyring file read (all zero: none) */
};

struct delivery_next *delivery_prepare(struct delivery *d, struct conf *conf, struct tenant_store *store,
                                       char *err, size_t errlen)
{
    struct delivery_next *n;
    struct vault *vault;
    struct stat st;
    char verr[256];
    bool had_vault;

    pthread_mutex_lock(&d->lock);
    had_vault = d->gen && d->gen->vault;
    pthread_mutex_unlock(&d->lock);
    if (!dkeyring_stat(conf, &st))
        memset(&st, 0, sizeof(st));
    vault = vault_load(conf->key_file, conf->key_credential, conf->user, verr, sizeof(verr));
    if (vault == NULL && had_vault) {
        /* A keyring that was readable and no longer is, is broken: the
         * whole reload is refused rather than half applied. */
        snprintf(err, errlen, "keyring: %s", verr);
        return NULL;
    }
    if (vault == NULL)
        msg_warn("-", "no keyring loaded (%s): routes with a password will be deferred", verr);
    n = mycalloc(1, sizeof(*n));
    n->conf = conf_ref(conf);
    n->store = tenant_store_ref(store);
    n->vault = vault;
    n->keyring_st = st;
    return n;
}

void delivery_discard(struct delivery *d, struct delivery_next *n)
{
    (void)d;
    if (n == NULL)
        return;
    conf_unref(n->conf);
    tenant_store_free(n->store);
    vault_free(n->vault);
    myfree(n);
}

int delivery_start(struct delivery *d, struct conf *conf, struct spool *spool, struct tenant_store *store,
                   char *err, size_t errlen)
{
    char **ids = NULL;
    size_t count = 0;
    struct vault *vault;
    struct stat kst;
    char verr[256];

    if (vault_init() < 0) {
        snprintf(err, errlen, "libsodium failed to initialise");
        return -1;
    }
    if (spool_list(spool, &ids, &count, err, errlen) < 0)
        return -1;
    if (dkeyring_stat(conf, &kst))
        dkeyring_remember(d, &kst);
    /* Without a keyring, routes with credentials defer with a clear reason. */
    if ((vault = vault_load(conf->key_file, conf->key_credential, conf->user, verr, sizeof(verr))) == NULL)
        msg_warn("-", "no keyring loaded (%s): routes with a password will be deferred", verr);
    pthread_mutex_lock(&d->lock);
    d->conf = conf_ref(conf);
    d->store = tenant_store_ref(store);
    d->store_generation++;
    d->store_loaded = time(NULL);
    d->gen = dgen_new(vault);
    d->spool = spool;
    d->stopping = false;
    for (size_t i = 0; i < count; i++) {
        struct spool_envelope env;
        struct spool_state st;
        char e[256];
        struct dmsg *m;

        if (spool_envelope_read(spool, ids[i], &env, e, sizeof(e)) < 0) {
            /* Never skipped: indexed without a tenant (so routed by none:
             * the attempt re-reads the envelope first), retried while the
             * cause may pass, failed with its reason by max_age. */
            msg_error(ids[i], "cannot read envelope: %s; it is retried, then failed at max_age", e);
            m = index_message(d, ids[i], NULL, env_time(spool, ids[i]));
        } else {
            m = index_message(d, env.id, env.tenant, env.arrival);
            spool_envelope_free(&env);
        }
        if (spool_state_read(spool, ids[i], &st, e, sizeof(e)) == 0) {
            dmsg_set_state(d, m, st.state);
            m->attempts = st.attempts;
            m->next_attempt = st.next_attempt;
            m->last_attempt = st.last_attempt;
            spool_state_free(&st);
        }
        dsched_update(d, m);
    }
    spool_ids_free(ids);
    msg_info("-", "delivery started queued=%zu tenants=%zu", d->count,
             tenant_store_count(store));
    if (pthread_create(&d->sched_thread, NULL, scheduler_main, d) != 0) {
        pthread_mutex_unlock(&d->lock);
        snprintf(err, errlen, "cannot start the scheduler: %s", strerror(errno));
        return -1;
    }
    d->running = true;
    pthread_mutex_unlock(&d->lock);
    return 0;
}

void delivery_commit(struct delivery *d, struct delivery_next *n)
{
    pthread_mutex_lock(&d->lock);
    conf_unref(d->conf);
    d->conf = n->conf;
    tenant_store_free(d->store);
    d->store = n->store;
    d->store_generation++;
    d->store_loaded = time(NULL);
    /* A reload rereads CA files too: new sessions get fresh contexts. */
    dgen_replace(d, n->vault);
    dkeyring_remember(d, &n->keyring_st);
    droute_refresh_all(d);
    pthread_cond_broadcast(&d->sched_cond);
    pthread_mutex_unlock(&d->lock);
    myfree(n);
}

void delivery_store_install(struct delivery *d, struct tenant_store *store)
{
    struct vault *vault = NULL;
    struct conf *conf;
    char verr[256];

    pthread_mutex_lock(&d->lock);
    conf = d->running && !d->stopping ? conf_ref(d->conf) : NULL;
    pthread_mutex_unlock(&d->lock);
    if (conf == NULL)
        return;                 /* stopped (the watcher stops after delivery) */
    /* `key rotate` on another host re-seals every token under a new key:
     * when the keyring file changed too (a mounted secret, a credential),
     * read it again with the snapshot, outside the lock. */
    if (dkeyring_changed(d, conf)
        && (vault = vault_load(conf->key_file, conf->key_credential, conf->user, verr, sizeof(verr))) == NULL) {
        struct stat none;

        msg_warn("-", "keyring changed but not reloaded (%s): tried again with the next change", verr);
        memset(&none, 0, sizeof(none));
        dkeyring_remember(d, &none);
    }
    conf_unref(conf);
    pthread_mutex_lock(&d->lock);
    if (d->running && !d->stopping) {
        tenant_store_free(d->store);
        d->store = tenant_store_ref(store);
        d->store_generation++;
        d->store_loaded = time(NULL);
        if (vault) {
            /* A new generation, as on reload: sessions opening a secret
             * with the old keyring keep it until they end; then it is
             * freed. */
            dgen_replace(d, vault);
            vault = NULL;
            msg_info("-", "keyring reloaded with the tenant store");
        }
        /* Routes follow their tenant's new record, as on reload. */
        droute_refresh_all(d);
        pthread_cond_broadcast(&d->sched_cond);
    }
    pthread_mutex_unlock(&d->lock);
    vault_free(vault);
}

/* A pin is the generation it holds: its keyring lives as long. */
struct delivery_pin *delivery_vault_pin(struct delivery *d, const struct vault **vault)
{
    struct dgen *g;

    pthread_mutex_lock(&d->lock);
    g = d->gen;
    if (g)
        g->refs++;
    pthread_mutex_unlock(&d->lock);
    *vault = g ? g->vault : NULL;
    return (struct delivery_pin *)g;
}

void delivery_vault_unpin(struct delivery *d, struct delivery_pin *pin)
{
    if (pin == NULL)
        return;
    pthread_mutex_lock(&d->lock);
    dgen_put((struct dgen *)pin);
    pthread_mutex_unlock(&d->lock);
}

bool delivery_stop(struct delivery *d)
{
    struct timespec until;

    pthread_mutex_lock(&d->lock);
    if (!d->running) {
        pthread_mutex_unlock(&d->lock);
        return true;
    }
    d->stopping = true;
    pthread_cond_broadcast(&d->sched_cond);
    for (struct droute *r = d->routes; r; r = r->next)
        pthread_cond_broadcast(&r->cond);
    /* Workers finish the message in hand; a stuck upstream cannot hold the
     * stop for long: what is not finished stays queued (at-least-once). */
    clock_real_deadline(&until, 20 * 1000);
    while (d->total_workers > 0)
        if (pthread_cond_timedwait(&d->workers_done, &d->lock, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&d->lock);
    pthread_join(d->sched_thread, NULL);
    pthread_mutex_lock(&d->lock);
    d->running = false;
    if (d->total_workers > 0) {
        /* Leave the state (and the spool) to the exiting process rather
         * than free it under them. */
        msg_warn("-", "stopping with %d delivery attempts still in progress; they stay queued",
                 d->total_workers);
        pthread_mutex_unlock(&d->lock);
        return false;
    }
    /* Writes decided before the stop still reach the disk (no lock
     * contention any more: every worker has ended). */
    while (dwrite_flush(d) || dremove_flush(d))
        ;
    dwrite_free(d);
    dremove_free(d);
    while (d->first)
        dindex_remove(d, d->first);
    dsched_free(d);
    dindex_free(d);
    droute_free_all(d);
    dstats_free_all(d);
    tenant_store_free(d->store);
    d->store = NULL;
    dgen_put(d->gen);
    d->gen = NULL;
    conf_unref(d->conf);
    d->conf = NULL;
    d->spool = NULL;
    pthread_mutex_unlock(&d->lock);
    return true;
}
