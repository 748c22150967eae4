/*
 * delivery_worker.c - a route's worker threads: each takes the route's
 * ready messages one at a time, within the rate limit, and delivers them
 * over one upstream session that it reuses (RSET between messages) until
 * it has been idle for idle_timeout; a new session when the route's
 * settings or the generation (keyring, TLS contexts) changed.  The
 * attempt itself runs without the lock (delivery_attempt.c); its outcome
 * is applied under it (delivery_outcome.c).
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "delivery_int.h"
#include "tenantrelay/clock.h"
#include "tenantrelay/msg.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/tls.h"

static void *worker_main(void *arg)
{
    struct droute *r = arg;
    struct delivery *d = r->engine;
    struct smtpc_session *session = NULL;
    int session_messages = 0;
    unsigned session_generation = r->generation;
    struct attempt_result res;
    /* Counted in r->connecting while this worker opens a session: from
     * its spawn (dworker_start) to the end of its first attempt, and for
     * every later attempt that starts without a session. */
    bool connecting = true;
    struct dgen *gen = NULL;    /* the generation this worker's session uses */

    pthread_mutex_lock(&d->lock);
    while (!d->stopping) {
        struct attempt_ctx ctx;
        struct route settings;
        struct dmsg *m;
        long long wait_ms, started;
        int slot;

        if (r->head == NULL || r->held || !r->present) {
            struct timespec until;
            int rc;

            /* Keep the session open a while for the next message. */
            clock_real_deadline(&until, (long long)d->conf->delivery.idle_timeout * 1000);
            r->idle_workers++;
            rc = pthread_cond_timedwait(&r->cond, &d->lock, &until);
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
                dremove_queue(d, m, "deleted by operator");
            else
                dsched_update(d, m);
            continue;
        }
        if ((wait_ms = drate_wait_ms(r, clock_mono_ms())) > 0) {
            struct timespec until;

            clock_real_deadline(&until, wait_ms);
            pthread_cond_timedwait(&r->cond, &d->lock, &until);
            continue;
        }
        m = droute_pop(r);
        m->in_flight = true;
        started = clock_mono_ms();
        slot = drate_record(r, started);
        if (r->generation != session_generation || gen != d->gen) {
            /* New settings (a corrected password, another host), or a
             * reload (new keyring, CA files reread): new session. */
            smtpc_session_free(session);
            session = NULL;
            session_generation = r->generation;
            dgen_put(gen);
            gen = d->gen;
            gen->refs++;
        }
        if (session == NULL && !connecting) {
            r->connecting++;
            connecting = true;
        }
        route_copy(&settings, &r->route);
        ctx.conf = conf_ref(d->conf);
        ctx.tls_ctx = settings.tls == ROUTE_TLS_NONE ? NULL : tls_cache_get(&gen->tls, settings.ca_file, settings.tls_verify);
        ctx.spool = d->spool;
        ctx.vault = gen->vault;
        ctx.route_key = r->key;
        ctx.route = &settings;
        ctx.seal_tenant = r->seal_tenant;
        ctx.session = &session;
        ctx.session_messages = &session_messages;
        pthread_mutex_unlock(&d->lock);

        attempt_run(&ctx, m, &res);
        if (!res.session_ok) {
            smtpc_session_free(session);
            session = NULL;
        }
        conf_unref((struct conf *)ctx.conf);
        route_free(&settings);

        pthread_mutex_lock(&d->lock);
        if (connecting) {
            r->connecting--;
            connecting = false;
        }
        drate_finish(r, slot, started);
        if (res.gone) {
            dindex_remove(d, m);
            continue;
        }
        if (res.retenant) {
            m->in_flight = false;
            dcount(d, m, -1);
            myfree(m->tenant);
            m->tenant = res.tenant;
            m->state = SPOOL_QUEUED;    /* not counted */
            m->next_attempt = 0;
            dsched_update(d, m);
            pthread_cond_signal(&d->sched_cond);
            continue;
        }
        if (m->delete_requested && res.outcome != ATTEMPT_SENT) {
            /* Removed by the scheduler thread: no fsync under the lock. */
            m->in_flight = false;
            dremove_queue(d, m, "deleted by operator");
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
    if (!d->stopping)
        droute_retire_if_unused(r);
    pthread_mutex_unlock(&d->lock);
    if (session) {
        struct smtpc_result qr;

        smtpc_quit(session, &qr);
        smtpc_session_free(session);
    }
    /* OpenSSL's per-thread state too (this thread is detached). */
    tls_thread_end();
    /* Counted until here, so that delivery_stop() (bounded) returns only
     * once no worker holds anything: the process may exit right after. */
    pthread_mutex_lock(&d->lock);
    d->total_workers--;
    pthread_cond_broadcast(&d->workers_done);
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

void dworker_start(struct droute *r)
{
    pthread_attr_t attr;
    pthread_t tid;

    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    if (pthread_create(&tid, &attr, worker_main, r) == 0) {
        r->connecting++;
        r->workers++;
        r->engine->total_workers++;
    } else {
        msg_error("-", "route=%s cannot start a delivery worker: %s", r->key, strerror(errno));
    }
    pthread_attr_destroy(&attr);
}
