/*
 * delivery_sched.c - the scheduler's bookkeeping, kept off the acceptance
 * path (issue #12 item 11):
 *   - a timer heap of messages by the time they are next due (a retry, or
 *     the end of failed_retention), so the scheduler pops what is due
 *     instead of walking the whole queue on every wake;
 *   - per-tenant counts of deferred, failed and held messages, kept as
 *     states change, so `status` costs O(tenants), not tenants x messages;
 *   - state-file writes decided under the delivery lock (held by the
 *     breaker or an operator, released) but done by the scheduler thread
 *     without it: the lock sits on the acceptance path (the listener
 *     enqueues before its 250), and must never wait for an fsync.
 * Everything here runs with delivery.lock held, except dwrite_flush's I/O.
 */
#include "config.h"

#include <string.h>

#include "delivery_int.h"
#include "tenantrelay/msg.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/retry.h"

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

/* ---- per-tenant counts ---- */

static long *count_of(struct dstats *s, enum spool_state_kind k)
{
    return k == SPOOL_DEFERRED ? &s->deferred : k == SPOOL_FAILED ? &s->failed
         : k == SPOOL_HELD ? &s->held : NULL;
}

/* Queued messages are not counted (per tenant or in delivery.state_count):
 * they enter and leave that state on every attempt. */
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

/* ---- state writes off the lock ---- */

struct dwrite {
    char qid[SPOOL_QID_LEN + 1];
    enum spool_state_kind state;
    bool now_due;               /* next_attempt = 0 */
    char *reply;                /* new last_reply, or NULL: keep */
    struct dwrite *next;
};

void dwrite_queue(struct dmsg *m, enum spool_state_kind state, bool now_due, const char *reply)
{
    struct dwrite *w = mycalloc(1, sizeof(*w));

    memcpy(w->qid, m->qid, sizeof(w->qid));
    w->state = state;
    w->now_due = now_due;
    w->reply = mystrdup_or_null(reply);
    /* Until written, no worker may take the message (its own write would
     * race this one): it stays out of the heap. */
    m->pending_writes++;
    dsched_remove(m);
    if (delivery.writes_tail)
        delivery.writes_tail->next = w;
    else
        delivery.writes = w;
    delivery.writes_tail = w;
    pthread_cond_signal(&delivery.sched_cond);
}

bool dwrite_flush(void)
{
    struct dwrite *list = delivery.writes;

    if (list == NULL)
        return false;
    delivery.writes = delivery.writes_tail = NULL;
    pthread_mutex_unlock(&delivery.lock);
    for (struct dwrite *w = list; w; w = w->next) {
        struct spool_state st;
        char err[256];

        if (spool_state_read(delivery.spool, w->qid, &st, err, sizeof(err)) < 0) {
            msg_error(w->qid, "cannot read state: %s", err);
            continue;
        }
        st.state = w->state;
        if (w->now_due)
            st.next_attempt = 0;
        if (w->reply) {
            myfree(st.last_reply);
            st.last_reply = mystrdup(w->reply);
        }
        if (spool_state_save(delivery.spool, w->qid, &st, err, sizeof(err)) < 0)
            msg_error(w->qid, "cannot save state: %s", err);
        spool_state_free(&st);
    }
    pthread_mutex_lock(&delivery.lock);
    while (list) {
        struct dwrite *w = list;
        struct dmsg *m = dindex_find(w->qid);

        list = w->next;
        if (m && --m->pending_writes == 0) {
            if (m->delete_requested)
                dremove_queue(m, "deleted by operator");
            else
                dsched_update(m);
        }
        myfree(w->reply);
        myfree(w);
    }
    return true;
}

void dwrite_free(void)
{
    while (delivery.writes) {
        struct dwrite *w = delivery.writes;

        delivery.writes = w->next;
        myfree(w->reply);
        myfree(w);
    }
    delivery.writes_tail = NULL;
}

/* ---- removals off the lock ---- */

struct dremoval {
    char qid[SPOOL_QID_LEN + 1];
    const char *why;            /* static text for the log */
    struct dremoval *next;
};

void dremove_queue(struct dmsg *m, const char *why)
{
    struct dremoval *x;

    if (m->removing)
        return;
    x = mycalloc(1, sizeof(*x));
    memcpy(x->qid, m->qid, sizeof(x->qid));
    x->why = why;
    if (m->on_route)
        droute_unlink(m);
    m->removing = true;
    dsched_remove(m);
    x->next = delivery.removals;
    delivery.removals = x;
    pthread_cond_signal(&delivery.sched_cond);
}

bool dremove_flush(void)
{
    struct dremoval *list = delivery.removals;
    int *ok;
    size_t n = 0, i = 0;

    if (list == NULL)
        return false;
    delivery.removals = NULL;
    for (struct dremoval *x = list; x; x = x->next)
        n++;
    ok = mycalloc(n, sizeof(*ok));
    pthread_mutex_unlock(&delivery.lock);
    for (struct dremoval *x = list; x; x = x->next, i++) {
        char err[256];

        ok[i] = spool_remove(delivery.spool, x->qid, err, sizeof(err)) == 0;
        if (ok[i])
            msg_info(x->qid, "removed: %s", x->why);
        else
            msg_error(x->qid, "cannot remove: %s", err);
    }
    pthread_mutex_lock(&delivery.lock);
    i = 0;
    while (list) {
        struct dremoval *x = list;
        struct dmsg *m = dindex_find(x->qid);

        list = x->next;
        if (m && ok[i])
            dindex_remove(m);
        else if (m)
            m->removing = false;        /* stays listed; retried after a restart */
        myfree(x);
        i++;
    }
    myfree(ok);
    return true;
}

void dremove_free(void)
{
    while (delivery.removals) {
        struct dremoval *x = delivery.removals;

        delivery.removals = x->next;
        myfree(x);
    }
}
