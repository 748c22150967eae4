/*
 * ctl_tenant.c - tenantrelayctl tenant set | show | list | remove |
 * enable | disable.
 *
 * Every change is one store transaction (store.h, either backend): lock,
 * read what the change needs, build the new record, check it (syntax,
 * claims of domains and addresses), save it with its change-log entry.
 * `tenant set` runs the connectivity probe first (ctl_tenant_probe():
 * nothing is saved unless it passed; --no-test saves unverified) WITHOUT
 * the lock, then saves only if the record it would save still has the route
 * that was probed (see tenant_set()).  The password comes from stdin or a
 * file, never argv, and only its sealed token is stored or shown.
 */
#include "config.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "tenantrelay/dbuf.h"
#include "tenantrelay/mailaddr.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/probe.h"
#include "tenantrelay/tenant_write.h"
#include "ctl_oauth.h"
#include "ctl_route_flags.h"
#include "ctl_vault.h"

#define SET_USAGE "usage: tenant set ID [--host H] [--port P] [--tls implicit|starttls|none] " \
    "[--username U] [--password-stdin | --password-file F] [--sender ADDR] [--domain D]... " \
    "[--address A]... [--ca-file F] [--no-tls-verify | --tls-verify] [--insecure-plaintext] " \
    "[--max-connections N] [--rate-limit N] [--to ADDR] [--no-test] [--auth password|xoauth2] " \
    "[--oauth-provider microsoft|google|generic] [--oauth-directory ID] [--oauth-token-url URL] " \
    "[--oauth-client-id ID] [--oauth-secret-stdin | --oauth-secret-file F | --oauth-key-file F " \
    "[--oauth-cert-file F [--oauth-assertion-alg PS256|RS256]]] [--oauth-scope S]"

/* What `tenant set` was asked to change; NULL / -1: not given.  The route
 * flags (in r) are parsed as `test --host` parses them. */
struct set_args {
    const char *id;
    struct ctl_route_flags r;
    int tls_mode;               /* enum route_tls of r.tls, when given */
    bool no_test;
    long max_connections, rate_limit;
    char **domains, **addresses;        /* NULL-terminated when given */
    int ndomains, naddresses;
};

enum probe_result { PROBE_NOT_RUN, PROBE_PASSED, PROBE_FAILED };

/* The connectivity test of SPEC §6 (login + test message to `to`) against
 * the merged, not yet saved record: its steps and, on failure, the hint go
 * to stdout; why gets the failure's code. */
static enum probe_result ctl_tenant_probe(const struct conf *conf, const struct tenant *t,
                                          const char *to, char *why, size_t len)
{
    struct probe_report rep;
    int rc;

    rc = probe_run_tenant(conf, t, to, 0, false, &rep);
    probe_report_print(stdout, &rep);
    fflush(stdout);
    snprintf(why, len, "%s", rc == 0 ? "passed" : rep.code);
    probe_report_free(&rep);
    return rc == 0 ? PROBE_PASSED : PROBE_FAILED;
}

static void push(char ***v, int *n, const char *s)
{
    *v = myrealloc(*v, (size_t)(*n + 2) * sizeof(char *));
    (*v)[(*n)++] = mystrdup(s);
    (*v)[*n] = NULL;
}

static int parse_set(int argc, char **argv, struct set_args *a)
{
    memset(a, 0, sizeof(*a));
    ctl_route_flags_init(&a->r);
    a->max_connections = a->rate_limit = -1;
    if (argc < 3 || argv[2][0] == '-')
        return ctl_fail(EX_USAGE, SET_USAGE);
    a->id = argv[2];
    for (int i = 3; i < argc; i++) {
        const char *o = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        int status = 0;

        /* Its own flags without a value first (see ctl_route_flags.h). */
        if (strcmp(o, "--no-test") == 0) {
            a->no_test = true;
            continue;
        }
        switch (ctl_route_flags_parse(&a->r, CTL_ROUTE_FLAG_TLS_VERIFY, argc, argv, &i, SET_USAGE, &status)) {
        case CTL_ROUTE_FLAG_TAKEN:
            continue;
        case CTL_ROUTE_FLAG_ERROR:
            return status;
        case CTL_ROUTE_FLAG_OTHER:
            break;
        }
        /* Its own flags with a value (val is there). */
        if (strcmp(o, "--domain") == 0) push(&a->domains, &a->ndomains, val);
        else if (strcmp(o, "--address") == 0) push(&a->addresses, &a->naddresses, val);
        else if (strcmp(o, "--max-connections") == 0) {
            if (ctl_parse_long(val, 1, 1000, &a->max_connections) < 0)
                return ctl_fail(EX_USAGE, "--max-connections: \"%s\" is not in 1..1000", val);
        } else if (strcmp(o, "--rate-limit") == 0) {
            if (ctl_parse_long(val, 0, 1000000, &a->rate_limit) < 0)
                return ctl_fail(EX_USAGE, "--rate-limit: \"%s\" is not in 0..1000000", val);
        } else
            return ctl_fail(EX_USAGE, "unknown option \"%s\"\n%s", o, SET_USAGE);
        i++;
    }
    if (ctl_route_flags_check_password(&a->r) != 0)
        return EX_USAGE;
    return ctl_oauth_flags_check(&a->r);
}

static void add_field(struct dbuf *f, const char *name)
{
    if (f->len)
        dbuf_append_char(f, ',');
    dbuf_append_str(f, name);
}

static bool strings_equal(char *const *a, char *const *b)
{
    size_t i = 0;

    for (; a && b && a[i] && b[i]; i++)
        if (strcmp(a[i], b[i]) != 0)
            return false;
    return (a == NULL || a[i] == NULL) && (b == NULL || b[i] == NULL);
}

static void set_string(char **dst, const char *val, const char *name, struct dbuf *changed)
{
    const char *v = val && *val ? val : NULL;   /* "" clears an optional field */

    if (val == NULL)            /* not given: keeps its value */
        return;
    if ((*dst == NULL && v == NULL) || (*dst && v && strcmp(*dst, v) == 0))
        return;
    myfree(*dst);
    *dst = mystrdup_or_null(v);
    add_field(changed, name);
}

/* Lower-case, check and de-duplicate a list of domains or addresses. */
static int check_names(char **v, bool addresses)
{
    for (int i = 0; v && v[i]; i++) {
        for (char *p = v[i]; *p; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        if (addresses ? !mailaddr_is_valid(v[i], true) : !mailaddr_is_hostname(v[i]))
            return ctl_fail(EX_DATAERR, "--%s: \"%s\" is not a valid %s", addresses ? "address" : "domain",
                            v[i], addresses ? "address" : "domain");
        for (int j = 0; j < i; j++)
            if (strcmp(v[i], v[j]) == 0)
                return ctl_fail(EX_DATAERR, "--%s \"%s\" given twice", addresses ? "address" : "domain", v[i]);
    }
    return 0;
}

/* The rules the loader enforces, checked before anything is written, so a
 * `set` can never produce a store the daemon refuses. */
static int check_record(const struct tenant *t, const struct tenant_store *store)
{
    const struct route *r = &t->route;

    if (r->host == NULL)
        return ctl_fail(EX_USAGE, "a new tenant needs --host");
    if (r->sender == NULL)
        return ctl_fail(EX_USAGE, "a new tenant needs --sender");
    if (!mailaddr_is_hostname(r->host) && strchr(r->host, ':') == NULL)
        return ctl_fail(EX_DATAERR, "--host: \"%s\" is not a host name", r->host);
    if (!mailaddr_is_valid(r->sender, false))
        return ctl_fail(EX_DATAERR, "--sender: \"%s\" is not a valid address", r->sender);
    if (r->auth == ROUTE_AUTH_PASSWORD && (r->username == NULL) != (r->password == NULL))
        return ctl_fail(EX_USAGE, r->username ? "--username needs a password (--password-stdin or --password-file)"
                                              : "a password needs --username");
    {
        char err[512];

        if (route_oauth_validate(r, err, sizeof(err)) < 0)
            return ctl_fail(EX_USAGE, "%s", err);
    }
    if (r->tls == ROUTE_TLS_NONE && !r->insecure_plaintext)
        return ctl_fail(EX_DATAERR, "--tls none needs --insecure-plaintext (test upstreams only; the audit flags it)");
    if (r->tls == ROUTE_TLS_NONE && r->username)
        return ctl_fail(EX_DATAERR, "--tls none cannot carry a username and password (AUTH is never sent in plaintext)");
    for (char *s = r->username; s && *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return ctl_fail(EX_DATAERR, "--username: control characters are not allowed");
    for (char **p = t->domains; *p; p++) {
        const struct tenant *o = tenant_store_find_by_domain(store, *p);

        if (o && strcmp(o->id, t->id) != 0)
            return ctl_fail(EX_DATAERR, "domain %s already belongs to tenant %s", *p, o->id);
    }
    for (char **p = t->addresses; *p; p++) {
        const struct tenant *o = tenant_store_find_by_address(store, *p);

        if (o && strcmp(o->id, t->id) != 0)
            return ctl_fail(EX_DATAERR, "address %s already belongs to tenant %s", *p, o->id);
    }
    return 0;
}

/* Commit a store change (store.h: repl/added as tenant_store_rewrite(),
 * the change log, for PostgreSQL the version bump and the notification).
 * A lost race exits 75 with nothing saved. */
static int save(struct store_txn *txn, const struct tenant *const *repl, const struct tenant *added,
                const char *action, const char *id, const char *fields)
{
    struct conf_error err = { "" };

    switch (store_txn_commit(txn, repl, added, action, id, fields, &err)) {
    case STORE_OK:
        return 0;
    case STORE_RACE:
        return ctl_fail(EX_TEMPFAIL, "tenant %s: %s: nothing saved; run the command again", id, err.text);
    default:
        return ctl_fail(ctl_status_for_errno(errno) == EX_NOPERM ? EX_NOPERM : EX_IOERR, "%s", err.text);
    }
}

/* The index of id in the store, or (size_t)-1. */
static size_t index_of(const struct tenant_store *store, const char *id)
{
    for (size_t i = 0; i < tenant_store_count(store); i++)
        if (strcmp(tenant_store_at(store, i)->id, id) == 0)
            return i;
    return (size_t)-1;
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

/* Merge the arguments over base (NULL: a new tenant) into t (zeroed),
 * naming each changed field in changed.  The password is kept, cleared by
 * --username "", or replaced by token (this command's secret, sealed) when
 * token is not NULL.  Called twice by tenant_set(): on the record read
 * before the probe, and on the record read again under the lock. */
static void merge_record(struct tenant *t, const struct tenant *base, const struct set_args *a,
                         const char *token, struct dbuf *changed)
{
    const struct ctl_route_flags *r = &a->r;
    enum route_tls tls;

    if (base) {
        tenant_copy(t, base);
    } else {
        route_init(&t->route);
        t->id = mystrdup(a->id);
        t->enabled = true;
        t->created = time(NULL);
        t->domains = mycalloc(1, sizeof(char *));
        t->addresses = mycalloc(1, sizeof(char *));
        add_field(changed, "id");
    }
    set_string(&t->route.host, r->host, "host", changed);
    if (r->port > 0 && r->port != t->route.port) {
        t->route.port = (int)r->port;
        add_field(changed, "port");
    }
    /* TLS mode: given, or by port when the port is given or new. */
    tls = t->route.tls;
    if (r->tls)
        tls = (enum route_tls)a->tls_mode;
    else if (r->port > 0 || !base)
        tls = route_tls_for_port(t->route.port);
    if (tls != t->route.tls || !base) {
        t->route.tls = tls;
        add_field(changed, "tls");
    }
    if (r->insecure_plaintext && !t->route.insecure_plaintext) {
        t->route.insecure_plaintext = true;
        add_field(changed, "insecure_plaintext");
    }
    set_string(&t->route.username, r->username, "username", changed);
    set_string(&t->route.sender, r->sender, "sender", changed);
    set_string(&t->route.ca_file, r->ca_file, "ca_file", changed);
    if (r->tls_verify >= 0 && (bool)r->tls_verify != t->route.tls_verify) {
        t->route.tls_verify = r->tls_verify;
        add_field(changed, "tls_verify");
    }
    if (a->max_connections > 0 && a->max_connections != t->route.max_connections) {
        t->route.max_connections = (int)a->max_connections;
        add_field(changed, "max_connections");
    }
    if (a->rate_limit >= 0 && a->rate_limit != t->route.rate_limit) {
        t->route.rate_limit = (int)a->rate_limit;
        add_field(changed, "rate_limit");
    }
    if (a->domains && !strings_equal(a->domains, t->domains)) {
        conf_free_strings(t->domains);
        t->domains = strings_dup(a->domains);
        add_field(changed, "domains");
    }
    if (a->addresses && !strings_equal(a->addresses, t->addresses)) {
        conf_free_strings(t->addresses);
        t->addresses = strings_dup(a->addresses);
        add_field(changed, "addresses");
    }
    if (r->username && !*r->username && t->route.password) {
        myfree(t->route.password);      /* --username "": no AUTH any more */
        t->route.password = NULL;
        add_field(changed, "password");
    }
    if (token) {
        myfree(t->route.password);
        t->route.password = mystrdup(token);
        add_field(changed, "password");
    }
}

/* Seal this command's secret for tenant id under the keyring's current
 * primary key (*token: the caller's, myfree).  0 or an exit status. */
static int seal_secret(struct ctl_ctx *ctx, const char *id, const unsigned char *secret, size_t len,
                       char **token)
{
    struct vault *v;
    char err[512];
    int status = 0;

    *token = NULL;
    if ((v = ctl_vault_load(ctx, &status)) == NULL)
        return status;
    if (vault_seal(v, id, "password", secret, len, token, err, sizeof(err)) < 0)
        status = ctl_fail(EX_DATAERR, "%s", err);
    vault_free(v);
    return status;
}

/* The record tenant_set() would save given what the store holds now: the
 * arguments merged over store's record (in *t, changed fields named in
 * changed), with this command's secret sealed afresh under the keyring's
 * current primary key.  *existed: whether the store held the tenant.  0 or
 * an exit status; t is the caller's to free either way.  The caller checks
 * it with check_record(). */
static int build_record(struct ctl_ctx *ctx, const struct set_args *a, const struct tenant_store *store,
                        const unsigned char *secret, size_t secret_len, const unsigned char *osecret,
                        size_t osecret_len, struct tenant *t, struct dbuf *changed, bool *existed)
{
    const struct tenant *old = tenant_store_find(store, a->id);
    char *token = NULL;
    int status;

    *existed = old != NULL;
    if (secret && (status = seal_secret(ctx, a->id, secret, secret_len, &token)) != 0)
        return status;
    merge_record(t, old, a, token, changed);
    myfree(token);
    return ctl_oauth_apply(ctx, a->id, &t->route, &a->r, osecret, osecret_len, changed);
}

/* The store's part that matters to this change, read under the store's
 * write lock (store_txn_begin(): for the file store only the files that
 * can matter, so one update stays fast at 100,000 tenants while claims are
 * still checked against every record).  The transaction holds the lock
 * until store_txn_end(). */
static struct store_txn *begin_locked(const struct conf *conf, const struct set_args *a, int *status)
{
    struct conf_error cerr = { "" };
    struct store_txn *txn;

    if ((txn = store_txn_begin(conf, a->id, a->domains, a->addresses, &cerr)) == NULL)
        *status = ctl_fail(strstr(cerr.text, "cannot connect") ? EX_UNAVAILABLE
                           : errno == EINVAL ? EX_DATAERR : ctl_status_for_errno(errno),
                           "tenant store: %s", cerr.text);
    return txn;
}

static bool str_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Whether two password tokens of tenant id hold the same secret: the same
 * token, or two that both open to the same plaintext (`key rotate`
 * re-seals every token under a new key without changing any secret). */
static bool same_secret(struct ctl_ctx *ctx, const char *id, const char *x, const char *y)
{
    struct vault *v;
    unsigned char *px = NULL, *py = NULL;
    size_t lx = 0, ly = 0;
    char err[512];
    bool same = false;

    if (str_eq(x, y))
        return true;
    if (x == NULL || y == NULL || (v = vault_load(ctl_conf(ctx), err, sizeof(err))) == NULL)
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
 * between what was probed and what would be saved now.  own_secret: both
 * passwords are this command's secret, each sealed by it. */
static void probed_diff(struct ctl_ctx *ctx, const struct tenant *probed, const struct tenant *now,
                        bool own_secret, struct dbuf *diff)
{
    const struct route *p = &probed->route, *n = &now->route;

    if (!str_eq(p->host, n->host))
        add_field(diff, "host");
    if (p->port != n->port)
        add_field(diff, "port");
    if (p->tls != n->tls)
        add_field(diff, "tls");
    if (p->insecure_plaintext != n->insecure_plaintext)
        add_field(diff, "insecure_plaintext");
    if (!str_eq(p->username, n->username))
        add_field(diff, "username");
    if (!own_secret && !same_secret(ctx, now->id, p->password, n->password))
        add_field(diff, "password");
    if (!str_eq(p->sender, n->sender))
        add_field(diff, "sender");
    if (!str_eq(p->ca_file, n->ca_file))
        add_field(diff, "ca_file");
    if (p->tls_verify != n->tls_verify)
        add_field(diff, "tls_verify");
    if (!str_eq(p->bind_address, n->bind_address))
        add_field(diff, "bind_address");
    if (ctl_oauth_settings_differ(p, n))
        add_field(diff, "oauth");
}

/*
 * The connectivity test can take as long as the probe's timeout against a
 * slow server, so it runs without the store's lock (which every other
 * writer needs): read the record (under the lock, briefly), merge, check,
 * probe; then lock, read again, merge the same arguments again and save.
 * What is saved must be what was probed: if the tenant appeared or went,
 * or a route field the probe used now differs (another writer changed one
 * this command did not set), nothing is saved and the command exits 75
 * (EX_TEMPFAIL: run it again, it will test the new combination).  Fields
 * this command sets win over a change made meanwhile (last writer wins),
 * and fields it does not set keep that change (no lost update).  With
 * --no-test nothing is probed, so there is nothing to go stale: one pass
 * under the lock, as before.
 */
static int tenant_set(struct ctl_ctx *ctx, int argc, char **argv)
{
    struct conf *conf = ctl_conf(ctx);
    struct set_args a;
    struct store_txn *txn = NULL;
    const struct tenant_store *store = NULL;
    struct tenant t, probed;
    const struct tenant **repl = NULL;
    struct dbuf changed = DBUF_INIT, diff = DBUF_INIT;
    unsigned char *secret = NULL, *osecret = NULL;
    size_t secret_len = 0, osecret_len = 0, n, idx;
    char why[256];
    int status;
    bool existed = false, probed_existed = false;
    enum probe_result probe = PROBE_NOT_RUN;

    memset(&t, 0, sizeof(t));
    memset(&probed, 0, sizeof(probed));
    if ((status = parse_set(argc, argv, &a)) != 0)
        goto out;
    if (conf == NULL) {
        status = EX_CONFIG;
        goto out;
    }
    if (!tenant_id_is_valid(a.id)) {
        status = ctl_fail(EX_DATAERR, strcmp(a.id, CONF_RESERVED_TENANT) == 0
                          ? "tenant id \"%s\" is reserved for the default route"
                          : "tenant id \"%s\" must match [a-z0-9][a-z0-9._-]{0,63}", a.id);
        goto out;
    }
    if ((status = check_names(a.domains, false)) != 0 || (status = check_names(a.addresses, true)) != 0)
        goto out;
    if (a.r.tls && (status = ctl_route_flags_tls(a.r.tls, false, &a.tls_mode)) != 0)
        goto out;
    /* The secret first, before any lock is held (a human may be typing). */
    if ((a.r.password_stdin || a.r.password_file)
        && (status = ctl_secret_read(a.r.password_file, &secret, &secret_len)) != 0)
        goto out;
    if ((status = ctl_oauth_secret_read(&a.r, &osecret, &osecret_len)) != 0)
        goto out;

    /* The route policy before anything else, --no-test or not (the probe
     * and delivery check again at every connection). */
    if (a.r.host || a.r.port > 0) {
        if ((txn = begin_locked(conf, &a, &status)) == NULL)
            goto out;
        merge_record(&probed, tenant_store_find(store_txn_view(txn), a.id), &a, NULL, &changed);
        store_txn_end(txn);
        txn = NULL;
        dbuf_reset(&changed);
        if (probed.route.host && route_policy_check_host(&conf->tenant_route_policy, probed.route.host,
                                                         probed.route.port, why, sizeof(why)) < 0) {
            status = ctl_fail(EX_DATAERR, "tenant %s: route_policy: %s: nothing saved", a.id, why);
            goto out;
        }
        tenant_free_fields(&probed);
        memset(&probed, 0, sizeof(probed));
    }

    /* 1. The probe, with no lock held while it runs. */
    if (a.no_test) {
        snprintf(why, sizeof(why), "--no-test was given");
    } else {
        if ((txn = begin_locked(conf, &a, &status)) == NULL)
            goto out;
        store = store_txn_view(txn);
        if ((status = build_record(ctx, &a, store, secret, secret_len, osecret, osecret_len, &probed,
                                   &changed, &probed_existed)) != 0
            || (status = check_record(&probed, store)) != 0)
            goto out;
        store_txn_end(txn);     /* no lock while the probe runs */
        txn = NULL;
        store = NULL;
        if (probed_existed && changed.len == 0) {
            printf("tenant %s: nothing changed\n", probed.id);
            goto out;
        }
        probe = ctl_tenant_probe(conf, &probed, a.r.to ? a.r.to : probed.route.sender, why, sizeof(why));
        if (probe == PROBE_FAILED && strcmp(why, "route_policy") == 0) {
            status = ctl_fail(EX_DATAERR, "tenant %s: the route policy refused the destination (see "
                              "the connect step): nothing saved", probed.id);
            goto out;
        }
        if (probe == PROBE_FAILED) {
            status = ctl_fail(1, "tenant %s: the connectivity test failed (%s): nothing saved", probed.id, why);
            goto out;
        }
        dbuf_reset(&changed);
    }

    /* 2. Under the lock: the store as it is now, the same merge, the save. */
    if ((txn = begin_locked(conf, &a, &status)) == NULL)
        goto out;
    store = store_txn_view(txn);
    if (probe == PROBE_PASSED && !probed_existed && tenant_store_find(store, a.id)) {
        status = ctl_fail(EX_TEMPFAIL, "tenant %s was created by another command while the connectivity "
                          "test ran: nothing saved; run the command again", a.id);
        goto out;
    }
    if (probe == PROBE_PASSED && probed_existed && !tenant_store_find(store, a.id)) {
        status = ctl_fail(EX_TEMPFAIL, "tenant %s was removed while the connectivity test ran: "
                          "nothing saved", a.id);
        goto out;
    }
    if ((status = build_record(ctx, &a, store, secret, secret_len, osecret, osecret_len, &t, &changed,
                               &existed)) != 0)
        goto out;
    if (probe == PROBE_PASSED) {
        probed_diff(ctx, &probed, &t, secret != NULL, &diff);
        if (diff.len) {
            status = ctl_fail(EX_TEMPFAIL, "tenant %s changed while the connectivity test ran (%s now "
                              "differ from what was tested): nothing saved; run the command again to "
                              "test the new combination", t.id, dbuf_str(&diff));
            goto out;
        }
    }
    if ((status = check_record(&t, store)) != 0)
        goto out;
    if (existed && changed.len == 0) {
        printf("tenant %s: nothing changed\n", t.id);
        goto out;
    }
    if (probe == PROBE_NOT_RUN) {
        fprintf(stderr, "tenantrelayctl: tenant %s: NO connectivity test ran (%s); the tenant is saved "
                "as unverified\n", t.id, why);
        t.verified = 0;
    } else {
        t.verified = time(NULL);
    }
    t.updated = time(NULL);

    n = tenant_store_count(store);
    repl = mycalloc(n + 1, sizeof(*repl));
    for (size_t i = 0; i < n; i++)
        repl[i] = tenant_store_at(store, i);
    idx = existed ? index_of(store, t.id) : (size_t)-1;
    if (idx != (size_t)-1)
        repl[idx] = &t;
    if ((status = save(txn, repl, existed ? NULL : &t, "set", t.id, dbuf_str(&changed))) != 0)
        goto out;
    printf("tenant %s %s (%s)\n", t.id, existed ? "updated" : "created", dbuf_str(&changed));
out:
    vault_plain_free(secret, secret_len);
    vault_plain_free(osecret, osecret_len);
    conf_free_strings(a.domains);
    conf_free_strings(a.addresses);
    if (t.id)
        tenant_free_fields(&t);
    if (probed.id)
        tenant_free_fields(&probed);
    myfree(repl);
    dbuf_free(&changed);
    dbuf_free(&diff);
    store_txn_end(txn);
    return status;
}

/* remove / enable / disable: one record changes or goes, one store
 * transaction (store_tenant_remove / store_tenant_set_enabled). */
static int tenant_change(struct ctl_ctx *ctx, const char *action, const char *id)
{
    struct conf *conf = ctl_conf(ctx);
    struct conf_error cerr = { "" };
    enum store_result res;
    bool removing = strcmp(action, "remove") == 0, changed = true;

    if (conf == NULL)
        return EX_CONFIG;
    errno = 0;
    res = removing ? store_tenant_remove(conf, id, &cerr)
                   : store_tenant_set_enabled(conf, id, strcmp(action, "enable") == 0, &changed, &cerr);
    switch (res) {
    case STORE_OK:
        if (!changed)
            printf("tenant %s is already %sd\n", id, action);
        else
            printf("tenant %s %sd\n", id, removing ? "remove" : action);
        return 0;
    case STORE_NOT_FOUND:
        return ctl_fail(EX_DATAERR, "%s", cerr.text);
    case STORE_RACE:
        return ctl_fail(EX_TEMPFAIL, "tenant %s: %s: nothing saved; run the command again", id, cerr.text);
    default:
        return ctl_fail(strstr(cerr.text, "cannot connect") ? EX_UNAVAILABLE
                        : errno == EINVAL ? EX_DATAERR
                        : ctl_status_for_errno(errno) == EX_NOPERM ? EX_NOPERM : EX_IOERR,
                        "tenant store: %s", cerr.text);
    }
}

/* "sealed (key ID)", "plaintext!" or NULL: what may be shown of a password. */
static const char *password_state(const char *pw, char *buf, size_t len)
{
    char id[VAULT_KEYID_LEN + 1];

    if (pw == NULL)
        return NULL;
    if (vault_token_key_id(pw, id) == VAULT_OK)
        snprintf(buf, len, "sealed (key %s)", id);
    else
        snprintf(buf, len, "PLAINTEXT (reseal it: tenant set ID --password-stdin)");
    return buf;
}

static json_t *strings_json(char *const *v)
{
    json_t *a = json_array();

    for (size_t i = 0; v && v[i]; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *tenant_json(const struct tenant *t, const struct vault *v)
{
    const struct route *r = &t->route;
    char buf[128];
    const char *pw = password_state(r->password, buf, sizeof(buf));

    json_t *j = json_pack("{s:s, s:b, s:s, s:i, s:s, s:s?, s:s?, s:s, s:o, s:o, s:s?, s:b, s:b, s:i, s:i, s:o, s:o, s:o}",
                     "id", t->id, "enabled", t->enabled, "host", r->host, "port", r->port,
                     "tls", route_tls_names[r->tls], "username", r->username, "password", pw,
                     "sender", r->sender, "domains", strings_json(t->domains),
                     "addresses", strings_json(t->addresses), "ca_file", r->ca_file,
                     "tls_verify", r->tls_verify, "insecure_plaintext", r->insecure_plaintext,
                     "max_connections", r->max_connections, "rate_limit", r->rate_limit,
                     "created", ctl_json_time(t->created), "updated", ctl_json_time(t->updated),
                     "verified", ctl_json_time(t->verified));

    ctl_oauth_json_add(j, r, v, t->id);
    return j;
}

static int tenant_show(struct ctl_ctx *ctx, const char *id)
{
    struct tenant_store *store;
    const struct tenant *t;
    json_t *j;
    const char *k;
    json_t *val;
    int status = 0;

    if ((store = ctl_store_load(ctx, &status)) == NULL)
        return status;
    if ((t = tenant_store_find(store, id)) == NULL) {
        tenant_store_free(store);
        return ctl_fail(EX_DATAERR, "no tenant \"%s\"", id);
    }
    {
        /* Whether the OAuth2 secrets open: with the keyring when it loads. */
        char verr[256];
        struct vault *v = t->route.auth == ROUTE_AUTH_XOAUTH2 ? vault_load(ctl_conf(ctx), verr, sizeof(verr)) : NULL;

        j = tenant_json(t, v);
        vault_free(v);
    }
    if (ctx->json) {
        ctl_json_print(j);
    } else {
        json_object_foreach(j, k, val) {
            char *s = json_is_string(val) ? NULL : json_dumps(val, JSON_ENCODE_ANY | JSON_COMPACT);

            printf("%-18s %s\n", k, s ? s : json_string_value(val));
            free(s);
        }
        json_decref(j);
    }
    tenant_store_free(store);
    return 0;
}

static int tenant_list(struct ctl_ctx *ctx)
{
    struct tenant_store *store;
    json_t *arr = json_array();
    int status = 0;

    if ((store = ctl_store_load(ctx, &status)) == NULL) {
        json_decref(arr);
        return status;
    }
    if (!ctx->json)
        printf("%-24s %-8s %-34s %-9s %-10s %s\n", "ID", "ENABLED", "HOST:PORT", "TLS", "VERIFIED", "SENDER");
    for (size_t i = 0; i < tenant_store_count(store); i++) {
        const struct tenant *t = tenant_store_at(store, i);

        if (ctx->json) {
            json_array_append_new(arr, tenant_json(t, NULL));
        } else {
            char hp[300], ver[64] = "never";

            snprintf(hp, sizeof(hp), "%s:%d", t->route.host, t->route.port);
            if (t->verified)
                tenant_time_format(t->verified, ver, sizeof(ver)), ver[10] = 0;
            printf("%-24s %-8s %-34s %-9s %-10s %s\n", t->id, t->enabled ? "yes" : "no", hp,
                   route_tls_names[t->route.tls], ver, t->route.sender);
        }
    }
    if (ctx->json)
        ctl_json_print(json_pack("{s:o}", "tenants", arr));
    else
        json_decref(arr);
    tenant_store_free(store);
    return 0;
}

int ctl_tenant(struct ctl_ctx *ctx, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "";

    if (strcmp(sub, "set") == 0)
        return tenant_set(ctx, argc, argv);
    /* The read-only ones take --json as their own flag (ids never start with '-'). */
    if ((strcmp(sub, "list") == 0 || strcmp(sub, "show") == 0) && argc > 2
        && strcmp(argv[argc - 1], "--json") == 0) {
        ctx->json = true;
        argc--;
    }
    if (strcmp(sub, "list") == 0 && argc == 2)
        return tenant_list(ctx);
    if (argc == 3 && strcmp(sub, "show") == 0)
        return tenant_show(ctx, argv[2]);
    if (argc == 3 && (strcmp(sub, "remove") == 0 || strcmp(sub, "enable") == 0
                      || strcmp(sub, "disable") == 0))
        return tenant_change(ctx, sub, argv[2]);
    return ctl_fail(EX_USAGE, "usage: tenant set ID [flags] | show ID | list | remove ID | enable ID | disable ID");
}
