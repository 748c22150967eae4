/*
 * http.h - tenantrelayd's optional HTTP server (SPEC §9): /metrics,
 * /healthz, /readyz, the /v1 API behind bearer tokens, and the reference
 * page at /ui/ when http.ui = true.  libmicrohttpd, one thread per
 * connection (a PUT runs a probe that may take the probe's timeout), with
 * a connection limit, a per-connection timeout and a request body cap.
 *
 * The request side that needs no server (the route table and the JSON
 * body of a PUT) is pure and exposed for unit tests and fuzzing.
 */
#ifndef TENANTRELAY_HTTP_H
#define TENANTRELAY_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "tenantrelay/conf.h"
#include "tenantrelay/tenant_update.h"

/* Read the TLS certificate and key (if any) into memory: called before
 * privileges are dropped, as the listeners are bound then.  (jansson zeroes
 * what it frees once oauth_global_init() ran: a PUT's password passes
 * through its buffers.)  0 or -1. */
int http_prepare(const struct conf *conf, char *err, size_t errlen) __attribute__((warn_unused_result));
/* Start serving conf->http (nothing when the group is absent).  The conf
 * is referenced; http_reload() swaps it.  delivery is the running engine
 * (its gauges, status, queue and keyring), which must outlive
 * http_stop().  0, or -1 with err. */
struct delivery;
int http_start(struct conf *conf, struct delivery *delivery, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void http_reload(struct conf *conf);
void http_stop(void);

/* The routes of the server. */
enum http_route {
    HTTP_R_NOT_FOUND, HTTP_R_METRICS, HTTP_R_HEALTHZ, HTTP_R_READYZ, HTTP_R_UI,
    HTTP_R_TENANTS, HTTP_R_TENANT, HTTP_R_TENANT_TEST, HTTP_R_TEST, HTTP_R_STATUS, HTTP_R_QUEUE,
    HTTP_R_EVENTS,
};

/* The route of path (no query string), with the tenant id (at most 64
 * characters, checked by the caller) copied to id for /v1/tenants/{id}. */
enum http_route http_route_of(const char *path, char *id, size_t idlen);

/* A PUT body (a JSON object of the record's own field names, SPEC §9) as a
 * tenant update.  Strings in u point into body (keep it alive); the lists
 * and the secret are the caller's: http_update_free().  0, or -1 with the
 * offending field's message in err. */
int http_update_parse(const json_t *body, struct tenant_update *u, char *err, size_t errlen);
void http_update_free(struct tenant_update *u);

#endif
