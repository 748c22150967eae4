/*
 * rewrite_from.c - reading the mailbox out of a From: value (RFC 5322
 * §3.4 with its obsolete forms) and writing the rewritten From: line.
 *
 * The display name is kept as it was written: quoted strings with their
 * escapes, RFC 2047 encoded words, comments and raw UTF-8 pass through
 * byte for byte (only folding white space is unfolded), because decoding
 * and re-encoding a name is where rewriters usually corrupt it.
 */
#include "config.h"

#include <string.h>

#include "tenantrelay/dbuf.h"
#include "rewrite_int.h"

#define FOLD_AT 78

void rewrite_mailboxes_init(struct rewrite_mailboxes *m)
{
    memset(m, 0, sizeof(*m));
    dbuf_init(&m->display);
    dbuf_init(&m->addr);
}

void rewrite_mailboxes_free(struct rewrite_mailboxes *m)
{
    dbuf_free(&m->display);
    dbuf_free(&m->addr);
}

static bool is_wsp(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Append s (len) to out with white-space runs collapsed to one space
 * outside quoted strings, trimmed at both ends. */
static void append_collapsed(struct dbuf *out, const char *s, size_t len)
{
    size_t i = 0, start = out->len;
    bool quoted = false, space = false;

    while (i < len) {
        char c = s[i];

        if (!quoted && is_wsp(c)) {
            space = true;
            i++;
            continue;
        }
        if (space && out->len > start)
            dbuf_append_char(out, ' ');
        space = false;
        if (c == '\\' && i + 1 < len) {
            dbuf_append(out, s + i, 2);
            i += 2;
            continue;
        }
        if (c == '"')
            quoted = !quoted;
        /* Inside quotes a fold (CRLF) is dropped, its WSP kept. */
        if (!(quoted && (c == '\r' || c == '\n')))
            dbuf_append_char(out, c);
        i++;
    }
}

/* Skip a comment starting at s[i] == '('; returns the index after it, or
 * len when it never closes. */
static size_t skip_comment(const char *s, size_t len, size_t i)
{
    int depth = 0;

    for (; i < len; i++) {
        if (s[i] == '\\') {
            i++;
            continue;
        }
        if (s[i] == '(')
            depth++;
        else if (s[i] == ')' && --depth == 0)
            return i + 1;
    }
    return len + 1;
}

static size_t skip_quoted(const char *s, size_t len, size_t i)
{
    for (i++; i < len; i++) {
        if (s[i] == '\\') {
            i++;
            continue;
        }
        if (s[i] == '"')
            return i + 1;
    }
    return len + 1;
}

/* One mailbox s[0..len): fill display/addr of m when it is the first. */
static void parse_one(const char *s, size_t len, struct rewrite_mailboxes *m)
{
    size_t i = 0, lt = len, gt = len, first_comment = len, comment_end = len;

    while (i < len) {
        if (s[i] == '"') {
            i = skip_quoted(s, len, i);
        } else if (s[i] == '(') {
            size_t e = skip_comment(s, len, i);

            if (first_comment == len) {
                first_comment = i;
                comment_end = e;
            }
            i = e;
        } else if (s[i] == '<' && lt == len) {
            lt = i;
            while (i < len && s[i] != '>')
                i++;
            if (i >= len) {
                m->malformed = true;
                return;
            }
            gt = i;
            i++;
        } else {
            i++;
        }
        if (i > len) {
            m->malformed = true;
            return;
        }
    }
    m->count++;
    if (m->count > 1)
        return;
    if (lt < len) {
        const char *a = s + lt + 1;
        size_t alen = gt - lt - 1;
        const char *colon;

        m->angle = true;
        if (!m->group)
            append_collapsed(&m->display, s, lt);
        /* obs-route "<@a,@b:user@c>": the route goes. */
        if (alen > 0 && a[0] == '@' && (colon = memchr(a, ':', alen)) != NULL) {
            alen -= (size_t)(colon + 1 - a);
            a = colon + 1;
        }
        append_collapsed(&m->addr, a, alen);
        return;
    }
    /* addr-spec, perhaps with the old "(Full Name)" comment. */
    for (i = 0; i < len;) {
        if (s[i] == '(') {
            i = skip_comment(s, len, i);
            continue;
        }
        if (!is_wsp(s[i]))
            dbuf_append_char(&m->addr, s[i]);
        i++;
    }
    if (!m->group && first_comment < len && comment_end <= len && comment_end - first_comment >= 2) {
        /* The comment becomes the display name, as a quoted string. */
        size_t k;

        dbuf_append_char(&m->display, '"');
        for (k = first_comment + 1; k < comment_end - 1; k++) {
            char c = s[k];

            if (c == '\r' || c == '\n')
                continue;
            if (c == '\\' && k + 1 < comment_end - 1) {
                c = s[++k];
            }
            if (c == '"' || c == '\\')
                dbuf_append_char(&m->display, '\\');
            dbuf_append_char(&m->display, c);
        }
        dbuf_append_char(&m->display, '"');
        if (m->display.len == 2)
            dbuf_reset(&m->display);
    }
}

void rewrite_mailboxes_parse(const char *value, size_t len, struct rewrite_mailboxes *m)
{
    size_t i = 0, start = 0;
    int angle = 0;

    while (i <= len) {
        char c = i < len ? value[i] : ',';

        if (i < len && c == '"') {
            i = skip_quoted(value, len, i);
            if (i > len) {
                m->malformed = true;
                return;
            }
            continue;
        }
        if (i < len && c == '(') {
            i = skip_comment(value, len, i);
            if (i > len) {
                m->malformed = true;
                return;
            }
            continue;
        }
        if (c == '<')
            angle++;
        else if (c == '>')
            angle--;
        else if (angle == 0 && c == ':' && i < len) {
            /* A group: its name stands for the display. */
            m->group = true;
            if (m->display.len == 0)
                append_collapsed(&m->display, value + start, i - start);
            start = i + 1;
        } else if (angle == 0 && (c == ',' || c == ';')) {
            size_t k = start;

            while (k < i && is_wsp(value[k]))
                k++;
            if (k < i)
                parse_one(value + start, i - start, m);
            if (m->malformed)
                return;
            start = i + 1;
        }
        if (angle < 0) {
            m->malformed = true;
            return;
        }
        i++;
    }
    if (angle != 0)
        m->malformed = true;
}

/* Length of the top-level token starting at s[i] (up to white space
 * outside quotes and comments). */
static size_t token_len(const char *s, size_t len, size_t i)
{
    size_t j = i;

    while (j < len && s[j] != ' ') {
        if (s[j] == '"') {
            j = skip_quoted(s, len, j);
            continue;
        }
        if (s[j] == '(') {
            j = skip_comment(s, len, j);
            continue;
        }
        j++;
    }
    return (j > len ? len : j) - i;
}

void rewrite_from_line(const char *display, size_t dlen, const char *sender, struct dbuf *out)
{
    size_t line = 5, i = 0;

    dbuf_append_str(out, "From:");
    while (i < dlen) {
        size_t t;

        if (display[i] == ' ') {
            i++;
            continue;
        }
        t = token_len(display, dlen, i);
        if (t == 0)
            t = 1;
        if (line > 5 && line + 1 + t > FOLD_AT) {
            dbuf_append(out, "\r\n ", 3);
            line = 1;
        } else {
            dbuf_append_char(out, ' ');
            line++;
        }
        dbuf_append(out, display + i, t);
        line += t;
        i += t;
    }
    if (dlen > 0) {
        size_t alen = strlen(sender) + 2;

        if (line + 1 + alen > FOLD_AT)
            dbuf_append(out, "\r\n <", 4);
        else
            dbuf_append(out, " <", 2);
        dbuf_append_str(out, sender);
        dbuf_append_char(out, '>');
    } else {
        dbuf_append_char(out, ' ');
        dbuf_append_str(out, sender);
    }
    dbuf_append(out, "\r\n", 2);
}
