/*
 * route.c - route fields: the key names, defaults, comparison, copy and
 * free (see route.h; parsing in route_parse.c, the rules in route_check.c).
 */
#include "config.h"

#include <string.h>

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
