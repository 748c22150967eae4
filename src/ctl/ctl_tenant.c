/*
 * ctl_tenant.c - tenantrelayctl tenant set | show | list | remove |
 * enable | disable.
 *
 * `tenant set` is tenant_update_apply() (tenant_update.h, shared with the
 * HTTP API): the probe runs WITHOUT the store's lock and the record is
 * saved, in one store transaction, only if it is still what was probed
 * (else exit 75).  This file parses the flags, reads the secrets (stdin or
 * a file, never argv) and merges the OAuth2 flags through a callback.
 * Only sealed tokens are stored or shown.
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
#include "tenantrelay/tenant_update.h"
#include "tenantrelay/tenant_write.h"
#include "tenantrelay/timefmt.h"
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

/* The probe's steps and, on failure, its hint, as soon as it has run. */
static void print_probe(const struct probe_report *rep, void *arg)
{
    (void)arg;
    probe_report_print(stdout, rep);
    fflush(stdout);
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

/* The OAuth2 flags, merged into each record tenant_update builds. */
struct oauth_merge {
    struct ctl_ctx *ctx;
    const struct ctl_route_flags *flags;
    unsigned char *secret;      /* this command's OAuth2 secret, open (locked memory) */
    size_t len;
};

static int merge_oauth(const char *id, struct route *r, struct dbuf *changed, char *err, size_t errlen,
                       void *arg)
{
    struct oauth_merge *m = arg;

    (void)err;                  /* ctl_oauth_apply() prints why itself */
    (void)errlen;

    return ctl_oauth_apply(m->ctx, id, r, m->flags, m->secret, m->len, changed);
}

/*
 * The work is tenant_update_apply()'s (shared with the HTTP API): the
 * probe runs without the store's lock, and the save happens under it only
 * if what would be saved is still what was probed (else exit 75).
 */
static int tenant_set(struct ctl_ctx *ctx, int argc, char **argv)
{
    struct conf *conf = ctl_conf(ctx);
    struct set_args a;
    struct tenant_update u;
    struct tenant_update_result res;
    struct vault *vault = NULL;
    struct oauth_merge oauth = { NULL, NULL, NULL, 0 };
    unsigned char *secret = NULL;
    size_t secret_len = 0;
    int status;

    memset(&res, 0, sizeof(res));
    if ((status = parse_set(argc, argv, &a)) != 0)
        goto out;
    if (conf == NULL) {
        status = EX_CONFIG;
        goto out;
    }
    tenant_update_init(&u);
    u.id = a.id;
    if (a.r.tls && (status = ctl_route_flags_tls(a.r.tls, false, &a.tls_mode)) != 0)
        goto out;
    /* The secret first, before any lock is held (a human may be typing). */
    if ((a.r.password_stdin || a.r.password_file)
        && (status = ctl_secret_read(a.r.password_file, &secret, &secret_len)) != 0)
        goto out;
    if ((status = ctl_oauth_secret_read(&a.r, &oauth.secret, &oauth.len)) != 0)
        goto out;
    /* The keyring must load (with its own exit status when it does not);
     * the save loads it again, as it is then. */
    if (secret && tenant_id_is_valid(a.id) && (vault = ctl_vault_load(ctx, &status)) == NULL)
        goto out;
    vault_free(vault);
    vault = NULL;
    u.host = a.r.host;
    u.port = a.r.port;
    u.tls = a.r.tls ? a.tls_mode : -1;
    u.insecure_plaintext = a.r.insecure_plaintext;
    u.username = a.r.username;
    u.sender = a.r.sender;
    u.ca_file = a.r.ca_file;
    u.tls_verify = a.r.tls_verify;
    u.max_connections = a.max_connections;
    u.rate_limit = a.rate_limit;
    u.domains = a.domains;
    u.addresses = a.addresses;
    u.secret = secret;
    u.secret_len = secret_len;
    u.to = a.r.to;
    u.no_test = a.no_test;
    oauth.ctx = ctx;
    oauth.flags = &a.r;
    u.merge_extra = merge_oauth;
    u.extra_differs = route_oauth_settings_differ;
    u.extra_arg = &oauth;
    if ((status = tenant_update_apply(conf, vault, &u, print_probe, NULL, &res)) != 0) {
        if (res.error[0])       /* else the OAuth2 merge said why */
            ctl_fail(status, "%s", res.error);
        goto out;
    }
    if (!res.changed) {
        printf("tenant %s: nothing changed\n", a.id);
        goto out;
    }
    if (a.no_test)
        fprintf(stderr, "tenantrelayctl: tenant %s: NO connectivity test ran (--no-test was given); the "
                "tenant is saved as unverified\n", a.id);
    printf("tenant %s %s (%s)\n", a.id, res.existed ? "updated" : "created", res.fields);
out:
    tenant_update_result_free(&res);
    vault_free(vault);
    vault_plain_free(secret, secret_len);
    vault_plain_free(oauth.secret, oauth.len);
    conf_free_strings(a.domains);
    conf_free_strings(a.addresses);
    return status;
}

/* remove / enable / disable: one record changes or goes. */
static int tenant_change(struct ctl_ctx *ctx, const char *action, const char *id)
{
    struct conf *conf = ctl_conf(ctx);
    char err[768];
    bool noop;
    int status;

    if (conf == NULL)
        return EX_CONFIG;
    if ((status = tenant_update_change(conf, action, id, NULL, &noop, err, sizeof(err))) != 0)
        return ctl_fail(status, "%s", err);
    if (noop)
        printf("tenant %s is already %sd\n", id, action);
    else
        printf("tenant %s %sd\n", id, strcmp(action, "remove") == 0 ? "remove" : action);
    return 0;
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
                     "created", timefmt_json(t->created), "updated", timefmt_json(t->updated),
                     "verified", timefmt_json(t->verified));

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
        const struct conf *cf = ctl_conf(ctx);
        struct vault *v = t->route.auth == ROUTE_AUTH_XOAUTH2
                          ? vault_load(cf->key_file, cf->key_credential, cf->user, verr, sizeof(verr)) : NULL;

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
                timefmt_rfc3339(t->verified, ver, sizeof(ver)), ver[10] = 0;
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
