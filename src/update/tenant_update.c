/*
 * tenant_update.c - `tenant set` as a library (see tenant_update.h): the
 * merge, the checks, the route policy, the probe without the lock, the
 * save under it, and remove/enable/disable.  Shared by tenantrelayctl and
 * the HTTP API.
 */
#include "config.h"

#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "tenantrelay/dbuf.h"
#include "tenantrelay/errstr.h"
#include "tenantrelay/mailaddr.h"
#include "tenantrelay/route_policy.h"
#include "tenantrelay/store.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/str.h"
#include "tenantrelay/tenant_update.h"
#include "tenantrelay/tenant_write.h"
#include "update_int.h"

static int fail(struct tenant_update_result *res, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct tenant_update_result *res, int status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    errstr_vset(res->error, sizeof(res->error), fmt, ap);
    va_end(ap);
    return res->status = status;
}

static int status_for_errno(int e)
{
    return e == EACCES || e == EPERM ? EX_NOPERM : e == ENOENT || e == ENOTDIR ? EX_CANTCREAT : EX_IOERR;
}

void tenant_update_init(struct tenant_update *u)
{
    memset(u, 0, sizeof(*u));
    u->port = u->max_connections = u->rate_limit = -1;
    u->tls = u->tls_verify = -1;
}

void tenant_update_result_free(struct tenant_update_result *res)
{
    if (res->probe_ran)
        probe_report_free(&res->rep);
    res->probe_ran = false;
}

static bool strings_equal(char *const *a, char *const *b)
{
    size_t i = 0;

    for (; a && b && a[i] && b[i]; i++)
        if (strcmp(a[i], b[i]) != 0)
            return false;
    return (a == NULL || a[i] == NULL) && (b == NULL || b[i] == NULL);
}

static char **strings_dup(char *const *v)
{
    size_t n = 0;
    char **d;

    while (v[n])
        n++;
    d = mycalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        d[i] = mystrdup(v[i]);
    return d;
}

void tenant_update_set_string(char **dst, const char *val, const char *name, struct dbuf *changed)
{
    const char *v = val && *val ? val : NULL;   /* "" clears an optional field */

    if (val == NULL)            /* not given: keeps its value */
        return;
    if ((*dst == NULL && v == NULL) || (*dst && v && strcmp(*dst, v) == 0))
        return;
    myfree(*dst);
    *dst = mystrdup_or_null(v);
    dbuf_append_list(changed, name);
}


/* Lower-case, check and de-duplicate a list of domains or addresses. */
static int check_names(char **v, bool addresses, struct tenant_update_result *res)
{
    for (int i = 0; v && v[i]; i++) {
        for (char *p = v[i]; *p; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        if (addresses ? !mailaddr_is_valid(v[i], true) : !mailaddr_is_hostname(v[i]))
            return fail(res, EX_DATAERR, "--%s: \"%s\" is not a valid %s", addresses ? "address" : "domain",
                        v[i], addresses ? "address" : "domain");
        for (int j = 0; j < i; j++)
            if (strcmp(v[i], v[j]) == 0)
                return fail(res, EX_DATAERR, "--%s \"%s\" given twice", addresses ? "address" : "domain", v[i]);
    }
    return 0;
}

/* tenantrelayctl's flag for a route key. */
static const char *flag_of(const char *key)
{
    static const struct { const char *key, *flag; } flags[] = {
        { "host", "--host" }, { "port", "--port" }, { "tls", "--tls" }, { "username", "--username" },
        { "sender", "--sender" }, { "ca_file", "--ca-file" }, { "max_connections", "--max-connections" },
        { "rate_limit", "--rate-limit" },
    };

    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
        if (strcmp(flags[i].key, key) == 0)
            return flags[i].flag;
    return key;
}

/* The route's problem (route_check()) in tenantrelayctl's words: a flag
 * missing is a usage error (64), a value refused bad data (65). */
static int route_fail(const struct route_problem *p, struct tenant_update_result *res)
{
    switch (p->rule) {
    case ROUTE_RULE_REQUIRED:
        return fail(res, EX_USAGE, "a new tenant needs %s", flag_of(p->key));
    case ROUTE_RULE_LOGIN_PAIR:
        return fail(res, EX_USAGE, strcmp(p->key, "password") == 0
                    ? "--username needs a password (--password-stdin or --password-file)"
                    : "a password needs --username");
    case ROUTE_RULE_OAUTH:
        return fail(res, EX_USAGE, "%s", p->reason);
    case ROUTE_RULE_TLS_NONE_INSECURE:
        return fail(res, EX_DATAERR, "--tls none needs --insecure-plaintext (test upstreams only; the audit flags it)");
    case ROUTE_RULE_TLS_NONE_LOGIN:
        return fail(res, EX_DATAERR, "--tls none cannot carry a username and password (AUTH is never sent in plaintext)");
    default:
        return fail(res, p->cls == ROUTE_MISSING ? EX_USAGE : EX_DATAERR, "%s: %s", flag_of(p->key), p->reason);
    }
}

/* The rules the loader enforces, checked before anything is written, so a
 * `set` can never produce a store the daemon refuses: the route's
 * (route_check()), then the claims against the other tenants. */
static int check_record(const struct tenant *t, const struct tenant_store *store,
                        struct tenant_update_result *res)
{
    struct route_problem problem;

    if (route_check(&t->route, true, &problem) < 0)
        return route_fail(&problem, res);
    for (char **p = t->domains; *p; p++) {
        const struct tenant *o = tenant_store_find_by_domain(store, *p);

        if (o && strcmp(o->id, t->id) != 0)
            return fail(res, EX_DATAERR, "domain %s already belongs to tenant %s", *p, o->id);
    }
    for (char **p = t->addresses; *p; p++) {
        const struct tenant *o = tenant_store_find_by_address(store, *p);

        if (o && strcmp(o->id, t->id) != 0)
            return fail(res, EX_DATAERR, "address %s already belongs to tenant %s", *p, o->id);
    }
    return 0;
}

/* ---- The store (store.h, either backend): every call to it is below. ---- */

/* The store's part that matters to this change, read under the store's
 * write lock (store_txn_begin(): for the file store only the files that
 * can matter).  The transaction is kept (*txn) when keep is set, else it
 * ends at once (no lock while a probe runs); the view is then a copy. */
static const struct tenant_store *begin_locked(const struct conf *conf, const char *id, char *const *domains,
                                               char *const *addresses, struct store_txn **txn,
                                               struct tenant_update_result *res)
{
    struct conf_error cerr = { "" };

    errno = 0;
    if ((*txn = store_txn_begin(conf, id, domains, addresses, &cerr)) == NULL) {
        fail(res, strstr(cerr.text, "cannot connect") ? EX_UNAVAILABLE
             : errno == EINVAL ? EX_DATAERR : status_for_errno(errno), "tenant store: %s", cerr.text);
        res->store_error = true;
        return NULL;
    }
    return store_txn_view(*txn);
}

/* Commit repl/added (as tenant_store_rewrite()) with the change log line
 * naming user (NULL: the login user), in one store transaction. */
static int save(struct store_txn *txn, const struct tenant *const *repl, const struct tenant *added,
                const char *user, const char *action, const char *id, const char *fields,
                struct tenant_update_result *res)
{
    struct conf_error err = { "" };
    enum store_result r;

    tenant_changelog_set_user(user);
    errno = 0;
    r = store_txn_commit(txn, repl, added, action, id, fields, &err);
    tenant_changelog_set_user(NULL);
    switch (r) {
    case STORE_OK:
        return 0;
    case STORE_RACE:
        return fail(res, EX_TEMPFAIL, "tenant %s: %s: nothing saved; run the command again", id, err.text);
    case STORE_CONFLICT:
        return fail(res, EX_DATAERR, "%s", err.text);
    default:
        res->store_error = true;
        return fail(res, status_for_errno(errno) == EX_NOPERM ? EX_NOPERM : EX_IOERR, "%s", err.text);
    }
}

/* ---- end of the store calls ---- */

static size_t index_of(const struct tenant_store *store, const char *id)
{
    for (size_t i = 0; i < tenant_store_count(store); i++)
        if (strcmp(tenant_store_at(store, i)->id, id) == 0)
            return i;
    return (size_t)-1;
}

/* Merge u over base (NULL: a new tenant) into t (zeroed), naming each
 * changed field in changed; token: this request's secret, sealed. */
static void merge_record(struct tenant *t, const struct tenant *base, const struct tenant_update *u,
                         const char *token, struct dbuf *changed)
{
    enum route_tls tls;

    if (base) {
        tenant_copy(t, base);
    } else {
        route_init(&t->route);
        t->id = mystrdup(u->id);
        t->enabled = true;
        t->created = time(NULL);
        t->domains = mycalloc(1, sizeof(char *));
        t->addresses = mycalloc(1, sizeof(char *));
        dbuf_append_list(changed, "id");
    }
    tenant_update_set_string(&t->route.host, u->host, "host", changed);
    if (u->port > 0 && u->port != t->route.port) {
        t->route.port = (int)u->port;
        dbuf_append_list(changed, "port");
    }
    /* TLS mode: given, or by port when the port is given or new. */
    tls = t->route.tls;
    if (u->tls >= 0)
        tls = (enum route_tls)u->tls;
    else if (u->port > 0 || !base)
        tls = route_tls_for_port(t->route.port);
    if (tls != t->route.tls || !base) {
        t->route.tls = tls;
        dbuf_append_list(changed, "tls");
    }
    if (u->insecure_plaintext && !t->route.insecure_plaintext) {
        t->route.insecure_plaintext = true;
        dbuf_append_list(changed, "insecure_plaintext");
    }
    tenant_update_set_string(&t->route.username, u->username, "username", changed);
    tenant_update_set_string(&t->route.sender, u->sender, "sender", changed);
    tenant_update_set_string(&t->route.ca_file, u->ca_file, "ca_file", changed);
    if (u->tls_verify >= 0 && (bool)u->tls_verify != t->route.tls_verify) {
        t->route.tls_verify = u->tls_verify;
        dbuf_append_list(changed, "tls_verify");
    }
    if (u->max_connections > 0 && u->max_connections != t->route.max_connections) {
        t->route.max_connections = (int)u->max_connections;
        dbuf_append_list(changed, "max_connections");
    }
    if (u->rate_limit >= 0 && u->rate_limit != t->route.rate_limit) {
        t->route.rate_limit = (int)u->rate_limit;
        dbuf_append_list(changed, "rate_limit");
    }
    if (u->domains && !strings_equal(u->domains, t->domains)) {
        conf_free_strings(t->domains);
        t->domains = strings_dup(u->domains);
        dbuf_append_list(changed, "domains");
    }
    if (u->addresses && !strings_equal(u->addresses, t->addresses)) {
        conf_free_strings(t->addresses);
        t->addresses = strings_dup(u->addresses);
        dbuf_append_list(changed, "addresses");
    }
    if (u->username && !*u->username && t->route.password) {
        myfree(t->route.password);      /* username "": no AUTH any more */
        t->route.password = NULL;
        dbuf_append_list(changed, "password");
    }
    if (token) {
        myfree(t->route.password);
        t->route.password = mystrdup(token);
        dbuf_append_list(changed, "password");
    }
}

/* The record the update would save given store: u merged over the stored
 * record, the secret sealed afresh.  0 or a status; t is the caller's. */
static int build_record(const struct conf *conf, const struct vault *vault, const struct tenant_update *u,
                        const struct tenant_store *store, struct tenant *t, struct dbuf *changed,
                        bool *existed, struct tenant_update_result *res)
{
    const struct tenant *old = tenant_store_find(store, u->id);
    char *token = NULL, err[512];

    *existed = old != NULL;
    if (u->secret) {
        /* No keyring given: the configured one as it is now (a key rotated
         * while the probe ran is the one the save seals with). */
        struct vault *own = vault ? NULL
                            : vault_load(conf->key_file, conf->key_credential, conf->user, err, sizeof(err));
        int rc;

        if (vault == NULL && own == NULL)
            return fail(res, EX_CONFIG, "%s", err);
        rc = vault_seal(vault ? vault : own, u->id, "password", u->secret, u->secret_len, &token, err, sizeof(err));
        vault_free(own);
        if (rc < 0)
            return fail(res, EX_DATAERR, "%s", err);
    }
    merge_record(t, old, u, token, changed);
    myfree(token);
    if (u->merge_extra) {
        char xerr[512] = "";
        int st = u->merge_extra(u->id, &t->route, changed, xerr, sizeof(xerr), u->extra_arg);

        if (st != 0)
            return fail(res, st, "%s", xerr);   /* "": the callback said why */
    }
    return 0;
}

/* Whether two password tokens of tenant id hold the same secret (`key
 * rotate` re-seals every token without changing any secret). */
static bool same_secret(const struct conf *conf, const char *id, const char *x, const char *y)
{
    struct vault *v;
    unsigned char *px = NULL, *py = NULL;
    size_t lx = 0, ly = 0;
    char err[512];
    bool same = false;

    if (str_same(x, y))
        return true;
    if (x == NULL || y == NULL
        || (v = vault_load(conf->key_file, conf->key_credential, conf->user, err, sizeof(err))) == NULL)
        return false;
    if (vault_open(v, id, "password", x, &px, &lx, err, sizeof(err)) == VAULT_OK
        && vault_open(v, id, "password", y, &py, &ly, err, sizeof(err)) == VAULT_OK)
        same = lx == ly && sodium_memcmp(px, py, lx) == 0;
    vault_plain_free(px, lx);
    vault_plain_free(py, ly);
    vault_free(v);
    return same;
}

/* Name in diff every route field the probe used whose value differs
 * between what was probed and what would be saved now. */
static void probed_diff(const struct conf *conf, const struct tenant_update *u, const struct tenant *probed,
                        const struct tenant *now, bool own_secret, struct dbuf *diff)
{
    const struct route *p = &probed->route, *n = &now->route;

    if (!str_same(p->host, n->host))
        dbuf_append_list(diff, "host");
    if (p->port != n->port)
        dbuf_append_list(diff, "port");
    if (p->tls != n->tls)
        dbuf_append_list(diff, "tls");
    if (p->insecure_plaintext != n->insecure_plaintext)
        dbuf_append_list(diff, "insecure_plaintext");
    if (!str_same(p->username, n->username))
        dbuf_append_list(diff, "username");
    if (!own_secret && !same_secret(conf, now->id, p->password, n->password))
        dbuf_append_list(diff, "password");
    if (!str_same(p->sender, n->sender))
        dbuf_append_list(diff, "sender");
    if (!str_same(p->ca_file, n->ca_file))
        dbuf_append_list(diff, "ca_file");
    if (p->tls_verify != n->tls_verify)
        dbuf_append_list(diff, "tls_verify");
    if (!str_same(p->bind_address, n->bind_address))
        dbuf_append_list(diff, "bind_address");
    if (u->extra_differs && u->extra_differs(p, n))
        dbuf_append_list(diff, "oauth");
}

/*
 * The probe can take as long as its timeout against a slow server, so it
 * runs without the store's lock: read (under the lock, briefly), merge,
 * check, probe; then lock, read again, merge again and save.  What is saved
 * must be what was probed: if the tenant appeared or went, or a route field
 * the probe used now differs, nothing is saved (75).  Fields this update
 * sets win over a change made meanwhile; fields it does not set keep it.
 */
int tenant_update_apply(const struct conf *conf, const struct vault *vault, struct tenant_update *u,
                        void (*probe_cb)(const struct probe_report *rep, void *arg), void *arg,
                        struct tenant_update_result *res)
{
    struct store_txn *txn = NULL;
    const struct tenant_store *store = NULL;
    struct tenant t, probed;
    const struct tenant **repl = NULL;
    struct dbuf changed = DBUF_INIT, diff = DBUF_INIT;
    size_t n, idx;
    bool existed = false, probed_existed = false, passed = false;

    memset(res, 0, sizeof(*res));
    memset(&t, 0, sizeof(t));
    memset(&probed, 0, sizeof(probed));
    if (!tenant_id_is_valid(u->id)) {
        fail(res, EX_DATAERR, strcmp(u->id, CONF_RESERVED_TENANT) == 0
             ? "tenant id \"%s\" is reserved for the default route"
             : "tenant id \"%s\" must match [a-z0-9][a-z0-9._-]{0,63}", u->id);
        goto out;
    }
    if (check_names(u->domains, false, res) != 0 || check_names(u->addresses, true, res) != 0)
        goto out;

    /* 0. The route policy before anything else, tested or not (the probe
     * and delivery check again at every connection). */
    if (u->host || u->port > 0) {
        char why[512];

        if ((store = begin_locked(conf, u->id, u->domains, u->addresses, &txn, res)) == NULL)
            goto out;
        merge_record(&probed, tenant_store_find(store, u->id), u, NULL, &changed);
        store_txn_end(txn);
        txn = NULL;
        store = NULL;
        dbuf_reset(&changed);
        if (probed.route.host && route_policy_check_host(&conf->tenant_route_policy, probed.route.host,
                                                         probed.route.port, why, sizeof(why)) < 0) {
            fail(res, EX_DATAERR, "tenant %s: route_policy: %s: nothing saved", u->id, why);
            goto out;
        }
        tenant_free_fields(&probed);
        memset(&probed, 0, sizeof(probed));
    }

    /* 1. The probe, with no lock held while it runs. */
    if (!u->no_test) {
        if ((store = begin_locked(conf, u->id, u->domains, u->addresses, &txn, res)) == NULL)
            goto out;
        if (build_record(conf, vault, u, store, &probed, &changed, &probed_existed, res) != 0
            || check_record(&probed, store, res) != 0)
            goto out;
        store_txn_end(txn);     /* no lock while the probe runs */
        txn = NULL;
        store = NULL;
        if (probed_existed && changed.len == 0) {
            res->existed = true;
            goto out;
        }
        res->probe_ran = true;
        passed = probe_run_tenant_cb(conf, &probed, u->to ? u->to : probed.route.sender, 0, false, u->on_step,
                                     u->on_step_arg, &res->rep) == 0;
        if (probe_cb)
            probe_cb(&res->rep, arg);
        if (!passed && res->rep.code && strcmp(res->rep.code, "route_policy") == 0) {
            fail(res, EX_DATAERR, "tenant %s: the route policy refused the destination (see the connect "
                 "step): nothing saved", probed.id);
            goto out;
        }
        if (!passed) {
            fail(res, 1, "tenant %s: the connectivity test failed (%s): nothing saved", probed.id,
                 res->rep.code ? res->rep.code : "failed");
            goto out;
        }
        dbuf_reset(&changed);
    }

    /* 2. Under the lock: the store as it is now, the same merge, the save. */
    if ((store = begin_locked(conf, u->id, u->domains, u->addresses, &txn, res)) == NULL)
        goto out;
    if (passed && !probed_existed && tenant_store_find(store, u->id)) {
        fail(res, EX_TEMPFAIL, "tenant %s was created by another command while the connectivity "
             "test ran: nothing saved; run the command again", u->id);
        goto out;
    }
    if (passed && probed_existed && !tenant_store_find(store, u->id)) {
        fail(res, EX_TEMPFAIL, "tenant %s was removed while the connectivity test ran: nothing saved", u->id);
        goto out;
    }
    if (build_record(conf, vault, u, store, &t, &changed, &existed, res) != 0)
        goto out;
    res->existed = existed;
    if (passed) {
        probed_diff(conf, u, &probed, &t, u->secret != NULL, &diff);
        if (diff.len) {
            fail(res, EX_TEMPFAIL, "tenant %s changed while the connectivity test ran (%s now "
                 "differ from what was tested): nothing saved; run the command again to "
                 "test the new combination", t.id, dbuf_str(&diff));
            goto out;
        }
    }
    if (check_record(&t, store, res) != 0)
        goto out;
    if (existed && changed.len == 0)
        goto out;
    t.verified = passed ? time(NULL) : 0;
    t.updated = time(NULL);

    n = tenant_store_count(store);
    repl = mycalloc(n + 1, sizeof(*repl));
    for (size_t i = 0; i < n; i++)
        repl[i] = tenant_store_at(store, i);
    idx = existed ? index_of(store, t.id) : (size_t)-1;
    if (idx != (size_t)-1)
        repl[idx] = &t;
    if (save(txn, repl, existed ? NULL : &t, u->user, "set", t.id, dbuf_str(&changed), res) != 0)
        goto out;
    res->changed = true;
    snprintf(res->fields, sizeof(res->fields), "%s", dbuf_str(&changed));
out:
    if (t.id)
        tenant_free_fields(&t);
    if (probed.id)
        tenant_free_fields(&probed);
    myfree(repl);
    dbuf_free(&changed);
    dbuf_free(&diff);
    store_txn_end(txn);
    return res->status;
}

int tenant_update_change(const struct conf *conf, const char *action, const char *id, const char *user,
                         bool *noop, char *err, size_t errlen)
{
    struct conf_error cerr = { "" };
    enum store_result r;
    bool removing = strcmp(action, "remove") == 0, changed = true;
    int status = 0;

    *noop = false;
    tenant_changelog_set_user(user);
    errno = 0;
    r = removing ? store_tenant_remove(conf, id, &cerr)
                 : store_tenant_set_enabled(conf, id, strcmp(action, "enable") == 0, &changed, &cerr);
    tenant_changelog_set_user(NULL);
    switch (r) {
    case STORE_OK:
        *noop = !changed;
        break;
    case STORE_NOT_FOUND:
        status = EX_DATAERR;
        break;
    case STORE_RACE:
        status = EX_TEMPFAIL;
        break;
    default:
        status = strstr(cerr.text, "cannot connect") ? EX_UNAVAILABLE : errno == EINVAL ? EX_DATAERR
                 : status_for_errno(errno) == EX_NOPERM ? EX_NOPERM : EX_IOERR;
        break;
    }
    snprintf(err, errlen, "%s%s", r == STORE_NOT_FOUND || r == STORE_OK ? "" : "tenant store: ", cerr.text);
    return status;
}
