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

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "tenantrelay/mailaddr.h"
#include "tenantrelay/probe.h"
#include "ctl_vault.h"

#define TEST_USAGE "usage: test ID [--to ADDR] [--no-send] [--timeout SECONDS] [--json]\n" \
    "       test --host H [--port P] [--tls implicit|starttls|auto|none [--insecure-plaintext]] " \
    "[--username U --password-stdin | --password-file F] --sender ADDR [--to ADDR] [--ca-file F] " \
    "[--no-tls-verify] [--no-send] [--timeout SECONDS] [--json]"

struct test_args {
    const char *id, *host, *tls, *username, *password_file, *sender, *to, *ca_file;
    bool password_stdin, no_tls_verify, no_send, insecure_plaintext;
    long port, timeout;
};

static int parse_num(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *s == 0 || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_test(int argc, char **argv, struct test_args *a)
{
    memset(a, 0, sizeof(*a));
    a->port = -1;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = true;

        if (o[0] != '-') {
            if (a->id)
                return ctl_fail(EX_USAGE, "one tenant at a time\n%s", TEST_USAGE);
            a->id = o;
            takes = false;
        } else if (strcmp(o, "--password-stdin") == 0) { a->password_stdin = true; takes = false; }
        else if (strcmp(o, "--no-tls-verify") == 0) { a->no_tls_verify = true; takes = false; }
        else if (strcmp(o, "--no-send") == 0) { a->no_send = true; takes = false; }
        else if (strcmp(o, "--insecure-plaintext") == 0) { a->insecure_plaintext = true; takes = false; }
        else if (strcmp(o, "--password") == 0 || strncmp(o, "--password=", 11) == 0)
            return ctl_fail(EX_USAGE, "a password is never taken from the command line (it would show "
                            "in the process list and shell history): use --password-stdin or --password-file");
        else if (val == NULL)
            return ctl_fail(EX_USAGE, "%s needs a value\n%s", o, TEST_USAGE);
        else if (strcmp(o, "--host") == 0) a->host = val;
        else if (strcmp(o, "--tls") == 0) a->tls = val;
        else if (strcmp(o, "--username") == 0) a->username = val;
        else if (strcmp(o, "--password-file") == 0) a->password_file = val;
        else if (strcmp(o, "--sender") == 0) a->sender = val;
        else if (strcmp(o, "--to") == 0) a->to = val;
        else if (strcmp(o, "--ca-file") == 0) a->ca_file = val;
        else if (strcmp(o, "--port") == 0) {
            if (parse_num(val, 1, 65535, &a->port) < 0)
                return ctl_fail(EX_USAGE, "--port: \"%s\" is not a port (1..65535)", val);
        } else if (strcmp(o, "--timeout") == 0) {
            if (parse_num(val, 1, 3600, &a->timeout) < 0)
                return ctl_fail(EX_USAGE, "--timeout: \"%s\" is not in 1..3600 seconds", val);
        } else
            return ctl_fail(EX_USAGE, "unknown option \"%s\"\n%s", o, TEST_USAGE);
        if (takes)
            i++;
    }
    if ((a->id == NULL) == (a->host == NULL))
        return ctl_fail(EX_USAGE, "give a tenant id or --host\n%s", TEST_USAGE);
    if (a->id && (a->tls || a->username || a->password_stdin || a->password_file || a->sender
                  || a->ca_file || a->no_tls_verify || a->port > 0 || a->insecure_plaintext))
        return ctl_fail(EX_USAGE, "`test ID` uses the stored settings: only --to, --no-send, --timeout "
                        "and --json go with it (or test --host ... for other settings)");
    if (a->password_stdin && a->password_file)
        return ctl_fail(EX_USAGE, "--password-stdin and --password-file are exclusive");
    if (a->host && a->sender == NULL)
        return ctl_fail(EX_USAGE, "test --host needs --sender\n%s", TEST_USAGE);
    if (a->host && (a->username != NULL) != (a->password_stdin || a->password_file))
        return ctl_fail(EX_USAGE, a->username ? "--username needs --password-stdin or --password-file"
                                              : "a password needs --username");
    if (a->tls && strcmp(a->tls, "implicit") && strcmp(a->tls, "starttls") && strcmp(a->tls, "auto")
        && strcmp(a->tls, "none"))
        return ctl_fail(EX_USAGE, "--tls must be implicit, starttls, auto or none");
    if (a->tls && strcmp(a->tls, "none") == 0 && !a->insecure_plaintext)
        return ctl_fail(EX_USAGE, "--tls none needs --insecure-plaintext (test upstreams only)");
    if (a->sender && !mailaddr_is_valid(a->sender, false))
        return ctl_fail(EX_DATAERR, "--sender: \"%s\" is not a valid address", a->sender);
    if (a->to && !mailaddr_is_valid(a->to, false))
        return ctl_fail(EX_DATAERR, "--to: \"%s\" is not a valid address", a->to);
    return 0;
}

static int report(struct ctl_ctx *ctx, struct probe_report *rep)
{
    int status = rep->ok ? 0 : 1;

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
    (void)probe_run_tenant(conf, t, a->to, (int)a->timeout * 1000, a->no_send, &rep);
    status = report(ctx, &rep);
    tenant_store_free(store);
    return status;
}

static int test_host(struct ctl_ctx *ctx, const struct test_args *a)
{
    struct probe_options o;
    struct probe_report rep;
    int status;

    memset(&o, 0, sizeof(o));
    o.host = a->host;
    o.port = a->port > 0 ? (int)a->port : 25;
    if (a->tls == NULL)
        o.tls = (enum probe_tls)route_tls_for_port(o.port);
    else
        o.tls = strcmp(a->tls, "implicit") == 0 ? PROBE_TLS_IMPLICIT
                : strcmp(a->tls, "starttls") == 0 ? PROBE_TLS_STARTTLS
                : strcmp(a->tls, "none") == 0 ? PROBE_TLS_NONE : PROBE_TLS_AUTO;
    o.insecure_plaintext = a->insecure_plaintext;
    o.ca_file = a->ca_file;
    o.tls_verify = !a->no_tls_verify;
    o.username = a->username;
    o.sender = a->sender;
    o.to = a->to;
    o.no_send = a->no_send;
    o.timeout_ms = (int)a->timeout * 1000;
    /* The configuration is optional here: only the EHLO name comes from it. */
    o.helo_name = "localhost";
    if (strcmp(ctx->config_path, CONF_DEFAULT_PATH) != 0 || access(ctx->config_path, R_OK) == 0) {
        struct conf *conf = ctl_conf(ctx);

        if (conf == NULL)
            return EX_CONFIG;
        o.helo_name = conf->hostname;
    }
    if ((a->password_stdin || a->password_file)
        && (status = ctl_secret_read(a->password_file, &o.password, &o.password_len)) != 0)
        return status;
    /* The probe owns o.password from here and wipes it after AUTH. */
    (void)probe_run(&o, &rep);
    return report(ctx, &rep);
}

int ctl_test(struct ctl_ctx *ctx, int argc, char **argv)
{
    struct test_args a;
    int status;

    if ((status = parse_test(argc, argv, &a)) != 0)
        return status;
    return a.id ? test_tenant(ctx, &a) : test_host(ctx, &a);
}
