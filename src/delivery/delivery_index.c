/*
 * delivery_index.c - the scheduler's index of queued messages: the one
 * hash table (src/common/hmap.c) by queue id, a list in indexing order
 * (control requests walk it), and a min-heap by arrival, so that /metrics
 * reads the oldest message's age without walking the queue (messages
 * recovered at start-up are indexed in directory order, not by arrival).
 * dindex_remove takes a message out of everything else too (the timer
 * heap, the counts).  Callers hold the engine's lock.
 */
#include "config.h"

#include <string.h>

#include "delivery_int.h"
#include "tenantrelay/hmap.h"
#include "tenantrelay/mymalloc.h"

/* ---- the arrival heap (1-based positions; 0 = not in it) ---- */

static void age_set(struct delivery *d, size_t pos, struct dmsg *m)
{
    d->age_heap[pos - 1] = m;
    m->age_pos = pos;
}

static void age_sift_up(struct delivery *d, size_t pos)
{
    struct dmsg *m = d->age_heap[pos - 1];

    while (pos > 1 && d->age_heap[pos / 2 - 1]->arrival > m->arrival) {
        age_set(d, pos, d->age_heap[pos / 2 - 1]);
        pos /= 2;
    }
    age_set(d, pos, m);
}

static void age_sift_down(struct delivery *d, size_t pos)
{
    struct dmsg *m = d->age_heap[pos - 1];

    for (;;) {
        size_t c = pos * 2;

        if (c > d->age_len)
            break;
        if (c < d->age_len && d->age_heap[c]->arrival < d->age_heap[c - 1]->arrival)
            c++;
        if (d->age_heap[c - 1]->arrival >= m->arrival)
            break;
        age_set(d, pos, d->age_heap[c - 1]);
        pos = c;
    }
    age_set(d, pos, m);
}

static void age_push(struct delivery *d, struct dmsg *m)
{
    if (d->age_len == d->age_cap) {
        d->age_cap = d->age_cap ? d->age_cap * 2 : 1024;
        d->age_heap = myrealloc(d->age_heap, d->age_cap * sizeof(*d->age_heap));
    }
    age_set(d, ++d->age_len, m);
    age_sift_up(d, d->age_len);
}

static void age_remove(struct delivery *d, struct dmsg *m)
{
    size_t pos = m->age_pos;
    struct dmsg *last;

    if (pos == 0)
        return;
    m->age_pos = 0;
    last = d->age_heap[--d->age_len];
    if (last == m)
        return;
    age_set(d, pos, last);
    age_sift_up(d, pos);
    age_sift_down(d, last->age_pos);
}

time_t dindex_oldest(struct delivery *d)
{
    return d->age_len ? d->age_heap[0]->arrival : 0;
}

void dindex_free(struct delivery *d)
{
    hmap_free(&d->by_qid);
    myfree(d->age_heap);
    d->age_heap = NULL;
    d->age_len = d->age_cap = 0;
}

/* ---- the hash and the list ---- */

struct dmsg *dindex_find(struct delivery *d, const char *qid)
{
    return hmap_find(&d->by_qid, qid);
}

struct dmsg *dindex_add(struct delivery *d, const char *qid, time_t arrival)
{
    struct dmsg *m = mycalloc(1, sizeof(*m));

    strncpy(m->qid, qid, SPOOL_QID_LEN);
    m->arrival = arrival;
    age_push(d, m);
    m->prev = d->last;
    if (d->last)
        d->last->next = m;
    else
        d->first = m;
    d->last = m;
    d->count++;
    hmap_put(&d->by_qid, m->qid, m);
    return m;
}

void dindex_remove(struct delivery *d, struct dmsg *m)
{
    dsched_remove(d, m);
    age_remove(d, m);
    dcount(d, m, -1);
    hmap_remove(&d->by_qid, m->qid, m);
    if (m->prev)
        m->prev->next = m->next;
    else
        d->first = m->next;
    if (m->next)
        m->next->prev = m->prev;
    else
        d->last = m->prev;
    d->count--;
    myfree(m->tenant);
    myfree(m);
}
