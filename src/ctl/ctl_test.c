/*
 * ctl_test.c - tenantrelayctl test: the connectivity probe alone, for a
 * stored tenant (`test ID`) or for settings given on the line
 * (`test --host H ...`), printed step by step or as JSON.
 *
 * Exit 0 only when every step passed, 1 when the probe ran and something
 * failed, sysexits for the rest.  The password of `--host` comes from
 * stdin or a file (never argv) into locked memory the probe wipes right
 * after AUTH.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "tenantrelay/mailaddr.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/probe.h"
#include "ctl_oauth.h"
#include "ctl_route_flags.h"
#include "ctl_vault.h"

#define TEST_USAGE "usage: test ID [--to ADDR] [--no-send] [--timeout SECONDS] [--json]\n" \
    "       test --host H [--port P] [--tls implicit|starttls|auto|none [--insecure-plaintext]] " \
    "[--username U --password-stdin | --password-file F] --sender ADDR [--to ADDR] [--ca-file F] " \
    "[--no-tls-verify] [--no-send] [--timeout SECONDS] [--json]\n" \
    "         [--auth xoauth2 --oauth-provider microsoft|google|generic [--oauth-directory ID] " \
    "[--oauth-token-url URL] [--oauth-client-id ID] [--oauth-secret-stdin | --oauth-secret-file F | " \
    "--oauth-key-file F [--oauth-cert-file F]] [--oauth-scope S]]"

/* The route flags (in r) are parsed as `tenant set` parses them. */
struct test_args {
    const char *id;
    struct ctl_route_flags r;
    int tls_mode;               /* enum probe_tls of r.tls, when given */
    bool no_send;
    bool json;
    long timeout;
};

_Static_assert(CTL_ROUTE_TLS_AUTO == PROBE_TLS_AUTO, "--tls auto is the probe's auto mode");

static int parse_test(int argc, char **argv, struct test_args *a)
{
    const struct ctl_route_flags *r = &a->r;

    memset(a, 0, sizeof(*a));
    ctl_route_flags_init(&a->r);
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        int status = 0;

        /* Its own arguments without a value first (see ctl_route_flags.h). */
        if (o[0] != '-') {
            if (a->id)
                return ctl_fail(EX_USAGE, "one tenant at a time\n%s", TEST_USAGE);
            a->id = o;
            continue;
        }
        if (strcmp(o, "--no-send") == 0) {
            a->no_send = true;
            continue;
        }
        if (strcmp(o, "--json") == 0) {     /* its own flag, in a flag's place only */
            a->json = true;
            continue;
        }
        switch (ctl_route_flags_parse(&a->r, 0, argc, argv, &i, TEST_USAGE, &status)) {
        case CTL_ROUTE_FLAG_TAKEN:
            continue;
        case CTL_ROUTE_FLAG_ERROR:
            return status;
        case CTL_ROUTE_FLAG_OTHER:
            break;
        }
        /* Its own flags with a value (val is there). */
        if (strcmp(o, "--timeout") == 0) {
            if (ctl_parse_long(val, 1, 3600, &a->timeout) < 0)
                return ctl_fail(EX_USAGE, "--timeout: \"%s\" is not in 1..3600 seconds", val);
        } else
            return ctl_fail(EX_USAGE, "unknown option \"%s\"\n%s", o, TEST_USAGE);
        i++;
    }
    if ((a->id == NULL) == (r->host == NULL))
        return ctl_fail(EX_USAGE, "give a tenant id or --host\n%s", TEST_USAGE);
    if (a->id && (r->tls || r->username || r->password_stdin || r->password_file || r->sender
                  || r->ca_file || r->tls_verify == 0 || r->port > 0 || r->insecure_plaintext
                  || ctl_oauth_flags_given(r)))
        return ctl_fail(EX_USAGE, "`test ID` uses the stored settings: only --to, --no-send, --timeout "
                        "and --json go with it (or test --host ... for other settings)");
    if (ctl_route_flags_check_password(r) != 0 || ctl_oauth_flags_check(r) != 0)
        return EX_USAGE;
    if (r->host && r->sender == NULL)
        return ctl_fail(EX_USAGE, "test --host needs --sender\n%s", TEST_USAGE);
    if (r->host && !(r->auth && strcmp(r->auth, "xoauth2") == 0)
        && (r->username != NULL) != (r->password_stdin || r->password_file))
        return ctl_fail(EX_USAGE, r->username ? "--username needs --password-stdin or --password-file"
                                              : "a password needs --username");
    if (r->tls && ctl_route_flags_tls(r->tls, true, &a->tls_mode) != 0)
        return EX_USAGE;
    if (r->tls && a->tls_mode == PROBE_TLS_NONE && !r->insecure_plaintext)
        return ctl_fail(EX_USAGE, "--tls none needs --insecure-plaintext (test upstreams only)");
    if (r->sender && !mailaddr_is_valid(r->sender, false))
        return ctl_fail(EX_DATAERR, "--sender: \"%s\" is not a valid address", r->sender);
    if (r->to && !mailaddr_is_valid(r->to, false))
        return ctl_fail(EX_DATAERR, "--to: \"%s\" is not a valid address", r->to);
    return 0;
}

static int report(struct ctl_ctx *ctx, struct probe_report *rep)
{
    /* A destination the route policy refuses is bad data, not a failed test. */
    int status = rep->ok ? 0 : rep->code && strcmp(rep->code, "route_policy") == 0 ? EX_DATAERR : 1;

    if (ctx->json)
        ctl_json_print(probe_report_json(rep));
    else
        probe_report_print(stdout, rep);
    fflush(stdout);
    probe_report_free(rep);
    return status;
}

static int test_tenant(struct ctl_ctx *ctx, const struct test_args *a)
{
    struct conf *conf = ctl_conf(ctx);
    struct tenant_store *store;
    const struct tenant *t;
    struct probe_report rep;
    int status = 0;

    if (conf == NULL)
        return EX_CONFIG;
    if ((store = ctl_store_load(ctx, &status)) == NULL)
        return status;
    if ((t = tenant_store_find(store, a->id)) == NULL) {
        tenant_store_free(store);
        return ctl_fail(EX_DATAERR, "no tenant \"%s\"", a->id);
    }
    (void)probe_run_tenant(conf, t, a->r.to, (int)a->timeout * 1000, a->no_send, &rep);
    status = report(ctx, &rep);
    tenant_store_free(store);
    return status;
}

static int test_host(struct ctl_ctx *ctx, const struct test_args *a)
{
    struct probe_options o;
    struct probe_report rep;
    struct route_policy defaults;
    struct route rt;
    int status;

    memset(&o, 0, sizeof(o));
    /* Without a configuration the default policy applies, never none. */
    route_policy_init(&defaults);
    o.policy = &defaults;
    o.host = a->r.host;
    o.port = a->r.port > 0 ? (int)a->r.port : 25;
    o.tls = a->r.tls ? (enum probe_tls)a->tls_mode : (enum probe_tls)route_tls_for_port(o.port);
    o.insecure_plaintext = a->r.insecure_plaintext;
    o.ca_file = a->r.ca_file;
    o.tls_verify = a->r.tls_verify != 0;
    o.username = a->r.username;
    o.sender = a->r.sender;
    o.to = a->r.to;
    o.no_send = a->no_send;
    o.timeout_ms = (int)a->timeout * 1000;
    /* The configuration is optional here: only the EHLO name comes from it. */
    o.helo_name = "localhost";
    if (strcmp(ctx->config_path, CONF_DEFAULT_PATH) != 0 || access(ctx->config_path, R_OK) == 0) {
        struct conf *conf = ctl_conf(ctx);

        if (conf == NULL) {
            route_policy_free(&defaults);
            return EX_CONFIG;
        }
        o.helo_name = conf->hostname;
        o.policy = &conf->tenant_route_policy;
    }
    route_init(&rt);
    rt.username = mystrdup_or_null(a->r.username);
    if ((status = ctl_oauth_test_route(&a->r, &rt)) != 0)
        goto out;
    o.auth = rt.auth;
    o.oauth = &rt.oauth;
    if (rt.auth == ROUTE_AUTH_XOAUTH2)
        status = ctl_oauth_secret_read(&a->r, &o.password, &o.password_len);
    else if (a->r.password_stdin || a->r.password_file)
        status = ctl_secret_read(a->r.password_file, &o.password, &o.password_len);
    if (status != 0)
        goto out;
    /* The probe owns o.password from here and wipes it after AUTH. */
    (void)probe_run(&o, &rep);
    status = report(ctx, &rep);
out:
    route_free(&rt);
    route_policy_free(&defaults);
    return status;
}

int ctl_test(struct ctl_ctx *ctx, int argc, char **argv)
{
    struct test_args a;
    int status;

    if ((status = parse_test(argc, argv, &a)) != 0)
        return status;
    if (a.json)
        ctx->json = true;
    return a.id ? test_tenant(ctx, &a) : test_host(ctx, &a);
}
