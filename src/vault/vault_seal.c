/*
 * vault_seal.c - seal and open secrets as self-describing text tokens
 * (see vault.h for the format and the associated data).
 */
#include "config.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "tenantrelay/errstr.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/vault.h"
#include "vault_int.h"

#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define B64_VARIANT sodium_base64_VARIANT_URLSAFE_NO_PADDING

/* "trv1" NUL keyid NUL tenant NUL field: NUL cannot occur inside any of
 * them, so no two (tenant, field) pairs give the same bytes. */
static size_t make_ad(unsigned char *ad, size_t cap, const char *keyid, const char *tenant,
                      const char *field)
{
    int n = snprintf((char *)ad, cap, "trv1%c%s%c%s%c%s", 0, keyid, 0, tenant, 0, field);

    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

static bool field_ok(const char *s)
{
    if (s == NULL || *s == 0 || strlen(s) > 64)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
            return false;
    return true;
}

bool vault_token_looks_sealed(const char *s)
{
    size_t i = 3;

    if (s == NULL || strncmp(s, "trv", 3) != 0 || s[3] < '0' || s[3] > '9')
        return false;
    while (s[i] >= '0' && s[i] <= '9')
        i++;
    return s[i] == ':';
}

int vault_token_key_id(const char *token, char id_out[VAULT_KEYID_LEN + 1])
{
    if (!vault_token_looks_sealed(token))
        return VAULT_ERR_FORMAT;
    if (strncmp(token, VAULT_TOKEN_PREFIX, strlen(VAULT_TOKEN_PREFIX)) != 0)
        return VAULT_ERR_VERSION;
    token += strlen(VAULT_TOKEN_PREFIX);
    for (int i = 0; i < VAULT_KEYID_LEN; i++)
        if (!((token[i] >= '0' && token[i] <= '9') || (token[i] >= 'a' && token[i] <= 'f')))
            return VAULT_ERR_FORMAT;
    if (token[VAULT_KEYID_LEN] != ':')
        return VAULT_ERR_FORMAT;
    memcpy(id_out, token, VAULT_KEYID_LEN);
    id_out[VAULT_KEYID_LEN] = 0;
    return VAULT_OK;
}

int vault_seal(const struct vault *v, const char *tenant, const char *field,
               const unsigned char *plain, size_t len, char **token_out, char *err, size_t errlen)
{
    const char *id = vault_primary_id(v);
    const unsigned char *key = vault_key_material(v, id);
    unsigned char ad[256], *box = NULL;
    size_t adlen, boxlen = NONCE_BYTES + len + TAG_BYTES, b64len, pre;
    char *token;

    *token_out = NULL;
    if (key == NULL) {
        errstr_set(err, errlen, "the keyring has no primary key");
        return -1;
    }
    if (!field_ok(tenant) || !field_ok(field)) {
        errstr_set(err, errlen, "bad tenant id or field name");
        return -1;
    }
    if (len > VAULT_SECRET_MAX) {
        errstr_set(err, errlen, "secret longer than %d bytes", VAULT_SECRET_MAX);
        return -1;
    }
    adlen = make_ad(ad, sizeof(ad), id, tenant, field);
    box = mymalloc(boxlen);         /* nonce || ciphertext: nothing secret */
    randombytes_buf(box, NONCE_BYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(box + NONCE_BYTES, NULL, plain, len, ad, adlen,
                                               NULL, box, key);
    b64len = sodium_base64_ENCODED_LEN(boxlen, B64_VARIANT);
    pre = strlen(VAULT_TOKEN_PREFIX) + VAULT_KEYID_LEN + 1;
    token = mymalloc(pre + b64len);
    snprintf(token, pre + 1, "%s%s:", VAULT_TOKEN_PREFIX, id);
    sodium_bin2base64(token + pre, b64len, box, boxlen, B64_VARIANT);
    myfree(box);
    *token_out = token;
    return 0;
}

int vault_open(const struct vault *v, const char *tenant, const char *field, const char *token,
               unsigned char **plain_out, size_t *len_out, char *err, size_t errlen)
{
    char id[VAULT_KEYID_LEN + 1];
    const unsigned char *key;
    const struct vault_key_info *k;
    const char *b64;
    unsigned char ad[256], *box = NULL, *plain = NULL;
    size_t adlen, b64len, boxlen = 0, plen;
    int rc;

    *plain_out = NULL;
    *len_out = 0;
    if ((rc = vault_token_key_id(token, id)) != VAULT_OK) {
        if (rc == VAULT_ERR_VERSION)
            errstr_set(err, errlen, "unknown token version (this version reads trv1 tokens)");
        else
            errstr_set(err, errlen, "not a sealed token (expected trv1:KEYID:DATA)");
        return rc;
    }
    if ((k = vault_key_find(v, id)) != NULL && k->state == VAULT_KEY_RETIRED) {
        errstr_set(err, errlen, "token sealed with retired key %s, which opens nothing: seal the "
                   "secret again (tenant set ID --password-stdin)", id);
        return VAULT_ERR_RETIRED;
    }
    if ((key = vault_key_material(v, id)) == NULL) {
        errstr_set(err, errlen, "token sealed with key %s, which is not in the keyring", id);
        return VAULT_ERR_KEYID;
    }
    if (!field_ok(tenant) || !field_ok(field)) {
        errstr_set(err, errlen, "bad tenant id or field name");
        return VAULT_ERR_FORMAT;
    }
    b64 = token + strlen(VAULT_TOKEN_PREFIX) + VAULT_KEYID_LEN + 1;
    b64len = strlen(b64);
    if (b64len > sodium_base64_ENCODED_LEN(NONCE_BYTES + VAULT_SECRET_MAX + TAG_BYTES, B64_VARIANT)) {
        errstr_set(err, errlen, "token too long");
        return VAULT_ERR_FORMAT;
    }
    /* Our own alphabet check first: libsodium 1.0.18 decodes some bytes
     * above 0x7f as if they were base64 characters (a flipped high bit then
     * went unnoticed in our bit-flip test). */
    for (size_t i = 0; i < b64len; i++) {
        char c = b64[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
              || c == '-' || c == '_')) {
            errstr_set(err, errlen, "token data is not valid base64");
            return VAULT_ERR_BASE64;
        }
    }
    box = mymalloc(b64len + 1);
    /* libsodium refuses non-canonical trailing bits, so a flipped bit in
     * the last character is an error too, never a silent equivalent. */
    if (sodium_base642bin(box, b64len + 1, b64, b64len, NULL, &boxlen, NULL, B64_VARIANT) != 0) {
        errstr_set(err, errlen, "token data is not valid base64");
        rc = VAULT_ERR_BASE64;
        goto out;
    }
    if (boxlen < NONCE_BYTES + TAG_BYTES) {
        errstr_set(err, errlen, "token truncated (%zu bytes of data, at least %d needed)", boxlen,
                   NONCE_BYTES + TAG_BYTES);
        rc = VAULT_ERR_TRUNCATED;
        goto out;
    }
    plen = boxlen - NONCE_BYTES - TAG_BYTES;
    if ((plain = sodium_malloc(plen + 1)) == NULL) {
        errstr_set(err, errlen, "cannot allocate secure memory");
        rc = VAULT_ERR_FORMAT;
        goto out;
    }
    adlen = make_ad(ad, sizeof(ad), id, tenant, field);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, NULL, NULL, box + NONCE_BYTES,
                                                   boxlen - NONCE_BYTES, ad, adlen, box, key) != 0) {
        errstr_set(err, errlen, "token does not open: authentication failed (tampered, truncated, "
                   "or sealed for another tenant or field)");
        sodium_free(plain);
        plain = NULL;
        rc = VAULT_ERR_AUTH;
        goto out;
    }
    plain[plen] = 0;
    *plain_out = plain;
    *len_out = plen;
    rc = VAULT_OK;
out:
    myfree(box);
    return rc;
}

void vault_plain_free(unsigned char *plain, size_t len)
{
    (void)len;                  /* sodium_free() wipes the whole allocation */
    if (plain)
        sodium_free(plain);
}
