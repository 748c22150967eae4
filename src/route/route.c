/*
 * route.c - route fields: defaults, parsing and validation (see route.h).
 */
#include "config.h"

#include <string.h>

#include "tenantrelay/mailaddr.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/route.h"
#include "tenantrelay/str.h"

const char *const route_keys[] = {
    "host", "port", "tls", "username", "password", "sender", "ca_file", "tls_verify",
    "rewrite_sender", "rewrite_from", "max_connections", "rate_limit", "bind_address",
    "insecure_plaintext", "auth", "oauth", NULL,
};

const char *const route_tls_names[] = { "implicit", "starttls", "none", NULL };

enum route_tls route_tls_for_port(int port)
{
    return port == 465 ? ROUTE_TLS_IMPLICIT : ROUTE_TLS_STARTTLS;
}

void route_init(struct route *r)
{
    memset(r, 0, sizeof(*r));
    r->port = 25;
    r->tls = ROUTE_TLS_STARTTLS;
    r->tls_verify = true;
    r->rewrite_sender = true;
    r->rewrite_from = true;
    r->max_connections = 4;
}

int route_parse(const config_setting_t *g, struct route *r, bool require_host,
                struct conf_error *err)
{
    long long v;
    int tls = -1;
    int rc;

    if (conf_get_nonempty(g, "host", &r->host, err) < 0)
        return -1;
    if ((rc = conf_get_int(g, "port", 1, 65535, &v, err)) < 0)
        return -1;
    if (rc == 0)
        r->port = (int)v;
    if (conf_get_enum(g, "tls", route_tls_names, &tls, err) < 0)
        return -1;
    r->tls = tls >= 0 ? (enum route_tls)tls : route_tls_for_port(r->port);
    if (conf_get_string(g, "username", &r->username, err) < 0
        || conf_get_string(g, "password", &r->password, err) < 0
        || conf_get_string(g, "sender", &r->sender, err) < 0
        || conf_get_nonempty(g, "ca_file", &r->ca_file, err) < 0
        || conf_get_string(g, "bind_address", &r->bind_address, err) < 0
        || conf_get_bool(g, "tls_verify", &r->tls_verify, err) < 0
        || conf_get_bool(g, "rewrite_sender", &r->rewrite_sender, err) < 0
        || conf_get_bool(g, "rewrite_from", &r->rewrite_from, err) < 0
        || conf_get_bool(g, "insecure_plaintext", &r->insecure_plaintext, err) < 0)
        return -1;
    if ((rc = conf_get_int(g, "max_connections", 1, 1000, &v, err)) < 0)
        return -1;
    if (rc == 0)
        r->max_connections = (int)v;
    if ((rc = conf_get_int(g, "rate_limit", 0, 1000000, &v, err)) < 0)
        return -1;
    if (rc == 0)
        r->rate_limit = (int)v;

    /* Empty optional strings mean "not set". */
    if (r->username && !*r->username) { myfree(r->username); r->username = NULL; }
    if (r->password && !*r->password) { myfree(r->password); r->password = NULL; }
    if (r->bind_address && !*r->bind_address) { myfree(r->bind_address); r->bind_address = NULL; }

    if (require_host && r->host == NULL) {
        conf_errorf(err, g, "key 'host' is required");
        return -1;
    }
    if (r->host && !mailaddr_is_hostname(r->host) && strchr(r->host, ':') == NULL) {
        conf_errorf(err, config_setting_get_member(g, "host"), "key 'host': \"%s\" is not a host name",
                    r->host);
        return -1;
    }
    if (require_host && (r->sender == NULL || !*r->sender)) {
        conf_errorf(err, g, "key 'sender' is required");
        return -1;
    }
    if (r->sender && !mailaddr_is_valid(r->sender, false)) {
        conf_errorf(err, config_setting_get_member(g, "sender"),
                    "key 'sender': \"%s\" is not a valid address", r->sender);
        return -1;
    }
    if (route_oauth_parse(g, r, err) < 0)
        return -1;
    if (r->auth == ROUTE_AUTH_PASSWORD && (r->username == NULL) != (r->password == NULL)) {
        conf_errorf(err, g, "keys 'username' and 'password' go together");
        return -1;
    }
    if (r->tls == ROUTE_TLS_NONE && !r->insecure_plaintext) {
        conf_errorf(err, config_setting_get_member(g, "tls"),
                    "key 'tls': \"none\" requires insecure_plaintext = true");
        return -1;
    }
    if (r->tls == ROUTE_TLS_NONE && r->username) {
        conf_errorf(err, config_setting_get_member(g, "tls"),
                    "key 'tls': \"none\" cannot carry a username and password (AUTH is never sent in plaintext)");
        return -1;
    }
    return 0;
}


bool route_equal(const struct route *a, const struct route *b)
{
    return str_same(a->host, b->host) && a->port == b->port && a->tls == b->tls
        && str_same(a->username, b->username) && str_same(a->password, b->password)
        && str_same(a->sender, b->sender) && str_same(a->ca_file, b->ca_file)
        && a->tls_verify == b->tls_verify && a->rewrite_sender == b->rewrite_sender
        && a->rewrite_from == b->rewrite_from && a->max_connections == b->max_connections
        && a->rate_limit == b->rate_limit && str_same(a->bind_address, b->bind_address)
        && a->insecure_plaintext == b->insecure_plaintext && a->auth == b->auth
        && route_oauth_equal(&a->oauth, &b->oauth);
}

void route_copy(struct route *dst, const struct route *src)
{
    *dst = *src;
    dst->host = mystrdup_or_null(src->host);
    dst->username = mystrdup_or_null(src->username);
    dst->password = mystrdup_or_null(src->password);
    dst->sender = mystrdup_or_null(src->sender);
    dst->ca_file = mystrdup_or_null(src->ca_file);
    dst->bind_address = mystrdup_or_null(src->bind_address);
    route_oauth_copy(&dst->oauth, &src->oauth);
}

void route_free(struct route *r)
{
    myfree(r->host);
    myfree(r->username);
    myfree(r->password);
    myfree(r->sender);
    myfree(r->ca_file);
    myfree(r->bind_address);
    route_oauth_free(&r->oauth);
    memset(r, 0, sizeof(*r));
}
