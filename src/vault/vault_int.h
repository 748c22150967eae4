/*
 * vault_int.h - the vault's internals, shared by its own files only.
 */
#ifndef TENANTRELAY_VAULT_INT_H
#define TENANTRELAY_VAULT_INT_H

#include "tenantrelay/vault.h"

struct vault {
    struct vault_key_info *info;        /* count entries */
    unsigned char *material;            /* sodium_malloc'd, VAULT_KEY_BYTES each */
    size_t count;
};

/* The key bytes of a key id, or NULL. */
const unsigned char *vault_key_material(const struct vault *v, const char *id);

#endif
