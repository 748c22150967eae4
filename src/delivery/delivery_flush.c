/*
 * delivery_flush.c - state-file writes and message removals decided under
 * the lock (held by the breaker or an operator, released, deleted, failed
 * past failed_retention) but done by the scheduler thread without it: the
 * lock sits on the acceptance path (the listener enqueues before its 250),
 * and must never wait for an fsync.  Lock held, except during the I/O of
 * dwrite_flush and dremove_flush.
 */
#include "config.h"

#include <string.h>

#include "delivery_int.h"
#include "tenantrelay/msg.h"
#include "tenantrelay/mymalloc.h"

/* ---- state writes off the lock ---- */

struct dwrite {
    char qid[SPOOL_QID_LEN + 1];
    enum spool_state_kind state;
    bool now_due;               /* next_attempt = 0 */
    char *reply;                /* new last_reply, or NULL: keep */
    struct dwrite *next;
};

void dwrite_queue(struct delivery *d, struct dmsg *m, enum spool_state_kind state, bool now_due, const char *reply)
{
    struct dwrite *w = mycalloc(1, sizeof(*w));

    memcpy(w->qid, m->qid, sizeof(w->qid));
    w->state = state;
    w->now_due = now_due;
    w->reply = mystrdup_or_null(reply);
    /* Until written, no worker may take the message (its own write would
     * race this one): it stays out of the heap. */
    m->pending_writes++;
    dsched_remove(d, m);
    if (d->writes_tail)
        d->writes_tail->next = w;
    else
        d->writes = w;
    d->writes_tail = w;
    pthread_cond_signal(&d->sched_cond);
}

bool dwrite_flush(struct delivery *d)
{
    struct dwrite *list = d->writes;

    if (list == NULL)
        return false;
    d->writes = d->writes_tail = NULL;
    pthread_mutex_unlock(&d->lock);
    for (struct dwrite *w = list; w; w = w->next) {
        struct spool_state st;
        char err[256];

        if (spool_state_read(d->spool, w->qid, &st, err, sizeof(err)) < 0) {
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
        if (spool_state_save(d->spool, w->qid, &st, err, sizeof(err)) < 0)
            msg_error(w->qid, "cannot save state: %s", err);
        spool_state_free(&st);
    }
    pthread_mutex_lock(&d->lock);
    while (list) {
        struct dwrite *w = list;
        struct dmsg *m = dindex_find(d, w->qid);

        list = w->next;
        if (m && --m->pending_writes == 0) {
            if (m->delete_requested)
                dremove_queue(d, m, "deleted by operator");
            else
                dsched_update(d, m);
        }
        myfree(w->reply);
        myfree(w);
    }
    return true;
}

void dwrite_free(struct delivery *d)
{
    while (d->writes) {
        struct dwrite *w = d->writes;

        d->writes = w->next;
        myfree(w->reply);
        myfree(w);
    }
    d->writes_tail = NULL;
}

/* ---- removals off the lock ---- */

struct dremoval {
    char qid[SPOOL_QID_LEN + 1];
    const char *why;            /* static text for the log */
    struct dremoval *next;
};

void dremove_queue(struct delivery *d, struct dmsg *m, const char *why)
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
    dsched_remove(d, m);
    x->next = d->removals;
    d->removals = x;
    pthread_cond_signal(&d->sched_cond);
}

bool dremove_flush(struct delivery *d)
{
    struct dremoval *list = d->removals;
    int *ok;
    size_t n = 0, i = 0;

    if (list == NULL)
        return false;
    d->removals = NULL;
    for (struct dremoval *x = list; x; x = x->next)
        n++;
    ok = mycalloc(n, sizeof(*ok));
    pthread_mutex_unlock(&d->lock);
    for (struct dremoval *x = list; x; x = x->next, i++) {
        char err[256];

        ok[i] = spool_remove(d->spool, x->qid, err, sizeof(err)) == 0;
        if (ok[i])
            msg_info(x->qid, "removed: %s", x->why);
        else
            msg_error(x->qid, "cannot remove: %s", err);
    }
    pthread_mutex_lock(&d->lock);
    i = 0;
    while (list) {
        struct dremoval *x = list;
        struct dmsg *m = dindex_find(d, x->qid);

        list = x->next;
        if (m && ok[i])
            dindex_remove(d, m);
        else if (m)
            m->removing = false;        /* stays listed; retried after a restart */
        myfree(x);
        i++;
    }
    myfree(ok);
    return true;
}

void dremove_free(struct delivery *d)
{
    while (d->removals) {
        struct dremoval *x = d->removals;

        d->removals = x->next;
        myfree(x);
    }
}
