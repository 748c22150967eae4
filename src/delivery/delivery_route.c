/*
 * delivery_route.c - routes as delivery runs them: settings from the current
 * tenant record, a ready queue, up to max_connections workers each reusing
 * one upstream session (the rate limit and the breaker are in
 * delivery_limits.c, what an attempt's outcome does in delivery_outcome.c).
 * A route's workers only ever carry that route's mail, so a
 * session authenticated for one tenant never carries another's.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "delivery_int.h"
#include "tenantrelay/clock.h"
#include "tenantrelay/events.h"
#include "tenantrelay/msg.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/retry.h"
#include "tenantrelay/tls.h"

/* Queued messages per open session before the route opens another. */
#define SLOW_START_BACKLOG 8

/* The settings route key should use now, or NULL when the key is no longer
 * a route (tenant removed or disabled). */
static const struct route *current_settings(const char *key)
{
    const struct tenant *t;

    if (strcmp(key, DELIVERY_DEFAULT_KEY) == 0)
        return &delivery.conf->default_route;
    t = delivery.store ? tenant_store_find(delivery.store, key) : NULL;
    return t && t->enabled ? &t->route : NULL;
}

const char *droute_key_of(const char *tenant)
{
    return tenant && current_settings(tenant) ? tenant : DELIVERY_DEFAULT_KEY;
}

struct droute *droute_for_tenant(const char *tenant)
{
    const char *key = droute_key_of(tenant);
    const struct route *settings;
    struct droute *r;

    if ((r = hmap_find(&delivery.route_map, key)) != NULL)
        return r;
    settings = current_settings(key);
    r = mycalloc(1, sizeof(*r));
    r->key = mystrdup(key);
    r->seal_tenant = mystrdup(key);
    route_copy(&r->route, settings);
    r->present = true;
    pthread_cond_init(&r->cond, NULL);
    drate_set(r);
    r->next = delivery.routes;
    delivery.routes = r;
    hmap_put(&delivery.route_map, r->key, r);
    return r;
}

struct dmsg *droute_pop(struct droute *r)
{
    struct dmsg *m = r->head;

    if (m) {
        r->head = m->route_next;
        if (r->head == NULL)
            r->tail = NULL;
        m->route_next = NULL;
        m->on_route = false;
        r->queued--;
    }
    return m;
}

static void route_free_one(struct droute *r)
{
    myfree(r->key);
    myfree(r->seal_tenant);
    route_free(&r->route);
    myfree(r->starts);
    pthread_cond_destroy(&r->cond);
    myfree(r);
}

/* Free r when it is retired (removed from the map at a reload) and nothing
 * uses it any more: retired routes used to stay until stop. */
static void retire_if_unused(struct droute *r)
{
    struct droute **pp;

    if (r->present || r->workers > 0 || r->head != NULL)
        return;
    for (pp = &delivery.routes; *pp && *pp != r; pp = &(*pp)->next)
        ;
    if (*pp)
        *pp = r->next;
    route_free_one(r);
}

static void *worker_main(void *arg)
{
    struct droute *r = arg;
    struct smtpc_session *session = NULL;
    int session_messages = 0;
    unsigned session_generation = r->generation;
    struct attempt_result res;
    /* Counted in r->connecting while this worker opens a session: from
     * its spawn (droute_push) to the end of its first attempt, and for
     * every later attempt that starts without a session. */
    bool connecting = true;
    struct dgen *gen = NULL;    /* the generation this worker's session uses */

    pthread_mutex_lock(&delivery.lock);
    while (!delivery.stopping) {
        struct attempt_ctx ctx;
        struct route settings;
        struct dmsg *m;
        long long wait_ms, started;
        int slot;

        if (r->head == NULL || r->held || !r->present) {
            struct timespec until;
            int rc;

            /* Keep the session open a while for the next message. */
            clock_real_deadline(&until, (long long)delivery.conf->delivery.idle_timeout * 1000);
            r->idle_workers++;
            rc = pthread_cond_timedwait(&r->cond, &delivery.lock, &until);
            r->idle_workers--;
            if (rc == ETIMEDOUT && (r->head == NULL || r->held || !r->present))
                break;
            continue;
        }
        if (r->head->delete_requested || r->head->state == SPOOL_HELD) {
            /* An operator deleted or held it while it waited here. */
            m = droute_pop(r);
            m->hold_requested = false;
            if (m->delete_requested)
                dremove_queue(m, "deleted by operator");
            else
                dsched_update(m);
            continue;
        }
        if ((wait_ms = drate_wait_ms(r, clock_mono_ms())) > 0) {
            struct timespec until;

            clock_real_deadline(&until, wait_ms);
            pthread_cond_timedwait(&r->cond, &delivery.lock, &until);
            continue;
        }
        m = droute_pop(r);
        m->in_flight = true;
        started = clock_mono_ms();
        slot = drate_record(r, started);
        if (r->generation != session_generation || gen != delivery.gen) {
            /* New settings (a corrected password, another host), or a
             * reload (new keyring, CA files reread): new session. */
            smtpc_session_free(session);
            session = NULL;
            session_generation = r->generation;
            dgen_put(gen);
            gen = delivery.gen;
            gen->refs++;
        }
        if (session == NULL && !connecting) {
            r->connecting++;
            connecting = true;
        }
        route_copy(&settings, &r->route);
        ctx.conf = conf_ref(delivery.conf);
        ctx.tls_ctx = settings.tls == ROUTE_TLS_NONE ? NULL : tls_cache_get(&gen->tls, settings.ca_file, settings.tls_verify);
        ctx.spool = delivery.spool;
        ctx.vault = gen->vault;
        ctx.route_key = r->key;
        ctx.route = &settings;
        ctx.seal_tenant = r->seal_tenant;
        ctx.session = &session;
        ctx.session_messages = &session_messages;
        pthread_mutex_unlock(&delivery.lock);

        attempt_run(&ctx, m, &res);
        if (!res.session_ok) {
            smtpc_session_free(session);
            session = NULL;
        }
        conf_unref((struct conf *)ctx.conf);
        route_free(&settings);

        pthread_mutex_lock(&delivery.lock);
        if (connecting) {
            r->connecting--;
            connecting = false;
        }
        drate_finish(r, slot, started);
        if (res.gone) {
            dindex_remove(m);
            continue;
        }
        if (res.retenant) {
            m->in_flight = false;
            dcount(m, -1);
            myfree(m->tenant);
            m->tenant = res.tenant;
            m->state = SPOOL_QUEUED;    /* not counted */
            m->next_attempt = 0;
            dsched_update(m);
            pthread_cond_signal(&delivery.sched_cond);
            continue;
        }
        if (m->delete_requested && res.outcome != ATTEMPT_SENT) {
            /* Removed by the scheduler thread: no fsync under the lock. */
            m->in_flight = false;
            dremove_queue(m, "deleted by operator");
            continue;
        }
        doutcome_apply(r, m, &res);
    }
    if (connecting)
        r->connecting--;
    r->workers--;
    /* The session's SSL holds its own reference to the OpenSSL context:
     * the generation may go before the QUIT below. */
    dgen_put(gen);
    if (!delivery.stopping)
        retire_if_unused(r);
    pthread_mutex_unlock(&delivery.lock);
    if (session) {
        struct smtpc_result qr;

        smtpc_quit(session, &qr);
        smtpc_session_free(session);
    }
    /* OpenSSL's per-thread state too (this thread is detached). */
    tls_thread_end();
    /* Counted until here, so that delivery_stop() (bounded) returns only
     * once no worker holds anything: the process may exit right after. */
    pthread_mutex_lock(&delivery.lock);
    delivery.total_workers--;
    pthread_cond_broadcast(&delivery.workers_done);
    pthread_mutex_unlock(&delivery.lock);
    return NULL;
}

void droute_push(struct droute *r, struct dmsg *m)
{
    pthread_attr_t attr;
    pthread_t tid;

    if (r->down_until > time(NULL)) {
        /* The route is backing off: wait with it (the scheduler brings it back). */
        m->next_attempt = r->down_until;
        return;
    }
    m->on_route = true;
    m->route_next = NULL;
    if (r->tail)
        r->tail->route_next = m;
    else
        r->head = m;
    r->tail = m;
    r->queued++;
    if (r->idle_workers > 0) {
        pthread_cond_signal(&r->cond);
        return;
    }
    if (r->workers >= r->route.max_connections || r->held)
        return;
    /* Slow start: one more connection only when the backlog outgrows what
     * the open sessions clear quickly (each new one costs a TLS handshake,
     * a login at the provider, a thread and its TLS state, which is more
     * than a reused session needs for a few messages), and one at a time:
     * none while another is still being opened (a burst would otherwise
     * start every handshake at once).  A deep burst still reaches the
     * limit. */
    if (r->workers > 0 && (r->queued <= r->workers * SLOW_START_BACKLOG || r->connecting > 0))
        return;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    if (pthread_create(&tid, &attr, worker_main, r) == 0) {
        r->connecting++;
        r->workers++;
        delivery.total_workers++;
    } else {
        msg_error("-", "route=%s cannot start a delivery worker: %s", r->key, strerror(errno));
    }
    pthread_attr_destroy(&attr);
}

/* Put every queued message of r back to the scheduler (it re-routes them). */
static void drain(struct droute *r)
{
    struct dmsg *m;

    while ((m = droute_pop(r)) != NULL) {
        m->next_attempt = 0;
        dsched_update(m);
    }
}

void droute_unlink(struct dmsg *m)
{
    struct droute *r = droute_for_tenant(m->tenant);
    struct dmsg **pp = &r->head;

    while (*pp && *pp != m)
        pp = &(*pp)->route_next;
    if (*pp) {
        *pp = m->route_next;
        if (r->tail == m) {
            r->tail = NULL;
            for (struct dmsg *t = r->head; t; t = t->route_next)
                r->tail = t;
        }
        r->queued--;
    }
    m->on_route = false;
    m->route_next = NULL;
}

void droute_refresh_all(void)
{
    for (struct droute *r = delivery.routes, *next; r; r = next) {
        const struct route *settings;

        next = r->next;
        if (!r->present)
            continue;
        settings = current_settings(r->key);
        if (settings == NULL) {
            /* Tenant removed or disabled: its mail goes by the default route. */
            r->present = false;
            hmap_remove(&delivery.route_map, r->key, r);
            drain(r);
            pthread_cond_broadcast(&r->cond);
            if (r->workers == 0)
                retire_if_unused(r);
            continue;
        }
        if (!route_equal(&r->route, settings)) {
            int old_rate = r->route.rate_limit;

            route_free(&r->route);
            route_copy(&r->route, settings);
            r->generation++;
            if (r->route.rate_limit != old_rate)
                drate_set(r);
            msg_info("-", "route=%s settings changed: sessions renewed%s", r->key,
                     r->held ? ", circuit breaker released" : "");
            droute_release(r);
        }
    }
}

void droute_free_all(void)
{
    struct droute *r = delivery.routes;

    while (r) {
        struct droute *next = r->next;

        route_free_one(r);
        r = next;
    }
    delivery.routes = NULL;
    hmap_free(&delivery.route_map);
}
