/*
 * probe_classify.c - from an SMTP client failure (error class, stage,
 * reply) to the probe's stable code and a hint a tenant can act on.
 *
 * Pure functions, table-tested in tests/unit/test_probe.c.  The codes are
 * an interface (the platform shows them and may translate them): add new
 * ones, never rename.  Provider-specific texts (Microsoft 365, Google) are
 * recognised by their enhanced codes and words, and the server's own text
 * is always passed through in the hint.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "tenantrelay/oauth.h"
#include "tenantrelay/probe.h"

const char *const probe_step_names[] = {
    "dns", "connect", "tls", "certificate", "ehlo", "token", "auth", "mail", "rcpt", "data", "message", "quit",
};

#define MODES "port 465 expects implicit TLS, 587 and 25 STARTTLS"

static bool has(const char *text, const char *word)
{
    return text && strcasestr(text, word) != NULL;
}

static const char *reply_text(const struct probe_failure *f)
{
    return f->reply && f->reply->code ? f->reply->text : NULL;
}

static bool is_cert(enum smtpc_err e)
{
    return e == SMTPC_ERR_CERT_UNTRUSTED || e == SMTPC_ERR_CERT_NAME_MISMATCH
           || e == SMTPC_ERR_CERT_EXPIRED || e == SMTPC_ERR_CERT_INVALID;
}

static bool stage_is(const struct probe_failure *f, const char *s)
{
    return f->stage && strcmp(f->stage, s) == 0;
}

/* A refusal after the final dot that is really about the sender (the
 * provider checks "send as" only once it has the From: header). */
static bool dot_refuses_sender(const struct probe_failure *f)
{
    const char *t = reply_text(f);

    return (f->reply && strcmp(f->reply->enhanced, "5.2.252") == 0) || has(t, "SendAsDenied")
           || has(t, "send as") || has(t, "send mail as") || has(t, "sender address")
           || has(t, "not allowed to send") || has(t, "not authorized to send");
}

/* The hint, with the server's own words appended when it said something. */
static void hint_set(char *hint, size_t len, const struct probe_failure *f, const char *advice)
{
    const char *t = reply_text(f);
    char flat[SMTPC_REPLY_MAX];
    size_t i;

    if (t == NULL) {
        snprintf(hint, len, "%s", advice);
        return;
    }
    /* One line: multi-line replies joined with spaces. */
    for (i = 0; t[i] && i < sizeof(flat) - 1; i++)
        flat[i] = t[i] == '\n' ? ' ' : t[i];
    flat[i] = 0;
    snprintf(hint, len, "%s (the server said: \"%s\")", advice, flat);
}

static const char *auth_code(const struct probe_failure *f, char *hint, size_t len)
{
    const char *t = reply_text(f);
    const char *enh = f->reply ? f->reply->enhanced : "";

    if (strcmp(enh, "5.7.139") == 0 || has(t, "basic authentication is disabled")
        || has(t, "SmtpClientAuthentication is disabled"))
        hint_set(hint, len, f, "Microsoft 365 refuses password logins for this mailbox (basic "
                 "authentication / SMTP AUTH is disabled): enable Authenticated SMTP for the mailbox "
                 "in the Microsoft 365 admin center, or use OAuth2 (XOAUTH2), which Microsoft is moving to");
    else if (has(t, "Application-specific password") || has(t, "InvalidSecondFactor")
             || (has(t, "BadCredentials") && has(t, "google")) || has(t, "app password"))
        hint_set(hint, len, f, "Google refuses the account password here: with 2-Step Verification "
                 "create an app password (Google Account > Security > App passwords) and use it, "
                 "or use OAuth2 (XOAUTH2)");
    else if (f->reply && f->reply->code / 100 == 4)
        hint_set(hint, len, f, "the server could not check the login just now (a temporary "
                 "refusal): try again later; if it persists, ask the provider");
    else
        hint_set(hint, len, f, "the server refused the user name or password: check both "
                 "(the user name is often the full mailbox address)");
    return "auth_failed";
}

static const char *refusal_code(const struct probe_failure *f, char *hint, size_t len)
{
    bool temp = f->reply && f->reply->code / 100 == 4;
    const char *t = reply_text(f);

    if (stage_is(f, "auth"))
        return auth_code(f, hint, len);
    if (stage_is(f, "mail") || stage_is(f, "rcpt")) {
        if (f->reply && (f->reply->code == 530 || strcmp(f->reply->enhanced, "5.7.0") == 0)
            && has(t, "auth")) {
            hint_set(hint, len, f, "the server requires a login before it accepts mail: give "
                     "--username and a password");
            return "auth_required";
        }
    }
    if (stage_is(f, "mail")) {
        hint_set(hint, len, f, temp ? "your provider did not accept this sender address just now "
                 "(a temporary refusal): try again later, and check it is validated there"
                 : "your provider did not accept this sender address: validate it there (a "
                 "verified sender, alias or send-as permission of the login mailbox)");
        return "sender_rejected";
    }
    if (stage_is(f, "rcpt")) {
        hint_set(hint, len, f, temp ? "the server did not accept the test recipient just now "
                 "(a temporary refusal): try again later"
                 : "the server refused the test recipient: check --to (by default the test "
                 "message goes to the sender address itself)");
        return "recipient_rejected";
    }
    if (stage_is(f, "dot") && dot_refuses_sender(f)) {
        hint_set(hint, len, f, "your provider did not accept this sender address: validate it there "
                 "(the login mailbox needs send-as permission for it; the refusal came after the "
                 "message was sent, when the provider checked the From: address)");
        return "sender_rejected";
    }
    if (stage_is(f, "data") || stage_is(f, "dot")) {
        hint_set(hint, len, f, temp ? "the server did not accept the test message just now "
                 "(a temporary refusal): try again later"
                 : "the server refused the test message: its reply says why (often a policy "
                 "or content rule of the provider)");
        return "message_rejected";
    }
    if (stage_is(f, "greeting")) {
        hint_set(hint, len, f, "the server refused the connection in its greeting (it may limit "
                 "which addresses may connect)");
        return "server_refused";
    }
    if (stage_is(f, "ehlo")) {
        hint_set(hint, len, f, "the server refused our EHLO greeting");
        return "ehlo_rejected";
    }
    if (stage_is(f, "starttls")) {
        hint_set(hint, len, f, temp ? "the server refused STARTTLS just now (a temporary refusal): "
                 "try again later" : "the server refused STARTTLS: " MODES);
        return temp ? "server_refused" : "starttls_not_offered";
    }
    hint_set(hint, len, f, "the server refused a command");
    return "server_refused";
}

const char *probe_classify(const struct probe_failure *f, char *hint, size_t len)
{
    char buf[256];

    /* OAuth2 routes: Exchange's and Google's answers to a token, and the
     * mailbox permissions they need, have their own codes and admin steps. */
    if (f->oauth && f->reply && f->reply->code && f->err != SMTPC_OK) {
        const char *c = oauth_smtp_classify(f->reply->code, f->reply->enhanced, f->reply->text,
                                            stage_is(f, "auth"), hint, len);

        if (c)
            return c;
    }
    switch (f->err) {
    case SMTPC_OK:
        snprintf(hint, len, "%s", "");
        return NULL;
    case SMTPC_ERR_DNS:
        snprintf(hint, len, "the server name does not resolve: check its spelling (e.g. "
                 "smtp.office365.com, smtp.gmail.com)");
        return "dns_failed";
    case SMTPC_ERR_CONNECT_REFUSED:
        snprintf(hint, len, "nothing accepts connections on port %d of this server: check the port "
                 "(" MODES ") and that the server is running", f->port);
        return "connect_refused";
    case SMTPC_ERR_CONNECT_TIMEOUT:
        snprintf(hint, len, "no answer on port %d: a firewall may be dropping the connection (many "
                 "networks block outbound port 25: try 587 or 465)", f->port);
        return "connect_timeout";
    case SMTPC_ERR_CONNECT:
        snprintf(hint, len, "the connection could not be made: check the server name and port");
        return "connect_failed";
    case SMTPC_ERR_TLS_MODE_MISMATCH:
        if (f->detected_implicit)
            snprintf(hint, len, MODES ": port %d speaks implicit TLS, so set --tls implicit", f->port);
        else
            snprintf(hint, len, MODES ": port %d speaks plaintext first, so set --tls starttls", f->port);
        return "tls_mode_mismatch";
    case SMTPC_ERR_STARTTLS_NOT_OFFERED:
        snprintf(hint, len, "the server does not offer STARTTLS, and mail is never sent unencrypted: "
                 "enable TLS on the server, or use its implicit-TLS port (" MODES ")");
        return "starttls_not_offered";
    case SMTPC_ERR_TLS_HANDSHAKE:
        snprintf(hint, len, "the TLS negotiation failed: the server may only offer TLS older than "
                 "1.2 or weak ciphers (" MODES ")");
        return "tls_handshake_failed";
    case SMTPC_ERR_CERT_UNTRUSTED:
        snprintf(hint, len, "the server's certificate is not signed by a trusted authority "
                 "(self-signed or a private CA): install a certificate from a public CA, or give "
                 "the private CA with --ca-file");
        return "cert_untrusted";
    case SMTPC_ERR_CERT_NAME_MISMATCH:
        snprintf(hint, len, "the server's certificate is not for this host name: use the name the "
                 "certificate was issued to (see its subject) as --host");
        return "cert_name_mismatch";
    case SMTPC_ERR_CERT_EXPIRED:
        snprintf(hint, len, "the server's certificate has expired (or is not valid yet): the "
                 "provider must renew it; check this machine's clock too");
        return "cert_expired";
    case SMTPC_ERR_CERT_INVALID:
        snprintf(hint, len, "the server's certificate failed verification");
        return "cert_invalid";
    case SMTPC_ERR_AUTH_NOT_OFFERED:
        snprintf(hint, len, "the server does not offer a password login (AUTH PLAIN or LOGIN) on "
                 "this connection: check the port (submission is 587 or 465) and that SMTP AUTH "
                 "is enabled for the mailbox");
        return "auth_not_offered";
    case SMTPC_ERR_AUTH_FAILED:
        return auth_code(f, hint, len);
    case SMTPC_ERR_TIMEOUT:
        if (stage_is(f, "connect")) {
            snprintf(buf, sizeof(buf), "no answer on port %d", f->port);
            snprintf(hint, len, "%s: a firewall may be dropping the connection", buf);
            return "connect_timeout";
        }
        if (stage_is(f, "greeting") && f->tls == ROUTE_TLS_STARTTLS)
            snprintf(hint, len, "the server accepted the connection but never greeted us (" MODES
                     "; a server that stalls may be overloaded)");
        else
            snprintf(hint, len, "the server stopped answering (during %s): it may be overloaded, "
                     "or something between us drops the connection", f->stage ? f->stage : "?");
        return "timeout";
    case SMTPC_ERR_CONNECTION_LOST:
        snprintf(hint, len, "the server closed the connection (during %s)%s", f->stage ? f->stage : "?",
                 stage_is(f, "greeting") || stage_is(f, "tls") ? ": " MODES : "");
        return "connection_lost";
    case SMTPC_ERR_PROTOCOL:
        hint_set(hint, len, f, "the server's answer does not follow SMTP (or it sent data where "
                 "it must not): check the host and port");
        return "protocol_error";
    case SMTPC_ERR_REPLY_4XX:
    case SMTPC_ERR_REPLY_5XX:
        return refusal_code(f, hint, len);
    case SMTPC_ERR_EXT_UNSUPPORTED:
        snprintf(hint, len, "the server lacks an SMTP extension the message needs");
        return "message_rejected";
    case SMTPC_ERR_ROUTE_POLICY:
        snprintf(hint, len, "tenant routes may reach only public unicast addresses, on the ports "
                 "the operator allows (tenant_route_policy): use the provider's public server "
                 "name and its submission port (the connect step names the rule)");
        return "route_policy";
    case SMTPC_ERR_NOT_SMTP:
        snprintf(hint, len, "the server on port %d is not an SMTP server (its greeting is not "
                 "SMTP): check the host and port (" MODES ")", f->port);
        return "not_smtp";
    case SMTPC_ERR_LOCAL:
        break;
    }
    snprintf(hint, len, "a local problem stopped the test (see the step's detail)");
    return "local_error";
}

enum probe_step_id probe_step_of(const char *call, const struct probe_failure *f)
{
    if (strcmp(call, "dns") == 0)
        return PROBE_STEP_DNS;
    if (strcmp(call, "connect") == 0)
        return PROBE_STEP_CONNECT;
    if (strcmp(call, "tls") == 0)
        return is_cert(f->err) ? PROBE_STEP_CERTIFICATE : PROBE_STEP_TLS;
    if (strcmp(call, "ehlo") == 0)
        return PROBE_STEP_EHLO;
    if (strcmp(call, "auth") == 0)
        return PROBE_STEP_AUTH;
    if (strcmp(call, "mail") == 0)
        return stage_is(f, "rcpt") ? PROBE_STEP_RCPT : PROBE_STEP_MAIL;
    if (strcmp(call, "data") == 0)
        return stage_is(f, "dot") || (f->reply && f->reply->code == 354) ? PROBE_STEP_MESSAGE
               : PROBE_STEP_DATA;
    return PROBE_STEP_QUIT;
}
