/*
 * ctl_route_flags.c - the route flags of `tenant set` and `test --host`
 * (see ctl_route_flags.h): one parser, so both commands accept the same
 * spellings and refuse them with the same words.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "tenantrelay/ctl.h"
#include "tenantrelay/route.h"
#include "ctl_route_flags.h"

void ctl_route_flags_init(struct ctl_route_flags *f)
{
    memset(f, 0, sizeof(*f));
    f->tls_verify = -1;
    f->port = -1;
}

int ctl_parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *s == 0 || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Where the value of a route flag that takes one goes (--port, the one
 * that is checked, apart); NULL: not such a flag. */
static const char **value_slot(struct ctl_route_flags *f, const char *o)
{
    if (strcmp(o, "--host") == 0)
        return &f->host;
    if (strcmp(o, "--tls") == 0)
        return &f->tls;
    if (strcmp(o, "--username") == 0)
        return &f->username;
    if (strcmp(o, "--password-file") == 0)
        return &f->password_file;
    if (strcmp(o, "--sender") == 0)
        return &f->sender;
    if (strcmp(o, "--to") == 0)
        return &f->to;
    if (strcmp(o, "--ca-file") == 0)
        return &f->ca_file;
    if (strcmp(o, "--auth") == 0)
        return &f->auth;
    if (strncmp(o, "--oauth-", 8) == 0) {
        static const struct { const char *name; size_t off; } oauth[] = {
            { "provider", offsetof(struct ctl_route_flags, oauth_provider) },
            { "directory", offsetof(struct ctl_route_flags, oauth_directory) },
            { "token-url", offsetof(struct ctl_route_flags, oauth_token_url) },
            { "client-id", offsetof(struct ctl_route_flags, oauth_client_id) },
            { "secret-file", offsetof(struct ctl_route_flags, oauth_secret_file) },
            { "key-file", offsetof(struct ctl_route_flags, oauth_key_file) },
            { "cert-file", offsetof(struct ctl_route_flags, oauth_cert_file) },
            { "scope", offsetof(struct ctl_route_flags, oauth_scope) },
            { "assertion-alg", offsetof(struct ctl_route_flags, oauth_assertion_alg) },
        };

        for (size_t i = 0; i < sizeof(oauth) / sizeof(oauth[0]); i++)
            if (strcmp(o + 8, oauth[i].name) == 0)
                return (const char **)((char *)f + oauth[i].off);
    }
    return NULL;
}

enum ctl_route_flag_result ctl_route_flags_parse(struct ctl_route_flags *f, unsigned accept, int argc,
                                                 char **argv, int *i, const char *usage, int *status)
{
    const char *o = argv[*i], *val = *i + 1 < argc ? argv[*i + 1] : NULL;
    const char **slot;

    /* Flags without a value. */
    if (strcmp(o, "--password-stdin") == 0)
        f->password_stdin = true;
    else if (strcmp(o, "--no-tls-verify") == 0)
        f->tls_verify = 0;
    else if (strcmp(o, "--tls-verify") == 0 && (accept & CTL_ROUTE_FLAG_TLS_VERIFY))
        f->tls_verify = 1;
    else if (strcmp(o, "--insecure-plaintext") == 0)
        f->insecure_plaintext = true;
    else if (strcmp(o, "--oauth-secret-stdin") == 0)
        f->oauth_secret_stdin = true;
    else if (strcmp(o, "--oauth-secret") == 0 || strncmp(o, "--oauth-secret=", 15) == 0
             || strcmp(o, "--oauth-client-secret") == 0) {
        *status = ctl_fail(EX_USAGE, "a client secret is never taken from the command line (it would "
                           "show in the process list and shell history): use --oauth-secret-stdin or "
                           "--oauth-secret-file");
        return CTL_ROUTE_FLAG_ERROR;
    }
    else if (strcmp(o, "--password") == 0 || strncmp(o, "--password=", 11) == 0) {
        *status = ctl_fail(EX_USAGE, "a password is never taken from the command line (it would show "
                           "in the process list and shell history): use --password-stdin or --password-file");
        return CTL_ROUTE_FLAG_ERROR;
    } else if (val == NULL) {
        /* Every flag left takes a value, the caller's and unknown ones too. */
        *status = ctl_fail(EX_USAGE, "%s needs a value\n%s", o, usage);
        return CTL_ROUTE_FLAG_ERROR;
    } else if ((slot = value_slot(f, o)) != NULL) {
        size_t vlen = strlen(val);

        /* "[::1]" as a form shows an IP literal: the address inside. */
        if (slot == &f->host && vlen > 2 && val[0] == '[' && val[vlen - 1] == ']') {
            argv[*i + 1][vlen - 1] = 0;
            val = argv[*i + 1] + 1;
        }
        *slot = val;
        (*i)++;
    } else if (strcmp(o, "--port") == 0) {
        if (ctl_parse_long(val, 1, 65535, &f->port) < 0) {
            *status = ctl_fail(EX_USAGE, "--port: \"%s\" is not a port (1..65535)", val);
            return CTL_ROUTE_FLAG_ERROR;
        }
        (*i)++;
    } else {
        return CTL_ROUTE_FLAG_OTHER;
    }
    return CTL_ROUTE_FLAG_TAKEN;
}

int ctl_route_flags_check_password(const struct ctl_route_flags *f)
{
    if (f->password_stdin && f->password_file)
        return ctl_fail(EX_USAGE, "--password-stdin and --password-file are exclusive");
    return 0;
}

int ctl_route_flags_tls(const char *s, bool allow_auto, int *mode)
{
    if (strcmp(s, "implicit") == 0)
        *mode = ROUTE_TLS_IMPLICIT;
    else if (strcmp(s, "starttls") == 0)
        *mode = ROUTE_TLS_STARTTLS;
    else if (strcmp(s, "none") == 0)
        *mode = ROUTE_TLS_NONE;
    else if (allow_auto && strcmp(s, "auto") == 0)
        *mode = CTL_ROUTE_TLS_AUTO;
    else
        return ctl_fail(EX_USAGE, allow_auto ? "--tls must be implicit, starttls, auto or none"
                                             : "--tls must be implicit, starttls or none");
    return 0;
}
