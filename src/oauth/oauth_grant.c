/*
 * oauth_grant.c - one token request: the provider's grant built as a form
 * body (client secret, certificate assertion, or Google's jwt-bearer
 * assertion), posted, and the answer parsed.  The secret the grant needs is
 * opened from the vault here and wiped as soon as the body is built; the
 * body and the answer live in sodium memory.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "tenantrelay/msg.h"
#include "tenantrelay/oauth.h"

/* A form body being built in sodium memory (it may hold a secret). */
struct form {
    char *buf;
    size_t len, alloc;
    bool failed;
};

static void form_grow(struct form *f, size_t need)
{
    char *nb;
    size_t na;

    if (f->failed || f->len + need + 1 <= f->alloc)
        return;
    na = f->alloc ? f->alloc : 1024;
    while (na < f->len + need + 1)
        na *= 2;
    if ((nb = sodium_malloc(na)) == NULL) {
        f->failed = true;
        return;
    }
    if (f->buf) {
        memcpy(nb, f->buf, f->len);
        oauth_secret_free(f->buf, f->alloc);
    }
    f->buf = nb;
    f->alloc = na;
}

/* name=value&, the value percent-encoded (RFC 3986 unreserved kept). */
static void form_add(struct form *f, const char *name, const char *value, size_t vlen)
{
    static const char hex[] = "0123456789ABCDEF";

    form_grow(f, strlen(name) + 2 + 3 * vlen);
    if (f->failed)
        return;
    if (f->len)
        f->buf[f->len++] = '&';
    memcpy(f->buf + f->len, name, strlen(name));
    f->len += strlen(name);
    f->buf[f->len++] = '=';
    for (size_t i = 0; i < vlen; i++) {
        unsigned char c = (unsigned char)value[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
            || c == '.' || c == '_' || c == '~') {
            f->buf[f->len++] = (char)c;
        } else {
            f->buf[f->len++] = '%';
            f->buf[f->len++] = hex[c >> 4];
            f->buf[f->len++] = hex[c & 15];
        }
    }
    f->buf[f->len] = 0;
}

static void form_adds(struct form *f, const char *name, const char *value)
{
    form_add(f, name, value, strlen(value));
}

const char *oauth_secret_field(const struct route_oauth *o, const char **token)
{
    if (o->provider == ROUTE_OAUTH_GOOGLE) {
        *token = o->service_account;
        return OAUTH_FIELD_SERVICE_ACCOUNT;
    }
    if (o->client_key) {
        *token = o->client_key;
        return OAUTH_FIELD_CLIENT_KEY;
    }
    *token = o->client_secret;
    return OAUTH_FIELD_CLIENT_SECRET;
}

/* A JWT signed with key, its JSON parts built with jansson. */
static int sign(const char *alg, json_t *hdr, json_t *claims, const unsigned char *key, size_t keylen,
                struct form *f, const char *name, struct oauth_error *e)
{
    char *h = json_dumps(hdr, JSON_COMPACT), *c = json_dumps(claims, JSON_COMPACT);
    char *jwt = NULL, err[256] = "";
    size_t alloc = 0;
    int rc = -1;

    if (h && c && oauth_jwt_sign(alg, h, c, key, keylen, &jwt, &alloc, err, sizeof(err)) == 0) {
        form_adds(f, name, jwt);
        rc = 0;
    } else {
        oauth_error_local(e, "secret_unavailable", "cannot sign the JWT assertion: %s", err[0] ? err : "out of memory");
    }
    oauth_secret_free(jwt, alloc);
    free(h);
    free(c);
    json_decref(hdr);
    json_decref(claims);
    return rc;
}

/* Microsoft's certificate credential (a JWT client assertion). */
static int grant_assertion(const struct oauth_request *req, const char *url, const unsigned char *key,
                           size_t keylen, struct form *f, struct oauth_error *e)
{
    const struct route_oauth *o = req->oauth;
    unsigned char rnd[16];
    char jti[33], x5t[64], err[256];
    long long now = (long long)time(NULL);
    const char *alg = o->assertion_alg ? o->assertion_alg : "PS256";

    if (oauth_cert_thumbprint(o->client_cert_file, x5t, NULL, err, sizeof(err)) < 0) {
        oauth_error_local(e, "oauth_certificate", "%s", err);
        snprintf(e->hint, sizeof(e->hint), "the client certificate (--oauth-cert-file) cannot be read: "
                 "it must be the PEM certificate whose public part is uploaded to the app registration");
        return -1;
    }
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(jti, sizeof(jti), rnd, sizeof(rnd));
    form_adds(f, "client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    /* PS256 as Microsoft recommends (RS256 where a provider wants it);
     * x5t#S256 names the certificate. */
    return sign(alg, json_pack("{s:s, s:s, s:s}", "alg", alg, "typ", "JWT", "x5t#S256", x5t),
                json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "aud", url, "iss", o->client_id,
                          "sub", o->client_id, "jti", jti, "nbf", now, "iat", now, "exp", now + 600),
                key, keylen, f, "client_assertion", e);
}

/* Google's service account: its JSON key signs an RS256 assertion for the
 * mailbox (domain-wide delegation). */
static int grant_google(const struct oauth_request *req, const char *url, const unsigned char *sa,
                        size_t salen, struct form *f, struct oauth_error *e)
{
    const struct route_oauth *o = req->oauth;
    json_t *j = json_loadb((const char *)sa, salen, 0, NULL);
    json_t *pk = j ? json_object_get(j, "private_key") : NULL;
    const char *email = j ? json_string_value(json_object_get(j, "client_email")) : NULL;
    const char *kid = j ? json_string_value(json_object_get(j, "private_key_id")) : NULL;
    long long now = (long long)time(NULL);
    int rc = -1;

    if (!json_is_string(pk) || email == NULL) {
        oauth_error_local(e, "secret_unavailable", "the service-account key is not a Google JSON key "
                          "(no private_key or client_email)");
    } else {
        form_adds(f, "grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer");
        rc = sign("RS256", json_pack("{s:s, s:s, s:s?}", "alg", "RS256", "typ", "JWT", "kid", kid),
                  json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "iss", o->client_id ? o->client_id : email,
                            "sub", req->username, "scope", route_oauth_scope(o), "aud", url,
                            "iat", now, "exp", now + 3600),
                  (const unsigned char *)json_string_value(pk), json_string_length(pk), f, "assertion", e);
    }
    /* jansson copied the key into its heap: wipe that copy before it is freed. */
    if (json_is_string(pk))
        sodium_memzero((char *)json_string_value(pk), json_string_length(pk));
    json_decref(j);
    return rc;
}

static int build_body(const struct oauth_request *req, const char *url, const unsigned char *secret,
                      size_t slen, struct form *f, struct oauth_error *e)
{
    const struct route_oauth *o = req->oauth;
    const char *scope = route_oauth_scope(o);

    if (o->provider == ROUTE_OAUTH_GOOGLE)
        return grant_google(req, url, secret, slen, f, e);
    form_adds(f, "grant_type", "client_credentials");
    form_adds(f, "client_id", o->client_id ? o->client_id : "");
    if (*scope)
        form_adds(f, "scope", scope);
    if (o->client_key || (o->client_cert_file && o->client_secret == NULL))
        return grant_assertion(req, url, secret, slen, f, e);
    form_add(f, "client_secret", (const char *)secret, slen);
    return 0;
}

/* An access token is a b64token (RFC 6750 §2.1): it goes into a SASL line. */
static bool token_chars_ok(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c <= 0x20 || c >= 0x7f)
            return false;
    }
    return true;
}

static void json_wipe_string(json_t *v)
{
    if (json_is_string(v))
        sodium_memzero((char *)json_string_value(v), json_string_length(v));
}

int oauth_response_parse(int http_status, const char *body, size_t len, struct oauth_token *tok,
                         struct oauth_error *e)
{
    json_t *j = json_loadb(body, len, 0, NULL);
    json_t *at = json_is_object(j) ? json_object_get(j, "access_token") : NULL;
    json_t *exp = json_is_object(j) ? json_object_get(j, "expires_in") : NULL;
    const char *type = json_is_object(j) ? json_string_value(json_object_get(j, "token_type")) : NULL;
    int rc = -1;

    memset(tok, 0, sizeof(*tok));
    memset(e, 0, sizeof(*e));
    if (http_status == 200 && json_is_string(at)) {
        size_t tl = json_string_length(at);

        if (!token_chars_ok(json_string_value(at), tl) || tl > 64 * 1024) {
            oauth_error_local(e, "oauth_token_failed", "the token endpoint's access_token is not a bearer "
                              "token (bad characters or %zu bytes long)", tl);
        } else if (type && strcasecmp(type, "Bearer") != 0) {
            oauth_error_local(e, "oauth_token_failed", "token_type is \"%.40s\", not Bearer", type);
        } else if ((tok->data = sodium_malloc(tl + 1)) == NULL) {
            oauth_error_local(e, "oauth_token_failed", "sodium_malloc failed");
        } else {
            memcpy(tok->data, json_string_value(at), tl + 1);
            tok->len = tl;
            tok->alloc = tl + 1;
            tok->lifetime = 3600;       /* RFC 6749 makes expires_in optional */
            if (json_is_integer(exp) && json_integer_value(exp) > 0)
                tok->lifetime = (long)(json_integer_value(exp) > 86400 * 365 ? 86400 * 365 : json_integer_value(exp));
            else if (json_is_string(exp) && atol(json_string_value(exp)) > 0)
                tok->lifetime = atol(json_string_value(exp));   /* some providers quote it */
            rc = 0;
        }
    } else if (json_is_object(j) && json_is_string(json_object_get(j, "error"))) {
        oauth_error_classify(e, http_status, json_string_value(json_object_get(j, "error")),
                             json_string_value(json_object_get(j, "error_description")));
    } else if (http_status == 200) {
        oauth_error_local(e, "oauth_token_failed", "the token endpoint answered 200 without an access_token");
    } else {
        char excerpt[200];
        size_t n = 0;

        /* Not JSON: a proxy's or a gateway's page; a short printable excerpt. */
        for (size_t i = 0; i < len && n + 1 < sizeof(excerpt); i++)
            excerpt[n++] = body[i] >= 0x20 && body[i] < 0x7f ? body[i] : ' ';
        excerpt[n] = 0;
        oauth_error_classify(e, http_status, NULL, n ? excerpt : NULL);
    }
    json_wipe_string(at);
    json_decref(j);
    return rc;
}

int oauth_fetch(const struct oauth_request *req, struct oauth_token *tok, struct oauth_error *e)
{
    const struct route_oauth *o = req->oauth;
    const unsigned char *secret = req->secret;
    size_t slen = req->secret_len;
    unsigned char *opened = NULL;
    size_t olen = 0;
    struct form f = { NULL, 0, 0, false };
    struct oauth_http_reply reply;
    char urlbuf[512], err[512];
    const char *url = route_oauth_token_url(o, urlbuf, sizeof(urlbuf));
    int rc = -1;

    memset(tok, 0, sizeof(*tok));
    memset(e, 0, sizeof(*e));
    if (secret == NULL) {
        const char *token = NULL, *field = oauth_secret_field(o, &token);

        if (req->vault == NULL || token == NULL
            || vault_open(req->vault, req->seal_tenant ? req->seal_tenant : "", field, token, &opened,
                          &olen, err, sizeof(err)) != VAULT_OK) {
            oauth_error_local(e, "secret_unavailable", "cannot open the sealed %s: %s", field,
                              req->vault && token ? err : "no keyring or no secret");
            return -1;
        }
        secret = opened;
        slen = olen;
    }
    rc = build_body(req, url, secret, slen, &f, e);
    vault_plain_free(opened, olen);     /* the secret is in the body now, or not needed */
    if (rc < 0)
        goto out;
    rc = -1;
    if (f.failed) {
        oauth_error_local(e, "oauth_token_failed", "sodium_malloc failed");
        goto out;
    }
    if (oauth_http_post(url, req->ca_file, req->policy, f.buf, f.len, req->timeout_ms, &reply, err,
                        sizeof(err)) < 0) {
        oauth_error_local(e, strncmp(err, "route_policy:", 13) == 0 ? "route_policy" : "oauth_token_failed",
                          "token endpoint %s: %s", url, err);
        goto out;
    }
    rc = oauth_response_parse((int)reply.status, reply.body, reply.len, tok, e);
    if (rc < 0)
        e->retry_after = reply.retry_after;
    oauth_http_reply_free(&reply);
    if (rc == 0)
        msg_info("-", "oauth token obtained url=%s client=%s provider=%s expires_in=%ld", url,
                 o->client_id ? o->client_id : "-", route_oauth_provider_names[o->provider], tok->lifetime);
    else
        msg_warn("-", "oauth token refused url=%s client=%s code=%s detail=\"%s\"", url,
                 o->client_id ? o->client_id : "-", e->code, e->detail);
out:
    oauth_secret_free(f.buf, f.alloc);
    return rc;
}

void oauth_token_free(struct oauth_token *t)
{
    oauth_secret_free(t->data, t->alloc);
    memset(t, 0, sizeof(*t));
}
