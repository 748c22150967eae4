/*
 * delivery_index.c - the scheduler's index of queued messages: the one
 * hash table (src/common/hmap.c) by queue id, plus a list in arrival
 * order (control requests walk it).  Callers hold the delivery lock.
 */
#include "config.h"

#include <string.h>

#include "delivery_int.h"
#include "tenantrelay/hmap.h"
#include "tenantrelay/mymalloc.h"

struct dmsg *dindex_find(const char *qid)
{
    return hmap_find(&delivery.by_qid, qid);
}

struct dmsg *dindex_add(const char *qid)
{
    struct dmsg *m = mycalloc(1, sizeof(*m));

    strncpy(m->qid, qid, SPOOL_QID_LEN);
    m->prev = delivery.last;
    if (delivery.last)
        delivery.last->next = m;
    else
        delivery.first = m;
    delivery.last = m;
    delivery.count++;
    hmap_put(&delivery.by_qid, m->qid, m);
    return m;
}

void dindex_remove(struct dmsg *m)
{
    dsched_remove(m);
    dcount(m, -1);
    hmap_remove(&delivery.by_qid, m->qid, m);
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
