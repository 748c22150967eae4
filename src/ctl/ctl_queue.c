/*
 * ctl_queue.c - tenantrelayctl queue: list and show read the spool
 * directly (spool.h), so they work whether or not the daemon runs.
 * retry, hold, release and delete are asked of the running daemon over
 * its control socket (69 when it is not running).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <jansson.h>

#include "tenantrelay/control.h"
#include "tenantrelay/ctl.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/spool.h"
#include "tenantrelay/timefmt.h"
#include "tenantrelay/utf8.h"

/* Spool strings came from clients and upstreams: any bytes.  Made valid
 * UTF-8, or jansson would drop them (and --json would lose the message). */
static json_t *json_str_or_null(const char *s)
{
    return utf8_json_string(s);
}

/* The SPEC §6 object of one message; detail adds what `show` prints. */
static json_t *message_json(const struct spool_envelope *env, const struct spool_state *st, bool detail)
{
    json_t *o = json_object(), *r = json_array();

    for (int i = 0; i < env->recipient_count; i++)
        json_array_append_new(r, utf8_json_string(env->recipients[i]));
    json_object_set_new(o, "id", utf8_json_string(env->id));
    json_object_set_new(o, "tenant", json_str_or_null(env->tenant));
    json_object_set_new(o, "sender", utf8_json_string(env->sender));
    json_object_set_new(o, "recipients", r);
    json_object_set_new(o, "arrival", timefmt_json(env->arrival));
    json_object_set_new(o, "attempts", json_integer(st->attempts));
    json_object_set_new(o, "next_attempt", timefmt_json(st->next_attempt));
    json_object_set_new(o, "state", json_string(spool_state_name(st->state)));
    json_object_set_new(o, "last_reply", json_str_or_null(st->last_reply));
    if (detail) {
        json_t *done = json_array();

        for (int i = 0; st->done_recipients && st->done_recipients[i]; i++)
            json_array_append_new(done, utf8_json_string(st->done_recipients[i]));
        json_object_set_new(o, "tenant_source", json_string(spool_tenant_source_name(env->tenant_source)));
        json_object_set_new(o, "size", json_integer((json_int_t)env->size));
        json_object_set_new(o, "client_addr", json_str_or_null(env->client_addr));
        json_object_set_new(o, "helo", json_str_or_null(env->helo));
        json_object_set_new(o, "message_id", json_str_or_null(env->message_id));
        json_object_set_new(o, "smtputf8", json_boolean(env->flags & SPOOL_FLAG_SMTPUTF8));
        json_object_set_new(o, "8bitmime", json_boolean(env->flags & SPOOL_FLAG_8BITMIME));
        json_object_set_new(o, "last_attempt", timefmt_json(st->last_attempt));
        json_object_set_new(o, "done_recipients", done);
    }
    return o;
}

static const char *str_or(json_t *o, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : dflt;
}

static void print_text(json_t *messages, bool detail)
{
    size_t i;
    json_t *m;

    if (!detail)
        printf("%-16s  %-20s  %-8s  %3s  %-16s  %s\n", "ID", "ARRIVAL", "STATE", "TRY", "TENANT", "SENDER -> RECIPIENTS");
    json_array_foreach(messages, i, m) {
        json_t *r = json_object_get(m, "recipients"), *x;
        size_t k;

        if (detail) {
            const char *keys[] = { "id", "state", "tenant", "tenant_source", "sender", "arrival",
                                   "attempts", "next_attempt", "last_attempt", "last_reply", "size",
                                   "client_addr", "helo", "message_id", NULL };
            for (int j = 0; keys[j]; j++) {
                json_t *v = json_object_get(m, keys[j]);
                if (json_is_integer(v))
                    printf("%-14s %lld\n", keys[j], (long long)json_integer_value(v));
                else
                    printf("%-14s %s\n", keys[j], json_is_string(v) ? json_string_value(v) : "-");
            }
            json_array_foreach(r, k, x)
                printf("%-14s %s\n", "recipient", json_string_value(x));
            continue;
        }
        printf("%-16s  %-20s  %-8s  %3lld  %-16s  <%s> ->", str_or(m, "id", "-"),
               str_or(m, "arrival", "-"), str_or(m, "state", "-"),
               (long long)json_integer_value(json_object_get(m, "attempts")),
               str_or(m, "tenant", "-"), str_or(m, "sender", ""));
        json_array_foreach(r, k, x)
            printf(" <%s>", json_string_value(x));
        printf("\n");
        if (json_is_string(json_object_get(m, "last_reply")))
            printf("%18s(%s)\n", "", str_or(m, "last_reply", ""));
    }
    if (!detail)
        printf("%zu message(s)\n", json_array_size(messages));
}

static int open_spool(struct ctl_ctx *ctx, struct spool **out)
{
    struct conf *conf = ctl_conf(ctx);
    char err[512];

    if (conf == NULL)
        return EX_CONFIG;
    if ((*out = spool_open(conf->spool_directory, false, err, sizeof(err))) == NULL) {
        if (errno == ENOENT)
            return 0;           /* no spool yet: an empty queue */
        return ctl_fail(errno == EACCES ? EX_NOPERM : EX_IOERR, "%s", err);
    }
    return 0;
}

/* The SPEC §6 object of a message whose envelope or state cannot be read:
 * the fields that cannot be known are null, "error" says why. */
static json_t *unreadable_json(struct spool *sp, const char *qid, const char *what, const char *why)
{
    struct spool_state st;
    char err[512], text[700];
    json_t *o = json_object();
    bool have_state = spool_state_read(sp, qid, &st, err, sizeof(err)) == 0;

    snprintf(text, sizeof(text), "cannot read the %s: %s", what, why);
    json_object_set_new(o, "id", json_str_or_null(qid));
    json_object_set_new(o, "tenant", json_null());
    json_object_set_new(o, "sender", json_null());
    json_object_set_new(o, "recipients", json_array());
    json_object_set_new(o, "arrival", json_null());
    json_object_set_new(o, "attempts", json_integer(have_state ? st.attempts : 0));
    json_object_set_new(o, "next_attempt", timefmt_json(have_state ? st.next_attempt : 0));
    json_object_set_new(o, "state", json_string(have_state ? spool_state_name(st.state) : "unknown"));
    json_object_set_new(o, "last_reply", json_str_or_null(have_state && st.last_reply ? st.last_reply : text));
    json_object_set_new(o, "error", json_str_or_null(text));
    if (have_state)
        spool_state_free(&st);
    return o;
}

/* Append the message qid to messages (when it passes the tenant filter). */
static int add_message(struct spool *sp, const char *qid, const char *tenant, bool detail,
                       json_t *messages)
{
    struct spool_envelope env;
    struct spool_state st;
    char err[512];

    if (spool_envelope_read(sp, qid, &env, err, sizeof(err)) < 0) {
        if (errno == ENOENT)
            return 1;
        /* Shown, never hidden: its id, what the daemon recorded (the
         * reason it failed), and why it cannot be read now. */
        if (tenant == NULL)
            json_array_append_new(messages, unreadable_json(sp, qid, "envelope", err));
        return 0;
    }
    if (spool_state_read(sp, qid, &st, err, sizeof(err)) < 0) {
        spool_envelope_free(&env);
        if (tenant == NULL)
            json_array_append_new(messages, unreadable_json(sp, qid, "delivery state", err));
        return 0;
    }
    if (tenant == NULL || (env.tenant && strcmp(env.tenant, tenant) == 0)
        || (strcmp(tenant, "default") == 0 && env.tenant == NULL))
        json_array_append_new(messages, message_json(&env, &st, detail));
    spool_envelope_free(&env);
    spool_state_free(&st);
    return 0;
}

static int output(struct ctl_ctx *ctx, json_t *messages, bool detail)
{
    if (ctx->json) {
        json_t *root = json_pack("{s:O}", "messages", messages);
        char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

        printf("%s\n", text);
        free(text);
        json_decref(root);
    } else {
        print_text(messages, detail);
    }
    return 0;
}

static int queue_list(struct ctl_ctx *ctx, int argc, char **argv)
{
    const char *tenant = NULL;
    struct spool *sp = NULL;
    char **ids = NULL;
    size_t n = 0;
    char err[512];
    json_t *messages;
    int rc;

    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--tenant") == 0 && i + 1 < argc)
            tenant = argv[++i];
        else
            return ctl_fail(EX_USAGE, "usage: queue list [--tenant ID] [--json]");
    }
    if ((rc = open_spool(ctx, &sp)) != 0)
        return rc;
    messages = json_array();
    if (sp && spool_list(sp, &ids, &n, err, sizeof(err)) < 0) {
        rc = ctl_fail(EX_IOERR, "%s", err);
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        /* A message delivered between the listing and the read is skipped. */
        if (add_message(sp, ids[i], tenant, false, messages) < 0) {
            rc = ctl_fail(EX_IOERR, "%s: cannot read: %s", ids[i], strerror(errno));
            goto cleanup;
        }
    }
    rc = output(ctx, messages, false);
cleanup:
    json_decref(messages);
    spool_ids_free(ids);
    spool_close(sp);
    return rc;
}

static int queue_show(struct ctl_ctx *ctx, int argc, char **argv)
{
    struct spool *sp = NULL;
    json_t *messages;
    int rc;

    if (argc != 3)
        return ctl_fail(EX_USAGE, "usage: queue show QID [--json]");
    if (!spool_qid_is_valid(argv[2]))
        return ctl_fail(EX_USAGE, "\"%s\" is not a queue id (16 characters of 0-9, A-Z)", argv[2]);
    if ((rc = open_spool(ctx, &sp)) != 0)
        return rc;
    if (sp == NULL)
        return ctl_fail(EX_DATAERR, "%s: no such message", argv[2]);
    messages = json_array();
    rc = add_message(sp, argv[2], NULL, true, messages);
    if (rc > 0)
        rc = ctl_fail(EX_DATAERR, "%s: no such message", argv[2]);
    else if (rc < 0)
        rc = ctl_fail(EX_IOERR, "%s: cannot read: %s", argv[2], strerror(errno));
    else
        rc = output(ctx, messages, true);
    json_decref(messages);
    spool_close(sp);
    return rc;
}

/* retry|hold|release|delete QID | --tenant ID | --all: applied by the
 * running daemon, so its scheduler and the spool never disagree. */
static int queue_act(struct ctl_ctx *ctx, int argc, char **argv)
{
    const char *action = argv[1];
    struct conf *conf;
    json_t *req;
    json_t *resp = NULL;
    char err[512];
    int status = 0;

    if (argc == 3 && strcmp(argv[2], "--all") == 0) {
        if (strcmp(action, "delete") == 0)
            return ctl_fail(EX_USAGE, "queue delete --all is refused: delete by id or --tenant");
        req = json_pack("{s:s, s:s, s:b}", "cmd", "queue", "action", action, "all", 1);
    } else if (argc == 4 && strcmp(argv[2], "--tenant") == 0) {
        req = json_pack("{s:s, s:s, s:s}", "cmd", "queue", "action", action, "tenant", argv[3]);
    } else if (argc == 3 && argv[2][0] != '-') {
        if (!spool_qid_is_valid(argv[2]))
            return ctl_fail(EX_USAGE, "\"%s\" is not a queue id", argv[2]);
        req = json_pack("{s:s, s:s, s:s}", "cmd", "queue", "action", action, "id", argv[2]);
    } else {
        return ctl_fail(EX_USAGE, "usage: queue %s QID | --tenant ID%s", action,
                        strcmp(action, "delete") == 0 ? "" : " | --all");
    }
    if ((conf = ctl_conf(ctx)) == NULL) {
        json_decref(req);
        return EX_CONFIG;
    }
    if (control_call(conf->control_socket, req, &resp, 30000, err, sizeof(err)) < 0) {
        json_decref(req);
        return ctl_fail(EX_UNAVAILABLE, "%s", err);
    }
    json_decref(req);
    if (!json_is_true(json_object_get(resp, "ok"))) {
        const char *why = json_string_value(json_object_get(resp, "error"));

        status = ctl_fail(why && strstr(why, "no such message") ? EX_DATAERR : EX_SOFTWARE,
                          "queue %s: %s", action, why ? why : "refused");
    } else if (ctx->json) {
        json_object_del(resp, "ok");
        json_dumpf(resp, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("\n");
    } else {
        printf("%s: %zu message(s)", action, json_array_size(json_object_get(resp, "affected")));
        if (json_array_size(json_object_get(resp, "in_flight")) > 0)
            printf(", %zu in delivery now (applied when the attempt ends)",
                   json_array_size(json_object_get(resp, "in_flight")));
        printf("\n");
    }
    json_decref(resp);
    return status;
}

int ctl_queue(struct ctl_ctx *ctx, int argc, char **argv)
{
    if (argc < 2)
        return ctl_fail(EX_USAGE, "usage: queue list [--tenant ID] | show QID | retry|hold|release|delete ...");
    if (strcmp(argv[1], "list") == 0)
        return queue_list(ctx, argc, argv);
    if (strcmp(argv[1], "show") == 0)
        return queue_show(ctx, argc, argv);
    if (strcmp(argv[1], "retry") == 0 || strcmp(argv[1], "hold") == 0
        || strcmp(argv[1], "release") == 0 || strcmp(argv[1], "delete") == 0)
        return queue_act(ctx, argc, argv);
    return ctl_fail(EX_USAGE, "unknown queue command \"%s\"", argv[1]);
}
