/*
 * probe_run.c - the connectivity test: one SMTP session driven step by step
 * through the client's functions, each step recorded, stopping at the
 * first failure.
 *
 * TLS mode detection: a port that speaks implicit TLS never greets a
 * STARTTLS client (both sides wait), and one that speaks plaintext answers
 * a ClientHello with a 220 (the TLS layer names that MODE_MISMATCH).  So
 * `auto` tries the likelier mode for the port and, on one of those
 * signatures, the other; an explicit `starttls` whose greeting never comes
 * is checked the same way, so the tenant is told "wrong TLS mode" rather
 * than "timeout".
 */
#include "config.h"

#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tenantrelay/clock.h"
#include "tenantrelay/dbuf.h"
#include "tenantrelay/oauth.h"
#include "tenantrelay/probe.h"
#include "tenantrelay/tenant.h"
#include "tenantrelay/timefmt.h"

#define AUTO_FIRST_TIMEOUT_MS 10000     /* the first guess of `auto` waits at most this */
#define DETECT_TIMEOUT_MS 5000          /* the implicit-TLS check after a silent STARTTLS port */

/* One try at dns + connect + tls in one mode. */
struct attempt {
    enum route_tls mode;
    struct smtpc_session *s;
    struct smtpc_result r[3];   /* dns, connect, tls */
    int failed;                 /* -1: all three passed; else the index that failed */
};

static void attempt_run(const struct probe_options *o, enum route_tls mode, int timeout_ms,
                        struct attempt *a)
{
    struct smtpc_options so;

    memset(a, 0, sizeof(*a));
    a->mode = mode;
    a->failed = 0;
    memset(&so, 0, sizeof(so));
    so.host = o->host;
    so.port = o->port;
    so.tls = mode;
    so.insecure_plaintext = o->insecure_plaintext;
    so.ca_file = o->ca_file;
    so.tls_verify = o->tls_verify;
    so.bind_address = o->bind_address;
    so.helo_name = o->helo_name ? o->helo_name : "localhost";
    so.connect_timeout_ms = so.command_timeout_ms = so.data_timeout_ms = timeout_ms;
    so.policy = o->policy;
    if ((a->s = smtpc_session_new(&so, &a->r[0])) == NULL)
        return;
    if (smtpc_resolve(a->s, &a->r[0]) < 0)
        return;
    a->failed = 1;
    if (smtpc_connect(a->s, &a->r[1]) < 0)
        return;
    a->failed = 2;
    if (smtpc_tls(a->s, &a->r[2]) < 0)
        return;
    a->failed = -1;
}

static bool cert_err(enum smtpc_err e)
{
    return e == SMTPC_ERR_CERT_UNTRUSTED || e == SMTPC_ERR_CERT_NAME_MISMATCH
           || e == SMTPC_ERR_CERT_EXPIRED || e == SMTPC_ERR_CERT_INVALID;
}

/* The TLS handshake itself worked (whatever the certificate's verdict). */
static bool handshake_done(const struct attempt *a)
{
    return a->failed == -1 || (a->failed == 2 && cert_err(a->r[2].err));
}

/* The signature of a port speaking the other TLS mode. */
static bool looks_like_other_mode(const struct attempt *a)
{
    const struct smtpc_result *r = &a->r[2];

    if (a->failed != 2)
        return false;
    if (a->mode == ROUTE_TLS_IMPLICIT)
        return r->err == SMTPC_ERR_TLS_MODE_MISMATCH;
    if (a->mode == ROUTE_TLS_STARTTLS)
        return r->stage && strcmp(r->stage, "greeting") == 0
               && (r->err == SMTPC_ERR_TIMEOUT || r->err == SMTPC_ERR_CONNECTION_LOST
                   || r->err == SMTPC_ERR_PROTOCOL || r->err == SMTPC_ERR_NOT_SMTP);
    return false;
}

static void attempt_free(struct attempt *a)
{
    smtpc_session_free(a->s);
    a->s = NULL;
}

static void step_pass(struct probe_report *rep, enum probe_step_id id, long ms,
                      const struct smtpc_reply *reply, json_t *detail)
{
    struct probe_step *st = &rep->steps[id];

    st->state = PROBE_ST_PASSED;
    st->ms = ms;
    if (reply)
        st->reply = *reply;
    json_decref(st->detail);
    st->detail = detail;
    if (rep->on_step)
        rep->on_step(rep, id, rep->on_step_arg);
}

static void step_skip(struct probe_report *rep, enum probe_step_id id, const char *why)
{
    rep->steps[id].state = PROBE_ST_SKIPPED;
    json_decref(rep->steps[id].detail);
    rep->steps[id].detail = json_pack("{s:s}", "skipped", why);
    if (rep->on_step)
        rep->on_step(rep, id, rep->on_step_arg);
}

/* Record the failure of an smtpc call on its step; the report's verdict. */
static void step_fail(struct probe_report *rep, const char *call, const struct smtpc_result *r,
                      const struct probe_options *o, enum route_tls mode, bool detected_implicit,
                      json_t *detail)
{
    struct probe_failure f = { r->err, r->stage, &r->reply, o->port, mode, detected_implicit,
                               o->auth == ROUTE_AUTH_XOAUTH2 };
    enum probe_step_id id = probe_step_of(call, &f);
    struct probe_step *st = &rep->steps[id];

    rep->ok = false;
    rep->code = probe_classify(&f, rep->hint, sizeof(rep->hint));
    if (rep->code == NULL)              /* never a failure without a code */
        rep->code = "local_error";
    st->state = PROBE_ST_FAILED;
    st->ms = r->ms;
    st->reply = r->reply;
    if (detail == NULL)
        detail = json_object();
    json_object_set_new(detail, "error", json_string(r->errstr));
    if (r->stage)
        json_object_set_new(detail, "stage", json_string(r->stage));
    json_decref(st->detail);
    st->detail = detail;
    if (rep->on_step)
        rep->on_step(rep, id, rep->on_step_arg);
}

static void fail_local(struct probe_report *rep, enum probe_step_id id, const char *code,
                       const char *hint, const char *error)
{
    rep->ok = false;
    rep->code = code;
    snprintf(rep->hint, sizeof(rep->hint), "%s", hint);
    rep->steps[id].state = PROBE_ST_FAILED;
    json_decref(rep->steps[id].detail);
    rep->steps[id].detail = json_pack("{s:s}", "error", error);
    if (rep->on_step)
        rep->on_step(rep, id, rep->on_step_arg);
}

static json_t *cert_json(const struct tls_info *ti)
{
    if (ti == NULL || !ti->have_peer_cert)
        return json_object();
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:b, s:b, s:s?}",
                     "subject", ti->subject, "issuer", ti->issuer, "not_before", ti->not_before,
                     "expiry", ti->not_after, "tls_version", ti->version, "cipher", ti->cipher,
                     "cipher_bits", ti->cipher_bits, "verification", ti->verify_enabled,
                     "verified", ti->verified, "verify_error",
                     ti->verified ? NULL : ti->verify_error);
}

/* The test message: headers and a short body, CRLF lines. */
static void build_message(const struct probe_options *o, const char *to, struct dbuf *msg)
{
    time_t now = time(NULL);
    char date[64], iso[32];
    unsigned char rnd[12];
    char hex[sizeof(rnd) * 2 + 1];

    timefmt_rfc5322(now, date, sizeof(date));
    timefmt_rfc3339(now, iso, sizeof(iso));
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
    dbuf_printf(msg, "Date: %s\r\n", date);
    dbuf_printf(msg, "From: <%s>\r\n", o->sender);
    dbuf_printf(msg, "To: <%s>\r\n", to);
    if (o->tenant)
        dbuf_printf(msg, "Subject: tenantrelay connectivity test for tenant %s at %s\r\n", o->tenant, iso);
    else
        dbuf_printf(msg, "Subject: tenantrelay connectivity test of %s:%d at %s\r\n", o->host, o->port, iso);
    dbuf_printf(msg, "Message-ID: <probe.%s@%s>\r\n", hex, o->helo_name ? o->helo_name : "localhost");
    dbuf_append_str(msg, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n"
                    "Auto-Submitted: auto-generated\r\n\r\n");
    dbuf_printf(msg, "This is a connectivity test sent by tenantrelay at %s.\r\n"
                "It checks that mail from <%s> can be sent through %s:%d.\r\n"
                "No reply is needed.\r\n", iso, o->sender, o->host, o->port);
}

/* Wipe and free the password however we got it. */
static void password_drop(struct probe_options *o)
{
    if (o->password) {
        vault_plain_free(o->password, o->password_len);
        o->password = NULL;
        o->password_len = 0;
    }
}

/* The token step of an OAuth2 route: one fresh request (no cache: the
 * probe checks the credential as it is now).  0 with *tok, or -1 recorded. */
static int run_token(struct probe_options *o, int timeout_ms, struct probe_report *rep,
                     struct oauth_token *tok)
{
    struct oauth_request req;
    struct oauth_error e;
    long long t0;
    char urlbuf[512];
    const char *url = route_oauth_token_url(o->oauth, urlbuf, sizeof(urlbuf));
    struct probe_step *st = &rep->steps[PROBE_STEP_TOKEN];
    int rc;

    memset(&req, 0, sizeof(req));
    req.oauth = o->oauth;
    req.username = o->username;
    req.ca_file = o->ca_file;
    req.vault = o->vault;
    req.seal_tenant = o->tenant;
    req.secret = o->password;
    req.secret_len = o->password_len;
    req.timeout_ms = timeout_ms;
    req.policy = o->policy;
    t0 = clock_mono_ms();
    if (o->password == NULL && o->vault == NULL) {
        fail_local(rep, PROBE_STEP_TOKEN, "secret_unavailable",
                   "the keyring is not available to open the stored OAuth2 secret", "no keyring");
        return -1;
    }
    rc = oauth_fetch(&req, tok, &e);
    password_drop(o);           /* the secret did its work: gone */
    st->ms = (long)(clock_mono_ms() - t0);
    json_decref(st->detail);
    st->detail = json_pack("{s:s, s:s, s:s?}", "provider", route_oauth_provider_names[o->oauth->provider],
                           "token_url", url, "client_id", o->oauth->client_id);
    if (rc < 0) {
        rep->ok = false;
        rep->code = e.code ? e.code : "oauth_token_failed";
        snprintf(rep->hint, sizeof(rep->hint), "%s", e.hint);
        st->state = PROBE_ST_FAILED;
        json_object_set_new(st->detail, "error", json_string(e.detail));
        if (e.http_status)
            json_object_set_new(st->detail, "http_status", json_integer(e.http_status));
        if (e.retry_after)
            json_object_set_new(st->detail, "retry_after", json_integer(e.retry_after));
        if (rep->on_step)
            rep->on_step(rep, PROBE_STEP_TOKEN, rep->on_step_arg);
        return -1;
    }
    st->state = PROBE_ST_PASSED;
    json_object_set_new(st->detail, "expires_in", json_integer(tok->lifetime));
    if (rep->on_step)
        rep->on_step(rep, PROBE_STEP_TOKEN, rep->on_step_arg);
    return 0;
}

/* AUTH of an OAuth2 route: the token step, then XOAUTH2 / OAUTHBEARER. */
static int run_oauth(struct probe_options *o, struct smtpc_session *s, enum route_tls mode, int timeout_ms,
                     struct probe_report *rep)
{
    struct oauth_token tok;
    struct smtpc_result r;
    struct smtpc_cred cred;
    int rc;

    if (run_token(o, timeout_ms, rep, &tok) < 0)
        return -1;
    memset(&cred, 0, sizeof(cred));
    cred.kind = SMTPC_CRED_XOAUTH2;
    cred.mech = SMTPC_AUTH_AUTO;
    cred.username = o->username;
    cred.secret = tok.data;
    cred.secret_len = tok.len;
    rc = smtpc_auth(s, &cred, &r);
    oauth_token_free(&tok);
    if (rc < 0) {
        step_fail(rep, "auth", &r, o, mode, false,
                  json_pack("{s:s, s:s?}", "username", o->username, "challenge", smtpc_auth_challenge(s)));
        return -1;
    }
    step_pass(rep, PROBE_STEP_AUTH, r.ms, &r.reply,
              json_pack("{s:s, s:s}", "mechanism", smtpc_auth_used(s), "username", o->username));
    return 0;
}

static int run_auth(struct probe_options *o, struct smtpc_session *s, enum route_tls mode,
                    int timeout_ms, struct probe_report *rep)
{
    struct smtpc_result r;
    struct smtpc_cred cred;
    char err[256] = "";
    int rc;

    if (o->username == NULL) {
        password_drop(o);
        step_skip(rep, PROBE_STEP_AUTH, "no username configured: no login");
        return 0;
    }
    if (o->auth == ROUTE_AUTH_XOAUTH2 && o->oauth)
        return run_oauth(o, s, mode, timeout_ms, rep);
    if (o->password == NULL && o->password_token) {
        if (o->vault == NULL) {
            fail_local(rep, PROBE_STEP_AUTH, "secret_unavailable",
                       "the keyring is not available to open the stored password", "no keyring");
            return -1;
        }
        if (vault_open(o->vault, o->tenant ? o->tenant : "", "password", o->password_token,
                       &o->password, &o->password_len, err, sizeof(err)) != VAULT_OK) {
            o->password = NULL;
            fail_local(rep, PROBE_STEP_AUTH, "secret_unavailable",
                       "the stored password cannot be opened with this keyring: set it again "
                       "(tenant set ID --password-stdin)", err);
            return -1;
        }
    }
    if (o->password == NULL) {
        fail_local(rep, PROBE_STEP_AUTH, "secret_unavailable",
                   "a username is set but no password: give --password-stdin or --password-file",
                   "no password");
        return -1;
    }
    memset(&cred, 0, sizeof(cred));
    cred.kind = SMTPC_CRED_PASSWORD;
    cred.mech = SMTPC_AUTH_AUTO;
    cred.username = o->username;
    cred.secret = o->password;
    cred.secret_len = o->password_len;
    rc = smtpc_auth(s, &cred, &r);
    /* The secret is needed for nothing else: gone before anything else happens. */
    password_drop(o);
    if (rc < 0) {
        step_fail(rep, "auth", &r, o, mode, false, json_pack("{s:s}", "username", o->username));
        return -1;
    }
    step_pass(rep, PROBE_STEP_AUTH, r.ms, &r.reply,
              json_pack("{s:s, s:s}", "mechanism", smtpc_auth_used(s), "username", o->username));
    return 0;
}

/* Choose and open the TLS session (with detection); record dns, connect,
 * tls and certificate.  0 with *out the open attempt, or -1 (recorded). */
static int run_open(struct probe_options *o, int timeout_ms, struct probe_report *rep, struct attempt *out)
{
    struct attempt a, b;
    enum route_tls mode;
    bool detected = false, autodetect = o->tls == PROBE_TLS_AUTO;
    const struct tls_info *ti;

    mode = autodetect ? (o->port == 465 ? ROUTE_TLS_IMPLICIT : ROUTE_TLS_STARTTLS) : (enum route_tls)o->tls;
    attempt_run(o, mode, autodetect && timeout_ms > AUTO_FIRST_TIMEOUT_MS ? AUTO_FIRST_TIMEOUT_MS : timeout_ms, &a);
    if (looks_like_other_mode(&a) && (autodetect || mode == ROUTE_TLS_STARTTLS)) {
        enum route_tls other = mode == ROUTE_TLS_IMPLICIT ? ROUTE_TLS_STARTTLS : ROUTE_TLS_IMPLICIT;

        attempt_run(o, other, autodetect || timeout_ms < DETECT_TIMEOUT_MS ? timeout_ms : DETECT_TIMEOUT_MS, &b);
        /* auto keeps the other mode when its TLS came up, or when the port
         * turned out to speak plaintext SMTP (its STARTTLS failure is then
         * the real story); otherwise the first failure stands. */
        if (autodetect && (handshake_done(&b) || (other == ROUTE_TLS_STARTTLS && !looks_like_other_mode(&b)
                                                  && b.failed == 2))) {
            attempt_free(&a);
            a = b;
            detected = true;
        } else if (!autodetect && other == ROUTE_TLS_IMPLICIT && handshake_done(&b)) {
            /* A STARTTLS route on an implicit-TLS port. */
            attempt_free(&b);
            a.r[2].err = SMTPC_ERR_TLS_MODE_MISMATCH;
            snprintf(a.r[2].errstr, sizeof(a.r[2].errstr),
                     "port %d speaks implicit TLS (no greeting in plaintext; a TLS handshake works)", o->port);
            step_pass(rep, PROBE_STEP_DNS, a.r[0].ms, NULL, NULL);
            step_pass(rep, PROBE_STEP_CONNECT, a.r[1].ms, NULL,
                      json_pack("{s:s}", "peer", smtpc_peer(a.s)));
            step_fail(rep, "tls", &a.r[2], o, mode, true,
                      json_pack("{s:s, s:s}", "mode", route_tls_names[mode], "detected", "implicit"));
            attempt_free(&a);
            return -1;
        } else {
            attempt_free(&b);
        }
    }
    mode = a.mode;
    rep->tls_used = mode;
    if (a.failed == 0) {
        step_fail(rep, "dns", &a.r[0], o, mode, false, NULL);
        goto fail;
    }
    step_pass(rep, PROBE_STEP_DNS, a.r[0].ms, NULL, NULL);
    if (a.failed == 1) {
        step_fail(rep, "connect", &a.r[1], o, mode, false, NULL);
        goto fail;
    }
    step_pass(rep, PROBE_STEP_CONNECT, a.r[1].ms, NULL, json_pack("{s:s}", "peer", smtpc_peer(a.s)));
    ti = smtpc_tls_info(a.s);
    if (a.failed == 2 && !cert_err(a.r[2].err)) {
        step_fail(rep, "tls", &a.r[2], o, mode, false,
                  json_pack("{s:s, s:b}", "mode", route_tls_names[mode], "detected", detected));
        goto fail;
    }
    step_pass(rep, PROBE_STEP_TLS, a.r[2].ms, a.r[2].reply.code ? &a.r[2].reply : NULL,
              json_pack("{s:s, s:b}", "mode", route_tls_names[mode], "detected", detected));
    if (mode == ROUTE_TLS_NONE) {
        step_skip(rep, PROBE_STEP_CERTIFICATE, "plaintext route (insecure_plaintext): no certificate");
        json_object_set_new(rep->steps[PROBE_STEP_TLS].detail, "warning",
                            json_string("plaintext: the route sends mail and credentials unencrypted"));
    } else if (a.failed == 2) {
        struct smtpc_result r = a.r[2];

        r.ms = 0;
        step_fail(rep, "tls", &r, o, mode, false, cert_json(ti));
        goto fail;
    } else {
        step_pass(rep, PROBE_STEP_CERTIFICATE, 0, NULL, cert_json(ti));
    }
    *out = a;
    return 0;
fail:
    attempt_free(&a);
    return -1;
}

int probe_run(struct probe_options *o, struct probe_report *rep)
{
    int timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : PROBE_TIMEOUT_DEFAULT_MS;
    const char *to = o->to && *o->to ? o->to : o->sender;
    struct attempt a;
    struct smtpc_result r;
    struct smtpc_rcpt_result rr;
    struct smtpc_envelope env;
    struct smtpc_source src;
    struct dbuf msg = DBUF_INIT;
    const char *rcpts[1];
    int rc = -1;

    memset(rep, 0, sizeof(*rep));
    rep->on_step = o->on_step;
    rep->on_step_arg = o->on_step_arg;
    memset(&a, 0, sizeof(a));
    {
        /* smtpc.h: the process must ignore SIGPIPE (an upstream that goes
         * away mid-write).  The daemon does; the command-line tools run the
         * probe too, so set it here when nobody chose otherwise. */
        struct sigaction sa;

        if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
            signal(SIGPIPE, SIG_IGN);
    }
    rep->tls_used = o->tls == PROBE_TLS_AUTO ? route_tls_for_port(o->port) : (enum route_tls)o->tls;
    if (vault_init() < 0) {
        fail_local(rep, PROBE_STEP_DNS, "local_error", "libsodium could not be initialised", "sodium_init");
        goto out;
    }
    if (o->policy) {
        char why[SMTPC_ERRSTR_MAX];

        /* A refused port needs no DNS to be refused (connect checks it too). */
        if (route_policy_check_port(o->policy, o->port, why, sizeof(why)) < 0) {
            fail_local(rep, PROBE_STEP_CONNECT, "route_policy",
                       "tenant routes may use only the ports the operator allows "
                       "(tenant_route_policy.ports): use the provider's submission port", why);
            goto out;
        }
    }
    if (run_open(o, timeout_ms, rep, &a) < 0)
        goto out;
    if (smtpc_ehlo(a.s, &r) < 0) {
        step_fail(rep, "ehlo", &r, o, a.mode, false, NULL);
        goto out;
    }
    step_pass(rep, PROBE_STEP_EHLO, r.ms, &r.reply, NULL);
    if (run_auth(o, a.s, a.mode, timeout_ms, rep) < 0)
        goto out;

    rcpts[0] = to;
    memset(&env, 0, sizeof(env));
    env.sender = o->sender;
    env.rcpts = rcpts;
    env.nrcpts = 1;
    if (smtpc_envelope(a.s, &env, &rr, &r) < 0) {
        if (r.stage && strcmp(r.stage, "rcpt") == 0)
            step_pass(rep, PROBE_STEP_MAIL, 0, NULL, NULL);     /* MAIL was accepted */
        step_fail(rep, "mail", &r, o, a.mode, false,
                  json_pack("{s:s, s:s}", "sender", o->sender, "recipient", to));
        goto out;
    }
    step_pass(rep, PROBE_STEP_MAIL, r.ms, &r.reply, json_pack("{s:s}", "sender", o->sender));
    step_pass(rep, PROBE_STEP_RCPT, 0, &rr.reply, json_pack("{s:s}", "recipient", to));

    if (o->no_send) {
        step_skip(rep, PROBE_STEP_DATA, "--no-send: no test message");
        step_skip(rep, PROBE_STEP_MESSAGE, "--no-send: no test message");
    } else {
        build_message(o, to, &msg);
        memset(&src, 0, sizeof(src));
        src.buf = msg.data;
        src.len = msg.len;
        src.fd = -1;
        if (smtpc_data(a.s, &src, 1, &r) < 0) {
            if (r.stage && strcmp(r.stage, "dot") == 0)
                step_pass(rep, PROBE_STEP_DATA, 0, NULL, NULL);
            step_fail(rep, "data", &r, o, a.mode, false, NULL);
            goto out;
        }
        step_pass(rep, PROBE_STEP_DATA, 0, NULL, NULL);
        {
            const char *mid = strstr(dbuf_str(&msg), "Message-ID: ");
            const char *subj = strstr(dbuf_str(&msg), "Subject: ");
            json_t *d = json_object();

            if (subj)
                json_object_set_new(d, "subject", json_stringn(subj + 9, strcspn(subj + 9, "\r")));
            if (mid)
                json_object_set_new(d, "message_id", json_stringn(mid + 12, strcspn(mid + 12, "\r")));
            step_pass(rep, PROBE_STEP_MESSAGE, r.ms, &r.reply, d);
        }
    }
    if (smtpc_quit(a.s, &r) < 0) {
        step_fail(rep, "quit", &r, o, a.mode, false, NULL);
        goto out;
    }
    step_pass(rep, PROBE_STEP_QUIT, r.ms, &r.reply, NULL);
    rep->ok = true;
    rep->code = NULL;
    rep->hint[0] = 0;
    rc = 0;
out:
    password_drop(o);
    attempt_free(&a);
    dbuf_free(&msg);
    return rc;
}

int probe_run_tenant(const struct conf *conf, const struct tenant *t, const char *to, int timeout_ms,
                     bool no_send, struct probe_report *rep)
{
    return probe_run_tenant_cb(conf, t, to, timeout_ms, no_send, NULL, NULL, rep);
}

int probe_run_tenant_cb(const struct conf *conf, const struct tenant *t, const char *to, int timeout_ms,
                        bool no_send, void (*on_step)(const struct probe_report *, enum probe_step_id, void *),
                        void *arg, struct probe_report *rep)
{
    const struct route *rt = &t->route;
    struct probe_options o;
    struct vault *v = NULL;
    char err[256];
    int rc;

    memset(&o, 0, sizeof(o));
    o.host = rt->host;
    o.port = rt->port;
    o.tls = (enum probe_tls)rt->tls;
    o.insecure_plaintext = rt->insecure_plaintext;
    o.ca_file = rt->ca_file;
    o.tls_verify = rt->tls_verify;
    o.bind_address = rt->bind_address;
    o.helo_name = conf->hostname;
    o.username = rt->username;
    o.password_token = rt->password;
    o.auth = rt->auth;
    o.oauth = &rt->oauth;
    o.tenant = t->id;
    o.sender = rt->sender;
    o.to = to;
    o.timeout_ms = timeout_ms;
    o.no_send = no_send;
    o.policy = &conf->tenant_route_policy;
    o.on_step = on_step;
    o.on_step_arg = arg;
    if (rt->username && (rt->password || rt->auth == ROUTE_AUTH_XOAUTH2)) {
        if ((v = vault_load(conf->key_file, conf->key_credential, conf->user, err, sizeof(err))) == NULL) {
            memset(rep, 0, sizeof(*rep));
            rep->on_step = on_step;
            rep->on_step_arg = arg;
            fail_local(rep, PROBE_STEP_AUTH, "secret_unavailable",
                       "the keyring could not be loaded to open the stored password", err);
            return -1;
        }
        o.vault = v;
    }
    rc = probe_run(&o, rep);
    vault_free(v);
    return rc;
}
