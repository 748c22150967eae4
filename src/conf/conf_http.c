/*
 * conf_http.c - the optional `http` and `webhook` groups of
 * tenantrelay.conf (SPEC §8, §9): where the HTTP API listens, its token
 * file and bounds, and where delivery events are posted.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "tenantrelay/conf.h"
#include "tenantrelay/mymalloc.h"

static const char *const http_keys[] = {
    "listen", "api_tokens", "metrics_per_tenant", "tls_cert", "tls_key", "ui", "ui_directory",
    "max_connections", "timeout", "max_body", NULL,
};
static const char *const http_listen_keys[] = { "address", "port", NULL };
static const char *const webhook_keys[] = {
    "url", "secret", "ca_file", "cursor_file", "batch_size", "timeout", "max_backoff", NULL,
};

void conf_http_defaults(struct conf *c)
{
    c->http.api_tokens = mystrdup(SYSCONFDIR "/tenantrelay/api-tokens");
    c->http.ui_directory = mystrdup(DATADIR "/tenantrelay/ui");
    c->http.max_connections = 64;
    c->http.timeout = 60;
    c->http.max_body = 65536;
    c->webhook.batch_size = 100;
    c->webhook.timeout = 10;
    c->webhook.max_backoff = 300;
}

static int parse_http_listen(const config_setting_t *g, struct conf *c, struct conf_error *err)
{
    config_setting_t *l = config_setting_get_member(g, "listen");
    int n = l ? config_setting_length(l) : 0;

    if (l && !config_setting_is_list(l)) {
        conf_errorf(err, l, "key 'listen' must be a list of groups ( { address = ...; port = ...; } )");
        return -1;
    }
    c->http.listen_count = n > 0 ? n : 1;
    c->http.listen = mycalloc((size_t)c->http.listen_count, sizeof(*c->http.listen));
    for (int i = 0; i < c->http.listen_count; i++) {
        config_setting_t *e = n > 0 ? config_setting_get_elem(l, (unsigned)i) : NULL;
        struct conf_listen *ls = &c->http.listen[i];
        long long port = 8025;

        ls->address = mystrdup("127.0.0.1");
        if (e && !config_setting_is_group(e)) {
            conf_errorf(err, e, "key 'listen': element %d must be a group", i);
            return -1;
        }
        if (e && (conf_check_keys(e, http_listen_keys, NULL, err) < 0
                  || conf_get_nonempty(e, "address", &ls->address, err) < 0
                  || conf_get_int(e, "port", 1, 65535, &port, err) < 0))
            return -1;
        ls->port = (int)port;
        if (netaddr_parse_ip(ls->address, ls->port, &ls->sa, &ls->salen) < 0) {
            conf_errorf(err, e ? e : g, "http listen address \"%s\" is not an IPv4 or IPv6 address", ls->address);
            return -1;
        }
        /* Tokens and tenants' passwords cross this socket: TLS off loopback. */
        if (!netaddr_is_loopback((struct sockaddr *)&ls->sa) && c->http.tls_cert == NULL) {
            conf_errorf(err, e ? e : g, "http listen address \"%s\" is not loopback: set tls_cert and tls_key",
                        ls->address);
            return -1;
        }
    }
    return 0;
}

static int parse_http(const config_setting_t *root, struct conf *c, struct conf_error *err)
{
    config_setting_t *g;
    long long v;

    if (conf_get_group(root, "http", &g, err) < 0)
        return -1;
    if (g == NULL)
        return 0;
    c->http.enabled = true;
    if (conf_check_keys(g, http_keys, NULL, err) < 0
        || conf_get_nonempty(g, "api_tokens", &c->http.api_tokens, err) < 0
        || conf_get_bool(g, "metrics_per_tenant", &c->http.metrics_per_tenant, err) < 0
        || conf_get_nonempty(g, "tls_cert", &c->http.tls_cert, err) < 0
        || conf_get_nonempty(g, "tls_key", &c->http.tls_key, err) < 0
        || conf_get_bool(g, "ui", &c->http.ui, err) < 0
        || conf_get_nonempty(g, "ui_directory", &c->http.ui_directory, err) < 0)
        return -1;
    if ((c->http.tls_cert == NULL) != (c->http.tls_key == NULL)) {
        conf_errorf(err, g, "keys 'tls_cert' and 'tls_key' go together");
        return -1;
    }
    v = c->http.max_connections;
    if (conf_get_int(g, "max_connections", 1, 10000, &v, err) < 0)
        return -1;
    c->http.max_connections = (int)v;
    v = c->http.timeout;
    if (conf_get_int(g, "timeout", 1, 3600, &v, err) < 0)
        return -1;
    c->http.timeout = (int)v;
    v = c->http.max_body;
    if (conf_get_int(g, "max_body", 1024, 16777216, &v, err) < 0)
        return -1;
    c->http.max_body = (long)v;
    return parse_http_listen(g, c, err);
}

static int parse_webhook(const config_setting_t *root, struct conf *c, struct conf_error *err)
{
    config_setting_t *g;
    long long v;

    if (conf_get_group(root, "webhook", &g, err) < 0)
        return -1;
    if (g == NULL)
        return 0;
    if (conf_check_keys(g, webhook_keys, NULL, err) < 0
        || conf_get_nonempty(g, "url", &c->webhook.url, err) < 0
        || conf_get_nonempty(g, "secret", &c->webhook.secret, err) < 0
        || conf_get_nonempty(g, "ca_file", &c->webhook.ca_file, err) < 0
        || conf_get_nonempty(g, "cursor_file", &c->webhook.cursor_file, err) < 0)
        return -1;
    if (c->webhook.url == NULL || c->webhook.secret == NULL) {
        conf_errorf(err, g, "the webhook group needs url and secret");
        return -1;
    }
    if (strncmp(c->webhook.url, "https://", 8) != 0 && strncmp(c->webhook.url, "http://127.", 11) != 0) {
        conf_errorf(err, g, "key 'url': \"%s\" must be https:// (plain http only to 127.0.0.0/8)", c->webhook.url);
        return -1;
    }
    v = c->webhook.batch_size;
    if (conf_get_int(g, "batch_size", 1, 10000, &v, err) < 0)
        return -1;
    c->webhook.batch_size = (int)v;
    v = c->webhook.timeout;
    if (conf_get_int(g, "timeout", 1, 600, &v, err) < 0)
        return -1;
    c->webhook.timeout = (int)v;
    v = c->webhook.max_backoff;
    if (conf_get_int(g, "max_backoff", 1, 86400, &v, err) < 0)
        return -1;
    c->webhook.max_backoff = (int)v;
    return 0;
}

int conf_http_parse(const config_setting_t *root, struct conf *c, struct conf_error *err)
{
    return parse_http(root, c, err) < 0 || parse_webhook(root, c, err) < 0 ? -1 : 0;
}

void conf_http_free(struct conf *c)
{
    for (int i = 0; i < c->http.listen_count; i++)
        myfree(c->http.listen[i].address);
    myfree(c->http.listen);
    myfree(c->http.tls_cert);
    myfree(c->http.tls_key);
    myfree(c->http.api_tokens);
    myfree(c->http.ui_directory);
    myfree(c->webhook.url);
    myfree(c->webhook.secret);
    myfree(c->webhook.ca_file);
    myfree(c->webhook.cursor_file);
}
