/*
 * test_probe.c - the probe's mapping from an SMTP client failure (class,
 * stage, reply) to its stable code, its hint and the step it belongs to;
 * and the report's JSON shape.
 */
#include "config.h"

#include <string.h>

#include "unit.h"
#include "tenantrelay/probe.h"

struct map_case {
    enum smtpc_err err;
    const char *stage;
    int code;                   /* reply code, 0: none */
    const char *enhanced;
    const char *text;           /* reply text */
    enum route_tls tls;
    bool detected_implicit;
    const char *call;           /* the smtpc call that failed */
    const char *want_code;
    const char *want_step;
    const char *hint_has;       /* a substring the hint must contain */
};

#define R_STARTTLS ROUTE_TLS_STARTTLS
#define R_IMPLICIT ROUTE_TLS_IMPLICIT

static const struct map_case cases[] = {
    { SMTPC_ERR_DNS, "dns", 0, "", NULL, R_STARTTLS, false, "dns", "dns_failed", "dns", "does not resolve" },
    { SMTPC_ERR_CONNECT_REFUSED, "connect", 0, "", NULL, R_STARTTLS, false, "connect", "connect_refused",
      "connect", "port 587" },
    { SMTPC_ERR_CONNECT_TIMEOUT, "connect", 0, "", NULL, R_STARTTLS, false, "connect", "connect_timeout",
      "connect", "firewall" },
    { SMTPC_ERR_TIMEOUT, "connect", 0, "", NULL, R_STARTTLS, false, "connect", "connect_timeout", "connect",
      "firewall" },
    { SMTPC_ERR_TLS_MODE_MISMATCH, "tls", 0, "", NULL, R_IMPLICIT, false, "tls", "tls_mode_mismatch", "tls",
      "port 465 expects implicit TLS, 587 and 25 STARTTLS" },
    { SMTPC_ERR_TLS_MODE_MISMATCH, "greeting", 0, "", NULL, R_STARTTLS, true, "tls", "tls_mode_mismatch", "tls",
      "set --tls implicit" },
    { SMTPC_ERR_STARTTLS_NOT_OFFERED, "starttls", 250, "", "250 HELP", R_STARTTLS, false, "tls",
      "starttls_not_offered", "tls", "never sent unencrypted" },
    { SMTPC_ERR_TLS_HANDSHAKE, "tls", 0, "", NULL, R_IMPLICIT, false, "tls", "tls_handshake_failed", "tls",
      "TLS" },
    { SMTPC_ERR_CERT_UNTRUSTED, "tls", 0, "", NULL, R_IMPLICIT, false, "tls", "cert_untrusted", "certificate",
      "--ca-file" },
    { SMTPC_ERR_CERT_NAME_MISMATCH, "tls", 0, "", NULL, R_STARTTLS, false, "tls", "cert_name_mismatch",
      "certificate", "--host" },
    { SMTPC_ERR_CERT_EXPIRED, "tls", 0, "", NULL, R_STARTTLS, false, "tls", "cert_expired", "certificate",
      "expired" },
    { SMTPC_ERR_CERT_INVALID, "tls", 0, "", NULL, R_STARTTLS, false, "tls", "cert_invalid", "certificate",
      "verification" },
    { SMTPC_ERR_AUTH_NOT_OFFERED, "auth", 0, "", NULL, R_STARTTLS, false, "auth", "auth_not_offered", "auth",
      "AUTH" },
    { SMTPC_ERR_AUTH_FAILED, "auth", 535, "5.7.8", "535 5.7.8 Authentication credentials invalid", R_STARTTLS,
      false, "auth", "auth_failed", "auth", "535 5.7.8 Authentication credentials invalid" },
    /* Microsoft 365: basic authentication disabled -> towards XOAUTH2. */
    { SMTPC_ERR_AUTH_FAILED, "auth", 535, "5.7.139",
      "535 5.7.139 Authentication unsuccessful, basic authentication is disabled. [AM0PR01CA0001.eurprd01.prod.exchangelabs.com]",
      R_STARTTLS, false, "auth", "auth_failed", "auth", "XOAUTH2" },
    { SMTPC_ERR_AUTH_FAILED, "auth", 535, "5.7.139",
      "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.",
      R_STARTTLS, false, "auth", "auth_failed", "auth", "Microsoft 365" },
    /* Google: application-specific password required. */
    { SMTPC_ERR_AUTH_FAILED, "auth", 534, "5.7.9",
      "534-5.7.9 Application-specific password required. For more information, go to\n"
      "534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor d2-20020a05", R_STARTTLS, false,
      "auth", "auth_failed", "auth", "app password" },
    { SMTPC_ERR_AUTH_FAILED, "auth", 535, "5.7.8",
      "535-5.7.8 Username and Password not accepted. For more information, go to\n"
      "535 5.7.8  https://support.google.com/mail/?p=BadCredentials", R_STARTTLS, false,
      "auth", "auth_failed", "auth", "app password" },
    { SMTPC_ERR_AUTH_FAILED, "auth", 454, "4.7.0", "454 4.7.0 Temporary authentication failure", R_STARTTLS,
      false, "auth", "auth_failed", "auth", "temporary" },
    { SMTPC_ERR_REPLY_5XX, "mail", 553, "5.7.1", "553 5.7.1 Sender address rejected: not owned by user",
      R_STARTTLS, false, "mail", "sender_rejected", "mail", "validate it there" },
    { SMTPC_ERR_REPLY_4XX, "mail", 451, "4.3.0", "451 4.3.0 try later", R_STARTTLS, false, "mail",
      "sender_rejected", "mail", "temporary" },
    { SMTPC_ERR_REPLY_5XX, "mail", 530, "5.7.0", "530 5.7.0 Authentication required", R_STARTTLS, false,
      "mail", "auth_required", "mail", "--username" },
    { SMTPC_ERR_REPLY_5XX, "rcpt", 550, "5.1.1", "550 5.1.1 no such user", R_STARTTLS, false, "mail",
      "recipient_rejected", "rcpt", "--to" },
    /* Microsoft 365's SendAsDenied comes only after the final dot. */
    { SMTPC_ERR_REPLY_5XX, "dot", 554, "5.2.252",
      "554 5.2.252 SendAsDenied; relay@tenant.example not allowed to send as other@tenant.example; "
      "STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied", R_STARTTLS, false,
      "data", "sender_rejected", "message", "validate it there" },
    { SMTPC_ERR_REPLY_5XX, "dot", 550, "5.7.1", "550 5.7.1 message content rejected", R_STARTTLS, false,
      "data", "message_rejected", "message", "content rejected" },
    { SMTPC_ERR_REPLY_5XX, "data", 554, "5.5.1", "554 5.5.1 no valid recipients", R_STARTTLS, false,
      "data", "message_rejected", "data", "refused" },
    { SMTPC_ERR_TIMEOUT, "greeting", 0, "", NULL, R_STARTTLS, false, "tls", "timeout", "tls", "greeted" },
    { SMTPC_ERR_TIMEOUT, "tls", 0, "", NULL, R_IMPLICIT, false, "tls", "timeout", "tls", "stopped answering" },
    { SMTPC_ERR_TIMEOUT, "dot", 0, "", NULL, R_IMPLICIT, false, "data", "timeout", "message", "during dot" },
    { SMTPC_ERR_CONNECTION_LOST, "ehlo", 0, "", NULL, R_IMPLICIT, false, "ehlo", "connection_lost", "ehlo",
      "closed" },
    { SMTPC_ERR_PROTOCOL, "starttls", 220, "", "220 2.0.0 Ready", R_STARTTLS, false, "tls", "protocol_error",
      "tls", "SMTP" },
    { SMTPC_ERR_REPLY_5XX, "greeting", 554, "", "554 no service for you", R_STARTTLS, false, "tls",
      "server_refused", "tls", "no service for you" },
    { SMTPC_ERR_LOCAL, "tls", 0, "", NULL, R_STARTTLS, false, "tls", "local_error", "tls", "local" },
};

static void test_mapping(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct map_case *c = &cases[i];
        struct smtpc_reply reply;
        struct probe_failure f;
        char hint[PROBE_HINT_MAX];
        const char *code;

        memset(&reply, 0, sizeof(reply));
        reply.code = c->code;
        snprintf(reply.enhanced, sizeof(reply.enhanced), "%s", c->enhanced);
        snprintf(reply.text, sizeof(reply.text), "%s", c->text ? c->text : "");
        f.err = c->err;
        f.stage = c->stage;
        f.reply = &reply;
        f.port = 587;
        f.tls = c->tls;
        f.detected_implicit = c->detected_implicit;
        f.oauth = false;
        code = probe_classify(&f, hint, sizeof(hint));
        if (code == NULL || strcmp(code, c->want_code) != 0)
            fail_msg("case %zu: code %s, want %s", i, code ? code : "(null)", c->want_code);
        if (strcmp(probe_step_names[probe_step_of(c->call, &f)], c->want_step) != 0)
            fail_msg("case %zu: step %s, want %s", i, probe_step_names[probe_step_of(c->call, &f)],
                     c->want_step);
        if (strstr(hint, c->hint_has) == NULL)
            fail_msg("case %zu: hint \"%s\" lacks \"%s\"", i, hint, c->hint_has);
        /* The server's words are passed through whenever it said something. */
        if (c->text && c->err != SMTPC_ERR_STARTTLS_NOT_OFFERED && strstr(hint, "the server said") == NULL)
            fail_msg("case %zu: hint \"%s\" does not pass the reply through", i, hint);
    }
}

static void test_ok_has_no_code(void **state)
{
    struct probe_failure f = { SMTPC_OK, NULL, NULL, 25, ROUTE_TLS_STARTTLS, false, false };
    char hint[64] = "x";

    (void)state;
    assert_null(probe_classify(&f, hint, sizeof(hint)));
    assert_string_equal(hint, "");
}

static void test_step_names(void **state)
{
    static const char *const want[] = { "dns", "connect", "tls", "certificate", "ehlo", "token", "auth", "mail",
                                        "rcpt", "data", "message", "quit" };

    (void)state;
    assert_int_equal(PROBE_NSTEPS, ARRAY_LEN(want));
    for (size_t i = 0; i < ARRAY_LEN(want); i++)
        assert_string_equal(probe_step_names[i], want[i]);
}

static void test_report_json(void **state)
{
    struct probe_report rep;
    json_t *j, *steps;

    (void)state;
    memset(&rep, 0, sizeof(rep));
    rep.steps[PROBE_STEP_DNS].state = PROBE_ST_PASSED;
    rep.steps[PROBE_STEP_CONNECT].state = PROBE_ST_FAILED;
    rep.steps[PROBE_STEP_CONNECT].ms = 7;
    rep.steps[PROBE_STEP_CONNECT].detail = json_pack("{s:s}", "error", "refused");
    rep.code = "connect_refused";
    snprintf(rep.hint, sizeof(rep.hint), "nothing listens");
    j = probe_report_json(&rep);
    assert_true(json_is_false(json_object_get(j, "ok")));
    assert_string_equal(json_string_value(json_object_get(j, "code")), "connect_refused");
    assert_string_equal(json_string_value(json_object_get(j, "hint")), "nothing listens");
    steps = json_object_get(j, "steps");
    assert_int_equal(json_array_size(steps), 2);    /* steps not run are left out */
    assert_string_equal(json_string_value(json_object_get(json_array_get(steps, 1), "step")), "connect");
    assert_true(json_is_false(json_object_get(json_array_get(steps, 1), "ok")));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(steps, 1), "ms")), 7);
    assert_true(json_is_null(json_object_get(json_array_get(steps, 1), "reply")));
    json_decref(j);
    probe_report_free(&rep);

    memset(&rep, 0, sizeof(rep));
    rep.ok = true;
    j = probe_report_json(&rep);
    assert_true(json_is_null(json_object_get(j, "code")));
    assert_true(json_is_true(json_object_get(j, "ok")));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mapping),
        cmocka_unit_test(test_ok_has_no_code),
        cmocka_unit_test(test_step_names),
        cmocka_unit_test(test_report_json),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
