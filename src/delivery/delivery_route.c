/*
 * delivery_route.c - routes as delivery runs them: settings from the current
 * tenant record, created when a tenant's mail first needs one, kept in step
 * with reloads and store snapshots, retired when a tenant is removed or
 * disabled; and the slow start of a route's connections (its ready queue
 * is delivery_queue.c, its workers delivery_worker.c, the rate limit and
 * the breaker delivery_limits.c).  A route's workers only ever carry that
 * route's mail, so a session authenticated for one tenant never carries
 * another's.  Lock held.
 */
#include "config.h"

#include <string.h>

#include "delivery_int.h"
#include "tenantrelay/msg.h"
#include "tenantrelay/mymalloc.h"

/* Queued messages per open session before the route opens another. */
#define SLOW_START_BACKLOG 8

struct droute *droute_for_tenant(struct delivery *d, const char *tenant)
{
    const char *key = droute_key_of(d, tenant);
    const struct route *settings;
    struct droute *r;

    if ((r = hmap_find(&d->route_map, key)) != NULL)
        return r;
    settings = droute_settings(d, key);
    r = mycalloc(1, sizeof(*r));
    r->engine = d;
    r->key = mystrdup(key);
    r->seal_tenant = mystrdup(key);
    route_copy(&r->route, settings);
    r->present = true;
    pthread_cond_init(&r->cond, NULL);
    drate_set(r);
    r->next = d->routes;
    d->routes = r;
    hmap_put(&d->route_map, r->key, r);
    return r;
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
void droute_retire_if_unused(struct droute *r)
{
    struct droute **pp;

    if (r->present || r->workers > 0 || r->head != NULL)
        return;
    for (pp = &r->engine->routes; *pp && *pp != r; pp = &(*pp)->next)
        ;
    if (*pp)
        *pp = r->next;
    route_free_one(r);
}

bool droute_push(struct droute *r, struct dmsg *m)
{
    if (r->down_until > time(NULL)) {
        /* The route is backing off: wait with it (the scheduler brings it back). */
        m->next_attempt = r->down_until;
        return false;
    }
    droute_link(r, m);
    if (r->idle_workers > 0) {
        pthread_cond_signal(&r->cond);
        return false;
    }
    if (r->workers >= r->route.max_connections || r->held)
        return false;
    /* Slow start: one more connection only when the backlog outgrows what
     * the open sessions clear quickly (each new one costs a TLS handshake,
     * a login at the provider, a thread and its TLS state, which is more
     * than a reused session needs for a few messages), and one at a time:
     * none while another is still being opened (a burst would otherwise
     * start every handshake at once).  A deep burst still reaches the
     * limit. */
    return !(r->workers > 0 && (r->queued <= r->workers * SLOW_START_BACKLOG || r->connecting > 0));
}

/* Put every queued message of r back to the scheduler (it re-routes them). */
static void drain(struct droute *r)
{
    struct dmsg *m;

    while ((m = droute_pop(r)) != NULL) {
        m->next_attempt = 0;
        dsched_update(r->engine, m);
    }
}

void droute_refresh_all(struct delivery *d)
{
    for (struct droute *r = d->routes, *next; r; r = next) {
        const struct route *settings;

        next = r->next;
        if (!r->present)
            continue;
        settings = droute_settings(d, r->key);
        if (settings == NULL) {
            /* Tenant removed or disabled: its mail goes by the default route. */
            r->present = false;
            hmap_remove(&d->route_map, r->key, r);
            drain(r);
            pthread_cond_broadcast(&r->cond);
            if (r->workers == 0)
                droute_retire_if_unused(r);
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

void droute_free_all(struct delivery *d)
{
    struct droute *r = d->routes;

    while (r) {
        struct droute *next = r->next;

        route_free_one(r);
        r = next;
    }
    d->routes = NULL;
    hmap_free(&d->route_map);
}
