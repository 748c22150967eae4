/*
 * oauth_jwt.c - signed JWTs for the two assertion grants: Microsoft's
 * certificate client assertion (PS256, or RS256, with x5t#S256) and
 * Google's service-account jwt-bearer assertion (RS256), via OpenSSL EVP.
 * The private key is read from memory (it was opened from the vault) and
 * freed right after signing; the JWT itself is a credential for its few
 * minutes of life, so it is built in sodium memory too.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "tenantrelay/oauth.h"

void oauth_b64url(const unsigned char *in, size_t len, char *out, size_t outlen)
{
    if (outlen < sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING)) {
        if (outlen)
            out[0] = 0;
        return;
    }
    sodium_bin2base64(out, outlen, in, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void ossl_err(char *err, size_t errlen, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[160] = "";

    if (e)
        ERR_error_string_n(e, buf, sizeof(buf));
    ERR_clear_error();
    snprintf(err, errlen, "%s%s%s", what, buf[0] ? ": " : "", buf);
}

int oauth_jwt_sign(const char *alg, const char *header_json, const char *claims_json,
                   const unsigned char *pem, size_t pem_len, char **jwt, size_t *alloc,
                   char *err, size_t errlen)
{
    bool pss = strcmp(alg, "PS256") == 0;
    size_t hl = strlen(header_json), cl = strlen(claims_json);
    size_t hb = sodium_base64_ENCODED_LEN(hl, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    size_t cb = sodium_base64_ENCODED_LEN(cl, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    unsigned char sig[1024];
    size_t siglen = sizeof(sig), off;
    EVP_PKEY *key = NULL;
    EVP_MD_CTX *md = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    BIO *bio = NULL;
    char *out = NULL;
    int rc = -1;

    *jwt = NULL;
    *alloc = 0;
    if (!pss && strcmp(alg, "RS256") != 0) {
        snprintf(err, errlen, "unsupported JWT algorithm %s", alg);
        return -1;
    }
    /* BIO_new_mem_buf reads the key in place: no copy of the PEM. */
    if ((bio = BIO_new_mem_buf(pem, (int)pem_len)) == NULL
        || (key = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"")) == NULL) {
        ossl_err(err, errlen, "the private key is not a PEM private key");
        goto out;
    }
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
        snprintf(err, errlen, "the private key is not an RSA key (%s needs RSA)", alg);
        goto out;
    }
    *alloc = hb + cb + sodium_base64_ENCODED_LEN(sizeof(sig), sodium_base64_VARIANT_URLSAFE_NO_PADDING) + 4;
    if ((out = sodium_malloc(*alloc)) == NULL) {
        snprintf(err, errlen, "sodium_malloc failed");
        goto out;
    }
    sodium_bin2base64(out, hb, (const unsigned char *)header_json, hl, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    off = strlen(out);
    out[off++] = '.';
    sodium_bin2base64(out + off, cb, (const unsigned char *)claims_json, cl,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    off += strlen(out + off);
    if ((md = EVP_MD_CTX_new()) == NULL
        || EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, key) != 1
        /* RFC 7518 §3.5: PSS with MGF1-SHA256 and a salt as long as the hash. */
        || (pss && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1
                    || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1
                    || EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1))
        || EVP_DigestSign(md, sig, &siglen, (const unsigned char *)out, off) != 1) {
        ossl_err(err, errlen, "signing the JWT failed");
        goto out;
    }
    out[off++] = '.';
    sodium_bin2base64(out + off, *alloc - off, sig, siglen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    *jwt = out;
    out = NULL;
    rc = 0;
out:
    if (out)
        oauth_secret_free(out, *alloc);
    if (rc < 0)
        *alloc = 0;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    BIO_free(bio);
    return rc;
}

int oauth_cert_thumbprint(const char *file, char out[64], long long *not_after, char *err,
                          size_t errlen)
{
    unsigned char der_hash[32];
    unsigned char *der = NULL;
    int derlen;
    FILE *fp = fopen(file, "re");
    X509 *x = NULL;
    int rc = -1;

    out[0] = 0;
    if (fp == NULL) {
        snprintf(err, errlen, "cannot read the client certificate %s: %m", file);
        return -1;
    }
    if ((x = PEM_read_X509(fp, NULL, NULL, NULL)) == NULL) {
        ossl_err(err, errlen, "the client certificate is not a PEM certificate");
        goto out;
    }
    if ((derlen = i2d_X509(x, &der)) <= 0) {
        ossl_err(err, errlen, "cannot encode the client certificate");
        goto out;
    }
    crypto_hash_sha256(der_hash, der, (unsigned long long)derlen);
    oauth_b64url(der_hash, sizeof(der_hash), out, 64);
    if (not_after) {
        struct tm tm;

        memset(&tm, 0, sizeof(tm));
        *not_after = ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1 ? (long long)timegm(&tm) : 0;
    }
    rc = 0;
out:
    OPENSSL_free(der);
    X509_free(x);
    fclose(fp);
    return rc;
}
