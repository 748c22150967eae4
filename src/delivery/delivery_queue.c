/*
 * delivery_queue.c - a route's ready queue (the messages due that wait for
 * one of its workers) and which route a tenant's mail goes by now.  Each
 * message on a ready queue points to its route, so it is taken out of the
 * queue that holds it even when its tenant's route changed meanwhile.
 * Lock held.
 */
#include "config.h"

#include <string.h>

#include "delivery_int.h"

const struct route *droute_settings(struct delivery *d, const char *key)
{
    const struct tenant *t;

    if (strcmp(key, DELIVERY_DEFAULT_KEY) == 0)
        return &d->conf->default_route;
    t = d->store ? tenant_store_find(d->store, key) : NULL;
    return t && t->enabled ? &t->route : NULL;
}

const char *droute_key_of(struct delivery *d, const char *tenant)
{
    return tenant && droute_settings(d, tenant) ? tenant : DELIVERY_DEFAULT_KEY;
}

void droute_link(struct droute *r, struct dmsg *m)
{
    m->on_route = true;
    m->route = r;
    m->route_next = NULL;
    if (r->tail)
        r->tail->route_next = m;
    else
        r->head = m;
    r->tail = m;
    r->queued++;
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
        m->route = NULL;
        r->queued--;
    }
    return m;
}

void droute_unlink(struct dmsg *m)
{
    struct droute *r = m->route;
    struct dmsg **pp;

    if (r != NULL) {
        for (pp = &r->head; *pp && *pp != m; pp = &(*pp)->route_next)
            ;
        if (*pp) {
            *pp = m->route_next;
            if (r->tail == m) {
                r->tail = NULL;
                for (struct dmsg *t = r->head; t; t = t->route_next)
                    r->tail = t;
            }
            r->queued--;
        }
    }
    m->on_route = false;
    m->route = NULL;
    m->route_next = NULL;
}
