/*
 * ctl_reload.c - tenantrelayctl reload: ask the running daemon to reread its
 * configuration and tenant store, and report whether it took the new ones.
 */
#include "config.h"

#include <stdio.h>
#include <sysexits.h>

#include <jansson.h>

#include "tenantrelay/control.h"
#include "tenantrelay/ctl.h"

int ctl_reload(struct ctl_ctx *ctx, int argc, char **argv)
{
    struct conf *conf;
    json_t *req;
    json_t *resp = NULL;
    char err[512];
    int status;

    if (argc != 1)
        return ctl_fail(EX_USAGE, "usage: reload");
    if ((conf = ctl_conf(ctx)) == NULL)
        return EX_CONFIG;
    req = json_pack("{s:s}", "cmd", "reload");
    if (control_call(conf->control_socket, req, &resp, 30000, err, sizeof(err)) < 0) {
        json_decref(req);
        return ctl_fail(EX_UNAVAILABLE, "%s", err);
    }
    json_decref(req);
    if (json_is_true(json_object_get(resp, "ok"))) {
        printf("reloaded\n");
        status = 0;
    } else {
        /* The daemon kept its running configuration; say why. */
        status = ctl_fail(EX_CONFIG, "reload refused: %s",
                          json_string_value(json_object_get(resp, "error"))
                              ? json_string_value(json_object_get(resp, "error")) : "unknown reason");
    }
    json_decref(resp);
    return status;
}
