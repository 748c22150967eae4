/*
 * ctl_common.c - the helpers every tenantrelayctl command uses (declared in
 * tenantrelay/ctl.h): the error line, the configuration loaded on first
 * use.  Below the commands and below main (tenantrelayctl.c), calling
 * neither.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <sysexits.h>

#include "tenantrelay/ctl.h"

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
