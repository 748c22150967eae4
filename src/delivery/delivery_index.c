/*
 * delivery_index.c - the scheduler's index of queued messages: a hash by
 * queue id plus a list in arrival order (control requests walk it).
 */
#include "config.h"

#include <string.h>

#include "delivery_int.h"
#include "tenantrelay/mymalloc.h"

static void rehash(size_t nbuckets)
{
    struct dmsg **b = mycalloc(nbuckets, sizeof(*b));

    for (struct dmsg *m = delivery.first; m; m = m->next) {
        size_t i = keymap_hash(m->qid) % nbuckets;

        m->hash_next = b[i];
        b[i] = m;
    }
    myfree(delivery.buckets);
    delivery.buckets = b;
    delivery.nbuckets = nbuckets;
}

struct dmsg *dindex_find(const char *qid)
{
    if (delivery.nbuckets == 0)
        return NULL;
    for (struct dmsg *m = delivery.buckets[keymap_hash(qid) % delivery.nbuckets]; m; m = m->hash_next)
        if (strcmp(m->qid, qid) == 0)
            return m;
    return NULL;
}

struct dmsg *dindex_add(const char *qid)
{
    struct dmsg *m = mycalloc(1, sizeof(*m));
    size_t i;

    strncpy(m->qid, qid, SPOOL_QID_LEN);
    m->prev = delivery.last;
    if (delivery.last)
        delivery.last->next = m;
    else
        delivery.first = m;
    delivery.last = m;
    delivery.count++;
    if (delivery.count > delivery.nbuckets * 2) {
        rehash(delivery.nbuckets ? delivery.nbuckets * 4 : 1024);
    } else {
        i = keymap_hash(qid) % delivery.nbuckets;
        m->hash_next = delivery.buckets[i];
        delivery.buckets[i] = m;
    }
    return m;
}

void dindex_remove(struct dmsg *m)
{
    dsched_remove(m);
    dcount(m, -1);
    struct dmsg **pp = &delivery.buckets[keymap_hash(m->qid) % delivery.nbuckets];

    while (*pp && *pp != m)
        pp = &(*pp)->hash_next;
    if (*pp)
        *pp = m->hash_next;
    if (m->prev)
        m->prev->next = m->next;
    else
        delivery.first = m->next;
    if (m->next)
        m->next->prev = m->prev;
    else
        delivery.last = m->prev;
    delivery.count--;
    myfree(m->tenant);
    myfree(m);
}
