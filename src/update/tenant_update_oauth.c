/*
 * tenant_update_oauth.c - the one merge of an OAuth2 settings change over
 * a route (tenant_update.h), shared by tenantrelayctl's flags and the HTTP
 * API's JSON so that the two can never drift apart.
 */
#include "config.h"

#include <string.h>

#include "tenantrelay/mymalloc.h"
#include "tenantrelay/oauth.h"
#include "tenantrelay/tenant_update.h"
#include "update_int.h"

void tenant_update_oauth_init(struct tenant_update_oauth *o)
{
    memset(o, 0, sizeof(*o));
    o->auth = o->provider = -1;
}

void tenant_update_oauth_merge(struct route *r, const struct tenant_update_oauth *o, struct dbuf *changed)
{
    struct route_oauth *g = &r->oauth;

    if (o->auth >= 0 && (enum route_auth)o->auth != r->auth) {
        r->auth = (enum route_auth)o->auth;
        dbuf_append_list(changed, "auth");
        if (r->auth == ROUTE_AUTH_PASSWORD) {
            route_oauth_free(g);
            dbuf_append_list(changed, "oauth");
        } else if (r->password) {
            myfree(r->password);        /* the token replaces the password */
            r->password = NULL;
            dbuf_append_list(changed, "password");
        }
    }
    if (o->provider >= 0 && (enum route_oauth_provider)o->provider != g->provider) {
        g->provider = (enum route_oauth_provider)o->provider;
        dbuf_append_list(changed, "oauth.provider");
    }
    tenant_update_set_string(&g->directory, o->directory, "oauth.directory", changed);
    tenant_update_set_string(&g->token_url, o->token_url, "oauth.token_url", changed);
    tenant_update_set_string(&g->client_id, o->client_id, "oauth.client_id", changed);
    tenant_update_set_string(&g->client_cert_file, o->client_cert_file, "oauth.client_cert_file", changed);
    tenant_update_set_string(&g->scope, o->scope, "oauth.scope", changed);
    tenant_update_set_string(&g->assertion_alg, o->assertion_alg, "oauth.assertion_alg", changed);
}

int tenant_update_oauth_seal(struct route *r, const struct vault *v, const char *id, const char *field,
                             const unsigned char *secret, size_t len, struct dbuf *changed, char *err,
                             size_t errlen)
{
    struct route_oauth *g = &r->oauth;
    char **slot, *token = NULL;
    const char *name;

    if (strcmp(field, OAUTH_FIELD_CLIENT_SECRET) == 0) {
        slot = &g->client_secret;
        name = "oauth.client_secret";
    } else if (strcmp(field, OAUTH_FIELD_CLIENT_KEY) == 0) {
        slot = &g->client_key;
        name = "oauth.client_key";
    } else {
        slot = &g->service_account;
        name = "oauth.service_account";
    }
    if (vault_seal(v, id, field, secret, len, &token, err, errlen) < 0)
        return -1;
    myfree(*slot);
    *slot = token;
    /* A secret of one kind replaces the other (secret vs certificate). */
    if (slot != &g->client_secret && g->client_secret) {
        myfree(g->client_secret);
        g->client_secret = NULL;
    }
    if (slot == &g->client_secret && g->client_key) {
        myfree(g->client_key);
        myfree(g->client_cert_file);
        g->client_key = g->client_cert_file = NULL;
    }
    dbuf_append_list(changed, name);
    return 0;
}
