/*
 * route_parse.c - a route read from a libconfig group (see route_parse.h):
 * the keys' types and names here, every rule of a valid route in
 * route_check(), its problem placed at the offending setting's line.
 */
#include "config.h"

#include <limits.h>

#include "tenantrelay/route_parse.h"

static const config_setting_t *member_or(const config_setting_t *g, const char *name,
                                         const config_setting_t *fallback)
{
    const config_setting_t *s = config_setting_get_member(g, name);

    return s ? s : fallback;
}

/* An int key into *out when present (its range is route_check()'s). */
static int get_int(const config_setting_t *g, const char *name, int *out, struct conf_error *err)
{
    long long v;
    int rc = conf_get_int(g, name, INT_MIN, INT_MAX, &v, err);

    if (rc == 0)
        *out = (int)v;
    return rc < 0 ? -1 : 0;
}

int route_parse(const config_setting_t *g, struct route *r, bool require_host,
                struct conf_error *err)
{
    struct route_problem p;
    int tls = -1;

    if (conf_get_string(g, "host", &r->host, err) < 0
        || get_int(g, "port", &r->port, err) < 0
        || conf_get_enum(g, "tls", route_tls_names, &tls, err) < 0
        || conf_get_string(g, "username", &r->username, err) < 0
        || conf_get_string(g, "password", &r->password, err) < 0
        || conf_get_string(g, "sender", &r->sender, err) < 0
        || conf_get_string(g, "ca_file", &r->ca_file, err) < 0
        || conf_get_string(g, "bind_address", &r->bind_address, err) < 0
        || conf_get_bool(g, "tls_verify", &r->tls_verify, err) < 0
        || conf_get_bool(g, "rewrite_sender", &r->rewrite_sender, err) < 0
        || conf_get_bool(g, "rewrite_from", &r->rewrite_from, err) < 0
        || conf_get_bool(g, "insecure_plaintext", &r->insecure_plaintext, err) < 0
        || get_int(g, "max_connections", &r->max_connections, err) < 0
        || get_int(g, "rate_limit", &r->rate_limit, err) < 0
        || route_oauth_parse(g, r, err) < 0)
        return -1;
    route_normalize(r, tls);
    if (route_check(r, require_host, &p) < 0) {
        /* An invalid value at its own line; a missing key (or a pair) at the group's. */
        conf_errorf(err, p.cls == ROUTE_INVALID ? member_or(g, p.key, g) : g, "%s", p.msg);
        return -1;
    }
    return 0;
}

int route_oauth_parse(const config_setting_t *g, struct route *r, struct conf_error *err)
{
    const config_setting_t *og = config_setting_get_member(g, "oauth");
    struct route_oauth *o = &r->oauth;
    int auth = -1, provider = -1;

    if (conf_get_enum(g, "auth", route_auth_names, &auth, err) < 0)
        return -1;
    r->auth = auth == ROUTE_AUTH_XOAUTH2 ? ROUTE_AUTH_XOAUTH2 : ROUTE_AUTH_PASSWORD;
    if (og == NULL) {
        if (r->auth == ROUTE_AUTH_XOAUTH2) {
            conf_errorf(err, member_or(g, "auth", g), "auth = \"xoauth2\" needs an 'oauth' group");
            return -1;
        }
        return 0;
    }
    if (!config_setting_is_group(og)) {
        conf_errorf(err, og, "key 'oauth' must be a group");
        return -1;
    }
    if (r->auth != ROUTE_AUTH_XOAUTH2) {
        conf_errorf(err, og, "key 'oauth' needs auth = \"xoauth2\"");
        return -1;
    }
    if (conf_check_keys(og, route_oauth_keys, NULL, err) < 0
        || conf_get_enum(og, "provider", route_oauth_provider_names, &provider, err) < 0
        || conf_get_nonempty(og, "directory", &o->directory, err) < 0
        || conf_get_nonempty(og, "token_url", &o->token_url, err) < 0
        || conf_get_nonempty(og, "client_id", &o->client_id, err) < 0
        || conf_get_nonempty(og, "client_secret", &o->client_secret, err) < 0
        || conf_get_nonempty(og, "client_cert_file", &o->client_cert_file, err) < 0
        || conf_get_nonempty(og, "client_key", &o->client_key, err) < 0
        || conf_get_nonempty(og, "service_account", &o->service_account, err) < 0
        || conf_get_nonempty(og, "scope", &o->scope, err) < 0
        || conf_get_nonempty(og, "assertion_alg", &o->assertion_alg, err) < 0)
        return -1;
    if (provider < 0) {
        conf_errorf(err, og, "key 'provider' is required (microsoft, google or generic)");
        return -1;
    }
    o->provider = (enum route_oauth_provider)provider;
    return 0;
}
