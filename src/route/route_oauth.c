/*
 * route_oauth.c - a route's `auth` key and its `oauth` group (SPEC §3, §8):
 * the checks that each provider has what its grant needs, and the provider
 * defaults (token URL, scope); parsed in route_parse.c.  No secret is opened here: the
 * three secret keys hold sealed tokens.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "tenantrelay/mymalloc.h"
#include "tenantrelay/route.h"
#include "tenantrelay/str.h"
#include "tenantrelay/vault.h"

const char *const route_auth_names[] = { "password", "xoauth2", NULL };
const char *const route_oauth_provider_names[] = { "microsoft", "google", "generic", NULL };
const char *const route_oauth_keys[] = {
    "provider", "directory", "token_url", "client_id", "client_secret", "client_cert_file",
    "client_key", "service_account", "scope", "assertion_alg", NULL,
};

#define MS_TOKEN_URL_FMT "https://login.microsoftonline.com/%s/oauth2/v2.0/token"
#define GOOGLE_TOKEN_URL "https://oauth2.googleapis.com/token"

const char *route_oauth_token_url(const struct route_oauth *o, char *buf, size_t len)
{
    if (o->token_url)
        return o->token_url;
    if (o->provider == ROUTE_OAUTH_MICROSOFT && o->directory) {
        snprintf(buf, len, MS_TOKEN_URL_FMT, o->directory);
        return buf;
    }
    if (o->provider == ROUTE_OAUTH_GOOGLE)
        return GOOGLE_TOKEN_URL;
    return "";
}

const char *route_oauth_scope(const struct route_oauth *o)
{
    if (o->scope)
        return o->scope;
    switch (o->provider) {
    case ROUTE_OAUTH_MICROSOFT:
        return "https://outlook.office365.com/.default";
    case ROUTE_OAUTH_GOOGLE:
        return "https://mail.google.com/";
    default:
        return "";
    }
}

/* A directory id goes into the token URL's path: a GUID or a domain name. */
static bool directory_ok(const char *s)
{
    if (*s == 0 || strlen(s) > 253)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')
              || *s == '-' || *s == '.'))
            return false;
    return true;
}

/* Each provider's grant and what it needs (shared by the config loader and
 * tenantrelayctl, which builds records without libconfig). */
int route_oauth_validate(const struct route *r, char *err, size_t errlen)
{
    const struct route_oauth *o = &r->oauth;
    const char *const secrets[] = { o->client_secret, o->client_key, o->service_account };
    const char *const secret_keys[] = { "client_secret", "client_key", "service_account" };

    if (r->auth != ROUTE_AUTH_XOAUTH2)
        return 0;
    if (o->token_url && strncmp(o->token_url, "https://", 8) != 0) {
        snprintf(err, errlen, "oauth token_url \"%s\" is not an https:// URL (tokens are never "
                 "fetched in plaintext)", o->token_url);
        return -1;
    }
    if (o->assertion_alg && strcmp(o->assertion_alg, "PS256") != 0 && strcmp(o->assertion_alg, "RS256") != 0) {
        snprintf(err, errlen, "oauth assertion_alg \"%s\" must be PS256 or RS256", o->assertion_alg);
        return -1;
    }
    if (o->directory && !directory_ok(o->directory)) {
        snprintf(err, errlen, "oauth directory \"%s\" is not a directory id or domain", o->directory);
        return -1;
    }
    for (int i = 0; i < 3; i++) {
        if (secrets[i] && !vault_token_looks_sealed(secrets[i])) {
            snprintf(err, errlen, "oauth %s must be a sealed token (tenantrelayctl seal --field "
                     "oauth_%s), never the secret itself", secret_keys[i], secret_keys[i]);
            return -1;
        }
    }
    switch (o->provider) {
    case ROUTE_OAUTH_MICROSOFT:
        if (o->directory == NULL && o->token_url == NULL) {
            snprintf(err, errlen, "oauth provider \"microsoft\" needs 'directory' (or 'token_url')");
            return -1;
        }
        if (o->client_id == NULL) {
            snprintf(err, errlen, "oauth provider \"microsoft\" needs 'client_id'");
            return -1;
        }
        if ((o->client_secret == NULL) == (o->client_key == NULL)) {
            snprintf(err, errlen, "oauth provider \"microsoft\" needs either 'client_secret' or "
                     "'client_key' with 'client_cert_file' (one of them)");
            return -1;
        }
        if ((o->client_key == NULL) != (o->client_cert_file == NULL)) {
            snprintf(err, errlen, "oauth keys 'client_key' and 'client_cert_file' go together");
            return -1;
        }
        break;
    case ROUTE_OAUTH_GOOGLE:
        if (o->service_account == NULL) {
            snprintf(err, errlen, "oauth provider \"google\" needs 'service_account' (the sealed JSON key)");
            return -1;
        }
        break;
    case ROUTE_OAUTH_GENERIC:
        if (o->token_url == NULL || o->client_id == NULL || o->client_secret == NULL) {
            snprintf(err, errlen, "oauth provider \"generic\" needs 'token_url', 'client_id' and "
                     "'client_secret'");
            return -1;
        }
        break;
    }
    if (r->username == NULL || *r->username == 0) {
        snprintf(err, errlen, "auth \"xoauth2\" needs 'username' (the mailbox the token sends as)");
        return -1;
    }
    if (r->password) {
        snprintf(err, errlen, "auth \"xoauth2\" takes no 'password' (the token comes from the oauth group)");
        return -1;
    }
    return 0;
}

bool route_oauth_equal(const struct route_oauth *a, const struct route_oauth *b)
{
    return a->provider == b->provider && str_same(a->directory, b->directory)
           && str_same(a->token_url, b->token_url) && str_same(a->client_id, b->client_id)
           && str_same(a->client_secret, b->client_secret) && str_same(a->client_cert_file, b->client_cert_file)
           && str_same(a->client_key, b->client_key) && str_same(a->service_account, b->service_account)
           && str_same(a->scope, b->scope) && str_same(a->assertion_alg, b->assertion_alg);
}

bool route_oauth_settings_differ(const struct route *a, const struct route *b)
{
    const struct route_oauth *x = &a->oauth, *y = &b->oauth;

    /* Sealed secrets differ by nonce on every sealing: only whether each
     * is present counts (the caller compares the secrets it was given). */
    return a->auth != b->auth || x->provider != y->provider || !str_same(x->directory, y->directory)
           || !str_same(x->token_url, y->token_url) || !str_same(x->client_id, y->client_id)
           || !str_same(x->client_cert_file, y->client_cert_file) || !str_same(x->scope, y->scope)
           || !str_same(x->assertion_alg, y->assertion_alg)
           || (x->client_secret == NULL) != (y->client_secret == NULL)
           || (x->client_key == NULL) != (y->client_key == NULL)
           || (x->service_account == NULL) != (y->service_account == NULL);
}

void route_oauth_copy(struct route_oauth *dst, const struct route_oauth *src)
{
    dst->provider = src->provider;
    dst->directory = mystrdup_or_null(src->directory);
    dst->token_url = mystrdup_or_null(src->token_url);
    dst->client_id = mystrdup_or_null(src->client_id);
    dst->client_secret = mystrdup_or_null(src->client_secret);
    dst->client_cert_file = mystrdup_or_null(src->client_cert_file);
    dst->client_key = mystrdup_or_null(src->client_key);
    dst->service_account = mystrdup_or_null(src->service_account);
    dst->scope = mystrdup_or_null(src->scope);
    dst->assertion_alg = mystrdup_or_null(src->assertion_alg);
}

void route_oauth_free(struct route_oauth *o)
{
    myfree(o->directory);
    myfree(o->token_url);
    myfree(o->client_id);
    myfree(o->client_secret);
    myfree(o->client_cert_file);
    myfree(o->client_key);
    myfree(o->service_account);
    myfree(o->scope);
    myfree(o->assertion_alg);
    memset(o, 0, sizeof(*o));
}
