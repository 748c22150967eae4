/*
 * delivery_outcome.c - what an attempt's outcome does: the message's index
 * entry and state, the route's figures for `status`, the route's back-off
 * when the upstream is down, and the breaker's count (delivery_limits.c).
 * Under the engine's lock.
 */
#include "config.h"

#include <time.h>

#include "delivery_int.h"
#include "tenantrelay/mymalloc.h"

/* Apply an attempt's outcome to the index, the stats and the breaker. */
void doutcome_apply(struct droute *r, struct dmsg *m, const struct attempt_result *res)
{
    struct delivery *d = r->engine;
    struct dstats *st = dstats_get(d, r->key);
    time_t now = time(NULL);

    m->in_flight = false;
    m->attempts++;
    m->last_attempt = now;
    dstats_touch(st);
    if (!res->route_down) {
        r->down_failures = 0;
        r->down_until = 0;
    }
    if (res->outcome == ATTEMPT_SENT) {
        st->sent++;
        st->last_success = now;
        r->auth_failures = 0;
        dindex_remove(d, m);
        return;
    }
    myfree(st->last_error);
    st->last_error = mystrdup(res->reply);
    st->last_error_time = now;
    if (res->outcome == ATTEMPT_FAILED) {
        dmsg_set_state(d, m, SPOOL_FAILED);
        dsched_update(d, m);
        return;
    }
    dmsg_set_state(d, m, SPOOL_DEFERRED);
    m->next_attempt = res->next_attempt;
    if (res->route_down) {
        /* Like Postfix's dead destination: the messages waiting for this
         * route wait for the next try instead of each hammering a dead host. */
        struct dmsg *w;

        r->down_failures++;
        r->down_until = res->next_attempt;
        while ((w = droute_pop(r)) != NULL) {
            w->next_attempt = r->down_until;
            dsched_update(d, w);
        }
    }
    /* The scheduler may be sleeping past this retry time. */
    pthread_cond_signal(&d->sched_cond);
    dbreaker_count(r, res);
    if (m->hold_requested) {
        /* An operator held it during the attempt: record it now. */
        m->hold_requested = false;
        dmsg_set_state(d, m, SPOOL_HELD);
        dwrite_queue(d, m, SPOOL_HELD, false, NULL);
    }
    dsched_update(d, m);
}
