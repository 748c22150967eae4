/*
 * delivery_control.c - control requests about delivery: `status` figures
 * per tenant and the operator's queue actions (retry, hold, release,
 * delete), applied to the running scheduler so that its view and the
 * spool never disagree.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "delivery_int.h"
#include "tenantrelay/clock.h"
#include "tenantrelay/dbuf.h"
#include "tenantrelay/delivery.h"
#include "tenantrelay/events.h"
#include "tenantrelay/hmap.h"
#include "tenantrelay/msg.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/store_live.h"
#include "tenantrelay/timefmt.h"
#include "tenantrelay/utf8.h"

static const char *msg_tenant_key(const struct dmsg *m)
{
    return m->tenant ? m->tenant : DELIVERY_DEFAULT_KEY;
}

/* One tenant's figures.  Built member by member (the keys are constants, so
 * the unchecked setters): json_pack's format parsing costs more. */
static json_t *status_entry(const struct dstats *s)
{
    json_t *o = json_object();

    /* Ids and replies made valid UTF-8 (utf8.h): a string jansson refuses
     * would drop the member, or the whole answer. */
    json_object_set_new_nocheck(o, "id", utf8_json_string(s->id));
    json_object_set_new_nocheck(o, "sent", json_integer((json_int_t)s->sent));
    json_object_set_new_nocheck(o, "deferred", json_integer((json_int_t)s->deferred));
    json_object_set_new_nocheck(o, "failed", json_integer((json_int_t)s->failed));
    json_object_set_new_nocheck(o, "held", json_integer((json_int_t)s->held));
    json_object_set_new_nocheck(o, "last_success", timefmt_json(s->last_success));
    json_object_set_new_nocheck(o, "last_error", utf8_json_string(s->last_error));
    return o;
}

static int dump_piece(const char *data, size_t len, void *arg)
{
    dbuf_append(arg, data, len);
    return 0;
}

/* Serialise v compactly into b (appended), as json_dumps would. */
static int dump_into(struct dbuf *b, const json_t *v)
{
    return json_dump_callback(v, dump_piece, b, JSON_COMPACT);
}

/* s's entry, serialised again only when its figures changed since.  Kept
 * in our own allocator's memory (jansson's may be replaced, oauth_http.c). */
static int entry_refresh(struct dstats *s)
{
    struct dbuf b = DBUF_INIT;
    json_t *o;
    int rc;

    if (s->entry && !s->dirty)
        return 0;
    o = status_entry(s);
    rc = dump_into(&b, o);
    json_decref(o);
    if (rc < 0) {
        dbuf_free(&b);
        return -1;
    }
    myfree(s->entry);
    s->entry_len = b.len;
    s->entry = dbuf_steal(&b);
    s->dirty = false;
    return 0;
}

bool dstatus_prepare(struct delivery *d, size_t budget)
{
    size_t n;

    if (d->stats_store_generation == d->store_generation)
        return false;           /* this store's tenants all have figures */
    if (d->status_ready_generation != d->store_generation) {
        d->status_ready_generation = d->store_generation;
        d->status_ready_pos = 0;
    }
    n = d->store ? tenant_store_count(d->store) : 0;
    for (; d->status_ready_pos < n && budget > 0; d->status_ready_pos++, budget--)
        (void)entry_refresh(dstats_get(d, tenant_store_at(d->store, d->status_ready_pos)->id));
    if (d->status_ready_pos < n)
        return true;
    /* status_text() makes the figures of the default route and of tenants
     * only in the queue; entries that failed to serialise are retried there. */
    d->stats_store_generation = d->store_generation;
    return false;
}

/* The tenant store this daemon serves; for PostgreSQL its staleness. */
static json_t *store_status(void)
{
    struct store_live_info li;

    store_live_get_info(&li);
    if (!li.active)
        return json_pack("{s:s}", "backend", "file");
    return json_pack("{s:s, s:I, s:b, s:b, s:o, s:o}", "backend", "postgresql", "version", (json_int_t)li.version,
                     "stale", li.stale, "from_snapshot", li.from_snapshot, "last_sync_age",
                     li.synced ? json_integer((json_int_t)(time(NULL) - li.synced)) : json_null(),
                     "snapshot_age", li.snapshot_at ? json_integer((json_int_t)(time(NULL) - li.snapshot_at))
                                                    : json_null());
}

/* The `status` answer into out, lock held: the bytes json_dumps(JSON_COMPACT)
 * gives for {"ok", "queued", "tenants": [entries], "store"}, put together
 * from the cached entries (O(tenants) copies, no jansson object per tenant).
 * 0, or -1 when an entry cannot be serialised. */
static int status_text(struct delivery *d, struct dbuf *out)
{
    json_t *store;
    size_t total = 64;
    bool first = true;
    int rc;

    /* The default route, every tenant of the store, and any tenant id still
     * in the queue or the figures (a removed tenant's mail): every one of
     * them has its figures, created here for the store's tenants (once per
     * store: a tenant's figures are never removed). */
    dstats_get(d, DELIVERY_DEFAULT_KEY);
    if (d->stats_store_generation != d->store_generation) {
        for (size_t i = 0; d->store && i < tenant_store_count(d->store); i++)
            dstats_get(d, tenant_store_at(d->store, i)->id);
        d->stats_store_generation = d->store_generation;
    }
    for (struct dstats *s = d->stats; s; s = s->next) {
        if (entry_refresh(s) < 0)
            return -1;
        total += s->entry_len + 1;
    }
    dbuf_reserve(out, total);
    dbuf_printf(out, "{\"ok\":true,\"queued\":%" JSON_INTEGER_FORMAT ",\"tenants\":[",
                (json_int_t)d->count);
    for (const struct dstats *s = d->stats; s; s = s->next) {
        if (!first)
            dbuf_append_char(out, ',');
        dbuf_append(out, s->entry, s->entry_len);
        first = false;
    }
    dbuf_append_str(out, "],\"store\":");
    store = store_status();
    rc = dump_into(out, store);
    json_decref(store);
    dbuf_append_char(out, '}');
    return rc < 0 ? -1 : 0;
}

char *delivery_status_dumps(struct delivery *d, size_t *len)
{
    struct dbuf b = DBUF_INIT;
    int rc = -1;

    pthread_mutex_lock(&d->lock);
    if (d->running)
        rc = status_text(d, &b);
    pthread_mutex_unlock(&d->lock);
    if (rc < 0) {
        dbuf_free(&b);
        return NULL;
    }
    *len = b.len;
    return dbuf_steal(&b);
}

/* The status object for callers that want one (the HTTP API, per-tenant
 * metrics): parsed back from the one text, so both forms always agree. */
static json_t *status(struct delivery *d)
{
    struct dbuf b = DBUF_INIT;
    json_t *o = NULL;

    if (status_text(d, &b) == 0)
        o = json_loadb(b.data, b.len, 0, NULL);
    dbuf_free(&b);
    return o ? o : json_pack("{s:b, s:s}", "ok", 0, "error", "status could not be serialised");
}

/* One operator action on one message: 0 done, 1 deferred (in flight), -1 failed.
 * File changes are queued and done without the lock (delivery_control
 * flushes them before it answers). */
static int act(struct delivery *d, struct dmsg *m, const char *action)
{
    if (m->removing)
        return 0;
    if (strcmp(action, "delete") == 0) {
        if (m->in_flight || m->pending_writes > 0) {
            m->delete_requested = true;
            return 1;
        }
        dremove_queue(d, m, "deleted by operator");
        return 0;
    }
    if (strcmp(action, "hold") == 0) {
        if (m->in_flight) {
            m->hold_requested = true;
            return 1;
        }
        if (m->on_route)
            droute_unlink(m);
        dmsg_set_state(d, m, SPOOL_HELD);
        m->held_by_breaker = false;
        msg_info(m->qid, "held by operator");
        dwrite_queue(d, m, SPOOL_HELD, false, NULL);
        return 0;
    }
    if (strcmp(action, "release") == 0 || strcmp(action, "retry") == 0) {
        if (strcmp(action, "release") == 0 && m->state != SPOOL_HELD)
            return 0;
        if (m->in_flight || m->on_route)
            return 0;
        dmsg_set_state(d, m, SPOOL_QUEUED);
        m->next_attempt = 0;
        m->held_by_breaker = false;
        msg_info(m->qid, "%s by operator", strcmp(action, "release") == 0 ? "released" : "retry");
        dwrite_queue(d, m, SPOOL_QUEUED, true, NULL);
        return 0;
    }
    return -1;
}

static json_t *queue_action(struct delivery *d, const json_t *req)
{
    const char *action = json_string_value(json_object_get(req, "action"));
    const char *id = json_string_value(json_object_get(req, "id"));
    const char *tenant = json_string_value(json_object_get(req, "tenant"));
    bool all = json_is_true(json_object_get(req, "all"));
    json_t *affected = json_array();
    json_t *pending = json_array();
    int matched = 0;

    if (action == NULL || (strcmp(action, "retry") && strcmp(action, "hold")
                           && strcmp(action, "release") && strcmp(action, "delete"))) {
        json_decref(affected);
        json_decref(pending);
        return json_pack("{s:b, s:s}", "ok", 0, "error", "unknown queue action");
    }
    /* Releasing a tenant (or everything) also closes its circuit breaker. */
    if (strcmp(action, "release") == 0 || strcmp(action, "retry") == 0) {
        for (struct droute *r = d->routes; r; r = r->next)
            if (r->present && r->held && (all || (tenant && strcmp(r->key, tenant) == 0)))
                droute_release(r);
    }
    for (struct dmsg *m = d->first, *next; m; m = next) {
        char qid[SPOOL_QID_LEN + 1];
        int rc;

        next = m->next;
        if (!(all || (id && strcmp(m->qid, id) == 0) || (tenant && strcmp(msg_tenant_key(m), tenant) == 0)))
            continue;
        matched++;
        if (id && strcmp(action, "release") == 0 && m->held_by_breaker) {
            struct droute *r = droute_for_tenant(d, m->tenant);

            if (r->held)
                droute_release(r);
        }
        memcpy(qid, m->qid, sizeof(qid));
        rc = act(d, m, action);
        if (rc == 0)
            json_array_append_new(affected, json_string(qid));
        else if (rc == 1)
            json_array_append_new(pending, json_string(qid));
    }
    pthread_cond_broadcast(&d->sched_cond);
    if (id && matched == 0) {
        json_decref(affected);
        json_decref(pending);
        return json_pack("{s:b, s:s}", "ok", 0, "error", "no such message in the queue");
    }
    return json_pack("{s:b, s:o, s:o}", "ok", 1, "affected", affected, "in_flight", pending);
}

/* The operator's changes are on disk before the answer: the scheduler
 * thread, the one writer of queued changes (so they land in order), does
 * the I/O without the lock; this waits for it, bounded. */
static void wait_flushed(struct delivery *d)
{
    struct timespec until;

    clock_real_deadline(&until, 30000);
    pthread_cond_signal(&d->sched_cond);
    while ((d->writes || d->removals || d->flushing) && !d->stopping)
        if (pthread_cond_timedwait(&d->flushed, &d->lock, &until) != 0)
            break;
}

json_t *delivery_control(struct delivery *d, const json_t *request)
{
    const char *cmd = json_string_value(json_object_get(request, "cmd"));
    json_t *resp;

    pthread_mutex_lock(&d->lock);
    if (!d->running)
        resp = json_pack("{s:b, s:s}", "ok", 0, "error", "delivery is not running");
    else if (cmd && strcmp(cmd, "status") == 0)
        resp = status(d);
    else if (cmd && strcmp(cmd, "queue") == 0) {
        resp = queue_action(d, request);
        wait_flushed(d);
    }
    else
        resp = json_pack("{s:b, s:s}", "ok", 0, "error", "unknown command");
    pthread_mutex_unlock(&d->lock);
    return resp;
}

/* O(1): the counts by state kept as messages change state (dcount), the
 * oldest arrival from the index's arrival heap; never a walk of the queue. */
void delivery_gauges(struct delivery *d, long counts[4], double *oldest_age, long *store_generation, double *store_age)
{
    time_t now = time(NULL), oldest;
    long others = 0;

    pthread_mutex_lock(&d->lock);
    for (int i = 0; i < 4; i++) {
        counts[i] = i == SPOOL_QUEUED ? 0 : d->state_count[i];
        others += counts[i];
    }
    /* Queued messages are not counted as they come and go (see dcount):
     * they are the rest of the index. */
    counts[SPOOL_QUEUED] = (long)d->count - others;
    oldest = dindex_oldest(d);
    *store_generation = (long)d->store_generation;
    *store_age = d->store_loaded ? difftime(now, d->store_loaded) : 0;
    pthread_mutex_unlock(&d->lock);
    *oldest_age = oldest ? difftime(now, oldest) : 0;
}
