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

static bool due_time(const struct delivery *d, const struct dmsg *m, time_t *due)
{
    if (m->in_flight || m->on_route || m->removing || m->pending_writes > 0)
        return false;
    if (m->state == SPOOL_QUEUED || m->state == SPOOL_DEFERRED) {
        *due = m->next_attempt;
        return true;
    }
    if (m->state == SPOOL_FAILED) {
        *due = m->last_attempt + d->conf->retry.failed_retention;
        return true;
    }
    return false;               /* held: only an operator or a reload frees it */
}

static void heap_set(struct delivery *d, size_t pos, struct dmsg *m)
{
    d->heap[pos - 1] = m;
    m->heap_pos = pos;
}

static void sift_up(struct delivery *d, size_t pos)
{
    struct dmsg *m = d->heap[pos - 1];

    while (pos > 1 && d->heap[pos / 2 - 1]->due > m->due) {
        heap_set(d, pos, d->heap[pos / 2 - 1]);
        pos /= 2;
    }
    heap_set(d, pos, m);
}

static void sift_down(struct delivery *d, size_t pos)
{
    struct dmsg *m = d->heap[pos - 1];

    for (;;) {
        size_t c = pos * 2;

        if (c > d->heap_len)
            break;
        if (c < d->heap_len && d->heap[c]->due < d->heap[c - 1]->due)
            c++;
        if (d->heap[c - 1]->due >= m->due)
            break;
        heap_set(d, pos, d->heap[c - 1]);
        pos = c;
    }
    heap_set(d, pos, m);
}

void dsched_remove(struct delivery *d, struct dmsg *m)
{
    size_t pos = m->heap_pos;
    struct dmsg *last;

    if (pos == 0)
        return;
    m->heap_pos = 0;
    last = d->heap[--d->heap_len];
    if (last == m)
        return;
    heap_set(d, pos, last);
    if (pos > 1 && d->heap[pos / 2 - 1]->due > last->due)
        sift_up(d, pos);
    else
        sift_down(d, pos);
}

void dsched_update(struct delivery *d, struct dmsg *m)
{
    time_t due;

    if (!due_time(d, m, &due)) {
        dsched_remove(d, m);
        return;
    }
    if (m->heap_pos) {
        m->due = due;
        sift_up(d, m->heap_pos);
        sift_down(d, m->heap_pos);
        return;
    }
    if (d->heap_len == d->heap_cap) {
        d->heap_cap = d->heap_cap ? d->heap_cap * 2 : 1024;
        d->heap = myrealloc(d->heap, d->heap_cap * sizeof(*d->heap));
    }
    m->due = due;
    d->heap_len++;
    heap_set(d, d->heap_len, m);
    sift_up(d, d->heap_len);
}

struct dmsg *dsched_pop_due(struct delivery *d, time_t now)
{
    struct dmsg *m;

    if (d->heap_len == 0 || d->heap[0]->due > now)
        return NULL;
    m = d->heap[0];
    dsched_remove(d, m);
    return m;
}

bool dsched_next(struct delivery *d, time_t *when)
{
    if (d->heap_len == 0)
        return false;
    *when = d->heap[0]->due;
    return true;
}

void dsched_free(struct delivery *d)
{
    myfree(d->heap);
    d->heap = NULL;
    d->heap_len = d->heap_cap = 0;
}
