/*
 * delivery_control.c - control requests about delivery: `status` figures
 * per tenant and the operator's queue actions (retry, hold, release,
 * delete), applied to the running scheduler so that its view and the
 * spool never disagree.
 */
#include "config.h"

#include <string.h>

#include "delivery_int.h"
#include "tenantrelay/delivery.h"
#include "tenantrelay/events.h"
#include "tenantrelay/msg.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/store_live.h"

struct dstats *dstats_get(const char *id)
{
    struct dstats *s = keymap_find(&delivery.stats_map, id);

    if (s != NULL)
        return s;
    s = mycalloc(1, sizeof(*s));
    s->id = mystrdup(id);
    s->next = delivery.stats;
    delivery.stats = s;
    keymap_put(&delivery.stats_map, s->id, s);
    return s;
}

static const char *msg_tenant_key(const struct dmsg *m)
{
    return m->tenant ? m->tenant : DELIVERY_DEFAULT_KEY;
}

static json_t *time_or_null(time_t t)
{
    char buf[32];

    return t ? json_string(events_time(t, buf, sizeof(buf))) : json_null();
}

static json_t *status_entry(const char *id)
{
    struct dstats *s = dstats_get(id);
    long deferred = 0, failed = 0, held = 0;

    for (struct dmsg *m = delivery.first; m; m = m->next) {
        if (strcmp(msg_tenant_key(m), id) != 0)
            continue;
        if (m->state == SPOOL_DEFERRED)
            deferred++;
        else if (m->state == SPOOL_FAILED)
            failed++;
        else if (m->state == SPOOL_HELD)
            held++;
    }
    return json_pack("{s:s, s:I, s:I, s:I, s:I, s:o, s:s?}", "id", id, "sent", (json_int_t)s->sent,
                     "deferred", (json_int_t)deferred, "failed", (json_int_t)failed,
                     "held", (json_int_t)held, "last_success", time_or_null(s->last_success),
                     "last_error", s->last_error);
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

static json_t *status(void)
{
    json_t *tenants = json_array();
    json_t *seen = json_object();

    /* The default route, every tenant of the store, and any tenant id still
     * in the queue or the figures (a removed tenant's mail). */
    json_object_set_new(seen, DELIVERY_DEFAULT_KEY, json_true());
    for (size_t i = 0; delivery.store && i < tenant_store_count(delivery.store); i++)
        json_object_set_new(seen, tenant_store_at(delivery.store, i)->id, json_true());
    for (struct dmsg *m = delivery.first; m; m = m->next)
        json_object_set_new(seen, msg_tenant_key(m), json_true());
    for (struct dstats *s = delivery.stats; s; s = s->next)
        json_object_set_new(seen, s->id, json_true());
    {
        const char *key;
        json_t *v;

        json_object_foreach(seen, key, v)
            json_array_append_new(tenants, status_entry(key));
    }
    json_decref(seen);
    return json_pack("{s:b, s:I, s:o, s:o}", "ok", 1, "queued", (json_int_t)delivery.count,
                     "tenants", tenants, "store", store_status());
}

static int save_state(struct dmsg *m, enum spool_state_kind kind, bool now_due)
{
    struct spool_state st;
    char err[256];
    int rc = -1;

    if (spool_state_read(delivery.spool, m->qid, &st, err, sizeof(err)) == 0) {
        st.state = kind;
        if (now_due)
            st.next_attempt = 0;
        rc = spool_state_save(delivery.spool, m->qid, &st, err, sizeof(err));
        spool_state_free(&st);
    }
    if (rc < 0)
        msg_error(m->qid, "cannot save state: %s", err);
    return rc;
}

/* One operator action on one message: 0 done, 1 deferred (in flight), -1 failed. */
static int act(struct dmsg *m, const char *action)
{
    char err[256];

    if (strcmp(action, "delete") == 0) {
        if (m->in_flight) {
            m->delete_requested = true;
            return 1;
        }
        if (spool_remove(delivery.spool, m->qid, err, sizeof(err)) < 0) {
            msg_error(m->qid, "cannot delete: %s", err);
            return -1;
        }
        msg_info(m->qid, "deleted by operator");
        if (m->on_route) {
            /* Unlink lazily: mark it so the worker skips it. */
            m->delete_requested = true;
            return 0;
        }
        dindex_remove(m);
        return 0;
    }
    if (strcmp(action, "hold") == 0) {
        if (m->in_flight) {
            m->hold_requested = true;
            return 1;
        }
        if (m->on_route)
            m->hold_requested = true;
        m->state = SPOOL_HELD;
        m->held_by_breaker = false;
        msg_info(m->qid, "held by operator");
        return save_state(m, SPOOL_HELD, false);
    }
    if (strcmp(action, "release") == 0 || strcmp(action, "retry") == 0) {
        if (strcmp(action, "release") == 0 && m->state != SPOOL_HELD)
            return 0;
        if (m->in_flight || m->on_route)
            return 0;
        m->state = SPOOL_QUEUED;
        m->next_attempt = 0;
        m->held_by_breaker = false;
        msg_info(m->qid, "%s by operator", strcmp(action, "release") == 0 ? "released" : "retry");
        return save_state(m, SPOOL_QUEUED, true);
    }
    return -1;
}

static json_t *queue_action(const json_t *req)
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
        for (struct droute *r = delivery.routes; r; r = r->next)
            if (r->present && r->held && (all || (tenant && strcmp(r->key, tenant) == 0)))
                droute_release(r);
    }
    for (struct dmsg *m = delivery.first, *next; m; m = next) {
        char qid[SPOOL_QID_LEN + 1];
        int rc;

        next = m->next;
        if (!(all || (id && strcmp(m->qid, id) == 0) || (tenant && strcmp(msg_tenant_key(m), tenant) == 0)))
            continue;
        matched++;
        if (id && strcmp(action, "release") == 0 && m->held_by_breaker) {
            struct droute *r = droute_for_tenant(m->tenant);

            if (r->held)
                droute_release(r);
        }
        memcpy(qid, m->qid, sizeof(qid));
        rc = act(m, action);
        if (rc == 0)
            json_array_append_new(affected, json_string(qid));
        else if (rc == 1)
            json_array_append_new(pending, json_string(qid));
    }
    pthread_cond_broadcast(&delivery.sched_cond);
    if (id && matched == 0) {
        json_decref(affected);
        json_decref(pending);
        return json_pack("{s:b, s:s}", "ok", 0, "error", "no such message in the queue");
    }
    return json_pack("{s:b, s:o, s:o}", "ok", 1, "affected", affected, "in_flight", pending);
}

json_t *delivery_control(const json_t *request)
{
    const char *cmd = json_string_value(json_object_get(request, "cmd"));
    json_t *resp;

    pthread_mutex_lock(&delivery.lock);
    if (!delivery.running)
        resp = json_pack("{s:b, s:s}", "ok", 0, "error", "delivery is not running");
    else if (cmd && strcmp(cmd, "status") == 0)
        resp = status();
    else if (cmd && strcmp(cmd, "queue") == 0)
        resp = queue_action(request);
    else
        resp = json_pack("{s:b, s:s}", "ok", 0, "error", "unknown command");
    pthread_mutex_unlock(&delivery.lock);
    return resp;
}

void delivery_gauges(long counts[4], double *oldest_age, long *store_generation, double *store_age)
{
    time_t now = time(NULL), oldest = 0;

    pthread_mutex_lock(&delivery.lock);
    for (int i = 0; i < 4; i++)
        counts[i] = 0;
    /* Linear in the queue: once per scrape, with a short lock hold. */
    for (struct dmsg *m = delivery.first; m; m = m->next) {
        if ((int)m->state >= 0 && (int)m->state < 4)
            counts[m->state]++;
        if (oldest == 0 || m->arrival < oldest)
            oldest = m->arrival;
    }
    *store_generation = (long)delivery.store_generation;
    *store_age = delivery.store_loaded ? difftime(now, delivery.store_loaded) : 0;
    pthread_mutex_unlock(&delivery.lock);
    *oldest_age = oldest ? difftime(now, oldest) : 0;
}

const struct vault *delivery_vault(void)
{
    const struct vault *v;

    pthread_mutex_lock(&delivery.lock);
    v = delivery.vault;
    pthread_mutex_unlock(&delivery.lock);
    return v;
}
