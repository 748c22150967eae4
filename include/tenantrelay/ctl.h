/*
 * ctl.h - tenantrelayctl's command table and the context every command gets.
 *
 * Each command group lives in its own file (ctl_key.c, ctl_tenant.c, ...) and
 * returns an exit status: 0 success, 1 the check ran and found a problem,
 * otherwise sysexits(3) (64 usage, 65 bad data, 69 unavailable, 73 cannot
 * create, 74 I/O error, 77 permission denied, 78 configuration).
 */
#ifndef TENANTRELAY_CTL_H
#define TENANTRELAY_CTL_H

#include <stdbool.h>

#include "tenantrelay/conf.h"

struct ctl_ctx {
    const char *config_path;
    bool json;                  /* --json: before the command word, or its own flag */
    struct conf *conf;          /* loaded on first use by ctl_conf() */
};

struct ctl_command {
    const char *name;
    int (*run)(struct ctl_ctx *ctx, int argc, char **argv);
    const char *usage;
    bool json_after;            /* --json also among the command's words */
};

/* The configuration, loaded on first use; NULL after printing the error. */
struct conf *ctl_conf(struct ctl_ctx *ctx);

/* Print "tenantrelayctl: ..." to stderr and return status. */
int ctl_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A command that is not built yet says so: exit 69 (EX_UNAVAILABLE). */
int ctl_not_built(struct ctl_ctx *ctx, int argc, char **argv);

/* The command groups, one file each (src/ctl/ctl_NAME.c). */
int ctl_key(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_seal(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_tenant(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_store(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_test(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_audit(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_queue(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_status(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_reload(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_apitoken(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_oauth(struct ctl_ctx *ctx, int argc, char **argv);

#endif
