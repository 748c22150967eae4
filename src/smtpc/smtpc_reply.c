/*
 * smtpc_reply.c - parsing what an SMTP server says: reply lines, whole
 * multi-line replies, RFC 3463 enhanced status codes, EHLO capabilities;
 * and the names of the client's error classes.
 *
 * Pure functions over memory buffers, so that the unit tests and the fuzzer
 * reach every branch without a network.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tenantrelay/errstr.h"
#include "tenantrelay/smtpc.h"
#include "tenantrelay/utf8.h"

/* RFC 5321 says 512, real servers send more (long EHLO AUTH lists, banners). */
#define REPLY_LINE_MAX 4096
#define REPLY_LINES_MAX 256

const char *smtpc_err_name(enum smtpc_err err)
{
    static const char *const names[] = {
        "ok", "dns", "connect_refused", "connect_timeout", "connect", "timeout",
        "connection_lost", "tls_handshake", "cert_untrusted", "cert_name_mismatch",
        "cert_expired", "cert_invalid", "starttls_not_offered", "tls_mode_mismatch",
        "auth_not_offered", "auth_failed", "protocol", "reply_4xx", "reply_5xx",
        "ext_unsupported", "local", "route_policy", "not_smtp",
    };

    if ((unsigned)err < sizeof(names) / sizeof(names[0]))
        return names[err];
    return "unknown";
}

bool smtpc_err_is_transient(enum smtpc_err err)
{
    return err != SMTPC_OK && err != SMTPC_ERR_REPLY_5XX && err != SMTPC_ERR_EXT_UNSUPPORTED
        && err != SMTPC_ERR_LOCAL;
}

void smtpc_excerpt(const char *in, size_t len, char *out, size_t outlen)
{
    size_t n = len > SMTPC_EXCERPT_MAX ? SMTPC_EXCERPT_MAX : len, o = 0;

    if (outlen == 0)
        return;
    for (size_t i = 0; i < n && o + 1 < outlen; i++) {
        unsigned char c = (unsigned char)in[i];

        out[o++] = c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? (char)c : '.';
    }
    out[o] = 0;
    if (len > n && o + 4 <= outlen) {
        memcpy(out + o, "...", 4);
    }
}

const char *smtpc_auth_mech_name(enum smtpc_auth_mech mech)
{
    switch (mech) {
    case SMTPC_AUTH_PLAIN:
        return "PLAIN";
    case SMTPC_AUTH_LOGIN:
        return "LOGIN";
    case SMTPC_AUTH_XOAUTH2:
        return "XOAUTH2";
    case SMTPC_AUTH_OAUTHBEARER:
        return "OAUTHBEARER";
    default:
        return "AUTO";
    }
}

int smtpc_parse_reply_line(const char *line, size_t len, int *code, bool *last)
{
    if (len < 3 || !isdigit((unsigned char)line[0]) || !isdigit((unsigned char)line[1])
        || !isdigit((unsigned char)line[2]))
        return -1;
    /* RFC 5321 §4.2: first digit 2-5, second 0-5. */
    if (line[0] < '2' || line[0] > '5' || line[1] > '5')
        return -1;
    if (len > 3 && line[3] != ' ' && line[3] != '-')
        return -1;
    *code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    *last = len == 3 || line[3] == ' ';
    return 0;
}

/* digits{1,max} at p; returns the count or 0. */
static size_t span_digits(const char *p, size_t max)
{
    size_t n = 0;

    while (n < max && isdigit((unsigned char)p[n]))
        n++;
    return isdigit((unsigned char)p[n]) ? 0 : n;
}

int smtpc_parse_enhanced(int code, const char *text, char out[16])
{
    const char *p = text;
    size_t a, b;

    /* Skip "DDD-" / "DDD " when the caller passed a whole line. */
    if (strlen(p) >= 3 && isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1])
        && isdigit((unsigned char)p[2]) && (p[3] == ' ' || p[3] == '-'))
        p += 4;
    if (!(p[0] == '2' || p[0] == '4' || p[0] == '5') || p[1] != '.')
        return -1;
    if (code / 100 != p[0] - '0')
        return -1;
    a = span_digits(p + 2, 3);
    if (a == 0 || p[2 + a] != '.')
        return -1;
    b = span_digits(p + 3 + a, 3);
    if (b == 0)
        return -1;
    if (p[3 + a + b] != 0 && p[3 + a + b] != ' ' && p[3 + a + b] != '\t')
        return -1;
    memcpy(out, p, 3 + a + b);
    out[3 + a + b] = 0;
    return 0;
}

/* Append line (len bytes) to r->text, "\n"-separated, truncating. */
static void text_append(struct smtpc_reply *r, size_t *tlen, const char *line, size_t len)
{
    size_t room;

    if (*tlen > 0) {
        if (*tlen + 1 >= sizeof(r->text)) {
            r->truncated = true;
            return;
        }
        r->text[(*tlen)++] = '\n';
    }
    room = sizeof(r->text) - 1 - *tlen;
    if (len > room) {
        /* Between characters: half a UTF-8 character is invalid JSON
         * for the events file and the status. */
        len = utf8_cut(line, len, room);
        r->truncated = true;
    }
    memcpy(r->text + *tlen, line, len);
    *tlen += len;
    r->text[*tlen] = 0;
}

int smtpc_reply_parse(const char *buf, size_t len, struct smtpc_reply *r, size_t *used,
                      char *errstr, size_t errlen)
{
    size_t pos = 0, tlen = 0;
    int lines = 0, first_code = 0;

    memset(r, 0, sizeof(*r));
    while (pos < len) {
        const char *line = buf + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t llen;
        int code;
        bool last;

        if (nl == NULL) {
            if (len - pos > REPLY_LINE_MAX) {
                errstr_set(errstr, errlen, "reply line longer than %d bytes", REPLY_LINE_MAX);
                return -1;
            }
            return 0;
        }
        llen = (size_t)(nl - line);
        pos += llen + 1;
        /* CRLF is the rule; a bare LF is tolerated from servers (robustness). */
        if (llen > 0 && line[llen - 1] == '\r')
            llen--;
        if (llen > REPLY_LINE_MAX) {
            errstr_set(errstr, errlen, "reply line longer than %d bytes", REPLY_LINE_MAX);
            return -1;
        }
        if (memchr(line, 0, llen) != NULL) {
            errstr_set(errstr, errlen, "NUL byte in a reply");
            return -1;
        }
        if (smtpc_parse_reply_line(line, llen, &code, &last) < 0) {
            char ex[SMTPC_EXCERPT_MAX + 4];

            /* Never the far end's bytes verbatim: it may be another service
             * (Redis, HTTP) whose answer must not reach a tenant. */
            smtpc_excerpt(line, llen, ex, sizeof(ex));
            errstr_set(errstr, errlen, "not an SMTP reply (it starts \"%s\")", ex);
            return -1;
        }
        if (lines == 0)
            first_code = code;
        else if (code != first_code) {
            errstr_set(errstr, errlen, "reply code changed from %d to %d within a reply", first_code, code);
            return -1;
        }
        if (++lines > REPLY_LINES_MAX) {
            errstr_set(errstr, errlen, "reply longer than %d lines", REPLY_LINES_MAX);
            return -1;
        }
        text_append(r, &tlen, line, llen);
        if (last) {
            r->code = first_code;
            if (smtpc_parse_enhanced(first_code, r->text, r->enhanced) < 0)
                r->enhanced[0] = 0;
            *used = pos;
            return 1;
        }
    }
    return 0;
}

/* The keyword and the rest of one EHLO line (after "250-" / "250 "). */
static void caps_line(const char *p, size_t len, struct smtpc_caps *caps)
{
    char kw[32];
    size_t k = 0;
    const char *rest;
    size_t rlen;

    while (k < len && k < sizeof(kw) - 1 && p[k] != ' ' && p[k] != '=') {
        kw[k] = p[k];
        k++;
    }
    kw[k] = 0;
    rest = p + k;
    rlen = len - k;
    if (rlen > 0 && (*rest == ' ' || *rest == '=')) {
        rest++;
        rlen--;
    }
    if (strcasecmp(kw, "STARTTLS") == 0)
        caps->starttls = true;
    else if (strcasecmp(kw, "PIPELINING") == 0)
        caps->pipelining = true;
    else if (strcasecmp(kw, "8BITMIME") == 0)
        caps->eightbitmime = true;
    else if (strcasecmp(kw, "SMTPUTF8") == 0)
        caps->smtputf8 = true;
    else if (strcasecmp(kw, "ENHANCEDSTATUSCODES") == 0)
        caps->enhancedstatuscodes = true;
    else if (strcasecmp(kw, "SIZE") == 0) {
        char num[24];
        size_t n = rlen < sizeof(num) - 1 ? rlen : sizeof(num) - 1;

        caps->size = true;
        memcpy(num, rest, n);
        num[n] = 0;
        caps->size_max = strtoul(num, NULL, 10);
    } else if (strcasecmp(kw, "AUTH") == 0) {
        /* Mechanisms separated by spaces; "AUTH=" is the pre-RFC form. */
        while (rlen > 0) {
            char mech[32];
            size_t m = 0;

            while (rlen > 0 && *rest == ' ') {
                rest++;
                rlen--;
            }
            while (rlen > 0 && *rest != ' ') {
                if (m < sizeof(mech) - 1)
                    mech[m++] = *rest;
                rest++;
                rlen--;
            }
            mech[m] = 0;
            if (strcasecmp(mech, "PLAIN") == 0)
                caps->auth_plain = true;
            else if (strcasecmp(mech, "LOGIN") == 0)
                caps->auth_login = true;
            else if (strcasecmp(mech, "XOAUTH2") == 0)
                caps->auth_xoauth2 = true;
            else if (strcasecmp(mech, "OAUTHBEARER") == 0)
                caps->auth_oauthbearer = true;
        }
    }
}

void smtpc_caps_parse(const char *text, struct smtpc_caps *caps)
{
    const char *p = text;
    bool first = true;

    memset(caps, 0, sizeof(*caps));
    caps->esmtp = true;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);

        /* The first line is the server's name and greeting, not a keyword. */
        if (!first && len > 4)
            caps_line(p + 4, len - 4, caps);
        first = false;
        p += len;
        if (*p == '\n')
            p++;
    }
}
