/*
 * conf.h - the tenantrelay configuration file (libconfig), as one immutable
 * snapshot.
 *
 * conf_load() parses and validates everything that can be checked without
 * side effects; conf_check_files() adds the checks of `-t` that touch the
 * file system (named files readable).  A loaded conf is reference-counted:
 * a session pins the snapshot it started with, so a reload never changes
 * the rules under a message in flight.
 */
#ifndef TENANTRELAY_CONF_H
#define TENANTRELAY_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "tenantrelay/conf_get.h"
#include "tenantrelay/netaddr.h"
#include "tenantrelay/route.h"
#include "tenantrelay/route_policy.h"

#define CONF_DEFAULT_PATH SYSCONFDIR "/tenantrelay/tenantrelay.conf"
#define CONF_RESERVED_TENANT "default"

struct conf_listen {
    char *address;
    int port;
    char *tls_cert;             /* both set: STARTTLS offered */
    char *tls_key;
    struct sockaddr_storage sa;
    socklen_t salen;
};

enum conf_resolve { CONF_RESOLVE_HEADER, CONF_RESOLVE_SENDER, CONF_RESOLVE_AUTH };
enum conf_unknown_tenant { CONF_UNKNOWN_DEFAULT, CONF_UNKNOWN_REJECT, CONF_UNKNOWN_TEMPFAIL };
enum conf_bare_lf { CONF_BARE_LF_NORMALIZE, CONF_BARE_LF_REJECT };

struct conf_limits {
    int max_sessions;
    int max_sessions_per_client;    /* 0: no separate cap; unset: max_sessions - max_sessions / 8 */
    long max_message_size;
    int max_recipients;
    int max_line_length;
    int command_timeout;        /* seconds */
    int data_timeout;           /* seconds for the whole DATA phase */
    int min_data_rate;          /* bytes per second over the DATA phase, after a grace */
    int stress_command_timeout; /* seconds, instead of command_timeout when the listener
                                 * is nearly full (SMTPD_STRESS_PERCENT); 0: never */
};

struct conf_retry {
    int *schedule;              /* seconds; the last one repeats */
    int schedule_len;
    long max_age;
    long failed_retention;
    int auth_failures_before_hold;
};

/* Upstream session handling (all seconds except messages_per_session). */
struct conf_delivery {
    int connect_timeout;
    int command_timeout;
    int data_timeout;
    int idle_timeout;           /* an idle reused session is closed after this */
    int messages_per_session;   /* then a fresh connection */
};

struct conf_milter {
    char *socket;
    int socket_mode;
    struct netaddr_cidr *trusted_networks;
    int trusted_count;
};

/* The optional HTTP API (SPEC §9); see conf_http.c. */
struct conf_http {
    bool enabled;               /* the group is present */
    struct conf_listen *listen; /* address/port; TLS from tls_cert/tls_key below */
    int listen_count;
    char *tls_cert, *tls_key;   /* required off loopback */
    char *api_tokens;           /* token hash file (tenantrelayctl api-token) */
    bool metrics_per_tenant;
    bool ui;                    /* serve ui_directory at /ui/ */
    char *ui_directory;
    int max_connections;        /* concurrent HTTP connections */
    int timeout;                /* seconds a connection may stay idle */
    long max_body;              /* bytes of a request body */
};

/* Event webhooks (SPEC §9). */
struct conf_webhook {
    char *url;                  /* NULL: no webhook */
    char *secret;               /* sealed for tenant "default", field "webhook_secret" */
    char *ca_file;              /* optional private CA for the receiver */
    char *cursor_file;          /* default: <spool>/webhook.cursor */
    int batch_size;             /* events per POST */
    int timeout;                /* seconds per POST */
    int max_backoff;            /* seconds between retries, at most */
};

struct conf {
    int refcount;
    char *path;
    char *hostname;
    char *user;
    struct conf_listen *listen;
    int listen_count;
    struct netaddr_cidr *allowed_networks;
    int allowed_count;
    bool allowed_networks_set;
    char *spool_directory;
    char *control_socket;
    char *events_file;
    char *tenant_store;         /* a path, or a postgresql:// URI (store.h) */
    char *change_log;
    int tenant_store_poll;      /* PostgreSQL store: reconcile every N seconds */
    char *key_file;
    char *key_credential;
    enum conf_resolve resolution[3];
    int resolution_count;
    char *tenant_header;
    enum conf_unknown_tenant unknown_tenant;
    enum conf_bare_lf bare_lf;
    struct conf_limits limits;
    struct conf_retry retry;
    struct route default_route;
    struct route_policy tenant_route_policy;   /* tenant routes only (route_policy.h) */
    struct conf_delivery delivery;
    struct conf_milter milter;
    struct conf_http http;
    struct conf_webhook webhook;
};

/* The http and webhook groups (conf_http.c): defaults, parse, free. */
void conf_http_defaults(struct conf *c);
int conf_http_parse(const config_setting_t *root, struct conf *c, struct conf_error *err);
void conf_http_free(struct conf *c);

/* Parse and validate path.  NULL on error with "FILE:LINE: ..." in err. */
struct conf *conf_load(const char *path, struct conf_error *err);
/* The `-t` checks that touch the file system.  0 or -1 with err set. */
int conf_check_files(const struct conf *conf, struct conf_error *err);
/* Reference counting: conf_load returns a reference; release frees at zero. */
struct conf *conf_ref(struct conf *conf);
void conf_unref(struct conf *conf);

#endif
