/*
 * http_server.c - tenantrelayd's HTTP server (see http.h): libmicrohttpd
 * daemons (one per http.listen entry), the request body collected up to
 * http.max_body, bearer-token authentication of /v1, and the small
 * unauthenticated endpoints (/metrics, /healthz, /readyz, /ui/).
 *
 * Bounds: MHD's connection limit (http.max_connections), its idle timeout
 * (http.timeout), the body cap, and a per-connection memory limit; a PUT
 * can run as long as the probe's own timeout, so each connection has its
 * own thread and a slow probe never stalls /metrics.
 *
 * Never logged: the Authorization header, request bodies, probe secrets.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tenantrelay/dbuf.h"
#include "tenantrelay/delivery.h"
#include "tenantrelay/fdio.h"
#include "tenantrelay/http.h"
#include "tenantrelay/http_token.h"
#include "tenantrelay/metrics.h"
#include "tenantrelay/msg.h"
#include "tenantrelay/store_live.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/tenant.h"
#include "http_int.h"

static struct {
    pthread_mutex_t lock;
    struct conf *conf;          /* current snapshot; requests take a reference */
    struct delivery *delivery;  /* the engine, set by http_start, used until http_stop */
    struct MHD_Daemon **d;
    int nd;
    char *cert, *key;           /* PEM in memory for MHD; the key wiped at stop */
    size_t key_len;
} http = { PTHREAD_MUTEX_INITIALIZER, NULL, NULL, NULL, 0, NULL, NULL, 0 };

#define BODY_RESERVE_MAX (64 * 1024)    /* what a Content-Length may reserve at once */

struct req {
    struct http_body body;      /* wiped when it grows and when freed (http_body.c) */
    bool too_big;
};

static struct conf *conf_get(void)
{
    struct conf *c;

    pthread_mutex_lock(&http.lock);
    c = http.conf ? conf_ref(http.conf) : NULL;
    pthread_mutex_unlock(&http.lock);
    return c;
}

static bool ready(const struct conf *conf, struct metrics_gauges *g)
{
    struct store_live_info live;

    memset(g, 0, sizeof(*g));
    delivery_gauges(http.delivery, g->queue, &g->oldest_age, &g->store_version, &g->store_age);
    g->ready = access(conf->spool_directory, W_OK) == 0 && g->store_version > 0;
    /* A PostgreSQL store: its own version, and the age of what is served. */
    store_live_get_info(&live);
    if (live.active) {
        g->store_version = (long)live.version;
        g->store_age = live.synced ? difftime(time(NULL), live.synced) : 0;
    }
    return g->ready;
}

static enum MHD_Result serve_metrics(struct MHD_Connection *c, const struct conf *conf)
{
    const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept");
    bool om = accept && strstr(accept, "application/openmetrics-text");
    struct metrics_gauges g;
    struct dbuf b = DBUF_INIT;
    enum MHD_Result rc;

    json_t *status = NULL;

    ready(conf, &g);
    if (conf->http.metrics_per_tenant) {
        json_t *q = json_pack("{s:s}", "cmd", "status");

        status = delivery_control(http.delivery, q);
        json_decref(q);
        g.tenants = json_object_get(status, "tenants");
        if (!json_is_array(g.tenants))
            g.tenants = NULL;
    }
    metrics_render(&b, &g, om);
    json_decref(status);
    rc = http_send_text(c, 200, om ? METRICS_CONTENT_TYPE_OM : METRICS_CONTENT_TYPE_TEXT, b.data ? b.data : "", b.len);
    dbuf_free(&b);
    return rc;
}

/* The token's name into user, or false. */
static bool authenticate(struct MHD_Connection *c, const struct conf *conf, char *user)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    struct http_token_entry *v = NULL;
    size_t n = 0;
    char err[512];
    bool ok;

    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
        return false;
    h += 7;
    while (*h == ' ')
        h++;
    /* Read each time: a revoked token stops working at once. */
    if (http_token_load(conf->http.api_tokens, &v, &n, err, sizeof(err)) < 0) {
        msg_error("-", "http api_tokens: %s", err);
        return false;
    }
    ok = *h && http_token_check(v, n, h, strlen(h), user);
    myfree(v);
    return ok;
}

/* A body may hold a password or an OAuth2 secret: http_body_free()
 * zeroes it.  libmicrohttpd's own copy (its per-connection read buffer,
 * bounded by MHD_OPTION_CONNECTION_MEMORY_LIMIT) is out of our reach. */
static void req_free(struct req *r)
{
    if (r == NULL)
        return;
    http_body_free(&r->body);
    myfree(r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
    (void)cls;
    (void)c;
    (void)t;
    req_free(*con_cls);
    *con_cls = NULL;
}

static enum MHD_Result dispatch(struct MHD_Connection *c, struct conf *conf, const char *url, const char *method,
                                struct req *r)
{
    char id[80], user[HTTP_TOKEN_NAME_MAX + 1] = "";
    enum http_route route = http_route_of(url, id, sizeof(id));
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    json_t *body = NULL, *reply;
    int status = 500;
    enum MHD_Result rc;

    switch (route) {
    case HTTP_R_NOT_FOUND:
        return http_send_error(c, 404, "not_found", "no such endpoint");
    case HTTP_R_HEALTHZ:
        return get ? http_send_json(c, 200, json_pack("{s:b}", "ok", 1)) : http_send_error(c, 405, "method_not_allowed", method);
    case HTTP_R_READYZ: {
        struct metrics_gauges g;
        bool ok = ready(conf, &g);

        return get ? http_send_json(c, ok ? 200 : 503, json_pack("{s:b}", "ready", ok))
                   : http_send_error(c, 405, "method_not_allowed", method);
    }
    case HTTP_R_METRICS:
        return get ? serve_metrics(c, conf) : http_send_error(c, 405, "method_not_allowed", method);
    case HTTP_R_UI:
        return get ? http_ui_serve(c, conf, url) : http_send_error(c, 405, "method_not_allowed", method);
    default:
        break;
    }
    if (!authenticate(c, conf, user)) {
        msg_info("-", "http method=%s path=%s status=401", method, url);
        return http_send_error(c, 401, "unauthorized", "a valid API token is needed (Authorization: Bearer TOKEN)");
    }
    if (r->body.len) {
        char d[300];

        if ((body = http_body_json(&r->body, d, sizeof(d))) == NULL)
            return http_send_error(c, 400, "invalid", d);
    }
    /* The page's save: the probe's steps streamed as they happen. */
    if (route == HTTP_R_TENANT && strcmp(method, "PUT") == 0 && body && tenant_id_is_valid(id)) {
        const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept");
        struct MHD_Response *sr;

        if (accept && strstr(accept, "application/x-ndjson") && (sr = http_stream_put(conf, http.delivery, id, body, user))) {
            json_decref(body);          /* the stream holds its own reference */
            MHD_add_response_header(sr, "Content-Type", "application/x-ndjson");
            MHD_add_response_header(sr, "Cache-Control", "no-store");
            MHD_add_response_header(sr, "X-Content-Type-Options", "nosniff");
            msg_info("-", "http method=%s path=%s status=200 stream=yes user=%s", method, url, user);
            rc = MHD_queue_response(c, 200, sr);
            MHD_destroy_response(sr);
            return rc;
        }
    }
    /* Status as delivery keeps it serialised (a copy per tenant, not a
     * jansson object per tenant); the object path below when not running. */
    if (route == HTTP_R_STATUS && get) {
        size_t len = 0;
        char *text = delivery_status_dumps(http.delivery, &len);

        if (text) {
            if (body) {
                http_json_wipe(body);
                json_decref(body);
            }
            text = myrealloc(text, len + 1);
            text[len++] = '\n';
            msg_info("-", "http method=%s path=%s status=200 user=%s", method, url, user);
            rc = http_send_text(c, 200, "application/json", text, len);
            myfree(text);
            return rc;
        }
    }
    reply = http_api_handle(conf, http.delivery, route, id[0] ? id : NULL, method,
                            MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "after"), body, user, &status);
    if (body) {
        http_json_wipe(body);
        json_decref(body);
    }
    msg_info("-", "http method=%s path=%s status=%d user=%s", method, url, status, user);
    rc = http_send_json(c, status, reply);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    struct req *r = *con_cls;
    struct conf *conf;
    enum MHD_Result rc;

    (void)cls;
    (void)version;
    if (r == NULL) {
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        long long n = cl ? strtoll(cl, NULL, 10) : 0;

        r = mycalloc(1, sizeof(*r));
        *con_cls = r;
        conf = conf_get();
        if (conf && n > conf->http.max_body)
            r->too_big = true;
        else if (conf && n > 0)     /* one buffer: no outgrown copy of the body */
            http_body_reserve(&r->body, (size_t)n, BODY_RESERVE_MAX);
        conf_unref(conf);
        return MHD_YES;
    }
    if (*upload_size) {
        conf = conf_get();
        if (conf == NULL || r->too_big
            || http_body_append(&r->body, upload, *upload_size, (size_t)conf->http.max_body) < 0)
            r->too_big = true;
        conf_unref(conf);
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->too_big)
        return http_send_error(c, 413, "too_large", "the request body exceeds http.max_body");
    if ((conf = conf_get()) == NULL)
        return http_send_error(c, 503, "unavailable", "stopping");
    rc = dispatch(c, conf, url, method, r);
    conf_unref(conf);
    return rc;
}

/* libmicrohttpd hands us its own format string: the callback's type says so. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char buf[512];

    (void)cls;
    vsnprintf(buf, sizeof(buf), fmt, ap);
    buf[strcspn(buf, "\r\n")] = 0;
    msg_warn("-", "http: %s", buf);
}

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    char *buf;

    if (fd < 0 || fstat(fd, &st) < 0 || st.st_size > (1 << 20)) {
        snprintf(err, errlen, "%s: %s", path, fd < 0 ? strerror(errno) : "too large");
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    buf = mycalloc(1, (size_t)st.st_size + 1);
    if (fdio_read_all(fd, buf, (size_t)st.st_size) != st.st_size) {
        snprintf(err, errlen, "%s: cannot read", path);
        close(fd);
        myfree(buf);
        return NULL;
    }
    close(fd);
    *len = (size_t)st.st_size;
    return buf;
}

int http_prepare(const struct conf *conf, char *err, size_t errlen)
{
    const struct conf_http *h = &conf->http;
    size_t cert_len = 0;

    if (!h->enabled || h->tls_cert == NULL || http.cert)
        return 0;
    if ((http.cert = read_file(h->tls_cert, &cert_len, err, errlen)) == NULL
        || (http.key = read_file(h->tls_key, &http.key_len, err, errlen)) == NULL)
        return -1;
    return 0;
}

int http_start(struct conf *conf, struct delivery *delivery, char *err, size_t errlen)
{
    const struct conf_http *h = &conf->http;

    if (!h->enabled)
        return 0;
    http.delivery = delivery;   /* before the first request */
    if (http_prepare(conf, err, errlen) < 0)
        return -1;
    http.conf = conf_ref(conf);
    http.d = mycalloc((size_t)h->listen_count, sizeof(*http.d));
    for (int i = 0; i < h->listen_count; i++) {
        const struct conf_listen *ls = &h->listen[i];
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG
                         | (ls->sa.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0) | (http.cert ? MHD_USE_TLS : 0);
        struct MHD_OptionItem tls_opts[] = {
            { http.cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, http.cert },
            { MHD_OPTION_HTTPS_MEM_KEY, 0, http.key },
            { MHD_OPTION_END, 0, NULL },
        };

        http.d[i] = MHD_start_daemon(flags, (uint16_t)ls->port, NULL, NULL, on_request, NULL,
                                     MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
                                     MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&ls->sa,
                                     MHD_OPTION_CONNECTION_LIMIT, (unsigned)h->max_connections,
                                     MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)h->max_connections,
                                     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)h->timeout,
                                     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024,
                                     MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                                     MHD_OPTION_ARRAY, tls_opts,
                                     MHD_OPTION_END);
        if (http.d[i] == NULL) {
            snprintf(err, errlen, "http: cannot listen on %s port %d (in use, or TLS files unusable)",
                     ls->address, ls->port);
            http.nd = i;
            http_stop();
            return -1;
        }
        http.nd = i + 1;
        msg_info("-", "http listening on address=%s port=%d tls=%s", ls->address, ls->port,
                 http.cert ? "yes" : "no");
    }
    return 0;
}

void http_reload(struct conf *conf)
{
    struct conf *old;

    pthread_mutex_lock(&http.lock);
    old = http.conf;
    http.conf = old ? conf_ref(conf) : NULL;    /* listeners stay as started */
    pthread_mutex_unlock(&http.lock);
    conf_unref(old);
}

void http_stop(void)
{
    struct conf *old;

    for (int i = 0; i < http.nd; i++)
        MHD_stop_daemon(http.d[i]);
    myfree(http.d);
    http.d = NULL;
    http.nd = 0;
    myfree(http.cert);
    if (http.key)
        sodium_memzero(http.key, http.key_len);
    myfree(http.key);
    http.cert = http.key = NULL;
    pthread_mutex_lock(&http.lock);
    old = http.conf;
    http.conf = NULL;
    pthread_mutex_unlock(&http.lock);
    conf_unref(old);
    http.delivery = NULL;       /* every request has ended (the daemons are stopped) */
}
