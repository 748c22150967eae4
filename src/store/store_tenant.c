/*
 * store_tenant.c - one tenant at a time through the store interface
 * (store.h), for tenantrelayctl and the HTTP API: a whole record saved
 * only if the stored one is still the one the caller read (compare and
 * swap on the record: the optimistic check), removal, enable/disable.
 * Each is one store transaction on either backend.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tenantrelay/mymalloc.h"
#include "tenantrelay/route.h"
#include "tenantrelay/store.h"
#include "tenantrelay/str.h"
#include "tenantrelay/tenant_write.h"


static bool list_same(char *const *a, char *const *b)
{
    size_t i = 0;

    for (; a && b && a[i] && b[i]; i++)
        if (strcmp(a[i], b[i]) != 0)
            return false;
    return (a == NULL || a[i] == NULL) && (b == NULL || b[i] == NULL);
}

/* The route part: route_equal(), the route module's one field list.  It
 * compares the oauth group whatever auth is; the optimistic check
 * compares it only for an xoauth2 route, where it means something, so a
 * password route's group is blanked first (on shallow copies).  No stored
 * record differs by this - every reader leaves a password route's group
 * zeroed - but a caller's in-memory record may keep one from an auth
 * change, and that must not make its write a race. */
static bool route_same(const struct route *x, const struct route *y)
{
    struct route a = *x, b = *y;

    if (a.auth != ROUTE_AUTH_XOAUTH2)
        memset(&a.oauth, 0, sizeof(a.oauth));
    if (b.auth != ROUTE_AUTH_XOAUTH2)
        memset(&b.oauth, 0, sizeof(b.oauth));
    return route_equal(&a, &b);
}

bool store_tenant_same(const struct tenant *a, const struct tenant *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return str_same(a->id, b->id) && a->enabled == b->enabled && list_same(a->domains, b->domains)
        && list_same(a->addresses, b->addresses) && a->created == b->created && a->updated == b->updated
        && a->verified == b->verified && route_same(&a->route, &b->route);
}

/* The view's index of id, or -1. */
static long index_of(const struct tenant_store *view, const char *id)
{
    for (size_t i = 0; i < tenant_store_count(view); i++)
        if (strcmp(tenant_store_at(view, i)->id, id) == 0)
            return (long)i;
    return -1;
}

/* Commit with the view's i-th record replaced by t (NULL: removed), or t
 * added when i < 0. */
static enum store_result commit_one(struct store_txn *txn, long i, const struct tenant *t,
                                    const char *action, const char *id, const char *fields,
                                    struct conf_error *err)
{
    const struct tenant_store *view = store_txn_view(txn);
    size_t n = tenant_store_count(view);
    const struct tenant **repl = mycalloc(n + 1, sizeof(*repl));
    enum store_result res;

    for (size_t k = 0; k < n; k++)
        repl[k] = tenant_store_at(view, k);
    if (i >= 0)
        repl[i] = t;
    res = store_txn_commit(txn, repl, i < 0 ? t : NULL, action, id, fields, err);
    myfree(repl);
    return res;
}

enum store_result store_tenant_put(const struct conf *conf, const struct tenant *base,
                                   const struct tenant *t, const char *fields, struct conf_error *err)
{
    struct store_txn *txn = store_txn_begin(conf, t->id, t->domains, t->addresses, err);
    const struct tenant_store *view;
    const struct tenant *cur, *o;
    enum store_result res = STORE_ERROR;

    if (txn == NULL)
        return STORE_ERROR;
    view = store_txn_view(txn);
    cur = tenant_store_find(view, t->id);
    if (!store_tenant_same(base, cur)) {
        tenant_errorf(err, "tenant %s %s since it was read", t->id,
                      cur == NULL ? "was removed" : base == NULL ? "was created" : "changed");
        res = STORE_RACE;
        goto out;
    }
    for (char **p = t->domains; p && *p; p++) {
        if ((o = tenant_store_find_by_domain(view, *p)) != NULL && strcmp(o->id, t->id) != 0) {
            tenant_errorf(err, "domain %s already belongs to tenant %s", *p, o->id);
            res = STORE_CONFLICT;
            goto out;
        }
    }
    for (char **p = t->addresses; p && *p; p++) {
        if ((o = tenant_store_find_by_address(view, *p)) != NULL && strcmp(o->id, t->id) != 0) {
            tenant_errorf(err, "address %s already belongs to tenant %s", *p, o->id);
            res = STORE_CONFLICT;
            goto out;
        }
    }
    res = commit_one(txn, cur ? index_of(view, t->id) : -1, t, "set", t->id, fields, err);
out:
    store_txn_end(txn);
    return res;
}

enum store_result store_tenant_remove(const struct conf *conf, const char *id, struct conf_error *err)
{
    struct store_txn *txn = store_txn_begin(conf, id, NULL, NULL, err);
    enum store_result res;
    long i;

    if (txn == NULL)
        return STORE_ERROR;
    if ((i = index_of(store_txn_view(txn), id)) < 0) {
        tenant_errorf(err, "no tenant \"%s\"", id);
        res = STORE_NOT_FOUND;
    } else {
        res = commit_one(txn, i, NULL, "remove", id, "*", err);
    }
    store_txn_end(txn);
    return res;
}

enum store_result store_tenant_set_enabled(const struct conf *conf, const char *id, bool on,
                                           bool *changed, struct conf_error *err)
{
    struct store_txn *txn = store_txn_begin(conf, id, NULL, NULL, err);
    struct tenant t;
    enum store_result res = STORE_OK;
    long i;

    *changed = false;
    if (txn == NULL)
        return STORE_ERROR;
    memset(&t, 0, sizeof(t));
    if ((i = index_of(store_txn_view(txn), id)) < 0) {
        tenant_errorf(err, "no tenant \"%s\"", id);
        res = STORE_NOT_FOUND;
    } else if (tenant_store_at(store_txn_view(txn), (size_t)i)->enabled != on) {
        tenant_copy(&t, tenant_store_at(store_txn_view(txn), (size_t)i));
        t.enabled = on;
        t.updated = time(NULL);
        res = commit_one(txn, i, &t, on ? "enable" : "disable", id, "enabled", err);
        *changed = res == STORE_OK;
    }
    if (t.id)
        tenant_free_fields(&t);
    store_txn_end(txn);
    return res;
}
