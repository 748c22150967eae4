/*
 * smtpd_params.c - the arguments of MAIL FROM and RCPT TO: the <path>
 * syntax (quoted local parts, no source routes, SMTPUTF8 for non-ASCII)
 * and the ESMTP parameters of MAIL (RFC 5321 §4.1.2, RFC 1870 SIZE,
 * RFC 6152 BODY, RFC 6531 SMTPUTF8).  The session (smtpd_session.c) turns
 * a refusal into its reply and counts it as an error.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tenantrelay/errstr.h"
#include "tenantrelay/mailaddr.h"
#include "tenantrelay/spool.h"
#include "smtpd_params.h"

static bool prefix_ci(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* Parse "<path>" at *pp: the address (without brackets) into out.  Quoted
 * local parts may hold '>' and spaces.  0, or -1 on a syntax error. */
static int parse_path(char **pp, char *out, size_t outlen)
{
    char *p = *pp;
    size_t n = 0;
    bool quoted = false;

    if (*p != '<')
        return -1;
    for (p++; *p; p++) {
        if (quoted && *p == '\\' && p[1]) {
            if (n + 2 >= outlen)
                return -1;
            out[n++] = *p++;
            out[n++] = *p;
            continue;
        }
        if (*p == '"')
            quoted = !quoted;
        else if (*p == '>' && !quoted)
            break;
        if (n + 1 >= outlen)
            return -1;
        out[n++] = *p;
    }
    if (*p != '>')
        return -1;
    out[n] = 0;
    *pp = p + 1;
    return 0;
}

static bool has_8bit(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return true;
    return false;
}

int smtpd_params_mail(char *args, bool esmtp, size_t max_size, char *addr, unsigned *flags,
                      char *err, size_t errlen)
{
    char *p = args;
    unsigned f = 0;

    if (!prefix_ci(p, "FROM:"))
        return errstr_set(err, errlen, "501 5.5.4 Syntax: MAIL FROM:<address>");
    p = smtpd_skip_sp(p + 5);
    if (parse_path(&p, addr, SMTPD_PARAMS_ADDR) < 0)
        return errstr_set(err, errlen, "501 5.1.7 Bad sender address syntax");
    /* ESMTP parameters (RFC 5321 §4.1.2: space separated keyword[=value]),
     * only for a client that said EHLO. */
    if (*smtpd_skip_sp(p) && !esmtp)
        return errstr_set(err, errlen, "555 5.5.4 MAIL parameters need EHLO");
    if (*p && *p != ' ')
        return errstr_set(err, errlen, "501 5.5.4 Syntax error in parameters");
    char *save = NULL;
    for (char *kw = strtok_r(p, " ", &save); kw; kw = strtok_r(NULL, " ", &save)) {
        char *val = strchr(kw, '=');

        if (val)
            *val++ = 0;
        if (strcasecmp(kw, "SIZE") == 0 && val) {
            if (*val == 0 || strlen(val) > 20 || strspn(val, "0123456789") != strlen(val))
                return errstr_set(err, errlen, "501 5.5.4 Bad SIZE parameter");
            if (strtoull(val, NULL, 10) > max_size)
                return errstr_set(err, errlen, "552 5.3.4 Message size exceeds the limit of %zu bytes", max_size);
        } else if (strcasecmp(kw, "BODY") == 0 && val) {
            if (strcasecmp(val, "8BITMIME") == 0)
                f |= SPOOL_FLAG_8BITMIME;
            else if (strcasecmp(val, "7BIT") != 0)
                return errstr_set(err, errlen, "501 5.5.4 Bad BODY parameter (7BIT or 8BITMIME)");
        } else if (strcasecmp(kw, "SMTPUTF8") == 0 && val == NULL) {
            f |= SPOOL_FLAG_SMTPUTF8;
        } else {
            return errstr_set(err, errlen, "555 5.5.4 Unsupported MAIL parameter");
        }
    }
    if (addr[0] == '@')
        return errstr_set(err, errlen, "501 5.1.7 Source routes are not accepted");
    if (addr[0] && !mailaddr_is_valid(addr, (f & SPOOL_FLAG_SMTPUTF8) != 0))
        return errstr_set(err, errlen, "%s",
                      has_8bit(addr) && !(f & SPOOL_FLAG_SMTPUTF8)
                          ? "553 5.6.7 Non-ASCII address needs SMTPUTF8"
                          : "501 5.1.7 Bad sender address syntax");
    *flags = f;
    return 0;
}

int smtpd_params_rcpt(char *args, unsigned flags, char *addr, char *err, size_t errlen)
{
    char *p = args;

    if (!prefix_ci(p, "TO:"))
        return errstr_set(err, errlen, "501 5.5.4 Syntax: RCPT TO:<address>");
    p = smtpd_skip_sp(p + 3);
    if (parse_path(&p, addr, SMTPD_PARAMS_ADDR) < 0)
        return errstr_set(err, errlen, "501 5.1.3 Bad recipient address syntax");
    if (*smtpd_skip_sp(p))
        return errstr_set(err, errlen, "555 5.5.4 Unsupported RCPT parameter");
    if (addr[0] == '@')
        return errstr_set(err, errlen, "501 5.1.3 Source routes are not accepted");
    if (!mailaddr_is_valid(addr, (flags & SPOOL_FLAG_SMTPUTF8) != 0))
        return errstr_set(err, errlen, "%s",
                      has_8bit(addr) && !(flags & SPOOL_FLAG_SMTPUTF8)
                          ? "553 5.6.7 Non-ASCII address needs SMTPUTF8"
                          : "501 5.1.3 Bad recipient address syntax");
    return 0;
}
