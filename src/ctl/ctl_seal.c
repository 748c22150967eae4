/*
 * ctl_seal.c - tenantrelayctl seal: not built yet (exits 69 saying so).
 */
#include "config.h"

#include "tenantrelay/ctl.h"

int ctl_seal(struct ctl_ctx *ctx, int argc, char **argv)
{
    return ctl_not_built(ctx, argc, argv);
}
