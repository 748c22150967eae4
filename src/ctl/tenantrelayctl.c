/*
 * tenantrelayctl.c - the administration and audit tool: the command table
 * (model: OpenSMTPD's smtpctl) and the options shared by every command.
 */
#include "config.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "tenantrelay/ctl.h"
#include "tenantrelay/daemon.h"
#include "tenantrelay/msg.h"

static const struct ctl_command commands[] = {
    { "key", ctl_key, "key init | list | rotate | retire ID" },
    { "seal", ctl_seal, "seal --tenant ID --field NAME   (secret on stdin)" },
    { "tenant", ctl_tenant, "tenant set ID [flags] | show ID | list | remove ID | enable ID | disable ID" },
    { "store", ctl_store, "store init | import FROM | status   (PostgreSQL tenant store)" },
    { "test", ctl_test, "test ID | test --host H [flags]" },
    { "audit", ctl_audit, "audit [--json]" },
    { "queue", ctl_queue, "queue list [--tenant ID] | show QID | retry|hold|release|delete QID|--tenant ID|--all" },
    { "status", ctl_status, "status [--json]" },
    { "reload", ctl_reload, "reload" },
    { "oauth", ctl_oauth, "oauth instructions --provider microsoft|google --client-id ID --mailbox ADDR [--directory ID]" },
    { "api-token", ctl_apitoken, "api-token add NAME | list | revoke NAME" },
    { NULL, NULL, NULL },
};

static void usage(FILE *fp)
{
    fprintf(fp, "usage: tenantrelayctl [-c FILE] [--json] COMMAND ...\n\ncommands:\n");
    for (const struct ctl_command *c = commands; c->name; c++)
        fprintf(fp, "  %s\n", c->usage);
    fprintf(fp, "\nexit status: 0 ok, 1 problem found, 64 usage, 65 bad data, 69 unavailable,\n"
                "73 cannot create, 74 I/O error, 75 raced with another change (nothing saved),\n"
                "77 permission denied, 78 configuration\n");
}

int ctl_fail(int status, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "tenantrelayctl: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    return status;
}

int ctl_not_built(struct ctl_ctx *ctx, int argc, char **argv)
{
    return ctl_fail(EX_UNAVAILABLE, "'%s' is not built yet in this version", argv[0]);
}

struct conf *ctl_conf(struct ctl_ctx *ctx)
{
    struct conf_error err = { "" };

    if (ctx->conf == NULL && (ctx->conf = conf_load(ctx->config_path, &err)) == NULL)
        fprintf(stderr, "%s\n", err.text);
    return ctx->conf;
}

int main(int argc, char **argv)
{
    struct ctl_ctx ctx = { CONF_DEFAULT_PATH, false, NULL };
    char **rest = argv + 1;
    int nrest = argc - 1;
    int status;

    msg_open("tenantrelayctl", true);
    daemon_disable_core_dumps();
    /* OpenSSL writes with write(2): a peer that goes away must give an
     * error, not kill the tool (the probe talks to arbitrary servers). */
    signal(SIGPIPE, SIG_IGN);
    /* -c FILE and --json are accepted anywhere on the line, as every command
     * takes them; -h alone asks for help. */
    for (int i = 0; i < nrest;) {
        int drop = 0;

        if (strcmp(rest[i], "-c") == 0) {
            if (i + 1 >= nrest)
                return ctl_fail(EX_USAGE, "-c needs a FILE");
            ctx.config_path = rest[i + 1];
            drop = 2;
        } else if (strcmp(rest[i], "--json") == 0) {
            ctx.json = true;
            drop = 1;
        } else if (i == 0 && (strcmp(rest[i], "-h") == 0 || strcmp(rest[i], "--help") == 0)) {
            usage(stdout);
            return 0;
        }
        if (drop) {
            memmove(&rest[i], &rest[i + drop], sizeof(*rest) * (size_t)(nrest - i - drop));
            nrest -= drop;
        } else {
            i++;
        }
    }
    if (nrest == 0) {
        usage(stderr);
        return EX_USAGE;
    }
    for (const struct ctl_command *c = commands; c->name; c++) {
        if (strcmp(c->name, rest[0]) == 0) {
            status = c->run(&ctx, nrest, rest);
            conf_unref(ctx.conf);
            return status;
        }
    }
    fprintf(stderr, "tenantrelayctl: unknown command \"%s\"\n", rest[0]);
    usage(stderr);
    return EX_USAGE;
}
