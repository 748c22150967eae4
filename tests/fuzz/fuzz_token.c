/*
 * fuzz_token.c - libFuzzer harness for the sealed-token decoder: whatever
 * the input, vault_open() fails cleanly or returns exactly what was sealed,
 * never reads out of bounds, never leaks.
 *
 * The keyring is fixed (key bytes 1..32, id be42ee6cc598) so that the seed
 * corpus can hold real tokens and the fuzzer starts past the envelope.
 * Input: "tenant\nfield\ntoken" or just a token (tenant "acme", field
 * "password").
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tenantrelay/mymalloc.h"
#include "tenantrelay/vault.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char keyring[] =
    "key be42ee6cc598 primary 2026-01-01T00:00:00Z AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\n";

static struct vault *fixed_vault(void)
{
    static struct vault *v;
    char path[] = "/tmp/tr-fuzz-key-XXXXXX", err[512];
    int fd;

    if (v)
        return v;
    if ((fd = mkstemp(path)) < 0 || write(fd, keyring, sizeof(keyring) - 1) != (ssize_t)sizeof(keyring) - 1)
        abort();
    close(fd);
    v = vault_load_file(path, false, err, sizeof(err));
    unlink(path);
    if (v == NULL) {
        fprintf(stderr, "%s\n", err);
        abort();
    }
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vault *v = fixed_vault();
    char *text = mystrndup((const char *)data, size), *tenant = "acme", *field = "password";
    char *token = text, *nl, err[512], id[VAULT_KEYID_LEN + 1], *again = NULL;
    unsigned char *plain = NULL, *plain2 = NULL;
    size_t len = 0, len2 = 0;

    if ((nl = strchr(token, '\n')) != NULL) {
        *nl = 0;
        tenant = token;
        field = nl + 1;
        if ((nl = strchr(field, '\n')) == NULL) {
            myfree(text);
            return 0;
        }
        *nl = 0;
        token = nl + 1;
    }
    (void)vault_token_looks_sealed(token);
    (void)vault_token_key_id(token, id);
    if (vault_open(v, tenant, field, token, &plain, &len, err, sizeof(err)) == VAULT_OK) {
        /* What opens must re-seal and open to the same bytes. */
        if (plain[len] != 0
            || vault_seal(v, tenant, field, plain, len, &again, err, sizeof(err)) != 0
            || vault_open(v, tenant, field, again, &plain2, &len2, err, sizeof(err)) != VAULT_OK
            || len2 != len || memcmp(plain, plain2, len) != 0)
            abort();
        vault_plain_free(plain2, len2);
        vault_plain_free(plain, len);
        myfree(again);
    } else if (plain != NULL || err[0] == 0) {
        abort();                /* a failure must say why and return nothing */
    }
    myfree(text);
    return 0;
}
