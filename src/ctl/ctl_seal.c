/*
 * ctl_seal.c - tenantrelayctl seal --tenant ID --field NAME: a secret on
 * stdin, its sealed token on stdout (for the config's default_route
 * password, sealed for the reserved tenant id "default", or for
 * provisioning tools).  The secret never touches argv.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "tenantrelay/mymalloc.h"
#include "tenantrelay/tenant.h"
#include "ctl_vault.h"

int ctl_seal(struct ctl_ctx *ctx, int argc, char **argv)
{
    const char *tenant = NULL, *field = NULL;
    struct vault *v = NULL;
    unsigned char *plain = NULL;
    size_t len = 0;
    char err[512], *token = NULL;
    int status = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--tenant") == 0 && i + 1 < argc)
            tenant = argv[++i];
        else if (strcmp(argv[i], "--field") == 0 && i + 1 < argc)
            field = argv[++i];
        else
            return ctl_fail(EX_USAGE, "usage: seal --tenant ID --field NAME   (the secret on stdin)");
    }
    if (tenant == NULL || field == NULL)
        return ctl_fail(EX_USAGE, "usage: seal --tenant ID --field NAME   (the secret on stdin)");
    if (strcmp(tenant, "default") != 0 && !tenant_id_is_valid(tenant))
        return ctl_fail(EX_DATAERR, "tenant id \"%s\" must match [a-z0-9][a-z0-9._-]{0,63} "
                        "(or be \"default\" for the default route)", tenant);
    if ((v = ctl_vault_load(ctx, &status)) == NULL)
        return status;
    if ((status = ctl_secret_read(NULL, &plain, &len)) != 0)
        goto out;
    if (vault_seal(v, tenant, field, plain, len, &token, err, sizeof(err)) < 0) {
        status = ctl_fail(EX_DATAERR, "%s", err);
        goto out;
    }
    printf("%s\n", token);
    if (fflush(stdout) != 0)
        status = ctl_fail(EX_IOERR, "writing the token failed");
out:
    vault_plain_free(plain, len);
    myfree(token);
    vault_free(v);
    return status;
}
