/*
 * smtpc_sasl.c - the OAuth2 SASL messages, pure: XOAUTH2 (Google's and
 * Microsoft's) and OAUTHBEARER (RFC 7628) initial responses built in
 * sodium memory (they carry the access token), and the decoder of a 334
 * challenge (the JSON error both mechanisms send before the final 535).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "tenantrelay/smtpc.h"

static bool has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

/* A sodium buffer of n bytes, zeroed; NULL on failure. */
static unsigned char *sbuf(size_t n)
{
    unsigned char *b = sodium_malloc(n);

    if (b)
        memset(b, 0, n);
    return b;
}

/* The end both messages share, from b + n: "auth=Bearer TOKEN" and the
 * two ^A that close it (the allocation counted them); b handed out. */
static int bearer_end(unsigned char *b, size_t n, const unsigned char *token, size_t token_len,
                      unsigned char **out, size_t *len)
{
    memcpy(b + n, "auth=Bearer ", 12), n += 12;
    memcpy(b + n, token, token_len), n += token_len;
    b[n++] = 0x01;
    b[n++] = 0x01;
    *out = b;
    *len = n;
    return 0;
}

int smtpc_sasl_xoauth2(const char *user, const unsigned char *token, size_t token_len,
                       unsigned char **out, size_t *len, size_t *alloc)
{
    size_t ul = strlen(user), n = 0;
    unsigned char *b;

    *out = NULL;
    if (has_ctl(user) || memchr(token, 0x01, token_len))
        return -1;
    *alloc = 5 + ul + 1 + 12 + token_len + 2 + 1;
    if ((b = sbuf(*alloc)) == NULL)
        return -1;
    memcpy(b + n, "user=", 5), n += 5;
    memcpy(b + n, user, ul), n += ul;
    b[n++] = 0x01;
    return bearer_end(b, n, token, token_len, out, len);
}

int smtpc_sasl_oauthbearer(const char *user, const char *host, int port, const unsigned char *token,
                           size_t token_len, unsigned char **out, size_t *len, size_t *alloc)
{
    size_t ul = strlen(user), hl = strlen(host), n = 0;
    char portbuf[16];
    unsigned char *b;

    *out = NULL;
    if (has_ctl(user) || has_ctl(host) || memchr(token, 0x01, token_len))
        return -1;
    snprintf(portbuf, sizeof(portbuf), "%d", port);
    /* Every user byte may become "=2C": three times its length at most. */
    *alloc = 5 + 3 * ul + 2 + 5 + hl + 6 + strlen(portbuf) + 13 + token_len + 2 + 1;
    if ((b = sbuf(*alloc)) == NULL)
        return -1;
    memcpy(b + n, "n,a=", 4), n += 4;
    for (size_t i = 0; i < ul; i++) {
        /* RFC 5801 saslname: ',' and '=' escaped. */
        if (user[i] == ',')
            memcpy(b + n, "=2C", 3), n += 3;
        else if (user[i] == '=')
            memcpy(b + n, "=3D", 3), n += 3;
        else
            b[n++] = (unsigned char)user[i];
    }
    b[n++] = ',';
    b[n++] = 0x01;
    memcpy(b + n, "host=", 5), n += 5;
    memcpy(b + n, host, hl), n += hl;
    b[n++] = 0x01;
    memcpy(b + n, "port=", 5), n += 5;
    memcpy(b + n, portbuf, strlen(portbuf)), n += strlen(portbuf);
    b[n++] = 0x01;
    return bearer_end(b, n, token, token_len, out, len);
}

int smtpc_sasl_challenge_decode(const char *reply_text, char *out, size_t outlen)
{
    const char *p = reply_text;
    unsigned char bin[1024];
    size_t blen = 0, n = 0;
    const char *end;

    if (outlen == 0)
        return -1;
    out[0] = 0;
    /* "334 " then base64 up to the end of the (first) line. */
    if (strncmp(p, "334", 3) == 0)
        p += 3;
    while (*p == ' ' || *p == '-')
        p++;
    end = p + strcspn(p, "\r\n");
    if (end == p || sodium_base642bin(bin, sizeof(bin), p, (size_t)(end - p), " ", &blen, NULL,
                                      sodium_base64_VARIANT_ORIGINAL) != 0 || blen == 0)
        return -1;
    for (size_t i = 0; i < blen && n + 1 < outlen; i++)
        out[n++] = bin[i] >= 0x20 && bin[i] < 0x7f ? (char)bin[i] : '?';
    out[n] = 0;
    return 0;
}
