/*
 * control.h - the daemon's control socket: one JSON request line in, one
 * JSON response line out, over a unix socket that only root and the
 * daemon's own user may use (checked with SO_PEERCRED, on top of the
 * socket's mode).
 *
 * Requests are objects with a "cmd" member ("status", "reload", "queue"
 * with "action", "id", "tenant", "all"); responses are objects with "ok"
 * and, on failure, "error".  tenantrelayctl is the client.
 */
#ifndef TENANTRELAY_CONTROL_H
#define TENANTRELAY_CONTROL_H

#include <jansson.h>

/* Handles one request; returns a new response object (the server frees it). */
typedef json_t *(*control_handler_fn)(const json_t *request, void *arg);

/* Optional, tried first: answers a request with its reply already
 * serialised (one JSON object, no newline; a new string the server frees
 * with myfree), for replies too large to build as objects each time (status
 * of 100,000 tenants).  NULL: the request goes to the object handler. */
typedef char *(*control_text_fn)(const json_t *request, size_t *len, void *arg);

struct control_server;

/* Listen on path (an old socket file is replaced) and serve requests on a
 * thread of its own; text_handler may be NULL.  NULL, with err set, on
 * failure. */
struct control_server *control_server_start(const char *path, control_handler_fn handler,
                                            control_text_fn text_handler, void *arg,
                                            char *err, size_t errlen);
/* Stop serving, close and unlink the socket. */
void control_server_stop(struct control_server *server);

/* Client side: send request and read the response (caller decrefs).
 * 0, or -1 with err set when the daemon cannot be reached or answers badly. */
int control_call(const char *path, const json_t *request, json_t **response, int timeout_ms,
                 char *err, size_t errlen);

#endif
