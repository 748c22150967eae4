/*
 * http_oauth.c - the auth and oauth fields of PUT /v1/tenants/{id} (SPEC
 * §8, §9): parsed from the body, merged into the record tenant_update
 * builds (a merge callback), the secret (client_secret, client_key PEM or
 * service_account JSON, in clear in the request) sealed at once under its
 * own field with the daemon's keyring.  Fields left out keep their values;
 * "" clears an optional one.  A secret never comes back.
 */
#include "config.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "tenantrelay/mymalloc.h"
#include "tenantrelay/oauth.h"
#include "tenantrelay/str.h"
#include "tenantrelay/tenant_update.h"
#include "http_int.h"

static const char *const oauth_keys[] = {
    "provider", "directory", "token_url", "client_id", "client_secret", "client_cert_file", "client_key",
    "service_account", "scope", "assertion_alg", NULL,
};

static int str_of(const json_t *o, const char *name, const char **out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(o, name);

    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
        snprintf(err, errlen, "field 'oauth.%s' must be a string", name);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

int http_oauth_parse(const json_t *body, struct http_oauth *o, char *err, size_t errlen)
{
    const json_t *a = json_object_get(body, "auth"), *g = json_object_get(body, "oauth");
    static const struct { const char *name, *field; } secrets[] = {
        { "client_secret", OAUTH_FIELD_CLIENT_SECRET }, { "client_key", OAUTH_FIELD_CLIENT_KEY },
        { "service_account", OAUTH_FIELD_SERVICE_ACCOUNT },
    };
    const char *key, *s = NULL;
    const json_t *v;

    memset(o, 0, sizeof(*o));
    o->auth = o->provider = -1;
    if (a && !json_is_null(a)) {
        if (!json_is_string(a) || (o->auth = str_index(route_auth_names, json_string_value(a))) < 0) {
            snprintf(err, errlen, "field 'auth' must be \"password\" or \"xoauth2\"");
            return -1;
        }
        o->given = true;
    }
    if (g == NULL || json_is_null(g))
        return 0;
    if (!json_is_object(g)) {
        snprintf(err, errlen, "field 'oauth' must be an object");
        return -1;
    }
    o->given = true;
    json_object_foreach((json_t *)g, key, v) {
        if (str_index(oauth_keys, key) < 0) {
            snprintf(err, errlen, "unknown field 'oauth.%.64s'", key);
            return -1;
        }
    }
    if (str_of(g, "provider", &s, err, errlen) < 0 || str_of(g, "directory", &o->directory, err, errlen) < 0
        || str_of(g, "token_url", &o->token_url, err, errlen) < 0
        || str_of(g, "client_id", &o->client_id, err, errlen) < 0
        || str_of(g, "client_cert_file", &o->client_cert_file, err, errlen) < 0
        || str_of(g, "scope", &o->scope, err, errlen) < 0
        || str_of(g, "assertion_alg", &o->assertion_alg, err, errlen) < 0)
        return -1;
    if (s && (o->provider = str_index(route_oauth_provider_names, s)) < 0) {
        snprintf(err, errlen, "field 'oauth.provider' must be \"microsoft\", \"google\" or \"generic\"");
        return -1;
    }
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
        const char *clear = NULL;
        size_t len;

        if (str_of(g, secrets[i].name, &clear, err, errlen) < 0)
            return -1;
        if (clear == NULL)
            continue;
        if (o->secret) {
            snprintf(err, errlen, "give one of oauth.client_secret, oauth.client_key, oauth.service_account");
            return -1;
        }
        if ((len = strlen(clear)) == 0 || len > 65536) {
            snprintf(err, errlen, "field 'oauth.%s' must be 1..65536 characters", secrets[i].name);
            return -1;
        }
        if (sodium_init() < 0 || (o->secret = sodium_malloc(len)) == NULL) {
            snprintf(err, errlen, "out of locked memory");
            return -1;
        }
        memcpy(o->secret, clear, len);
        o->secret_len = len;
        o->secret_field = secrets[i].field;
    }
    return 0;
}

void http_oauth_free(struct http_oauth *o)
{
    if (o->secret)
        sodium_free(o->secret);
    o->secret = NULL;
}

int http_oauth_merge(const char *id, struct route *r, struct dbuf *changed, char *err, size_t errlen, void *arg)
{
    struct http_oauth_merge *m = arg;
    const struct http_oauth *o = m->req;
    const struct tenant_update_oauth settings = {
        o->auth, o->provider, o->directory, o->token_url, o->client_id, o->client_cert_file, o->scope,
        o->assertion_alg,
    };

    if (!o->given)
        return 0;
    tenant_update_oauth_merge(r, &settings, changed);
    if (o->secret == NULL)
        return 0;
    if (r->auth != ROUTE_AUTH_XOAUTH2) {
        snprintf(err, errlen, "an OAuth2 secret needs \"auth\": \"xoauth2\"");
        return EX_USAGE;
    }
    if (m->vault == NULL) {
        snprintf(err, errlen, "no keyring to seal the OAuth2 secret with");
        return EX_CONFIG;
    }
    if (tenant_update_oauth_seal(r, m->vault, id, o->secret_field, o->secret, o->secret_len, changed, err,
                                 errlen) < 0)
        return EX_DATAERR;
    return 0;
}


