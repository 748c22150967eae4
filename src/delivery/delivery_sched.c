/*
 * delivery_sched.c - the scheduler's timer heap, kept off the acceptance
 * path (issue #12 item 11): messages by the time they are next due (a
 * retry, or the end of failed_retention), so the scheduler pops what is
 * due instead of walking the whole queue on every wake.  Lock held.
 */
#include "config.h"

#include "delivery_int.h"
#include "tenantrelay/mymalloc.h"

/* ---- the timer heap (1-based positions; 0 = not in the heap) ---- */

static bool due_time(const struct dmsg *m, time_t *due)
{
    if (m->in_flight || m->on_route || m->removing || m->pending_writes > 0)
        return false;
    if (m->state == SPOOL_QUEUED || m->state == SPOOL_DEFERRED) {
        *due = m->next_attempt;
        return true;
    }
    if (m->state == SPOOL_FAILED) {
        *due = m->last_attempt + delivery.conf->retry.failed_retention;
        return true;
    }
    return false;               /* held: only an operator or a reload frees it */
}

static void heap_set(size_t pos, struct dmsg *m)
{
    delivery.heap[pos - 1] = m;
    m->heap_pos = pos;
}

static void sift_up(size_t pos)
{
    struct dmsg *m = delivery.heap[pos - 1];

    while (pos > 1 && delivery.heap[pos / 2 - 1]->due > m->due) {
        heap_set(pos, delivery.heap[pos / 2 - 1]);
        pos /= 2;
    }
    heap_set(pos, m);
}

static void sift_down(size_t pos)
{
    struct dmsg *m = delivery.heap[pos - 1];

    for (;;) {
        size_t c = pos * 2;

        if (c > delivery.heap_len)
            break;
        if (c < delivery.heap_len && delivery.heap[c]->due < delivery.heap[c - 1]->due)
            c++;
        if (delivery.heap[c - 1]->due >= m->due)
            break;
        heap_set(pos, delivery.heap[c - 1]);
        pos = c;
    }
    heap_set(pos, m);
}

void dsched_remove(struct dmsg *m)
{
    size_t pos = m->heap_pos;
    struct dmsg *last;

    if (pos == 0)
        return;
    m->heap_pos = 0;
    last = delivery.heap[--delivery.heap_len];
    if (last == m)
        return;
    heap_set(pos, last);
    if (pos > 1 && delivery.heap[pos / 2 - 1]->due > last->due)
        sift_up(pos);
    else
        sift_down(pos);
}

void dsched_update(struct dmsg *m)
{
    time_t due;

    if (!due_time(m, &due)) {
        dsched_remove(m);
        return;
    }
    if (m->heap_pos) {
        m->due = due;
        sift_up(m->heap_pos);
        sift_down(m->heap_pos);
        return;
    }
    if (delivery.heap_len == delivery.heap_cap) {
        delivery.heap_cap = delivery.heap_cap ? delivery.heap_cap * 2 : 1024;
        delivery.heap = myrealloc(delivery.heap, delivery.heap_cap * sizeof(*delivery.heap));
    }
    m->due = due;
    delivery.heap_len++;
    heap_set(delivery.heap_len, m);
    sift_up(delivery.heap_len);
}

struct dmsg *dsched_pop_due(time_t now)
{
    struct dmsg *m;

    if (delivery.heap_len == 0 || delivery.heap[0]->due > now)
        return NULL;
    m = delivery.heap[0];
    dsched_remove(m);
    return m;
}

bool dsched_next(time_t *when)
{
    if (delivery.heap_len == 0)
        return false;
    *when = delivery.heap[0]->due;
    return true;
}

void dsched_free(void)
{
    myfree(delivery.heap);
    delivery.heap = NULL;
    delivery.heap_len = delivery.heap_cap = 0;
}
