/*
 * http_api.c - the /v1 handlers of SPEC §9: tenants (list, show, save
 * with the probe, remove), tests, status, queue, events.  Secrets go in
 * (a PUT's password, sealed at once with delivery's keyring) and never
 * come back: records are shown without their sealed tokens.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "tenantrelay/delivery.h"
#include "tenantrelay/msg.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/probe.h"
#include "tenantrelay/spool.h"
#include "tenantrelay/store.h"
#include "tenantrelay/tenant_update.h"
#include "tenantrelay/tenant_write.h"
#include "tenantrelay/timefmt.h"
#include "http_int.h"

#define EVENTS_PAGE 500             /* events per GET /v1/events */
#define EVENTS_PAGE_BYTES (1 << 20)
#define QUEUE_PAGE 1000

json_t *http_error(int status, const char *code, const char *detail, int *out_status)
{
    *out_status = status;
    return json_pack("{s:s, s:s}", "error", code, "detail", detail ? detail : "");
}

static json_t *strings_json(char *const *v)
{
    json_t *a = json_array();

    for (size_t i = 0; v && v[i]; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

/* A record as the API shows it: never the sealed token, only whether a
 * password is set. */
static json_t *tenant_json(const struct tenant *t)
{
    const struct route *r = &t->route;

    json_t *j = json_pack("{s:s, s:b, s:s, s:i, s:s, s:s?, s:b, s:s, s:o, s:o, s:s?, s:b, s:b, s:i, s:i, s:o, s:o, s:o}",
                     "id", t->id, "enabled", t->enabled, "host", r->host, "port", r->port,
                     "tls", route_tls_names[r->tls], "username", r->username,
                     "password_set", r->password != NULL, "sender", r->sender,
                     "domains", strings_json(t->domains), "addresses", strings_json(t->addresses),
                     "ca_file", r->ca_file, "tls_verify", r->tls_verify,
                     "insecure_plaintext", r->insecure_plaintext, "max_connections", r->max_connections,
                     "rate_limit", r->rate_limit, "created", timefmt_json(t->created),
                     "updated", timefmt_json(t->updated), "verified", timefmt_json(t->verified));
    const struct route_oauth *o = &r->oauth;

    json_object_set_new(j, "auth", json_string(route_auth_names[r->auth]));
    if (r->auth == ROUTE_AUTH_XOAUTH2)      /* which secrets are set, never their tokens */
        json_object_set_new(j, "oauth", json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:b, s:b, s:b}",
            "provider", route_oauth_provider_names[o->provider], "directory", o->directory,
            "token_url", o->token_url, "client_id", o->client_id, "client_cert_file", o->client_cert_file,
            "scope", o->scope, "assertion_alg", o->assertion_alg, "client_secret_set", o->client_secret != NULL,
            "client_key_set", o->client_key != NULL, "service_account_set", o->service_account != NULL));
    return j;
}

/* ---- The store's read side: every read is here. ---- */

/* The whole store as the daemon serves it (store.h: the live snapshot of
 * a PostgreSQL store, a file store read now). */
static struct tenant_store *api_store_read(const struct conf *conf, char *err, size_t errlen)
{
    struct conf_error cerr = { "" };
    struct tenant_store *s = store_load(conf, NULL, &cerr);

    if (s == NULL)
        snprintf(err, errlen, "%s", cerr.text);
    return s;
}

static json_t *tenants_get(const struct conf *conf, const char *id, int *status)
{
    struct tenant_store *store;
    json_t *out;
    char err[600];

    if ((store = api_store_read(conf, err, sizeof(err))) == NULL)
        return http_error(503, "store_unavailable", err, status);
    if (id == NULL) {
        json_t *arr = json_array();

        for (size_t i = 0; i < tenant_store_count(store); i++)
            json_array_append_new(arr, tenant_json(tenant_store_at(store, i)));
        out = json_pack("{s:o}", "tenants", arr);
        *status = 200;
    } else {
        const struct tenant *t = tenant_store_find(store, id);

        out = t ? tenant_json(t) : http_error(404, "not_found", "no such tenant", status);
        if (t)
            *status = 200;
    }
    tenant_store_free(store);
    return out;
}

/* The daemon picks up a saved change as on `tenantrelayctl reload`. */
static void reload_soon(void)
{
    kill(getpid(), SIGHUP);
}

/* Exit codes of tenant set as HTTP statuses (SPEC §9). */
static int status_of(int code)
{
    switch (code) {
    case 0: return 200;
    case 1: return 422;
    case EX_USAGE: case EX_DATAERR: return 400;
    case EX_TEMPFAIL: return 409;
    case EX_NOPERM: return 403;
    default: return 503;
    }
}

static const char *code_of(int code)
{
    switch (code) {
    case 1: return "probe_failed";
    case EX_USAGE: case EX_DATAERR: return "invalid";
    case EX_TEMPFAIL: return "conflict";
    case EX_NOPERM: return "forbidden";
    default: return "unavailable";
    }
}

json_t *http_api_put(struct conf *conf, struct delivery *delivery, const char *id, json_t *body, const char *user,
                     void (*on_step)(const struct probe_report *, enum probe_step_id, void *), void *arg,
                     int *status)
{
    struct tenant_update u;
    struct tenant_update_result res;
    struct http_oauth oauth;
    struct http_oauth_merge merge;
    struct delivery_pin *pin;
    const struct vault *vault;
    char err[512];
    json_t *out;

    tenant_update_init(&u);
    memset(&oauth, 0, sizeof(oauth));
    if (http_update_parse(body, &u, err, sizeof(err)) < 0 || http_oauth_parse(body, &oauth, err, sizeof(err)) < 0) {
        http_update_free(&u);
        http_oauth_free(&oauth);
        return http_error(400, "invalid", err, status);
    }
    u.id = id;
    u.user = user;
    u.on_step = on_step;
    u.on_step_arg = arg;
    merge.req = &oauth;
    /* Pinned for the whole update (its probe may take a while): a reload
     * meanwhile frees the keyring it replaces only after the unpin. */
    pin = delivery_vault_pin(delivery, &vault);
    merge.vault = vault;
    u.merge_extra = http_oauth_merge;
    u.extra_differs = route_oauth_settings_differ;
    u.extra_arg = &merge;
    tenant_update_apply(conf, vault, &u, NULL, NULL, &res);
    delivery_vault_unpin(delivery, pin);
    http_update_free(&u);
    http_oauth_free(&oauth);
    *status = res.store_error ? 503 : status_of(res.status);
    if (res.status == 0)
        out = json_pack("{s:b, s:s, s:b, s:s}", "ok", 1, "id", id, "saved", res.changed,
                        "action", !res.changed ? "unchanged" : res.existed ? "updated" : "created");
    else
        out = json_pack("{s:b, s:s, s:s}", "ok", 0, "error", res.store_error ? "store_unavailable"
                        : code_of(res.status), "detail", res.error);
    if (res.changed) {
        json_t *fields = json_array();
        char *save = NULL;

        msg_info("-", "http tenant=%s action=set user=%s fields=%s", id, user, res.fields);
        for (char *f = strtok_r(res.fields, ",", &save); f; f = strtok_r(NULL, ",", &save))
            json_array_append_new(fields, json_string(f));
        json_object_set_new(out, "fields", fields);
        reload_soon();
    }
    if (res.probe_ran) {
        json_object_set_new(out, "probe", probe_report_json(&res.rep));
        if (res.status == 1) {
            json_object_set_new(out, "step", json_string(""));
            for (int i = 0; i < PROBE_NSTEPS; i++)
                if (res.rep.steps[i].state == PROBE_ST_FAILED)
                    json_object_set_new(out, "step", json_string(probe_step_names[i]));
            json_object_set_new(out, "hint", json_string(res.rep.hint));
        }
    }
    tenant_update_result_free(&res);
    return out;
}

static json_t *tenant_delete(struct conf *conf, const char *id, const char *user, int *status)
{
    char err[768];
    bool noop;
    int rc = tenant_update_change(conf, "remove", id, user, &noop, err, sizeof(err));

    if (rc == EX_DATAERR && strncmp(err, "no tenant", 9) == 0)
        return http_error(404, "not_found", err, status);
    if (rc != 0)
        return http_error(status_of(rc), code_of(rc), err, status);
    reload_soon();
    *status = 200;
    return json_pack("{s:b, s:s, s:s}", "ok", 1, "id", id, "action", "removed");
}

/* The probe of a stored tenant, or of settings in the body (never saved:
 * http_probe.c). */
static json_t *run_test(struct conf *conf, const char *id, json_t *body, int *status)
{
    struct tenant_store *store;
    const struct tenant *t;
    struct probe_report rep;
    json_t *out;
    const char *to = NULL;
    char err[600];

    if (id == NULL) {
        if ((out = http_probe_settings(conf, body, status, err, sizeof(err))) == NULL)
            return http_error(*status, "invalid", err, status);
        return out;
    }
    if ((store = api_store_read(conf, err, sizeof(err))) == NULL)
        return http_error(503, "store_unavailable", err, status);
    if ((t = tenant_store_find(store, id)) == NULL) {
        tenant_store_free(store);
        return http_error(404, "not_found", "no such tenant", status);
    }
    if (body && json_is_string(json_object_get(body, "to")))
        to = json_string_value(json_object_get(body, "to"));
    probe_run_tenant(conf, t, to, 0, false, &rep);
    tenant_store_free(store);
    out = probe_report_json(&rep);
    probe_report_free(&rep);
    *status = 200;
    return out;
}

static json_t *queue_get(const struct conf *conf, int *status)
{
    struct spool *sp;
    char **ids = NULL;
    size_t n = 0;
    char err[512];
    json_t *arr = json_array();

    if ((sp = spool_open(conf->spool_directory, false, err, sizeof(err))) == NULL
        || spool_list(sp, &ids, &n, err, sizeof(err)) < 0) {
        json_decref(arr);
        if (sp)
            spool_close(sp);
        return http_error(503, "spool_unavailable", err, status);
    }
    for (size_t i = 0; i < n && i < QUEUE_PAGE; i++) {
        struct spool_envelope env;
        struct spool_state st;

        if (spool_envelope_read(sp, ids[i], &env, err, sizeof(err)) < 0)
            continue;
        if (spool_state_read(sp, ids[i], &st, err, sizeof(err)) == 0) {
            json_array_append_new(arr, json_pack("{s:s, s:s?, s:s, s:o, s:o, s:i, s:o, s:s, s:s?}",
                "id", env.id, "tenant", env.tenant, "sender", env.sender,
                "recipients", strings_json(env.recipients), "arrival", timefmt_json(env.arrival),
                "attempts", st.attempts, "next_attempt", timefmt_json(st.next_attempt),
                "state", spool_state_name(st.state), "last_reply", st.last_reply));
            spool_state_free(&st);
        }
        spool_envelope_free(&env);
    }
    spool_ids_free(ids);
    spool_close(sp);
    *status = 200;
    return json_pack("{s:o}", "messages", arr);
}

json_t *http_event_id(const json_t *ev)
{
    const char *q = json_string_value(json_object_get(ev, "queue_id"));

    return json_sprintf("%s.%lld", q ? q : "-", (long long)json_integer_value(json_object_get(ev, "attempt")));
}

/* Events from byte offset `after` of the events file (the cursor is the
 * offset of the next unread line), whole lines only. */
static json_t *events_get(const struct conf *conf, const char *after, int *status)
{
    long long off = 0;
    char *end = NULL, *buf;
    int fd;
    ssize_t got;
    json_t *arr = json_array();
    size_t used = 0;

    if (after && *after) {
        errno = 0;
        off = strtoll(after, &end, 10);
        if (errno || *end || off < 0) {
            json_decref(arr);
            return http_error(400, "invalid", "after must be a cursor returned by this endpoint", status);
        }
    }
    if ((fd = open(conf->events_file, O_RDONLY | O_CLOEXEC)) < 0) {
        *status = 200;
        return json_pack("{s:o, s:s}", "events", arr, "cursor", after && *after ? after : "0");
    }
    buf = mymalloc(EVENTS_PAGE_BYTES);
    got = pread(fd, buf, EVENTS_PAGE_BYTES, (off_t)off);
    close(fd);
    for (size_t i = 0; got > 0 && i < (size_t)got && json_array_size(arr) < EVENTS_PAGE;) {
        char *nl = memchr(buf + i, '\n', (size_t)got - i);
        json_t *ev;

        if (nl == NULL)
            break;
        if ((ev = json_loadb(buf + i, (size_t)(nl - (buf + i)), 0, NULL)) != NULL) {
            if (json_object_get(ev, "event_id") == NULL)    /* lines written before it existed */
                json_object_set_new(ev, "event_id", http_event_id(ev));
            json_array_append_new(arr, ev);
        }
        i = (size_t)(nl - buf) + 1;
        used = i;
    }
    myfree(buf);
    *status = 200;
    return json_pack("{s:o, s:o}", "events", arr, "cursor", json_sprintf("%lld", off + (long long)used));
}

json_t *http_api_handle(struct conf *conf, struct delivery *delivery, enum http_route route, const char *id,
                        const char *method, const char *after, json_t *body, const char *user, int *status)
{
    bool get = strcmp(method, "GET") == 0, put = strcmp(method, "PUT") == 0;
    bool post = strcmp(method, "POST") == 0, del = strcmp(method, "DELETE") == 0;

    if (id && *id && !tenant_id_is_valid(id))
        return http_error(400, "invalid", "tenant id must match [a-z0-9][a-z0-9._-]{0,63} and not be \"default\"",
                          status);
    switch (route) {
    case HTTP_R_TENANTS:
        if (get)
            return tenants_get(conf, NULL, status);
        break;
    case HTTP_R_TENANT:
        if (get)
            return tenants_get(conf, id, status);
        if (put)
            return body ? http_api_put(conf, delivery, id, body, user, NULL, NULL, status)
                        : http_error(400, "invalid", "a JSON object body is needed", status);
        if (del)
            return tenant_delete(conf, id, user, status);
        break;
    case HTTP_R_TENANT_TEST:
        if (post)
            return run_test(conf, id, body, status);
        break;
    case HTTP_R_TEST:
        if (post)
            return run_test(conf, NULL, body, status);
        break;
    case HTTP_R_STATUS:
        if (get) {
            json_t *req = json_pack("{s:s}", "cmd", "status"), *resp = delivery_control(delivery, req);

            json_decref(req);
            *status = json_is_true(json_object_get(resp, "ok")) ? 200 : 503;
            return resp;
        }
        break;
    case HTTP_R_QUEUE:
        if (get)
            return queue_get(conf, status);
        break;
    case HTTP_R_EVENTS:
        if (get)
            return events_get(conf, after, status);
        break;
    default:
        return http_error(404, "not_found", "no such endpoint", status);
    }
    return http_error(405, "method_not_allowed", method, status);
}
