/*
 * route.h - where and how mail leaves: the default route and each tenant's.
 *
 * A route is parsed from a libconfig group (the config's default_route or a
 * tenant record).  password holds the sealed token (see vault.h), never a
 * plaintext secret; it is opened only for the AUTH step.
 */
#ifndef TENANTRELAY_ROUTE_H
#define TENANTRELAY_ROUTE_H

#include <libconfig.h>
#include <stdbool.h>

#include "tenantrelay/conf_get.h"

enum route_tls {
    ROUTE_TLS_IMPLICIT,         /* SMTPS: TLS from the first byte */
    ROUTE_TLS_STARTTLS,         /* mandatory STARTTLS, never a plaintext fallback */
    ROUTE_TLS_NONE,             /* only with insecure_plaintext = true */
};

struct route {
    char *host;
    int port;
    enum route_tls tls;
    char *username;             /* NULL: no AUTH */
    char *password;             /* sealed token; NULL when no username */
    char *sender;               /* the validated sender address */
    char *ca_file;              /* NULL: the system trust store */
    bool tls_verify;
    bool rewrite_sender;
    bool rewrite_from;
    int max_connections;
    int rate_limit;             /* messages per minute, 0 = unlimited */
    char *bind_address;         /* NULL: any */
    bool insecure_plaintext;
};

/* Keys a route group may hold (NULL-terminated). */
extern const char *const route_keys[];
/* Names of route_tls values, indexable by the enum. */
extern const char *const route_tls_names[];

/* The default TLS mode for a port: 465 implicit, else starttls. */
enum route_tls route_tls_for_port(int port);
/* Set the defaults (port 25, tls by port, verify on, rewrites on, 4 connections). */
void route_init(struct route *r);
/* Parse the route keys of group into r (other keys are the caller's to check).
 * host and sender are required when require_host is set.  0 or -1. */
int route_parse(const config_setting_t *group, struct route *r, bool require_host,
                struct conf_error *err) __attribute__((warn_unused_result));
/* Deep copy. */
void route_copy(struct route *dst, const struct route *src);
void route_free(struct route *r);

#endif
