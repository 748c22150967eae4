/*
 * delivery_stats.c - per-tenant figures for `status` (key "default" for
 * the default route) and the counts of messages by state, kept as states
 * change, so that `status` costs O(tenants), not tenants x messages, and
 * /metrics never walks the queue.  Lock held.
 */
#include "config.h"

#include "delivery_int.h"
#include "tenantrelay/hmap.h"
#include "tenantrelay/mymalloc.h"

struct dstats *dstats_get(struct delivery *d, const char *id)
{
    struct dstats *s = hmap_find(&d->stats_map, id);

    if (s != NULL)
        return s;
    s = mycalloc(1, sizeof(*s));
    s->id = mystrdup(id);
    s->next = d->stats;
    d->stats = s;
    hmap_put(&d->stats_map, s->id, s);
    return s;
}

void dstats_touch(struct dstats *s)
{
    s->dirty = true;
}

void dstats_free_all(struct delivery *d)
{
    hmap_free(&d->stats_map);
    while (d->stats) {
        struct dstats *s = d->stats;

        d->stats = s->next;
        myfree(s->id);
        myfree(s->last_error);
        myfree(s->entry);
        myfree(s);
    }
}

static long *count_of(struct dstats *s, enum spool_state_kind k)
{
    return k == SPOOL_DEFERRED ? &s->deferred : k == SPOOL_FAILED ? &s->failed
         : k == SPOOL_HELD ? &s->held : NULL;
}

/* Queued messages are not counted (per tenant or in the engine's
 * state_count): they enter and leave that state on every attempt. */
void dcount(struct delivery *d, const struct dmsg *m, int delta)
{
    struct dstats *s = dstats_get(d, m->tenant ? m->tenant : DELIVERY_DEFAULT_KEY);
    long *c = count_of(s, m->state);

    if (c) {
        *c += delta;
        d->state_count[m->state] += delta;
        dstats_touch(s);
    }
}

void dmsg_set_state(struct delivery *d, struct dmsg *m, enum spool_state_kind k)
{
    if (m->state == k)
        return;
    dcount(d, m, -1);
    m->state = k;
    dcount(d, m, +1);
}
