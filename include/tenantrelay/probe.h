/*
 * probe.h - the connectivity test of a route (SPEC §6): a staged SMTP
 * dialogue that stops at the first failure and names it with a stable code
 * and a hint a tenant can act on.
 *
 * Steps, in order: dns, connect, tls, certificate, ehlo, token (OAuth2
 * routes only: the access token requested from the provider), auth, mail,
 * rcpt, data, message, quit.  Each records its duration, the server's exact reply
 * and a detail object (the certificate step: subject, issuer, expiry, TLS
 * version, cipher).  Built on the SMTP client's step functions (smtpc.h),
 * so the probe and delivery speak exactly the same SMTP.
 *
 * Secrets: the password is either opened from the vault (vault, tenant,
 * token) just before AUTH or handed over already open (password, owned by
 * the probe from the call on); either way it lives in sodium_malloc memory
 * and is wiped right after AUTH (or at the end when AUTH never ran).  It
 * never appears in a report.
 *
 * Ownership: probe_run() fills a caller-provided report whose detail
 * objects are released by probe_report_free(); codes are static strings.
 */
#ifndef TENANTRELAY_PROBE_H
#define TENANTRELAY_PROBE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "tenantrelay/conf.h"
#include "tenantrelay/smtpc.h"
#include "tenantrelay/tenant.h"
#include "tenantrelay/vault.h"

enum probe_step_id {
    PROBE_STEP_DNS, PROBE_STEP_CONNECT, PROBE_STEP_TLS, PROBE_STEP_CERTIFICATE, PROBE_STEP_EHLO,
    PROBE_STEP_TOKEN, PROBE_STEP_AUTH, PROBE_STEP_MAIL, PROBE_STEP_RCPT, PROBE_STEP_DATA, PROBE_STEP_MESSAGE,
    PROBE_STEP_QUIT,
    PROBE_NSTEPS
};
/* "dns", "connect", ... indexable by enum probe_step_id. */
extern const char *const probe_step_names[];

enum probe_step_state {
    PROBE_ST_NOT_RUN = 0,          /* an earlier step failed */
    PROBE_ST_PASSED,
    PROBE_ST_FAILED,
    PROBE_ST_SKIPPED,              /* not applicable (no login, --no-send, plaintext route) */
};

/* How the probe picks the TLS mode. */
struct probe_report;

enum probe_tls {
    PROBE_TLS_IMPLICIT = ROUTE_TLS_IMPLICIT,
    PROBE_TLS_STARTTLS = ROUTE_TLS_STARTTLS,
    PROBE_TLS_NONE = ROUTE_TLS_NONE,
    PROBE_TLS_AUTO,             /* implicit first on 465, STARTTLS otherwise; the other by detection */
};

#define PROBE_HINT_MAX 1024
#define PROBE_TIMEOUT_DEFAULT_MS 30000

struct probe_options {
    const char *host;
    int port;
    enum probe_tls tls;
    bool insecure_plaintext;    /* required for PROBE_TLS_NONE */
    const char *ca_file;        /* NULL: the system trust store */
    bool tls_verify;
    const char *bind_address;   /* NULL or "": any */
    const char *helo_name;      /* EHLO name (the config's hostname) */
    const char *username;       /* NULL: no AUTH (the auth step is skipped) */
    /* The password: already open (taken over: wiped and freed by the
     * probe), or a sealed token opened from vault for (tenant, "password"). */
    unsigned char *password;
    size_t password_len;
    const struct vault *vault;
    const char *password_token;
    /* OAuth2 (auth xoauth2): the token is requested in the token step.  Its
     * secret is the oauth group's sealed one, opened from vault, or handed
     * over open in password/password_len (taken over like a password). */
    enum route_auth auth;
    const struct route_oauth *oauth;
    const char *tenant;         /* names the tenant in the test message; the vault's tenant id */
    const char *sender;         /* MAIL FROM and From: */
    const char *to;             /* RCPT TO; NULL: the sender */
    bool no_send;               /* stop before DATA (data and message skipped) */
    int timeout_ms;             /* every wait; 0: PROBE_TIMEOUT_DEFAULT_MS */
    const struct route_policy *policy;  /* tenant routes (route_policy.h); NULL: exempt */
    /* Called as each step is recorded (passed, failed or skipped), from the
     * probe's thread, so a caller can show the steps live; may be NULL. */
    void (*on_step)(const struct probe_report *rep, enum probe_step_id id, void *arg);
    void *on_step_arg;
};

struct probe_step {
    enum probe_step_state state;
    long ms;
    struct smtpc_reply reply;   /* code 0: no reply in this step */
    json_t *detail;             /* NULL or an object; owned by the report */
};

struct probe_report {
    bool ok;
    const char *code;           /* static; NULL when every step passed */
    char hint[PROBE_HINT_MAX];  /* "" when ok */
    enum route_tls tls_used;    /* the mode finally spoken (auto: the detected one) */
    struct probe_step steps[PROBE_NSTEPS];
    void (*on_step)(const struct probe_report *rep, enum probe_step_id id, void *arg);
    void *on_step_arg;          /* copied from the options */
};

/* Run the probe.  Always fills rep (a local problem such as an unopenable
 * password is a failure with its own code); returns 0 when every step
 * passed, -1 otherwise.  Free rep with probe_report_free(). */
int probe_run(struct probe_options *o, struct probe_report *rep);

/* The probe of a tenant record under conf's tenant_route_policy (the route,
 * its sealed password opened from the configured keyring) to `to` (NULL: the sender); timeout_ms 0 for the
 * default.  0 passed, -1 failed; rep always filled. */
int probe_run_tenant(const struct conf *conf, const struct tenant *t, const char *to, int timeout_ms,
                     bool no_send, struct probe_report *rep);
/* The same with a step callback (see probe_options.on_step). */
int probe_run_tenant_cb(const struct conf *conf, const struct tenant *t, const char *to, int timeout_ms,
                        bool no_send, void (*on_step)(const struct probe_report *, enum probe_step_id, void *),
                        void *arg, struct probe_report *rep);
/* One step as in probe_report_json()'s "steps"; a new reference. */
json_t *probe_step_json(const struct probe_report *rep, enum probe_step_id id);

void probe_report_free(struct probe_report *rep);

/* {"ok", "code", "hint", "steps": [{"step", "ok", "ms", "reply", "detail"}]}
 * (steps that ran or were skipped); a new reference. */
json_t *probe_report_json(const struct probe_report *rep);
/* One line per step with its duration and the server's exact reply, then
 * the verdict, code and hint. */
void probe_report_print(FILE *fp, const struct probe_report *rep);

/* ---- The mapping, pure, exposed for unit tests. ---- */

/* What the failed smtpc call was, for the mapping. */
struct probe_failure {
    enum smtpc_err err;
    const char *stage;          /* smtpc_result.stage */
    const struct smtpc_reply *reply;    /* may be NULL */
    int port;
    enum route_tls tls;         /* the mode in use */
    bool detected_implicit;     /* STARTTLS failed and the port spoke implicit TLS */
    bool oauth;                 /* an OAuth2 route whose token was obtained */
};

/* The stable code of a failure and its plain-language hint (the server's
 * own text passed through where there is one). */
const char *probe_classify(const struct probe_failure *f, char *hint, size_t hintlen);
/* The step a failure of an smtpc call belongs to: call is the smtpc step
 * that failed ("tls", "data", ...); certificate failures of smtpc_tls()
 * belong to "certificate", the part of smtpc_data() after the 354 to
 * "message". */
enum probe_step_id probe_step_of(const char *call, const struct probe_failure *f);

#endif
