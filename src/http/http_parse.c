/*
 * http_parse.c - the pure half of the HTTP API: which route a path names,
 * and a PUT body as a tenant update (see http.h).  Unknown fields are
 * errors, so a misspelt field never silently keeps the old value.
 */
#include "config.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "tenantrelay/http.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/route.h"

enum http_route http_route_of(const char *path, char *id, size_t idlen)
{
    static const struct { const char *path; enum http_route r; } fixed[] = {
        { "/metrics", HTTP_R_METRICS }, { "/healthz", HTTP_R_HEALTHZ }, { "/readyz", HTTP_R_READYZ },
        { "/v1/tenants", HTTP_R_TENANTS }, { "/v1/test", HTTP_R_TEST }, { "/v1/status", HTTP_R_STATUS },
        { "/v1/queue", HTTP_R_QUEUE }, { "/v1/events", HTTP_R_EVENTS },
    };
    const char *p, *slash;
    size_t n;

    id[0] = 0;
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (strcmp(path, fixed[i].path) == 0)
            return fixed[i].r;
    if (strcmp(path, "/ui") == 0 || strncmp(path, "/ui/", 4) == 0)
        return HTTP_R_UI;
    if (strncmp(path, "/v1/tenants/", 12) != 0)
        return HTTP_R_NOT_FOUND;
    p = path + 12;
    slash = strchr(p, '/');
    n = slash ? (size_t)(slash - p) : strlen(p);
    if (n == 0 || n >= idlen)
        return HTTP_R_NOT_FOUND;
    memcpy(id, p, n);
    id[n] = 0;
    if (slash == NULL)
        return HTTP_R_TENANT;
    if (strcmp(slash, "/test") == 0)
        return HTTP_R_TENANT_TEST;
    id[0] = 0;
    return HTTP_R_NOT_FOUND;
}

static int str_field(const json_t *body, const char *name, const char **out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(body, name);

    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
        snprintf(err, errlen, "field '%s' must be a string", name);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

static int int_field(const json_t *body, const char *name, long min, long max, long *out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(body, name);

    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        snprintf(err, errlen, "field '%s' must be an integer in %ld..%ld", name, min, max);
        return -1;
    }
    *out = (long)json_integer_value(v);
    return 0;
}

static int list_field(const json_t *body, const char *name, char ***out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(body, name);
    size_t n;

    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_array(v) || (n = json_array_size(v)) > 1000) {
        snprintf(err, errlen, "field '%s' must be an array of at most 1000 strings", name);
        return -1;
    }
    *out = mycalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(v, i);

        if (!json_is_string(e) || strlen(json_string_value(e)) != json_string_length(e)) {
            snprintf(err, errlen, "field '%s': element %zu must be a string", name, i);
            return -1;
        }
        (*out)[i] = mystrdup(json_string_value(e));
    }
    return 0;
}

int http_update_parse(const json_t *body, struct tenant_update *u, char *err, size_t errlen)
{
    static const char *const known[] = {
        "host", "port", "tls", "username", "password", "sender", "domains", "addresses", "ca_file",
        "tls_verify", "max_connections", "rate_limit", "to", "test", "insecure_plaintext", "id",
        "auth", "oauth", NULL,
    };
    const char *key, *tls = NULL, *pw = NULL, *auth = NULL;
    const json_t *v;

    if (!json_is_object(body)) {
        snprintf(err, errlen, "the body must be a JSON object");
        return -1;
    }
    json_object_foreach((json_t *)body, key, v) {
        size_t i = 0;

        while (known[i] && strcmp(known[i], key) != 0)
            i++;
        if (known[i] == NULL) {
            snprintf(err, errlen, "unknown field '%.64s'", key);
            return -1;
        }
    }
    if (str_field(body, "host", &u->host, err, errlen) < 0
        || str_field(body, "username", &u->username, err, errlen) < 0
        || str_field(body, "sender", &u->sender, err, errlen) < 0
        || str_field(body, "ca_file", &u->ca_file, err, errlen) < 0
        || str_field(body, "to", &u->to, err, errlen) < 0
        || str_field(body, "tls", &tls, err, errlen) < 0
        || str_field(body, "password", &pw, err, errlen) < 0
        || str_field(body, "auth", &auth, err, errlen) < 0
        || int_field(body, "port", 1, 65535, &u->port, err, errlen) < 0
        || int_field(body, "max_connections", 1, 1000, &u->max_connections, err, errlen) < 0
        || int_field(body, "rate_limit", 0, 1000000, &u->rate_limit, err, errlen) < 0
        || list_field(body, "domains", &u->domains, err, errlen) < 0
        || list_field(body, "addresses", &u->addresses, err, errlen) < 0)
        return -1;
    if (tls) {
        int i = 0;

        while (route_tls_names[i] && strcmp(route_tls_names[i], tls) != 0)
            i++;
        if (route_tls_names[i] == NULL) {
            snprintf(err, errlen, "field 'tls' must be \"implicit\", \"starttls\" or \"none\"");
            return -1;
        }
        u->tls = i;
    }
    /* auth and oauth are the caller's (http_oauth_parse()). */
    (void)auth;
    if ((v = json_object_get(body, "tls_verify")) && !json_is_null(v)) {
        if (!json_is_boolean(v)) {
            snprintf(err, errlen, "field 'tls_verify' must be true or false");
            return -1;
        }
        u->tls_verify = json_is_true(v);
    }
    if ((v = json_object_get(body, "insecure_plaintext")) && !json_is_null(v)) {
        if (!json_is_boolean(v)) {
            snprintf(err, errlen, "field 'insecure_plaintext' must be true or false");
            return -1;
        }
        u->insecure_plaintext = json_is_true(v);
    }
    if ((v = json_object_get(body, "test")) && !json_is_null(v)) {
        if (!json_is_boolean(v)) {
            snprintf(err, errlen, "field 'test' must be true or false");
            return -1;
        }
        u->no_test = json_is_false(v);
    }
    if (pw) {
        size_t len = strlen(pw);
        unsigned char *s;

        if (len == 0 || len > 1024 || len != json_string_length(json_object_get(body, "password"))) {
            snprintf(err, errlen, "field 'password' must be 1..1024 characters");
            return -1;
        }
        /* The copy in locked memory is the one that lives on. */
        if (sodium_init() < 0 || (s = sodium_malloc(len)) == NULL) {
            snprintf(err, errlen, "out of locked memory");
            return -1;
        }
        memcpy(s, pw, len);
        u->secret = s;
        u->secret_len = len;
    }
    return 0;
}

void http_update_free(struct tenant_update *u)
{
    conf_free_strings(u->domains);
    conf_free_strings(u->addresses);
    if (u->secret)
        sodium_free((void *)u->secret);
    u->domains = u->addresses = NULL;
    u->secret = NULL;
}
