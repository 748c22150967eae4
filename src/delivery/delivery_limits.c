/*
 * delivery_limits.c - a route's limits: the per-minute rate limit (a ring
 * of recent message starts) and the AUTH circuit breaker (after N failed
 * logins in a row, hold the route's messages until its settings change or
 * an operator releases it).  All under the engine's lock.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "delivery_int.h"
#include "tenantrelay/clock.h"
#include "tenantrelay/msg.h"
#include "tenantrelay/mymalloc.h"

void drate_set(struct droute *r)
{
    myfree(r->starts);
    r->starts = NULL;
    r->starts_len = r->route.rate_limit;
    r->starts_pos = r->starts_count = 0;
    if (r->starts_len > 0)
        r->starts = mycalloc((size_t)r->starts_len, sizeof(*r->starts));
}

/* How many milliseconds until the route may start its next message
 * (rate_limit per minute: at most N starts in any 60 seconds); 0: now. */
long long drate_wait_ms(const struct droute *r, long long now)
{
    long long next;

    if (r->starts_len == 0 || r->starts_count < r->starts_len)
        return 0;
    /* The ring is full: the oldest start must be a minute old. */
    next = r->starts[r->starts_pos] + 60000;
    return next > now ? next - now : 0;
}

/* Record a start; the slot it took, or -1 (no limit). */
int drate_record(struct droute *r, long long now)
{
    int slot = r->starts_pos;

    if (r->starts_len == 0)
        return -1;
    r->starts[slot] = now;
    r->starts_pos = (r->starts_pos + 1) % r->starts_len;
    if (r->starts_count < r->starts_len)
        r->starts_count++;
    return slot;
}

/* The message of slot is done: count it from its end, not its start, so
 * that the upstream (which sees acceptances) never sees N+1 in a minute. */
void drate_finish(struct droute *r, int slot, long long started)
{
    if (slot >= 0 && slot < r->starts_len && r->starts[slot] == started)
        r->starts[slot] = clock_mono_ms();
}

/* Count an attempt's AUTH result on r; open the breaker (hold the route's
 * messages) after auth_failures_before_hold failures in a row. */
void dbreaker_count(struct droute *r, const struct attempt_result *res)
{
    if (res->outcome == ATTEMPT_AUTH_FAILED) {
        r->auth_failures++;
        if (r->auth_failures >= r->engine->conf->retry.auth_failures_before_hold && !r->held) {
            char reason[SMTPC_REPLY_MAX + 128];

            r->held = true;
            snprintf(reason, sizeof(reason),
                     "held: AUTH failed %d times in a row (circuit breaker); fix the credentials or run queue release: %s",
                     r->auth_failures, res->reply);
            msg_warn("-", "route=%s status=held reason=\"AUTH failed %d times in a row\"", r->key,
                     r->auth_failures);
            droute_hold_messages(r->engine, r->key, reason);
        }
    } else if (res->outcome == ATTEMPT_DEFERRED && res->auth_ok) {
        r->auth_failures = 0;
    }
}

/* The breaker opened: hold every message of route key.  The state files are
 * written by the scheduler thread, never under the lock. */
void droute_hold_messages(struct delivery *d, const char *key, const char *reason)
{
    for (struct dmsg *m = d->first; m; m = m->next) {
        if (m->state == SPOOL_FAILED || m->state == SPOOL_HELD || m->removing)
            continue;
        if (strcmp(droute_key_of(d, m->tenant), key) != 0)
            continue;
        if (m->in_flight) {
            m->hold_requested = true;
            continue;
        }
        if (m->on_route)
            droute_unlink(m);
        dmsg_set_state(d, m, SPOOL_HELD);
        m->held_by_breaker = true;
        dwrite_queue(d, m, SPOOL_HELD, false, reason);
    }
}

/* Release what the breaker held on route key (settings changed). */
static void release_held(struct delivery *d, const char *key)
{
    for (struct dmsg *m = d->first; m; m = m->next) {
        if (!m->held_by_breaker || m->state != SPOOL_HELD
            || strcmp(droute_key_of(d, m->tenant), key) != 0)
            continue;
        m->held_by_breaker = false;
        dmsg_set_state(d, m, SPOOL_QUEUED);
        m->next_attempt = 0;
        dwrite_queue(d, m, SPOOL_QUEUED, true, NULL);
    }
}

void droute_release(struct droute *r)
{
    r->held = false;
    r->auth_failures = 0;
    release_held(r->engine, r->key);
    pthread_cond_broadcast(&r->cond);
}
