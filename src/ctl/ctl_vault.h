/*
 * ctl_vault.h - helpers shared by tenantrelayctl's key, seal, tenant and
 * audit commands (keyring loading with the right exit status, secrets read
 * from stdin or a file into locked memory, JSON output, key usage).
 */
#ifndef TENANTRELAY_CTL_VAULT_H
#define TENANTRELAY_CTL_VAULT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "tenantrelay/ctl.h"
#include "tenantrelay/store.h"
#include "tenantrelay/tenant.h"
#include "tenantrelay/vault.h"

/* sysexits status for an errno from a failed file operation. */
int ctl_status_for_errno(int e);

/* The configured keyring; NULL after printing why, with *status set. */
struct vault *ctl_vault_load(struct ctl_ctx *ctx, int *status);

/* The tenant store of the configuration (no lock); NULL after printing
 * why, with *status set. */
struct tenant_store *ctl_store_load(struct ctl_ctx *ctx, int *status);

/* Read a secret from file (NULL: stdin; no echo when it is a terminal)
 * into sodium_malloc'd memory, one trailing newline dropped; free with
 * vault_plain_free().  0, or an exit status after printing why. */
int ctl_secret_read(const char *file, unsigned char **out, size_t *len);

/* Print JSON to stdout (indented, keys in insertion order) and drop it. */
void ctl_json_print(json_t *j);

/* How many sealed secrets (store + config default route) use key id
 * (ctl_key_uses.c: it counts OAuth2 secrets too, via ctl_oauth.c). */
size_t ctl_key_uses(const struct conf *conf, const struct tenant_store *store, const char *id);

#endif
