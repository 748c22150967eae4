/*
 * http_probe.c - POST /v1/test (SPEC §9): the connectivity probe of
 * settings given in the body, never saved, as `tenantrelayctl test --host
 * ...` runs it (ctl_test.c).  The body takes PUT /v1/tenants/{id}'s field
 * names, "auth" and "oauth" included; the route they make is checked by
 * route_check(), the one validator, under the configured tenant route
 * policy.
 *
 * Secrets: the password or OAuth2 secret of the body stays open in locked
 * memory and is handed to the probe (which wipes it after AUTH or the
 * token step); it is never sealed or stored.  The checks want a sealed
 * token in its place, so a placeholder with a sealed token's shape stands
 * in for it, as in ctl_oauth_test_route().
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "tenantrelay/dbuf.h"
#include "tenantrelay/mailaddr.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/oauth.h"
#include "tenantrelay/probe.h"
#include "tenantrelay/route.h"
#include "tenantrelay/tenant_update.h"
#include "http_int.h"

/* Stands in for the open secret in the route the checks see; never opened. */
#define OPEN_SECRET_PLACEHOLDER "trv1:open:-"

static char *dup_given(const char *s)
{
    return s && *s ? mystrdup(s) : NULL;
}

/* The route the body describes, its secrets replaced by the placeholder.
 * 0, or -1 with why in err. */
static int settings_route(const json_t *body, const struct tenant_update *u, const struct http_oauth *oauth,
                          struct route *rt, char *err, size_t errlen)
{
    rt->host = mystrdup(u->host);
    rt->port = u->port > 0 ? (int)u->port : 25;
    rt->tls = u->tls >= 0 ? (enum route_tls)u->tls : route_tls_for_port(rt->port);
    rt->username = dup_given(u->username);
    rt->sender = mystrdup(u->sender);
    rt->ca_file = dup_given(u->ca_file);
    rt->tls_verify = u->tls_verify != 0;
    rt->insecure_plaintext = u->insecure_plaintext;
    if (u->secret)
        rt->password = mystrdup(OPEN_SECRET_PLACEHOLDER);
    if (oauth->given) {
        const struct tenant_update_oauth settings = {
            oauth->auth, oauth->provider, oauth->directory, oauth->token_url, oauth->client_id,
            oauth->client_cert_file, oauth->scope, oauth->assertion_alg,
        };
        struct dbuf ignored = DBUF_INIT;

        tenant_update_oauth_merge(rt, &settings, &ignored);
        dbuf_free(&ignored);
    }
    if (rt->auth != ROUTE_AUTH_XOAUTH2) {
        /* Nothing stored to fall back on: an oauth object is for xoauth2. */
        if (json_object_get(body, "oauth") && !json_is_null(json_object_get(body, "oauth"))) {
            snprintf(err, errlen, "field 'oauth' needs \"auth\": \"xoauth2\"");
            return -1;
        }
        return 0;
    }
    if (u->secret && rt->password == NULL) {
        /* The merge to xoauth2 dropped it: still refused, by name. */
        snprintf(err, errlen, "auth \"xoauth2\" takes no 'password' (the token comes from the oauth group)");
        return -1;
    }
    if (oauth->secret) {
        struct route_oauth *o = &rt->oauth;
        char **slot = strcmp(oauth->secret_field, OAUTH_FIELD_CLIENT_KEY) == 0 ? &o->client_key
                      : strcmp(oauth->secret_field, OAUTH_FIELD_SERVICE_ACCOUNT) == 0 ? &o->service_account
                      : &o->client_secret;

        myfree(*slot);
        *slot = mystrdup(OPEN_SECRET_PLACEHOLDER);
    }
    return 0;
}

json_t *http_probe_settings(const struct conf *conf, const json_t *body, int *status, char *err, size_t errlen)
{
    struct tenant_update u;
    struct http_oauth oauth;
    struct probe_options o;
    struct probe_report rep;
    struct route_problem p;
    struct route rt;
    json_t *out = NULL;

    *status = 400;
    tenant_update_init(&u);
    memset(&oauth, 0, sizeof(oauth));
    route_init(&rt);
    if (body == NULL) {
        snprintf(err, errlen, "a JSON body with host and sender is needed");
        goto out;
    }
    if (http_update_parse(body, &u, err, errlen) < 0 || http_oauth_parse(body, &oauth, err, errlen) < 0)
        goto out;
    if (u.host == NULL || u.sender == NULL) {
        snprintf(err, errlen, "host and sender are needed");
        goto out;
    }
    if (settings_route(body, &u, &oauth, &rt, err, errlen) < 0)
        goto out;
    if (route_check(&rt, true, &p) < 0) {
        snprintf(err, errlen, "%s", p.msg);
        goto out;
    }
    if (u.to && !mailaddr_is_valid(u.to, false)) {
        snprintf(err, errlen, "field 'to': \"%.200s\" is not a valid address", u.to);
        goto out;
    }
    memset(&o, 0, sizeof(o));
    o.host = rt.host;
    o.port = rt.port;
    o.tls = u.tls >= 0 ? (enum probe_tls)u.tls : PROBE_TLS_AUTO;
    o.insecure_plaintext = rt.insecure_plaintext;
    o.ca_file = rt.ca_file;
    o.tls_verify = rt.tls_verify;
    o.helo_name = conf->hostname;
    o.username = rt.username;
    o.auth = rt.auth;
    o.oauth = &rt.oauth;
    o.policy = &conf->tenant_route_policy;
    o.tenant = "test";
    o.sender = rt.sender;
    o.to = u.to;
    /* The probe takes the open secret over and wipes it (after AUTH, or
     * the token step of an OAuth2 route). */
    if (rt.auth == ROUTE_AUTH_XOAUTH2) {
        o.password = oauth.secret;
        o.password_len = oauth.secret_len;
        oauth.secret = NULL;
    } else if (u.secret) {
        o.password = (unsigned char *)u.secret;
        o.password_len = u.secret_len;
        u.secret = NULL;
    }
    probe_run(&o, &rep);
    out = probe_report_json(&rep);
    probe_report_free(&rep);
    *status = 200;
out:
    route_free(&rt);
    http_update_free(&u);
    http_oauth_free(&oauth);
    return out;
}
