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

struct dstats *dstats_get(const char *id)
{
    struct dstats *s = hmap_find(&delivery.stats_map, id);

    if (s != NULL)
        return s;
    s = mycalloc(1, sizeof(*s));
    s->id = mystrdup(id);
    s->next = delivery.stats;
    delivery.stats = s;
    hmap_put(&delivery.stats_map, s->id, s);
    return s;
}

void dstats_touch(struct dstats *s)
{
    s->dirty = true;
}

void dstats_free_all(void)
{
    hmap_free(&delivery.stats_map);
    while (delivery.stats) {
        struct dstats *s = delivery.stats;

        delivery.stats = s->next;
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

/* Queued messages are not counted (per tenant or in
 * delivery.state_count): they enter and leave that state on every attempt. */
void dcount(const struct dmsg *m, int delta)
{
    struct dstats *s = dstats_get(m->tenant ? m->tenant : DELIVERY_DEFAULT_KEY);
    long *c = count_of(s, m->state);

    if (c) {
        *c += delta;
        delivery.state_count[m->state] += delta;
        dstats_touch(s);
    }
}

void dmsg_set_state(struct dmsg *m, enum spool_state_kind k)
{
    if (m->state == k)
        return;
    dcount(m, -1);
    m->state = k;
    dcount(m, +1);
}
