/*
 * tenantrelayctl.c - the administration and audit tool: the command table
 * (model: OpenSMTPD's smtpctl) and the options shared by every command.
 * main only calls down: the helpers every command uses (ctl_fail,
 * ctl_conf) are in ctl_common.c.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "tenantrelay/ctl.h"
#include "tenantrelay/daemon.h"
#include "tenantrelay/msg.h"

/* json_after: the command's arguments are ids and words, never option
 * values, so a --json among them can only be the flag (test parses its
 * own, tenant set takes none). */
static const struct ctl_command commands[] = {
    { "key", ctl_key, "key init | list | rotate | retire ID", true },
    { "seal", ctl_seal, "seal --tenant ID --field NAME   (secret on stdin)", false },
    { "tenant", ctl_tenant, "tenant set ID [flags] | show ID | list | remove ID | enable ID | disable ID", false },
    { "store", ctl_store, "store init | import FROM | status   (PostgreSQL tenant store)", true },
    { "test", ctl_test, "test ID | test --host H [flags]", false },
    { "audit", ctl_audit, "audit [--json]", true },
    { "queue", ctl_queue, "queue list [--tenant ID] | show QID | retry|hold|release|delete QID|--tenant ID|--all", true },
    { "status", ctl_status, "status [--json]", true },
    { "reload", ctl_reload, "reload", false },
    { "oauth", ctl_oauth, "oauth instructions --provider microsoft|google --client-id ID --mailbox ADDR [--directory ID]", false },
    { "api-token", ctl_apitoken, "api-token add NAME | list | revoke NAME", true },
    { NULL, NULL, NULL, false },
};

static void usage(FILE *fp)
{
    fprintf(fp, "usage: tenantrelayctl [-c FILE] [--json] [--] COMMAND ...\n"
                "(-c and --json go before the command word; -- ends them)\n\ncommands:\n");
    for (const struct ctl_command *c = commands; c->name; c++)
        fprintf(fp, "  %s\n", c->usage);
    fprintf(fp, "\nexit status: 0 ok, 1 problem found, 64 usage, 65 bad data, 69 unavailable,\n"
                "73 cannot create, 74 I/O error, 75 raced with another change (nothing saved),\n"
                "77 permission denied, 78 configuration\n");
}

/* The --json flag among a command's own words (json_after commands). */
static int take_json(struct ctl_ctx *ctx, int argc, char **argv)
{
    int n = 1;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            ctx->json = true;
        else
            argv[n++] = argv[i];
    }
    argv[n] = NULL;
    return n;
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
    /* Global options only before the command word, and -- ends them: a
     * platform passes tenant-chosen values (a user name "-c") after it,
     * and those must never re-point the configuration. */
    while (nrest > 0 && rest[0][0] == '-') {
        if (strcmp(rest[0], "--") == 0) {
            rest++;
            nrest--;
            break;
        }
        if (strcmp(rest[0], "-c") == 0) {
            if (nrest < 2)
                return ctl_fail(EX_USAGE, "-c needs a FILE");
            ctx.config_path = rest[1];
            rest += 2;
            nrest -= 2;
        } else if (strcmp(rest[0], "--json") == 0) {
            ctx.json = true;
            rest++;
            nrest--;
        } else if (strcmp(rest[0], "-h") == 0 || strcmp(rest[0], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "tenantrelayctl: unknown option \"%s\" (options before the command word: "
                    "-c FILE, --json, --)\n", rest[0]);
            usage(stderr);
            return EX_USAGE;
        }
    }
    if (nrest == 0) {
        usage(stderr);
        return EX_USAGE;
    }
    for (const struct ctl_command *c = commands; c->name; c++) {
        if (strcmp(c->name, rest[0]) == 0) {
            if (c->json_after)
                nrest = take_json(&ctx, nrest, rest);
            status = c->run(&ctx, nrest, rest);
            conf_unref(ctx.conf);
            return status;
        }
    }
    fprintf(stderr, "tenantrelayctl: unknown command \"%s\"\n", rest[0]);
    usage(stderr);
    return EX_USAGE;
}
