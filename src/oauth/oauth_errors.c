/*
 * oauth_errors.c - from a token endpoint's error (RFC 6749 §5.2 error,
 * Microsoft's AADSTS codes, Google's texts) or an SMTP server's refusal of
 * a token, to the probe's stable code and a hint naming the admin step
 * that fixes it.  Pure functions, table-tested in tests/unit/test_oauth.c.
 * Codes are an interface: add, never rename.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "tenantrelay/errstr.h"
#include "tenantrelay/oauth.h"

static bool has(const char *text, const char *word)
{
    return text && strcasestr(text, word) != NULL;
}

static void set(struct oauth_error *e, const char *code, bool breaker, const char *hint)
{
    e->code = code;
    e->breaker = breaker;
    snprintf(e->hint, sizeof(e->hint), "%s", hint);
}

void oauth_error_classify(struct oauth_error *e, int http_status, const char *error,
                          const char *description)
{
    const char *d = description;

    e->http_status = http_status;
    snprintf(e->detail, sizeof(e->detail), "HTTP %d%s%s%s%s", http_status, error ? ": " : "",
             error ? error : "", d ? ": " : "", d ? d : "");
    if (has(d, "AADSTS7000215") || has(d, "AADSTS7000222")) {
        set(e, "oauth_invalid_client", true,
            "the client secret is wrong or expired: in the Microsoft Entra admin center, open App "
            "registrations > the app > Certificates & secrets, create a new client secret, and give "
            "its Value (not its ID) to tenant set ID --oauth-secret-stdin");
    } else if (has(d, "AADSTS700016")) {
        set(e, "oauth_app_not_found", true,
            "the application (client id) is not in that directory: check --oauth-directory and "
            "--oauth-client-id against App registrations > Overview (Directory (tenant) ID, "
            "Application (client) ID), and have an administrator of that directory grant consent "
            "(tenantrelayctl oauth instructions prints the URL)");
    } else if (has(d, "AADSTS65001") || has(d, "AADSTS650057") || has(error, "consent_required")) {
        set(e, "oauth_consent_missing", true,
            "admin consent is missing: a Global Administrator must open the admin-consent URL that "
            "tenantrelayctl oauth instructions prints and accept the SMTP.SendAsApp permission");
    } else if (has(d, "AADSTS700027") || has(d, "AADSTS700024") || has(d, "AADSTS5002")) {
        set(e, "oauth_invalid_client", true,
            "the certificate assertion was refused: upload the certificate (its public part, "
            "--oauth-cert-file) to App registrations > the app > Certificates & secrets > "
            "Certificates, and check that --oauth-key-file is its private key");
    } else if (has(d, "AADSTS90002") || has(d, "AADSTS900023")) {
        set(e, "oauth_directory_not_found", true,
            "the directory (tenant) id is unknown to Microsoft: use the Directory (tenant) ID from "
            "App registrations > Overview, or the tenant's onmicrosoft.com domain");
    } else if (has(error, "unauthorized_client")) {
        set(e, "oauth_unauthorized_client", true,
            "the client may not use this grant or scope: for Google, a super administrator must add "
            "the service account's client ID with the scope https://mail.google.com/ under Security > "
            "Access and data control > API controls > Domain-wide delegation; for Microsoft, grant "
            "the application permission SMTP.SendAsApp with admin consent");
    } else if (has(error, "invalid_client")) {
        set(e, "oauth_invalid_client", true,
            "the token endpoint refused the client's credentials (client id, secret or key): check "
            "them and set them again");
    } else if (has(error, "invalid_grant")) {
        set(e, "oauth_invalid_grant", true,
            has(d, "email") || has(d, "user") || has(d, "sub")
            ? "the mailbox (--username, the JWT's sub) is not a user of the Google Workspace domain "
              "that delegated access, or the service-account key was deleted: check both"
            : "the token endpoint refused the grant (a clock far off, a deleted key, or a wrong "
              "mailbox): check the system clock and the credentials");
    } else if (has(error, "invalid_scope")) {
        set(e, "oauth_invalid_scope", true,
            "the scope is not valid for this provider: leave --oauth-scope unset for Microsoft "
            "(https://outlook.office365.com/.default) and Google (https://mail.google.com/)");
    } else if (http_status == 429) {
        set(e, "oauth_rate_limited", false,
            "the token endpoint is throttling requests: tenantrelay waits as long as it asks "
            "(Retry-After) and retries; nothing to do unless it persists");
    } else if (http_status >= 500) {
        set(e, "oauth_token_failed", false,
            "the token endpoint had a temporary failure: delivery is retried later");
    } else {
        set(e, "oauth_token_failed", false,
            "the token endpoint did not issue a token: see the detail for its own words");
    }
}

void oauth_error_local(struct oauth_error *e, const char *code, const char *fmt, ...)
{
    va_list ap;

    e->code = code;
    e->breaker = false;
    va_start(ap, fmt);
    errstr_vset(e->detail, sizeof(e->detail), fmt, ap);
    va_end(ap);
    if (strcmp(code, "route_policy") == 0)
        snprintf(e->hint, sizeof(e->hint), "the token URL leads where tenant routes may not "
                 "(tenant_route_policy): use the provider's public token endpoint");
    else if (strcmp(code, "secret_unavailable") == 0)
        snprintf(e->hint, sizeof(e->hint), "the stored OAuth2 secret cannot be opened with this keyring "
                 "(or is not what the provider needs): set it again with tenant set ID "
                 "--oauth-secret-stdin or --oauth-key-file");
    else
        snprintf(e->hint, sizeof(e->hint), "no token could be obtained from the token endpoint "
                 "(network, TLS or a malformed answer): see the detail; delivery is retried later");
}

const char *oauth_smtp_classify(int code, const char *enhanced, const char *text, bool after_token,
                                char *hint, size_t len)
{
    const char *enh = enhanced ? enhanced : "";

    if (strcmp(enh, "5.7.139") == 0 || has(text, "SmtpClientAuthentication is disabled")) {
        snprintf(hint, len, "SMTP AUTH is disabled for the tenant or the mailbox: in Exchange Online "
                 "PowerShell run Set-CASMailbox -Identity MAILBOX -SmtpClientAuthenticationDisabled "
                 "$false (and Set-TransportConfig -SmtpClientAuthenticationDisabled $false for the "
                 "whole organisation); server said: %s", text ? text : "");
        return "smtp_auth_disabled";
    }
    if (code == 430 && has(text, "STOREDRV")) {
        snprintf(hint, len, "the application has no permission on the mailbox: in Exchange Online "
                 "PowerShell run Add-MailboxPermission -Identity MAILBOX -User SERVICE_PRINCIPAL_ID "
                 "-AccessRights FullAccess (tenantrelayctl oauth instructions prints it filled in); "
                 "server said: %s", text ? text : "");
        return "oauth_mailbox_permission";
    }
    if (strcmp(enh, "5.2.252") == 0 || has(text, "SendAsDenied")) {
        snprintf(hint, len, "the mailbox may not send as this sender: use the mailbox's own address "
                 "as --sender, or grant Send As (Add-RecipientPermission -Identity SENDER -Trustee "
                 "MAILBOX -AccessRights SendAs); server said: %s", text ? text : "");
        return "send_as_denied";
    }
    if (after_token && code == 535 && (strcmp(enh, "5.7.3") == 0 || has(text, "5.7.3"))) {
        snprintf(hint, len, "the token is valid but Exchange refuses it: the service principal or its "
                 "mailbox permission is missing; in Exchange Online PowerShell run "
                 "New-ServicePrincipal -AppId CLIENT_ID -ObjectId OBJECT_ID, then "
                 "Add-MailboxPermission -Identity MAILBOX -User OBJECT_ID -AccessRights FullAccess "
                 "(tenantrelayctl oauth instructions prints both filled in); server said: %s",
                 text ? text : "");
        return "oauth_mailbox_permission";
    }
    if (after_token && (code == 535 || code == 334)) {
        snprintf(hint, len, "the server refused the access token: check that the mailbox "
                 "(--username) is the one the application may send as, and for Google that "
                 "domain-wide delegation includes https://mail.google.com/; server said: %s",
                 text ? text : "");
        return "oauth_token_refused";
    }
    return NULL;
}
