/*
 * delivery_index.c - the scheduler's index of queued messages: the one
 * hash table (src/common/hmap.c) by queue id, a list in indexing order
 * (control requests walk it), and a min-heap by arrival, so that /metrics
 * reads the oldest message's age without walking the queue (messages
 * recovered at start-up are indexed in directory order, not by arrival).
 * dindex_remove takes a message out of everything else too (the timer
 * heap, the counts).  Callers hold delivery.lock.
 */
#include "config.h"

#include <string.h>

#include "delivery_int.h"
#include "tenantrelay/hmap.h"
#include "tenantrelay/mymalloc.h"

/* ---- the arrival heap (1-based positions; 0 = not in it) ---- */

static void age_set(size_t pos, struct dmsg *m)
{
    delivery.age_heap[pos - 1] = m;
    m->age_pos = pos;
}

static void age_sift_up(size_t pos)
{
    struct dmsg *m = delivery.age_heap[pos - 1];

    while (pos > 1 && delivery.age_heap[pos / 2 - 1]->arrival > m->arrival) {
        age_set(pos, delivery.age_heap[pos / 2 - 1]);
        pos /= 2;
    }
    age_set(pos, m);
}

static void age_sift_down(size_t pos)
{
    struct dmsg *m = delivery.age_heap[pos - 1];

    for (;;) {
        size_t c = pos * 2;

        if (c > delivery.age_len)
            break;
        if (c < delivery.age_len && delivery.age_heap[c]->arrival < delivery.age_heap[c - 1]->arrival)
            c++;
        if (delivery.age_heap[c - 1]->arrival >= m->arrival)
            break;
        age_set(pos, delivery.age_heap[c - 1]);
        pos = c;
    }
    age_set(pos, m);
}

static void age_push(struct dmsg *m)
{
    if (delivery.age_len == delivery.age_cap) {
        delivery.age_cap = delivery.age_cap ? delivery.age_cap * 2 : 1024;
        delivery.age_heap = myrealloc(delivery.age_heap, delivery.age_cap * sizeof(*delivery.age_heap));
    }
    age_set(++delivery.age_len, m);
    age_sift_up(delivery.age_len);
}

static void age_remove(struct dmsg *m)
{
    size_t pos = m->age_pos;
    struct dmsg *last;

    if (pos == 0)
        return;
    m->age_pos = 0;
    last = delivery.age_heap[--delivery.age_len];
    if (last == m)
        return;
    age_set(pos, last);
    age_sift_up(pos);
    age_sift_down(last->age_pos);
}

time_t dindex_oldest(void)
{
    return delivery.age_len ? delivery.age_heap[0]->arrival : 0;
}

void dindex_free(void)
{
    hmap_free(&delivery.by_qid);
    myfree(delivery.age_heap);
    delivery.age_heap = NULL;
    delivery.age_len = delivery.age_cap = 0;
}

/* ---- the hash and the list ---- */

struct dmsg *dindex_find(const char *qid)
{
    return hmap_find(&delivery.by_qid, qid);
}

struct dmsg *dindex_add(const char *qid, time_t arrival)
{
    struct dmsg *m = mycalloc(1, sizeof(*m));

    strncpy(m->qid, qid, SPOOL_QID_LEN);
    m->arrival = arrival;
    age_push(m);
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
    age_remove(m);
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
