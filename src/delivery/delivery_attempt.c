/*
 * delivery_attempt.c - one delivery attempt of one message by one route:
 * read the spooled message, apply the route's rewrites, send it over the
 * worker's (possibly reused) upstream session, and record the outcome in
 * the spool, the log and the events file.  Runs without the delivery lock.
 *
 * The body is sent straight from a read-only mapping of the queue file:
 * only the header section is copied (to rewrite it).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "delivery_int.h"
#include "tenantrelay/clock.h"
#include "tenantrelay/dbuf.h"
#include "tenantrelay/events.h"
#include "tenantrelay/fdio.h"
#include "tenantrelay/metrics.h"
#include "tenantrelay/mime.h"
#include "tenantrelay/msg.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/oauth.h"
#include "tenantrelay/retry.h"
#include "tenantrelay/rewrite.h"
#include "tenantrelay/str.h"
#include "tenantrelay/timefmt.h"
#include "tenantrelay/utf8.h"
#include "tenantrelay/vault.h"

/* The message as mapped from the spool. */
/* The message body: read into memory when small (most notifications),
 * mapped when large.  Mapping a 4 KB file cost more than reading it: each
 * munmap of a threaded process interrupts the other cores. */
#define MAP_THRESHOLD (256 * 1024)

struct mapped {
    int fd;
    const char *data;
    size_t len;
    bool is_mapped;
};

static int map_message(struct spool *spool, const char *qid, struct mapped *mm, char *err,
                       size_t errlen)
{
    char path[4096];
    struct stat st;

    mm->fd = open(spool_path(spool, qid, ".msg", path, sizeof(path)), O_RDONLY | O_CLOEXEC);
    mm->data = NULL;
    mm->len = 0;
    mm->is_mapped = false;
    if (mm->fd < 0 || fstat(mm->fd, &st) < 0) {
        snprintf(err, errlen, "cannot read the queue file: %s", strerror(errno));
        return -1;
    }
    mm->len = (size_t)st.st_size;
    if (mm->len > 0 && mm->len <= MAP_THRESHOLD) {
        char *buf = mymalloc(mm->len);
        ssize_t n = fdio_read_all(mm->fd, buf, mm->len);

        if (n < 0 || (size_t)n != mm->len) {
            snprintf(err, errlen, "cannot read the queue file: %s",
                     n >= 0 ? "shorter than its size" : strerror(errno));
            myfree(buf);
            return -1;
        }
        mm->data = buf;
    } else if (mm->len > 0) {
        void *p = mmap(NULL, mm->len, PROT_READ, MAP_PRIVATE, mm->fd, 0);

        if (p == MAP_FAILED) {
            snprintf(err, errlen, "cannot map the queue file: %s", strerror(errno));
            return -1;
        }
        mm->data = p;
        mm->is_mapped = true;
    }
    return 0;
}

/* Release the body and its file; safe to call twice. */
static void unmap_message(struct mapped *mm)
{
    if (mm->data && mm->is_mapped)
        munmap((void *)mm->data, mm->len);
    else if (mm->data)
        myfree((void *)mm->data);
    mm->data = NULL;
    if (mm->fd >= 0)
        close(mm->fd);
    mm->fd = -1;
}

static void add_done(struct spool_state *st, const char *rcpt)
{
    size_t n = 0;

    while (st->done_recipients && st->done_recipients[n])
        n++;
    st->done_recipients = myrealloc(st->done_recipients, (n + 2) * sizeof(char *));
    st->done_recipients[n] = mystrdup(rcpt);
    st->done_recipients[n + 1] = NULL;
}

/* A token failure as the step's result: breaker-class errors
 * (invalid_client, unauthorized_client, ...) count like a refused AUTH,
 * the others defer (never a failed message). */
static void token_failed(struct smtpc_result *sr, const struct oauth_error *oe)
{
    memset(sr, 0, sizeof(*sr));
    sr->err = oe->breaker ? SMTPC_ERR_AUTH_FAILED : SMTPC_ERR_LOCAL;
    sr->stage = "auth";
    snprintf(sr->errstr, sizeof(sr->errstr), "oauth token: %s: %.200s", oe->code ? oe->code : "oauth_token_failed",
             oe->detail);
}

/* Connect and AUTH with an OAuth2 token from the daemon's cache, taken
 * first so that a token failure costs no SMTP connection.  A refusal of a
 * cached token may mean the provider revoked or forgot it: drop it, fetch
 * a new one and try once more on the same session. */
static int oauth_open(const struct attempt_ctx *ctx, struct smtpc_result *sr)
{
    const struct route *route = ctx->route;
    struct oauth_request req;
    struct oauth_token tok;
    struct oauth_error oe;
    struct smtpc_cred cred;
    int rc = -1;

    memset(&req, 0, sizeof(req));
    req.oauth = &route->oauth;
    req.username = route->username;
    req.ca_file = route->ca_file;
    req.vault = ctx->vault;
    req.seal_tenant = ctx->seal_tenant;
    req.timeout_ms = OAUTH_TIMEOUT_DEFAULT_MS;  /* a token answer is quick; SMTP's 300 s is not its bound */
    if (strcmp(ctx->route_key, DELIVERY_DEFAULT_KEY) != 0)
        req.policy = &ctx->conf->tenant_route_policy;   /* the token URL is the tenant's choice too */
    if (oauth_cache_get(&req, &tok, &oe) < 0) {
        token_failed(sr, &oe);
        return -1;
    }
    if (smtpc_open(*ctx->session, NULL, sr) < 0) {
        oauth_token_free(&tok);
        return -1;
    }
    for (int round = 0; round < 2; round++) {
        memset(&cred, 0, sizeof(cred));
        cred.kind = SMTPC_CRED_XOAUTH2;
        cred.mech = SMTPC_AUTH_AUTO;
        cred.username = route->username;
        cred.secret = tok.data;
        cred.secret_len = tok.len;
        rc = smtpc_auth(*ctx->session, &cred, sr);
        if (rc < 0 && sr->err == SMTPC_ERR_AUTH_FAILED) {
            oauth_cache_invalidate(&req, &tok);
            /* Google's and RFC 7628's reason comes in the 334 challenge. */
            if (smtpc_auth_challenge(*ctx->session))
                msg_info("-", "route=%s oauth AUTH refused mechanism=%s challenge=%s", ctx->route_key,
                         smtpc_caps(*ctx->session)->auth_xoauth2 ? "XOAUTH2" : "OAUTHBEARER",
                         smtpc_auth_challenge(*ctx->session));
        }
        if (round == 1 || rc == 0 || sr->err != SMTPC_ERR_AUTH_FAILED || !tok.from_cache
            || !smtpc_usable(*ctx->session))
            break;
        msg_info("-", "route=%s oauth token refused (%.200s): fetching a new one", ctx->route_key,
                 sr->reply.text);
        oauth_token_free(&tok);
        if (oauth_cache_get(&req, &tok, &oe) < 0) {
            token_failed(sr, &oe);
            return -1;
        }
    }
    oauth_token_free(&tok);
    return rc;
}

/* Open the session (connect, TLS, EHLO, AUTH) with the route's password
 * opened from the vault only for the AUTH step, then wiped. */
static int open_session(const struct attempt_ctx *ctx, struct smtpc_result *sr, bool *auth_ok)
{
    const struct route *route = ctx->route;
    struct smtpc_options opts;
    struct smtpc_cred cred;
    unsigned char *secret = NULL;
    size_t secret_len = 0;
    char err[256];
    int rc;

    smtpc_options_from_route(&opts, route);
    opts.helo_name = ctx->conf->hostname;
    opts.connect_timeout_ms = ctx->conf->delivery.connect_timeout * 1000;
    opts.command_timeout_ms = ctx->conf->delivery.command_timeout * 1000;
    opts.data_timeout_ms = ctx->conf->delivery.data_timeout * 1000;
    opts.tls_ctx = ctx->tls_ctx;
    /* Tenant routes only: the operator's default route is exempt. */
    if (strcmp(ctx->route_key, DELIVERY_DEFAULT_KEY) != 0)
        opts.policy = &ctx->conf->tenant_route_policy;
    *auth_ok = false;
    if ((*ctx->session = smtpc_session_new(&opts, sr)) == NULL)
        return -1;
    *ctx->session_messages = 0;
    if (route->username == NULL) {
        rc = smtpc_open(*ctx->session, NULL, sr);
        *auth_ok = rc == 0;
        return rc;
    }
    if (route->auth == ROUTE_AUTH_XOAUTH2) {
        rc = oauth_open(ctx, sr);
        *auth_ok = rc == 0;
        return rc;
    }
    if (ctx->vault == NULL
        || vault_open(ctx->vault, ctx->seal_tenant, "password", route->password, &secret,
                      &secret_len, err, sizeof(err)) != 0) {
        memset(sr, 0, sizeof(*sr));
        sr->err = SMTPC_ERR_LOCAL;
        sr->stage = "auth";
        snprintf(sr->errstr, sizeof(sr->errstr), "cannot open the route's password: %.160s",
                 ctx->vault ? err : "no keyring loaded");
        return -1;
    }
    memset(&cred, 0, sizeof(cred));
    cred.kind = SMTPC_CRED_PASSWORD;
    cred.mech = SMTPC_AUTH_AUTO;
    cred.username = route->username;
    cred.secret = secret;
    cred.secret_len = secret_len;
    rc = smtpc_open(*ctx->session, &cred, sr);
    vault_plain_free(secret, secret_len);
    *auth_ok = rc == 0;
    return rc;
}

/* The reply or reason of a failed step, one line for logs and events. */
static void describe(const struct smtpc_result *sr, char *out, size_t len)
{
    /* The upstream's own words when it refused; our classification when the
     * failure is ours to name (TLS, certificate, missing STARTTLS, ...). */
    if (sr->reply.code > 0 && (sr->err == SMTPC_OK || sr->err == SMTPC_ERR_REPLY_4XX
                               || sr->err == SMTPC_ERR_REPLY_5XX || sr->err == SMTPC_ERR_AUTH_FAILED))
        snprintf(out, len, "%s", sr->reply.text);
    else
        snprintf(out, len, "%s: %s", smtpc_err_name(sr->err), sr->errstr);
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}

static void emit_event(const struct attempt_ctx *ctx, const struct spool_envelope *env,
                       const char *sender, const char *relay, const char *tls, const char *status,
                       int attempt, double delay, const char *reply)
{
    char when[32];
    json_t *rcpts = json_array();
    json_t *ev;

    /* Client and upstream bytes (Message-ID, addresses, the reply) made
     * valid UTF-8 first: jansson refuses anything else, and the event
     * would be lost. */
    for (int i = 0; i < env->recipient_count; i++)
        json_array_append_new(rcpts, utf8_json_string(env->recipients[i]));
    ev = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:s?, s:s, s:f, s:i, s:o}",
                   "time", timefmt_rfc3339(time(NULL), when, sizeof(when)),
                   "queue_id", env->id,
                   "tenant", utf8_json_string(ctx->route_key),
                   "message_id", utf8_json_string(env->message_id),
                   "sender", utf8_json_string(sender),
                   "recipients", rcpts,
                   "relay", utf8_json_string(relay),
                   "tls", tls,
                   "status", status,
                   "delay", delay,
                   "attempt", attempt,
                   "reply", utf8_json_string(reply));
    /* One line per attempt: queue id and attempt name it for deduplication
     * (webhooks, GET /v1/events). */
    if (ev)
        json_object_set_new(ev, "event_id", json_sprintf("%s.%d", env->id, attempt));
    if (ev == NULL || events_append(ctx->conf->events_file, ev) < 0)
        msg_error(env->id, "cannot append to events_file %s: %s", ctx->conf->events_file,
                  strerror(errno));
    json_decref(ev);
}

/* The envelope or the state of m cannot be read: never skipped and never
 * retried forever.  An envelope is retried on the schedule while the cause
 * may pass (an I/O or permission error: errno e) and failed at max_age, or
 * at once when it is malformed or too large.  A state is failed at once:
 * without it, which recipients already have the message is unknown (an
 * operator's `queue retry` sends to all).  The reason goes to the state
 * file, which `queue` shows, and to the events file. */
static void unreadable(const struct attempt_ctx *ctx, struct dmsg *m, const char *what, int e,
                       const char *why, time_t now, struct attempt_result *res)
{
    struct spool_envelope stub;
    struct spool_state st;
    char err[256];
    bool permanent = e == EINVAL || e == EFBIG || strcmp(what, "envelope") != 0;

    snprintf(res->reply, sizeof(res->reply), "local: cannot read the %s: %s", what, why);
    utf8_sanitize_buf(res->reply, sizeof(res->reply));     /* as at outcome: below */
    if (spool_state_read(ctx->spool, m->qid, &st, err, sizeof(err)) < 0)
        memset(&st, 0, sizeof(st));
    if (st.attempts < m->attempts)
        st.attempts = m->attempts;
    st.attempts++;
    st.last_attempt = now;
    myfree(st.last_reply);
    st.last_reply = mystrdup(res->reply);
    if (!permanent && retry_next_attempt(&ctx->conf->retry, st.attempts, m->arrival, now,
                                         &res->next_attempt)) {
        res->outcome = ATTEMPT_DEFERRED;
        st.state = SPOOL_DEFERRED;
        st.next_attempt = res->next_attempt;
    } else {
        res->outcome = ATTEMPT_FAILED;
        st.state = SPOOL_FAILED;
        st.next_attempt = 0;
    }
    msg_error(m->qid, "tenant=%s attempts=%d status=%s (%s)", ctx->route_key, st.attempts,
              res->outcome == ATTEMPT_FAILED ? "failed" : "deferred", res->reply);
    if (spool_state_save(ctx->spool, m->qid, &st, err, sizeof(err)) < 0)
        msg_error(m->qid, "cannot save delivery state: %s", err);
    memset(&stub, 0, sizeof(stub));
    snprintf(stub.id, sizeof(stub.id), "%s", m->qid);
    emit_event(ctx, &stub, "", "local", NULL, res->outcome == ATTEMPT_FAILED ? "failed" : "deferred",
               st.attempts, difftime(now, m->arrival), res->reply);
    spool_state_free(&st);
}


/* Relayed safely (SPEC §4): no line over 998 octets leaves, and 8-bit
 * content goes to an upstream without 8BITMIME as 7-bit, the decoded
 * content unchanged (src/mime).  Only a message that needs it is copied;
 * src becomes the one converted buffer.  Never a failure for how we
 * relay: an 8-bit message is not refused for a missing 8BITMIME. */
static void fit_for_upstream(const char *qid, const struct smtpc_caps *caps, const struct dbuf *headers,
                             const char *body, size_t blen, bool body_8bit, struct smtpc_source *src,
                             size_t *nsrc, struct dbuf *converted, unsigned *decided,
                             struct smtpc_envelope *se)
{
    unsigned flags = MIME_FIX_LINES | (caps->eightbitmime ? 0 : MIME_FIX_8BIT);
    const char *hdr = headers->data ? headers->data : "";
    int parts;

    se->body_8bit = body_8bit && caps->eightbitmime;
    if (*decided == flags)
        return;                 /* decided for this kind of upstream already */
    *decided = flags;
    src[0].buf = hdr;
    src[0].len = headers->len;
    src[1].buf = body;
    src[1].len = blen;
    *nsrc = 2;
    se->size = headers->len + blen;
    if (!mime_needs_fix(hdr, headers->len, body, blen, flags))
        return;
    dbuf_reset(converted);
    parts = mime_convert(hdr, headers->len, body, blen, flags, converted);
    msg_info(qid, "converted for the upstream: %d MIME part(s) re-encoded%s", parts,
             flags & MIME_FIX_8BIT ? ", 8-bit made 7-bit (no 8BITMIME)" : "");
    src[0].buf = converted->data;
    src[0].len = converted->len;
    *nsrc = 1;
    se->size = converted->len;
}

void attempt_run(const struct attempt_ctx *ctx, struct dmsg *m, struct attempt_result *res)
{
    const struct route *route = ctx->route;
    struct spool_envelope env;
    struct spool_state st;
    struct mapped mm = { -1, NULL, 0, false };
    struct dbuf headers = DBUF_INIT;
    struct dbuf converted = DBUF_INIT;     /* the message made fit, when it had to be */
    struct smtpc_result sr;
    struct smtpc_rcpt_result *rcpt_res = NULL;
    const char **rcpts = NULL;
    size_t nrcpts = 0;
    const char *sender;
    const char *status;
    char relay[300];
    char err[512];
    bool have_env = false;
    bool have_state = false;
    bool permanent_rcpt = false;
    bool temp_rcpt = false;
    time_t now = time(NULL);
    long long t0;

    memset(res, 0, sizeof(*res));
    memset(&sr, 0, sizeof(sr));
    t0 = clock_mono_ns();
    res->session_ok = true;
    res->auth_ok = true;
    snprintf(relay, sizeof(relay), "%s:%d", route->host, route->port);

    if (spool_envelope_read(ctx->spool, m->qid, &env, err, sizeof(err)) < 0) {
        if (errno == ENOENT) {
            res->gone = true;   /* deleted meanwhile: nothing to deliver */
            res->outcome = ATTEMPT_FAILED;
            snprintf(res->reply, sizeof(res->reply), "local: %s", err);
        } else {
            unreadable(ctx, m, "envelope", errno, err, now, res);
        }
        goto done;
    }
    have_env = true;
    if (!str_same(env.tenant, m->tenant)) {
        /* Indexed while its envelope could not be read (tenant unknown):
         * never delivered by a route chosen without it; rescheduled. */
        res->retenant = true;
        res->tenant = mystrdup_or_null(env.tenant);
        res->outcome = ATTEMPT_DEFERRED;
        snprintf(res->reply, sizeof(res->reply), "local: envelope readable again, routed by its tenant");
        goto done;
    }
    if (spool_state_read(ctx->spool, m->qid, &st, err, sizeof(err)) < 0) {
        unreadable(ctx, m, "delivery state", errno, err, now, res);
        goto done;
    }
    have_state = true;
    sender = route->rewrite_sender ? route->sender : env.sender;

    if (map_message(ctx->spool, m->qid, &mm, err, sizeof(err)) < 0) {
        res->outcome = ATTEMPT_DEFERRED;
        snprintf(res->reply, sizeof(res->reply), "local: %s", err);
        goto outcome;
    }
    {
        size_t hlen = rewrite_header_length(mm.data ? mm.data : "", mm.len);
        const char *remove[] = { ctx->conf->tenant_header, NULL };
        struct rewrite_opts ro = { remove, route->rewrite_from ? route->sender : NULL, true, NULL };
        struct rewrite_report rr;
        enum rewrite_status rs = rewrite_headers(mm.data ? mm.data : "", hlen, &ro, &headers, &rr);
        struct smtpc_source src[2];
        struct smtpc_envelope se;
        unsigned converted_flags = 0;
        size_t nsrc = 2;
        int send_rc = -1;

        if (rs != REWRITE_OK) {
            res->outcome = ATTEMPT_FAILED;
            snprintf(res->reply, sizeof(res->reply), "550 5.6.0 %s",
                     rs == REWRITE_MULTIPLE_FROM ? "message has more than one From: header"
                                                 : "malformed header section");
            goto outcome;
        }
        rcpts = mycalloc((size_t)env.recipient_count + 1, sizeof(*rcpts));
        for (int i = 0; i < env.recipient_count; i++)
            if (str_index((const char *const *)st.done_recipients, env.recipients[i]) < 0)
                rcpts[nrcpts++] = env.recipients[i];
        if (nrcpts == 0) {
            res->outcome = ATTEMPT_SENT;
            snprintf(res->reply, sizeof(res->reply), "every recipient already delivered");
            goto outcome;
        }
        rcpt_res = mycalloc(nrcpts, sizeof(*rcpt_res));

        memset(&se, 0, sizeof(se));
        se.sender = sender;
        se.rcpts = rcpts;
        se.nrcpts = nrcpts;
        se.body_8bit = (env.flags & SPOOL_FLAG_8BITMIME) != 0;
        se.smtputf8 = (env.flags & SPOOL_FLAG_SMTPUTF8) != 0;
        se.size = headers.len + (mm.len - hlen);
        src[0].buf = headers.data;
        src[0].len = headers.len;
        src[0].fd = -1;
        src[1].buf = mm.data ? mm.data + hlen : "";
        src[1].len = mm.len - hlen;
        src[1].fd = -1;
        /* A reused session sends RSET with the envelope (one write under
         * PIPELINING); if it turns out gone at the RSET (the server's idle
         * timeout), the message starts again at once on a fresh one. */
        for (int round = 0; round < 2; round++) {
            if (*ctx->session && !smtpc_usable(*ctx->session)) {
                smtpc_session_free(*ctx->session);
                *ctx->session = NULL;
            }
            if (*ctx->session && *ctx->session_messages >= ctx->conf->delivery.messages_per_session) {
                struct smtpc_result qr;

                smtpc_quit(*ctx->session, &qr);
                smtpc_session_free(*ctx->session);
                *ctx->session = NULL;
            }
            if (*ctx->session == NULL && open_session(ctx, &sr, &res->auth_ok) < 0) {
                res->session_ok = false;
                describe(&sr, res->reply, sizeof(res->reply));
                /* Unreachable, TLS or certificate trouble: the route's problem,
                 * not this message's; delivery backs the whole route off. */
                res->route_down = sr.err != SMTPC_ERR_AUTH_FAILED && sr.err != SMTPC_ERR_LOCAL
                                  && sr.err != SMTPC_ERR_AUTH_NOT_OFFERED && smtpc_err_is_transient(sr.err);
                if (sr.err == SMTPC_ERR_AUTH_FAILED)
                    res->outcome = ATTEMPT_AUTH_FAILED;
                else if (smtpc_err_is_transient(sr.err) || sr.err == SMTPC_ERR_LOCAL)
                    res->outcome = ATTEMPT_DEFERRED;
                else
                    res->outcome = ATTEMPT_FAILED;
                goto outcome;
            }
            se.reset_first = *ctx->session_messages > 0;
            (*ctx->session_messages)++;
            fit_for_upstream(m->qid, smtpc_caps(*ctx->session), &headers, src[1].buf, src[1].len,
                             (env.flags & SPOOL_FLAG_8BITMIME) != 0, src, &nsrc, &converted,
                             &converted_flags, &se);
            send_rc = smtpc_send(*ctx->session, &se, rcpt_res, src, nsrc, &sr);
            if (send_rc == 0 || !se.reset_first || strcmp(sr.stage ? sr.stage : "", "rset") != 0)
                break;
            smtpc_session_free(*ctx->session);
            *ctx->session = NULL;
        }
        if (send_rc < 0) {
            describe(&sr, res->reply, sizeof(res->reply));
            res->session_ok = smtpc_usable(*ctx->session);
            /* Refusals of single recipients are sorted out below. */
            if (strcmp(sr.stage ? sr.stage : "", "rcpt") != 0) {
                res->outcome = smtpc_err_is_transient(sr.err) ? ATTEMPT_DEFERRED : ATTEMPT_FAILED;
                goto outcome;
            }
        }
        /* Per recipient: accepted ones are done (the data went through, or
         * every one was refused and the message did not). */
        for (size_t i = 0; i < nrcpts; i++) {
            if (rcpt_res[i].err == SMTPC_OK) {
                if (strcmp(sr.stage ? sr.stage : "", "rcpt") != 0 || sr.err == SMTPC_OK)
                    add_done(&st, rcpts[i]);
            } else if (rcpt_res[i].err == SMTPC_ERR_REPLY_5XX) {
                permanent_rcpt = true;
                snprintf(res->reply, sizeof(res->reply), "<%s>: %s", rcpts[i], rcpt_res[i].reply.text);
            } else {
                temp_rcpt = true;
                snprintf(res->reply, sizeof(res->reply), "<%s>: %s", rcpts[i], rcpt_res[i].reply.text);
            }
        }
        if (temp_rcpt)
            res->outcome = ATTEMPT_DEFERRED;
        else if (permanent_rcpt)
            res->outcome = ATTEMPT_FAILED;
        else {
            res->outcome = ATTEMPT_SENT;
            describe(&sr, res->reply, sizeof(res->reply));
        }
    }

outcome:
    /* One valid UTF-8 text for the log, the event, the state file and
     * the route's last_error (status), cut between characters. */
    utf8_sanitize_buf(res->reply, sizeof(res->reply));
    st.attempts++;
    st.last_attempt = now;
    myfree(st.last_reply);
    st.last_reply = mystrdup(res->reply);
    if (res->outcome == ATTEMPT_DEFERRED || res->outcome == ATTEMPT_AUTH_FAILED) {
        if (retry_next_attempt(&ctx->conf->retry, st.attempts, env.arrival, now, &res->next_attempt)) {
            st.state = SPOOL_DEFERRED;
            st.next_attempt = res->next_attempt;
        } else {
            /* max_age reached: fail, keeping the last reply. */
            res->outcome = ATTEMPT_FAILED;
        }
    }
    if (res->outcome == ATTEMPT_FAILED) {
        st.state = SPOOL_FAILED;
        st.next_attempt = 0;
    }
    status = res->outcome == ATTEMPT_SENT ? "sent" : res->outcome == ATTEMPT_FAILED ? "failed" : "deferred";
    msg_info(m->qid, "to=%s%s tenant=%s relay=%s tls=%s delay=%.2f attempts=%d status=%s (%s)",
             env.recipient_count > 0 ? env.recipients[0] : "", env.recipient_count > 1 ? ",..." : "",
             ctx->route_key, relay,
             *ctx->session && smtpc_tls_info(*ctx->session) ? smtpc_tls_info(*ctx->session)->version : "none",
             difftime(now, env.arrival), st.attempts, status, res->reply);
    metrics_count_delivery(res->outcome == ATTEMPT_SENT ? METRICS_SENT : res->outcome == ATTEMPT_FAILED
                           ? METRICS_FAILED : METRICS_DEFERRED,
                           (double)(clock_mono_ns() - t0) / 1e9,
                           sr.stage);
    emit_event(ctx, &env, sender, relay,
               *ctx->session && smtpc_tls_info(*ctx->session) ? smtpc_tls_info(*ctx->session)->version : NULL,
               status, st.attempts, difftime(now, env.arrival), res->reply);
    if (res->outcome == ATTEMPT_SENT) {
        /* Closed first: the files are reused for the next messages. */
        unmap_message(&mm);
        if (spool_remove_delivered(ctx->spool, m->qid, err, sizeof(err)) < 0)
            msg_error(m->qid, "delivered but cannot remove from the spool: %s", err);
    } else if (spool_state_save(ctx->spool, m->qid, &st, err, sizeof(err)) < 0) {
        msg_error(m->qid, "cannot save delivery state: %s", err);
    }
done:
    utf8_sanitize_buf(res->reply, sizeof(res->reply));
    unmap_message(&mm);
    dbuf_free(&headers);
    dbuf_free(&converted);
    myfree(rcpts);
    myfree(rcpt_res);
    if (have_state)
        spool_state_free(&st);
    if (have_env)
        spool_envelope_free(&env);
}
