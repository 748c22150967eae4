/*
 * http_int.h - private to src/http: the /v1 handlers (http_api.c) as the
 * server (http_server.c) calls them.
 */
#ifndef TENANTRELAY_HTTP_INT_H
#define TENANTRELAY_HTTP_INT_H

#include <jansson.h>
#include <microhttpd.h>

#include "tenantrelay/conf.h"
#include "tenantrelay/http.h"
#include "tenantrelay/dbuf.h"
#include "tenantrelay/probe.h"
#include "tenantrelay/route.h"
#include "tenantrelay/vault.h"

struct delivery;

/* One /v1 request, authenticated as user (the token's name), answered with
 * the delivery engine delivery.  body is the parsed JSON body or NULL.
 * Returns the reply (a new reference) with *status set; errors are
 * {"error": CODE, "detail": TEXT}. */
json_t *http_api_handle(struct conf *conf, struct delivery *delivery, enum http_route route, const char *id,
                        const char *method, const char *after, json_t *body, const char *user, int *status);

/* PUT /v1/tenants/{id}: the update with its probe; on_step (may be NULL)
 * sees each probe step as it is recorded. */
json_t *http_api_put(struct conf *conf, struct delivery *delivery, const char *id, json_t *body, const char *user,
                     void (*on_step)(const struct probe_report *, enum probe_step_id, void *), void *arg,
                     int *status);

/* The same PUT streamed as NDJSON (Accept: application/x-ndjson), so a
 * page can show each probe step live: one {"event": "step", "step": {...}}
 * line per step, then {"event": "result", "status": N, "result": {...}}
 * with what the plain PUT would have answered.  Takes a reference to conf
 * and body (wiped when done); NULL when it cannot start. */
struct MHD_Response;
struct MHD_Response *http_stream_put(struct conf *conf, struct delivery *delivery, const char *id, json_t *body,
                                     const char *user);

/* POST /v1/test (http_probe.c): the probe of the settings in body (PUT's
 * field names, "auth" and "oauth" included), never saved; the secret goes
 * to the probe open and is wiped by it.  The report (a new reference) with
 * *status 200, or NULL with *status 400 and why in err. */
json_t *http_probe_settings(const struct conf *conf, const json_t *body, int *status, char *err, size_t errlen);

/* The auth and oauth fields of a PUT body (http_oauth.c).  Strings point
 * into the body; the secret (clear, locked memory) is the struct's:
 * http_oauth_free(). */
struct http_oauth {
    bool given;                 /* auth or oauth present */
    int auth;                   /* -1: not given, else enum route_auth */
    int provider;               /* -1: not given, else enum route_oauth_provider */
    const char *directory, *token_url, *client_id, *client_cert_file, *scope, *assertion_alg;
    unsigned char *secret;      /* client_secret, client_key or service_account */
    size_t secret_len;
    const char *secret_field;   /* its vault field (OAUTH_FIELD_*) */
};
int http_oauth_parse(const json_t *body, struct http_oauth *o, char *err, size_t errlen);
void http_oauth_free(struct http_oauth *o);
/* tenant_update's merge_extra and extra_differs for them; arg is a
 * struct http_oauth_merge. */
struct http_oauth_merge {
    const struct http_oauth *req;
    const struct vault *vault;  /* seals the secret */
};
int http_oauth_merge(const char *id, struct route *r, struct dbuf *changed, char *err, size_t errlen, void *arg);

/* A request body as the upload handler collects it (http_body.c).  It may
 * hold a password or an OAuth2 secret in clear: every buffer it lets go
 * of, when it grows and when it is freed, is zeroed first.  data is
 * NUL-terminated (NULL while nothing was reserved or appended). */
struct http_body {
    char *data;
    size_t len, cap;
    /* Called with each buffer, already zeroed, just before it is freed
     * (the unit test watches the wipe); NULL in the daemon. */
    void (*on_release)(const void *p, size_t size, void *arg);
    void *on_release_arg;
};
/* Room for want bytes (at most max): a body announced by Content-Length
 * is then copied once. */
void http_body_reserve(struct http_body *b, size_t want, size_t max);
/* Append len bytes; -1 (nothing appended) when the body would exceed max. */
int http_body_append(struct http_body *b, const void *data, size_t len, size_t max)
    __attribute__((warn_unused_result));
void http_body_free(struct http_body *b);
/* The body parsed (duplicate keys refused), or NULL with why in err: the
 * kind of error and its line and column, never the text near it (which
 * may be a piece of a secret). */
json_t *http_body_json(const struct http_body *b, char *err, size_t errlen);

/* Zero every string of a parsed body (a password is one of them). */
void http_json_wipe(json_t *j);

/* Answers (http_reply.c): a body copied, JSON (j is consumed), an error
 * {"error": code, "detail": detail}; 401 adds WWW-Authenticate. */
struct MHD_Connection;
enum MHD_Result http_send_text(struct MHD_Connection *c, unsigned status, const char *type, const char *data,
                               size_t len);
enum MHD_Result http_send_json(struct MHD_Connection *c, int status, json_t *j);
enum MHD_Result http_send_error(struct MHD_Connection *c, int status, const char *code, const char *detail);

/* GET /ui/... (http_ui.c). */
enum MHD_Result http_ui_serve(struct MHD_Connection *c, const struct conf *conf, const char *url);

/* {"error": code, "detail": detail} with *status = status. */
json_t *http_error(int status, const char *code, const char *detail, int *out_status);

/* The id of a delivery event, for deduplication: "QUEUE_ID.ATTEMPT" (one
 * line per attempt, so unique); a new string reference. */
json_t *http_event_id(const json_t *ev);

#endif
