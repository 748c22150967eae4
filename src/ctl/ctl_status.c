/*
 * ctl_status.c - tenantrelayctl status: per-tenant delivery figures from the
 * running daemon, over its control socket.
 */
#include "config.h"

#include <stdio.h>
#include <sysexits.h>

#include <jansson.h>

#include "tenantrelay/control.h"
#include "tenantrelay/ctl.h"

static const char *str_or_dash(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));

    return s && *s ? s : "-";
}

int ctl_status(struct ctl_ctx *ctx, int argc, char **argv)
{
    struct conf *conf;
    json_t *req;
    json_t *resp = NULL;
    json_t *tenants;
    json_t *t;
    size_t i;
    char err[512];

    if (argc != 1)
        return ctl_fail(EX_USAGE, "usage: status [--json]");
    if ((conf = ctl_conf(ctx)) == NULL)
        return EX_CONFIG;
    req = json_pack("{s:s}", "cmd", "status");
    if (control_call(conf->control_socket, req, &resp, 10000, err, sizeof(err)) < 0) {
        json_decref(req);
        return ctl_fail(EX_UNAVAILABLE, "%s", err);
    }
    json_decref(req);
    if (!json_is_true(json_object_get(resp, "ok"))) {
        ctl_fail(EX_SOFTWARE, "daemon: %s", str_or_dash(resp, "error"));
        json_decref(resp);
        return EX_SOFTWARE;
    }
    json_object_del(resp, "ok");
    if (ctx->json) {
        json_dumpf(resp, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("\n");
    } else {
        json_t *st = json_object_get(resp, "store");

        if (json_is_integer(json_object_get(st, "version")))
            printf("tenant store: postgresql version=%lld%s last_sync_age=%llds\n",
                   json_integer_value(json_object_get(st, "version")),
                   json_is_true(json_object_get(st, "stale")) ? " STALE (database unreachable)" : "",
                   json_integer_value(json_object_get(st, "last_sync_age")));
        tenants = json_object_get(resp, "tenants");
        printf("%-24s %8s %8s %8s %8s  %-20s  %s\n", "TENANT", "SENT", "DEFERRED", "FAILED",
               "HELD", "LAST SUCCESS", "LAST ERROR");
        json_array_foreach(tenants, i, t) {
            printf("%-24s %8lld %8lld %8lld %8lld  %-20s  %s\n", str_or_dash(t, "id"),
                   json_integer_value(json_object_get(t, "sent")),
                   json_integer_value(json_object_get(t, "deferred")),
                   json_integer_value(json_object_get(t, "failed")),
                   json_integer_value(json_object_get(t, "held")),
                   str_or_dash(t, "last_success"), str_or_dash(t, "last_error"));
        }
    }
    json_decref(resp);
    return 0;
}
