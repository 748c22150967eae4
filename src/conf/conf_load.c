/*
 * conf_load.c - parse and validate tenantrelay.conf (see conf.h).
 *
 * Every key of the reference configuration (SPEC §8) is recognised here;
 * anything else is an error, so a misspelt key never silently falls back
 * to a default.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tenantrelay/conf.h"
#include "tenantrelay/mailaddr.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/route_parse.h"
#include "tenantrelay/str.h"

static const char *const top_keys[] = {
    "hostname", "user", "listen", "allowed_networks", "spool_directory", "control_socket",
    "events_file", "tenant_store", "change_log", "key_file", "key_credential",
    "tenant_resolution", "tenant_header", "unknown_tenant", "bare_lf", "limits", "retry",
    "default_route", "milter", "delivery", "tenant_store_poll", "tenant_route_policy", "http", "webhook", NULL,
};
static const char *const delivery_keys[] = {
    "connect_timeout", "command_timeout", "data_timeout", "idle_timeout",
    "messages_per_session", NULL,
};
static const char *const listen_keys[] = { "address", "port", "tls_cert", "tls_key", NULL };
static const char *const limits_keys[] = {
    "max_sessions", "max_sessions_per_client", "max_message_size", "max_recipients",
    "max_line_length", "command_timeout", "data_timeout", "min_data_rate", "stress_command_timeout",
    NULL,
};
static const char *const retry_keys[] = {
    "schedule", "max_age", "failed_retention", "auth_failures_before_hold", NULL,
};
static const char *const milter_keys[] = { "socket", "socket_mode", "trusted_networks", NULL };
static const char *const resolve_names[] = { "header", "sender", "auth", NULL };
static const char *const unknown_names[] = { "default", "reject", "tempfail", NULL };
static const char *const bare_lf_names[] = { "normalize", "reject", NULL };

static void set_defaults(struct conf *c)
{
    char host[256] = "localhost";

    gethostname(host, sizeof(host) - 1);
    c->hostname = mystrdup(host);
    c->user = mystrdup("tenantrelay");
    c->spool_directory = mystrdup(LOCALSTATEDIR "/spool/tenantrelay");
    c->control_socket = mystrdup(RUNSTATEDIR "/tenantrelay/control.sock");
    c->events_file = mystrdup(LOCALSTATEDIR "/log/tenantrelay/events.jsonl");
    c->tenant_store = mystrdup(SYSCONFDIR "/tenantrelay/tenants");
    c->change_log = mystrdup(LOCALSTATEDIR "/log/tenantrelay/tenant-changes.log");
    c->tenant_store_poll = 30;
    c->key_file = mystrdup(SYSCONFDIR "/tenantrelay/master.key");
    c->resolution[0] = CONF_RESOLVE_HEADER;
    c->resolution[1] = CONF_RESOLVE_SENDER;
    c->resolution_count = 2;
    c->tenant_header = mystrdup("X-Tenant-ID");
    c->unknown_tenant = CONF_UNKNOWN_DEFAULT;
    c->bare_lf = CONF_BARE_LF_NORMALIZE;
    c->limits.max_sessions = 256;
    c->limits.max_sessions_per_client = -1;     /* auto: see parse_limits() */
    c->limits.max_message_size = 26214400;
    c->limits.max_recipients = 100;
    c->limits.max_line_length = 65536;
    c->limits.command_timeout = 300;
    c->limits.data_timeout = 600;
    c->limits.min_data_rate = 1024;
    c->limits.stress_command_timeout = 10;
    static const int schedule[] = { 60, 300, 900, 1800, 3600 };
    c->retry.schedule_len = 5;
    c->retry.schedule = mymalloc(sizeof(schedule));
    memcpy(c->retry.schedule, schedule, sizeof(schedule));
    c->retry.max_age = 432000;
    c->retry.failed_retention = 604800;
    c->retry.auth_failures_before_hold = 3;
    route_init(&c->default_route);
    route_policy_init(&c->tenant_route_policy);
    c->delivery.connect_timeout = 30;
    c->delivery.command_timeout = 300;
    c->delivery.data_timeout = 600;
    c->delivery.idle_timeout = 10;
    c->delivery.messages_per_session = 100;
    c->milter.socket = mystrdup("unix:/var/spool/postfix/tenantrelay/milter.sock");
    c->milter.socket_mode = 0660;
    c->milter.trusted_networks = mycalloc(1, sizeof(*c->milter.trusted_networks));
    c->milter.trusted_count = 1;
    if (netaddr_parse_cidr("127.0.0.0/8", &c->milter.trusted_networks[0]) < 0)
        c->milter.trusted_count = 0;
}

/* Parse a list of CIDR strings into nets. */
static int parse_networks(const config_setting_t *g, const char *name,
                          struct netaddr_cidr **nets, int *count, struct conf_error *err)
{
    char **v = NULL;
    int n = 0;
    int rc = conf_get_strings(g, name, &v, &n, err);

    if (rc != 0)
        return rc;
    myfree(*nets);
    *nets = mycalloc((size_t)n, sizeof(**nets));
    *count = n;
    for (int i = 0; i < n; i++) {
        if (netaddr_parse_cidr(v[i], &(*nets)[i]) < 0) {
            conf_errorf(err, config_setting_get_elem(config_setting_get_member(g, name), (unsigned)i),
                        "key '%s': \"%s\" is not an address or network", name, v[i]);
            conf_free_strings(v);
            return -1;
        }
    }
    conf_free_strings(v);
    return 0;
}

static int parse_listen(const config_setting_t *root, struct conf *c, struct conf_error *err)
{
    config_setting_t *l = config_setting_get_member(root, "listen");
    int n;

    if (l == NULL) {
        c->listen = mycalloc(1, sizeof(*c->listen));
        c->listen_count = 1;
        c->listen[0].address = mystrdup("127.0.0.1");
        c->listen[0].port = 25;
    } else {
        if (!config_setting_is_list(l) && !config_setting_is_array(l)) {
            conf_errorf(err, l, "key 'listen' must be a list of groups ( { address = ...; port = ...; } )");
            return -1;
        }
        n = config_setting_length(l);
        if (n == 0) {
            conf_errorf(err, l, "key 'listen' must name at least one address");
            return -1;
        }
        c->listen = mycalloc((size_t)n, sizeof(*c->listen));
        c->listen_count = n;
        for (int i = 0; i < n; i++) {
            config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
            struct conf_listen *ls = &c->listen[i];
            long long port = 25;

            if (!config_setting_is_group(e)) {
                conf_errorf(err, e, "key 'listen': element %d must be a group", i);
                return -1;
            }
            ls->address = mystrdup("127.0.0.1");
            if (conf_check_keys(e, listen_keys, NULL, err) < 0
                || conf_get_nonempty(e, "address", &ls->address, err) < 0
                || conf_get_int(e, "port", 1, 65535, &port, err) < 0
                || conf_get_nonempty(e, "tls_cert", &ls->tls_cert, err) < 0
                || conf_get_nonempty(e, "tls_key", &ls->tls_key, err) < 0)
                return -1;
            ls->port = (int)port;
            if ((ls->tls_cert == NULL) != (ls->tls_key == NULL)) {
                conf_errorf(err, e, "keys 'tls_cert' and 'tls_key' go together");
                return -1;
            }
        }
    }
    for (int i = 0; i < c->listen_count; i++) {
        struct conf_listen *ls = &c->listen[i];

        if (netaddr_parse_ip(ls->address, ls->port, &ls->sa, &ls->salen) < 0) {
            conf_errorf(err, l ? config_setting_get_elem(l, (unsigned)i) : root,
                        "listen address \"%s\" is not an IPv4 or IPv6 address", ls->address);
            return -1;
        }
        /* Never an open relay: a non-loopback listener needs an explicit list. */
        if (!netaddr_is_loopback((struct sockaddr *)&ls->sa) && !c->allowed_networks_set) {
            conf_errorf(err, l ? config_setting_get_elem(l, (unsigned)i) : root,
                        "listen address \"%s\" is not loopback: set allowed_networks explicitly",
                        ls->address);
            return -1;
        }
    }
    return 0;
}

static int parse_limits(const config_setting_t *root, struct conf *c, struct conf_error *err)
{
    config_setting_t *g;
    struct conf_limits *lim = &c->limits;
    long long v;
    int rc;

    if (conf_get_group(root, "limits", &g, err) < 0)
        return -1;
    if (g == NULL)
        goto done;
    if (conf_check_keys(g, limits_keys, NULL, err) < 0)
        return -1;
#define LIMIT(name, min, max)                                           \
    if ((rc = conf_get_int(g, #name, min, max, &v, err)) < 0)           \
        return -1;                                                      \
    if (rc == 0)                                                        \
        lim->name = v;
    LIMIT(max_sessions, 1, 100000)
    LIMIT(max_sessions_per_client, 0, 100000)
    LIMIT(max_message_size, 1024, 2147483647LL)
    LIMIT(max_recipients, 1, 100000)
    LIMIT(max_line_length, 1000, 16777216)
    LIMIT(command_timeout, 1, 86400)
    LIMIT(data_timeout, 1, 86400)
    LIMIT(min_data_rate, 0, 1073741824)
    LIMIT(stress_command_timeout, 0, 86400)
#undef LIMIT
done:
    /* Unset: one client (the platform's apps all come from 127.0.0.1) may
     * hold all but an eighth of the sessions, which stay for the others. */
    if (lim->max_sessions_per_client < 0)
        lim->max_sessions_per_client = lim->max_sessions - lim->max_sessions / 8;
    return 0;
}

static int parse_retry(const config_setting_t *root, struct conf *c, struct conf_error *err)
{
    config_setting_t *g;
    config_setting_t *s;
    long long v;
    int rc;

    if (conf_get_group(root, "retry", &g, err) < 0)
        return -1;
    if (g == NULL)
        return 0;
    if (conf_check_keys(g, retry_keys, NULL, err) < 0)
        return -1;
    if ((s = config_setting_get_member(g, "schedule")) != NULL) {
        int n = config_setting_length(s);

        if ((!config_setting_is_array(s) && !config_setting_is_list(s)) || n == 0) {
            conf_errorf(err, s, "key 'schedule' must be a non-empty array of seconds");
            return -1;
        }
        c->retry.schedule = myrealloc(c->retry.schedule, sizeof(int) * (size_t)n);
        c->retry.schedule_len = n;
        for (int i = 0; i < n; i++) {
            config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
            long long sec;

            if (config_setting_type(e) != CONFIG_TYPE_INT
                && config_setting_type(e) != CONFIG_TYPE_INT64) {
                conf_errorf(err, e, "key 'schedule': element %d must be an integer", i);
                return -1;
            }
            sec = config_setting_get_int64(e);
            if (config_setting_type(e) == CONFIG_TYPE_INT)
                sec = config_setting_get_int(e);
            if (sec < 1 || sec > 604800) {
                conf_errorf(err, e, "key 'schedule': %lld is out of range 1..604800", sec);
                return -1;
            }
            c->retry.schedule[i] = (int)sec;
        }
    }
    if ((rc = conf_get_int(g, "max_age", 1, 31536000, &v, err)) < 0)
        return -1;
    if (rc == 0)
        c->retry.max_age = (long)v;
    if ((rc = conf_get_int(g, "failed_retention", 0, 31536000, &v, err)) < 0)
        return -1;
    if (rc == 0)
        c->retry.failed_retention = (long)v;
    if ((rc = conf_get_int(g, "auth_failures_before_hold", 1, 1000, &v, err)) < 0)
        return -1;
    if (rc == 0)
        c->retry.auth_failures_before_hold = (int)v;
    return 0;
}

static int parse_delivery(const config_setting_t *root, struct conf *c, struct conf_error *err)
{
    config_setting_t *g;
    struct conf_delivery *d = &c->delivery;
    long long v;
    int rc;

    if (conf_get_group(root, "delivery", &g, err) < 0)
        return -1;
    if (g == NULL)
        return 0;
    if (conf_check_keys(g, delivery_keys, NULL, err) < 0)
        return -1;
#define DELIVERY(name, min, max)                                        \
    if ((rc = conf_get_int(g, #name, min, max, &v, err)) < 0)           \
        return -1;                                                      \
    if (rc == 0)                                                        \
        d->name = (int)v;
    DELIVERY(connect_timeout, 1, 3600)
    DELIVERY(command_timeout, 1, 3600)
    DELIVERY(data_timeout, 1, 7200)
    DELIVERY(idle_timeout, 0, 3600)
    DELIVERY(messages_per_session, 1, 100000)
#undef DELIVERY
    return 0;
}

static int parse_milter(const config_setting_t *root, struct conf *c, struct conf_error *err)
{
    config_setting_t *g;
    char *mode = NULL;
    int rc;

    if (conf_get_group(root, "milter", &g, err) < 0)
        return -1;
    if (g == NULL)
        return 0;
    if (conf_check_keys(g, milter_keys, NULL, err) < 0
        || conf_get_nonempty(g, "socket", &c->milter.socket, err) < 0
        || parse_networks(g, "trusted_networks", &c->milter.trusted_networks,
                          &c->milter.trusted_count, err) < 0)
        return -1;
    if (strncmp(c->milter.socket, "unix:", 5) != 0 && strncmp(c->milter.socket, "local:", 6) != 0
        && strncmp(c->milter.socket, "inet:", 5) != 0 && strncmp(c->milter.socket, "inet6:", 6) != 0) {
        conf_errorf(err, config_setting_get_member(g, "socket"),
                    "key 'socket': \"%s\" must start with unix:, inet: or inet6: (libmilter's inet:PORT@HOST)",
                    c->milter.socket);
        return -1;
    }
    if ((rc = conf_get_string(g, "socket_mode", &mode, err)) < 0)
        return -1;
    if (rc == 0) {
        char *end;
        long m = strtol(mode, &end, 8);

        if (*mode == 0 || *end || m < 0 || m > 0777) {
            conf_errorf(err, config_setting_get_member(g, "socket_mode"),
                        "key 'socket_mode': \"%s\" is not an octal mode like \"0660\"", mode);
            myfree(mode);
            return -1;
        }
        c->milter.socket_mode = (int)m;
        myfree(mode);
    }
    return 0;
}

static int parse_root(const config_setting_t *root, struct conf *c, struct conf_error *err)
{
    config_setting_t *s;
    long long poll;
    int rc;
    int e;

    if (conf_check_keys(root, top_keys, NULL, err) < 0)
        return -1;
    if (conf_get_nonempty(root, "hostname", &c->hostname, err) < 0
        || conf_get_nonempty(root, "user", &c->user, err) < 0
        || conf_get_nonempty(root, "spool_directory", &c->spool_directory, err) < 0
        || conf_get_nonempty(root, "control_socket", &c->control_socket, err) < 0
        || conf_get_nonempty(root, "events_file", &c->events_file, err) < 0
        || conf_get_nonempty(root, "tenant_store", &c->tenant_store, err) < 0
        || conf_get_nonempty(root, "change_log", &c->change_log, err) < 0
        || conf_get_nonempty(root, "key_credential", &c->key_credential, err) < 0
        || conf_get_nonempty(root, "tenant_header", &c->tenant_header, err) < 0)
        return -1;
    if ((rc = conf_get_int(root, "tenant_store_poll", 1, 3600, &poll, err)) < 0)
        return -1;
    if (rc == 0)
        c->tenant_store_poll = (int)poll;
    if ((rc = conf_get_nonempty(root, "key_file", &c->key_file, err)) < 0)
        return -1;
    if (rc == 0 && c->key_credential) {
        conf_errorf(err, config_setting_get_member(root, "key_file"),
                    "keys 'key_file' and 'key_credential' are exclusive: set one");
        return -1;
    }
    if (!mailaddr_is_hostname(c->hostname)) {
        conf_errorf(err, config_setting_get_member(root, "hostname"),
                    "key 'hostname': \"%s\" is not a host name", c->hostname);
        return -1;
    }
    if (strchr(c->tenant_header, ':') || strpbrk(c->tenant_header, " \t\r\n")) {
        conf_errorf(err, config_setting_get_member(root, "tenant_header"),
                    "key 'tenant_header': \"%s\" is not a header field name", c->tenant_header);
        return -1;
    }
    if (c->key_credential && strchr(c->key_credential, '/')) {
        conf_errorf(err, config_setting_get_member(root, "key_credential"),
                    "key 'key_credential' is a credential name, not a path");
        return -1;
    }
    if ((rc = parse_networks(root, "allowed_networks", &c->allowed_networks, &c->allowed_count, err)) < 0)
        return -1;
    c->allowed_networks_set = rc == 0;
    if (!c->allowed_networks_set) {
        c->allowed_networks = mycalloc(2, sizeof(*c->allowed_networks));
        c->allowed_count = 2;
        if (netaddr_parse_cidr("127.0.0.0/8", &c->allowed_networks[0]) < 0
            || netaddr_parse_cidr("::1/128", &c->allowed_networks[1]) < 0)
            return -1;
    }
    if ((s = config_setting_get_member(root, "tenant_resolution")) != NULL) {
        int n = config_setting_length(s);

        if ((!config_setting_is_array(s) && !config_setting_is_list(s)) || n < 1 || n > 3) {
            conf_errorf(err, s, "key 'tenant_resolution' must be an array of 1 to 3 of \"header\", \"sender\", \"auth\"");
            return -1;
        }
        for (int i = 0; i < n; i++) {
            config_setting_t *el = config_setting_get_elem(s, (unsigned)i);
            const char *v = config_setting_get_string(el);
            int k;

            if (v == NULL || (k = str_index(resolve_names, v)) < 0) {
                conf_errorf(err, el, "key 'tenant_resolution': element %d must be \"header\", \"sender\" or \"auth\"", i);
                return -1;
            }
            for (int j = 0; j < i; j++)
                if ((int)c->resolution[j] == k) {
                    conf_errorf(err, el, "key 'tenant_resolution': \"%s\" appears twice", v);
                    return -1;
                }
            c->resolution[i] = (enum conf_resolve)k;
        }
        c->resolution_count = n;
    }
    e = (int)c->unknown_tenant;
    if (conf_get_enum(root, "unknown_tenant", unknown_names, &e, err) < 0)
        return -1;
    c->unknown_tenant = (enum conf_unknown_tenant)e;
    e = (int)c->bare_lf;
    if (conf_get_enum(root, "bare_lf", bare_lf_names, &e, err) < 0)
        return -1;
    c->bare_lf = (enum conf_bare_lf)e;
    if (parse_listen(root, c, err) < 0 || parse_limits(root, c, err) < 0
        || parse_retry(root, c, err) < 0 || parse_delivery(root, c, err) < 0
        || parse_milter(root, c, err) < 0 || conf_http_parse(root, c, err) < 0
        || route_policy_parse(root, &c->tenant_route_policy, err) < 0)
        return -1;
    if ((s = config_setting_get_member(root, "default_route")) == NULL) {
        conf_errorf(err, root, "key 'default_route' is required (host and sender at least)");
        return -1;
    }
    if (!config_setting_is_group(s)) {
        conf_errorf(err, s, "key 'default_route' must be a group");
        return -1;
    }
    if (conf_check_keys(s, route_keys, NULL, err) < 0
        || route_parse(s, &c->default_route, true, err) < 0)
        return -1;
    return 0;
}

struct conf *conf_load(const char *path, struct conf_error *err)
{
    config_t cfg;
    struct conf *c = mycalloc(1, sizeof(*c));
    FILE *fp;

    c->refcount = 1;
    c->path = mystrdup(path);
    set_defaults(c);
    conf_http_defaults(c);
    err->text[0] = 0;
    config_init(&cfg);
    /* config_read_file() cannot tell "missing" from "syntax error". */
    if ((fp = fopen(path, "r")) == NULL) {
        snprintf(err->text, sizeof(err->text), "%s:0: cannot open: %s", path, strerror(errno));
        goto fail;
    }
    fclose(fp);
    if (config_read_file(&cfg, path) != CONFIG_TRUE) {
        snprintf(err->text, sizeof(err->text), "%s:%d: %s",
                 config_error_file(&cfg) ? config_error_file(&cfg) : path,
                 config_error_line(&cfg), config_error_text(&cfg));
        goto fail;
    }
    if (parse_root(config_root_setting(&cfg), c, err) < 0)
        goto fail;
    config_destroy(&cfg);
    return c;

fail:
    config_destroy(&cfg);
    conf_unref(c);
    return NULL;
}

static int check_readable(const char *path, const char *key, const struct conf *c,
                          struct conf_error *err)
{
    if (path && access(path, R_OK) != 0) {
        snprintf(err->text, sizeof(err->text), "%s:0: key '%s': cannot read \"%s\": %s", c->path,
                 key, path, strerror(errno));
        return -1;
    }
    return 0;
}

int conf_check_files(const struct conf *c, struct conf_error *err)
{
    for (int i = 0; i < c->listen_count; i++)
        if (check_readable(c->listen[i].tls_cert, "tls_cert", c, err) < 0
            || check_readable(c->listen[i].tls_key, "tls_key", c, err) < 0)
            return -1;
    if (check_readable(c->default_route.ca_file, "ca_file", c, err) < 0
        || check_readable(c->default_route.oauth.client_cert_file, "client_cert_file", c, err) < 0
        || check_readable(c->http.tls_cert, "tls_cert", c, err) < 0
        || check_readable(c->http.tls_key, "tls_key", c, err) < 0
        || check_readable(c->webhook.ca_file, "ca_file", c, err) < 0)
        return -1;
    /* The keyring is needed only to open the default route's secrets. */
    if ((c->default_route.password || c->default_route.auth == ROUTE_AUTH_XOAUTH2) && c->key_file
        && !c->key_credential && check_readable(c->key_file, "key_file", c, err) < 0)
        return -1;
    return 0;
}

struct conf *conf_ref(struct conf *c)
{
    __atomic_add_fetch(&c->refcount, 1, __ATOMIC_SEQ_CST);
    return c;
}

void conf_unref(struct conf *c)
{
    if (c == NULL || __atomic_sub_fetch(&c->refcount, 1, __ATOMIC_SEQ_CST) > 0)
        return;
    myfree(c->path);
    myfree(c->hostname);
    myfree(c->user);
    for (int i = 0; i < c->listen_count; i++) {
        myfree(c->listen[i].address);
        myfree(c->listen[i].tls_cert);
        myfree(c->listen[i].tls_key);
    }
    myfree(c->listen);
    myfree(c->allowed_networks);
    myfree(c->spool_directory);
    myfree(c->control_socket);
    myfree(c->events_file);
    myfree(c->tenant_store);
    myfree(c->change_log);
    myfree(c->key_file);
    myfree(c->key_credential);
    myfree(c->tenant_header);
    myfree(c->retry.schedule);
    route_free(&c->default_route);
    route_policy_free(&c->tenant_route_policy);
    myfree(c->milter.socket);
    myfree(c->milter.trusted_networks);
    conf_http_free(c);
    myfree(c);
}
