/*
 * http_int.h - private to src/http: the /v1 handlers (http_api.c) as the
 * server (http_server.c) calls them.
 */
#ifndef TENANTRELAY_HTTP_INT_H
#define TENANTRELAY_HTTP_INT_H

#include <jansson.h>

#include "tenantrelay/conf.h"
#include "tenantrelay/http.h"

/* One /v1 request, authenticated as user (the token's name).  body is
 * the parsed JSON body or NULL.  Returns the reply (a new reference) with
 * *status set; errors are {"error": CODE, "detail": TEXT}. */
json_t *http_api_handle(struct conf *conf, enum http_route route, const char *id, const char *method,
                        const char *after, json_t *body, const char *user, int *status);

/* {"error": code, "detail": detail} with *status = status. */
json_t *http_error(int status, const char *code, const char *detail, int *out_status);

/* The id of a delivery event, for deduplication: "QUEUE_ID.ATTEMPT" (one
 * line per attempt, so unique); a new string reference. */
json_t *http_event_id(const json_t *ev);

#endif
