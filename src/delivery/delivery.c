/*
 * delivery.c - the delivery module's life cycle and its scheduler thread
 * (see delivery.h).  The scheduler wakes for due retries (at most once a
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
#include "tenantrelay/delivery.h"
#include "tenantrelay/msg.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/retry.h"
#include "tenantrelay/store.h"
#include "tenantrelay/vault.h"

struct delivery delivery = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .sched_cond = PTHREAD_COND_INITIALIZER,
    .workers_done = PTHREAD_COND_INITIALIZER,
};

/* Hold m because its route's breaker is open. */
static void hold_for_breaker(struct dmsg *m)
{
    struct spool_state st;
    char err[256];

    m->state = SPOOL_HELD;
    m->held_by_breaker = true;
    if (spool_state_read(delivery.spool, m->qid, &st, err, sizeof(err)) == 0) {
        st.state = SPOOL_HELD;
        myfree(st.last_reply);
        st.last_reply = mystrdup("held: the route's circuit breaker is open after repeated AUTH failures");
        if (spool_state_save(delivery.spool, m->qid, &st, err, sizeof(err)) < 0)
            msg_error(m->qid, "cannot save state: %s", err);
        spool_state_free(&st);
    }
}

static void schedule(struct dmsg *m)
{
    struct droute *r = droute_for_tenant(m->tenant);

    if (r->held)
        hold_for_breaker(m);
    else
        droute_push(r, m);
}

static void *scheduler_main(void *arg)
{
    pthread_mutex_lock(&delivery.lock);
    while (!delivery.stopping) {
        time_t now = time(NULL);
        time_t earliest = now + 60;
        struct timespec until;
        struct dmsg *m = delivery.first;

        while (m) {
            struct dmsg *next = m->next;

            if (m->in_flight || m->on_route) {
                /* busy or already waiting for a worker */
            } else if (m->state == SPOOL_QUEUED || m->state == SPOOL_DEFERRED) {
                if (m->next_attempt <= now)
                    schedule(m);
                else if (m->next_attempt < earliest)
                    earliest = m->next_attempt;
            } else if (m->state == SPOOL_FAILED
                       && retry_failed_expired(&delivery.conf->retry, m->last_attempt, now)) {
                char err[256];

                if (spool_remove(delivery.spool, m->qid, err, sizeof(err)) == 0) {
                    msg_info(m->qid, "removed: failed_retention passed");
                    dindex_remove(m);
                } else {
                    msg_error(m->qid, "cannot remove: %s", err);
                }
            }
            m = next;
        }
        /* Files of delivered messages not reused for a while are deleted:
         * no delivered content stays on disk longer than that. */
        spool_expire_free(delivery.spool, SPOOL_FREE_IDLE);
        if (earliest > now + SPOOL_FREE_IDLE)
            earliest = now + SPOOL_FREE_IDLE;
        until.tv_sec = earliest > now ? earliest : now + 1;
        until.tv_nsec = 0;
        pthread_cond_timedwait(&delivery.sched_cond, &delivery.lock, &until);
    }
    pthread_mutex_unlock(&delivery.lock);
    return NULL;
}

static struct dmsg *index_message(const char *qid, const char *tenant, time_t arrival)
{
    struct dmsg *m = dindex_find(qid);

    if (m == NULL) {
        m = dindex_add(qid);
        m->tenant = mystrdup_or_null(tenant);
        m->arrival = arrival;
        m->state = SPOOL_QUEUED;
    }
    return m;
}

void delivery_enqueue(const struct spool_envelope *env)
{
    struct dmsg *m;

    pthread_mutex_lock(&delivery.lock);
    if (delivery.running && !delivery.stopping) {
        m = index_message(env->id, env->tenant, env->arrival);
        if (!m->in_flight && !m->on_route)
            schedule(m);
    }
    pthread_mutex_unlock(&delivery.lock);
}

/* The keyring file as last loaded (start, reload, or with a new store
 * snapshot: see delivery_store_install()). */
static pthread_mutex_t keyring_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stat keyring_seen;

/* Whether the keyring file differs from the one last loaded; remember it. */
static bool keyring_changed(const struct conf *conf, bool remember_only)
{
    struct stat st;
    char path[4096];
    bool changed;

    if (stat(vault_path(conf, path, sizeof(path)), &st) < 0)
        return false;
    pthread_mutex_lock(&keyring_lock);
    changed = st.st_ino != keyring_seen.st_ino || st.st_size != keyring_seen.st_size
              || st.st_mtim.tv_sec != keyring_seen.st_mtim.tv_sec
              || st.st_mtim.tv_nsec != keyring_seen.st_mtim.tv_nsec
              || st.st_ctim.tv_sec != keyring_seen.st_ctim.tv_sec      /* chmod, chown */
              || st.st_ctim.tv_nsec != keyring_seen.st_ctim.tv_nsec;
    keyring_seen = st;
    pthread_mutex_unlock(&keyring_lock);
    return changed && !remember_only;
}

/* Load the tenant store and keyring of conf.  The keyring is optional:
 * without one, routes with credentials defer with a clear reason. */
static int load_sources(const struct conf *conf, struct tenant_store **store,
                        struct vault **vault, char *err, size_t errlen)
{
    struct conf_error cerr = { "" };
    char verr[256];

    *store = store_load(conf, NULL, &cerr);
    if (*store == NULL) {
        snprintf(err, errlen, "tenant store: %s", cerr.text);
        return -1;
    }
    keyring_changed(conf, true);
    *vault = vault_load(conf, verr, sizeof(verr));
    if (*vault == NULL)
        msg_warn("-", "no keyring loaded (%s): routes with a password will be deferred", verr);
    return 0;
}

int delivery_start(struct conf *conf, struct spool *spool, char *err, size_t errlen)
{
    char **ids = NULL;
    size_t count = 0;
    struct tenant_store *store;
    struct vault *vault;

    if (vault_init() < 0) {
        snprintf(err, errlen, "libsodium failed to initialise");
        return -1;
    }
    if (load_sources(conf, &store, &vault, err, errlen) < 0)
        return -1;
    if (spool_list(spool, &ids, &count, err, errlen) < 0) {
        tenant_store_free(store);
        vault_free(vault);
        return -1;
    }
    pthread_mutex_lock(&delivery.lock);
    delivery.conf = conf_ref(conf);
    delivery.store = store;
    delivery.store_generation++;
    delivery.store_loaded = time(NULL);
    delivery.vault = vault;
    delivery.spool = spool;
    delivery.stopping = false;
    for (size_t i = 0; i < count; i++) {
        struct spool_envelope env;
        struct spool_state st;
        char e[256];
        struct dmsg *m;

        if (spool_envelope_read(spool, ids[i], &env, e, sizeof(e)) < 0) {
            msg_error(ids[i], "cannot read envelope, left in the queue: %s", e);
            continue;
        }
        m = index_message(env.id, env.tenant, env.arrival);
        if (spool_state_read(spool, ids[i], &st, e, sizeof(e)) == 0) {
            m->state = st.state;
            m->attempts = st.attempts;
            m->next_attempt = st.next_attempt;
            m->last_attempt = st.last_attempt;
            spool_state_free(&st);
        }
        spool_envelope_free(&env);
    }
    spool_ids_free(ids);
    msg_info("-", "delivery started queued=%zu tenants=%zu", delivery.count,
             tenant_store_count(store));
    if (pthread_create(&delivery.sched_thread, NULL, scheduler_main, NULL) != 0) {
        pthread_mutex_unlock(&delivery.lock);
        snprintf(err, errlen, "cannot start the scheduler: %s", strerror(errno));
        return -1;
    }
    delivery.running = true;
    pthread_mutex_unlock(&delivery.lock);
    return 0;
}


void delivery_store_install(struct tenant_store *store)
{
    struct vault *vault = NULL;
    struct conf *conf;
    char verr[256];

    pthread_mutex_lock(&delivery.lock);
    conf = delivery.running ? conf_ref(delivery.conf) : NULL;
    pthread_mutex_unlock(&delivery.lock);
    if (conf == NULL)
        return;
    /* `key rotate` on another host re-seals every token under a new key:
     * when the keyring file changed too (a mounted secret, a credential),
     * read it again with the snapshot, outside the lock. */
    if (keyring_changed(conf, false) && (vault = vault_load(conf, verr, sizeof(verr))) == NULL) {
        msg_warn("-", "keyring changed but not reloaded (%s): tried again with the next change", verr);
        pthread_mutex_lock(&keyring_lock);
        memset(&keyring_seen, 0, sizeof(keyring_seen));
        pthread_mutex_unlock(&keyring_lock);
    }
    conf_unref(conf);
    pthread_mutex_lock(&delivery.lock);
    if (delivery.running) {
        tenant_store_free(delivery.store);
        delivery.store = tenant_store_ref(store);
        delivery.store_generation++;
        delivery.store_loaded = time(NULL);
        if (vault) {
            /* A worker may be opening a secret with the old keyring right now. */
            delivery.old_vaults = myrealloc(delivery.old_vaults,
                                            (delivery.old_vault_count + 1) * sizeof(struct vault *));
            delivery.old_vaults[delivery.old_vault_count++] = delivery.vault;
            delivery.vault = vault;
            vault = NULL;
            msg_info("-", "keyring reloaded with the tenant store");
        }
        /* Routes follow their tenant's new record, as on reload. */
        droute_refresh_all();
        pthread_cond_broadcast(&delivery.sched_cond);
    }
    pthread_mutex_unlock(&delivery.lock);
    vault_free(vault);
}

int delivery_reload(struct conf *conf, char *err, size_t errlen)
{
    struct tenant_store *store;
    struct vault *vault;

    if (load_sources(conf, &store, &vault, err, errlen) < 0)
        return -1;
    pthread_mutex_lock(&delivery.lock);
    conf_unref(delivery.conf);
    delivery.conf = conf_ref(conf);
    tenant_store_free(delivery.store);
    delivery.store = store;
    delivery.store_generation++;
    delivery.store_loaded = time(NULL);
    if (vault) {
        /* A worker may be opening a secret with the old keyring right now. */
        delivery.old_vaults = myrealloc(delivery.old_vaults,
                                        (delivery.old_vault_count + 1) * sizeof(struct vault *));
        delivery.old_vaults[delivery.old_vault_count++] = delivery.vault;
        delivery.vault = vault;
    }
    /* A reload rereads CA files too: new sessions get fresh contexts. */
    while (delivery.tls_contexts) {
        struct dtls *d = delivery.tls_contexts;

        delivery.tls_contexts = d->next;
        d->next = delivery.old_tls_contexts;
        delivery.old_tls_contexts = d;
    }
    droute_refresh_all();
    pthread_cond_broadcast(&delivery.sched_cond);
    pthread_mutex_unlock(&delivery.lock);
    return 0;
}

void delivery_stop(void)
{
    struct timespec until;

    pthread_mutex_lock(&delivery.lock);
    if (!delivery.running) {
        pthread_mutex_unlock(&delivery.lock);
        return;
    }
    delivery.stopping = true;
    pthread_cond_broadcast(&delivery.sched_cond);
    for (struct droute *r = delivery.routes; r; r = r->next)
        pthread_cond_broadcast(&r->cond);
    /* Workers finish the message in hand; a stuck upstream cannot hold the
     * stop for long: what is not finished stays queued (at-least-once). */
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 20;
    while (delivery.total_workers > 0)
        if (pthread_cond_timedwait(&delivery.workers_done, &delivery.lock, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&delivery.lock);
    pthread_join(delivery.sched_thread, NULL);
    pthread_mutex_lock(&delivery.lock);
    delivery.running = false;
    if (delivery.total_workers > 0) {
        /* Leave the state to the exiting process rather than free it under them. */
        msg_warn("-", "stopping with %d delivery attempts still in progress; they stay queued",
                 delivery.total_workers);
        pthread_mutex_unlock(&delivery.lock);
        return;
    }
    while (delivery.first)
        dindex_remove(delivery.first);
    myfree(delivery.buckets);
    delivery.buckets = NULL;
    delivery.nbuckets = 0;
    droute_free_all();
    keymap_free(&delivery.stats_map);
    while (delivery.stats) {
        struct dstats *s = delivery.stats;

        delivery.stats = s->next;
        myfree(s->id);
        myfree(s->last_error);
        myfree(s);
    }
    tenant_store_free(delivery.store);
    delivery.store = NULL;
    vault_free(delivery.vault);
    delivery.vault = NULL;
    for (size_t i = 0; i < delivery.old_vault_count; i++)
        vault_free(delivery.old_vaults[i]);
    myfree(delivery.old_vaults);
    delivery.old_vaults = NULL;
    delivery.old_vault_count = 0;
    conf_unref(delivery.conf);
    delivery.conf = NULL;
    pthread_mutex_unlock(&delivery.lock);
}
