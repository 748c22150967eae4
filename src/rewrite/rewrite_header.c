/*
 * rewrite_header.c - the header section as a list of fields: split off the
 * body, count and remove fields by name, and the whole rewrite done at
 * delivery (tenant header removal, From: to the route's sender with
 * Reply-To: the original, Received: prepended).
 *
 * A field is its first line ("Name: value") plus every continuation line
 * (starting with SP or HTAB).  Output lines always end in CRLF: a bare LF
 * in the input ends a line too, a bare CR or a NUL makes the section
 * invalid (never passed on in a form another parser could read otherwise).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "tenantrelay/mymalloc.h"
#include "tenantrelay/rewrite.h"
#include "rewrite_int.h"

struct field {
    const char *start;          /* first byte of the field */
    size_t len;                 /* through its last line end */
    size_t name_len;            /* name, white space before the colon excluded */
    const char *value;          /* after the colon */
    size_t value_len;           /* through the last line end */
};

struct fields {
    struct field *f;
    size_t n;
    size_t cap;
    bool empty_line;            /* the section ended with the empty line */
};

static bool is_name_char(unsigned char c)
{
    return c >= 33 && c <= 126 && c != ':';
}

/* "Name:" (or "Name :") at the start of line: the one grammar
 * (rewrite_grammar.c), so that the listener, delivery and the milter agree
 * where the body starts and which field is which. */
static size_t field_name_len(const char *line, size_t len)
{
    return rewrite_field_name(line, len, NULL);
}

size_t rewrite_header_length(const char *msg, size_t len)
{
    size_t i = 0;

    while (i < len) {
        const char *nl = memchr(msg + i, '\n', len - i);
        size_t line, body;

        if (nl == NULL)
            return i;           /* an unterminated last line is body */
        line = (size_t)(nl - (msg + i));
        body = line > 0 && msg[i + line - 1] == '\r' ? line - 1 : line;
        if (body == 0)
            return i + line + 1;
        if (msg[i] == ' ' || msg[i] == '\t') {
            if (i == 0)
                return 0;       /* nothing to continue: all body */
        } else if (field_name_len(msg + i, body) == 0) {
            return i;           /* not a header field: the body starts here */
        }
        i += line + 1;
    }
    return len;
}

/* Split hdr into fields.  0, or -1 when malformed. */
static int fields_parse(const char *hdr, size_t len, struct fields *fs)
{
    size_t i = 0;

    fs->f = NULL;
    fs->n = fs->cap = 0;
    fs->empty_line = false;
    while (i < len) {
        const char *line = hdr + i;
        const char *nl = memchr(line, '\n', len - i);
        size_t llen = nl ? (size_t)(nl - line) + 1 : len - i;
        size_t body = llen - (nl ? 1 : 0);

        if (body > 0 && line[body - 1] == '\r')
            body--;
        if (memchr(line, '\r', body) || memchr(line, 0, body))
            return -1;
        if (body == 0) {
            fs->empty_line = true;
            break;              /* the empty line: end of the section */
        }
        if (line[0] == ' ' || line[0] == '\t') {
            if (fs->n == 0)
                return -1;      /* a continuation with nothing to continue */
            fs->f[fs->n - 1].len += llen;
            fs->f[fs->n - 1].value_len += llen;
        } else {
            size_t value_at = 0;
            size_t nlen = rewrite_field_name(line, body, &value_at);
            struct field *f;

            if (nlen == 0)
                return -1;
            if (fs->n == fs->cap) {
                fs->cap = fs->cap ? fs->cap * 2 : 32;
                fs->f = myrealloc(fs->f, fs->cap * sizeof(*fs->f));
            }
            f = &fs->f[fs->n++];
            f->start = line;
            f->len = llen;
            f->name_len = nlen;
            f->value = line + value_at;
            f->value_len = llen - value_at;
        }
        i += llen;
    }
    return 0;
}

static bool field_is(const struct field *f, const char *name)
{
    return strlen(name) == f->name_len && strncasecmp(f->start, name, f->name_len) == 0;
}

/* Append s (len) with every line end made CRLF; a missing final one added. */
static void append_crlf(struct dbuf *out, const char *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        const char *nl = memchr(s + i, '\n', len - i);
        size_t body = nl ? (size_t)(nl - (s + i)) : len - i;
        size_t next = i + body + (nl ? 1 : 0);

        if (body > 0 && s[i + body - 1] == '\r')
            body--;
        dbuf_append(out, s + i, body);
        dbuf_append(out, "\r\n", 2);
        i = next;
    }
}

int rewrite_count_header(const char *hdr, size_t len, const char *name)
{
    struct fields fs;
    int count = 0;

    if (fields_parse(hdr, len, &fs) == 0)
        for (size_t i = 0; i < fs.n; i++)
            if (field_is(&fs.f[i], name))
                count++;
    myfree(fs.f);
    return count;
}

int rewrite_remove_header(const char *hdr, size_t len, const char *name, struct dbuf *out)
{
    const char *nl;
    size_t i = 0;
    int removed = 0;
    bool skipping = false;

    /* Line by line, so that it works on any section, even a malformed one. */
    while (i < len) {
        size_t llen;

        nl = memchr(hdr + i, '\n', len - i);
        llen = nl ? (size_t)(nl - (hdr + i)) + 1 : len - i;
        if (hdr[i] == ' ' || hdr[i] == '\t') {
            if (!skipping)
                dbuf_append(out, hdr + i, llen);
            i += llen;
            continue;
        }
        skipping = false;
        if (llen <= 2 && (hdr[i] == '\r' || hdr[i] == '\n')) {
            dbuf_append(out, hdr + i, len - i);  /* the empty line and beyond */
            break;
        }
        {
            size_t nlen = field_name_len(hdr + i, llen);

            if (nlen > 0 && nlen == strlen(name) && strncasecmp(hdr + i, name, nlen) == 0) {
                skipping = true;
                removed++;
            } else {
                dbuf_append(out, hdr + i, llen);
            }
        }
        i += llen;
    }
    return removed;
}

int rewrite_parse_mailbox(const char *value, size_t len, struct dbuf *display, struct dbuf *addr,
                          bool *angle)
{
    struct rewrite_mailboxes m;
    int rc = -1;

    rewrite_mailboxes_init(&m);
    rewrite_mailboxes_parse(value, len, &m);
    if (!m.malformed && !m.group && m.count == 1 && m.addr.len > 0) {
        dbuf_append(display, m.display.data ? m.display.data : "", m.display.len);
        dbuf_append(addr, m.addr.data, m.addr.len);
        *angle = m.angle;
        rc = 0;
    }
    rewrite_mailboxes_free(&m);
    return rc;
}

/* A prepended header: "Name: value", folds only as CRLF + WSP. */
static bool prepend_ok(const char *h)
{
    size_t len = strlen(h), i;
    const char *colon = strchr(h, ':');

    while (len > 0 && (h[len - 1] == '\n' || h[len - 1] == '\r'))
        len--;
    if (len == 0 || colon == NULL || colon == h || (size_t)(colon - h) > len)
        return false;
    for (i = 0; h + i < colon; i++)
        if (!is_name_char((unsigned char)h[i]))
            return false;
    for (i = 0; i < len; i++) {
        if (h[i] == 0)
            return false;
        if (h[i] == '\r' && !(i + 2 < len && h[i + 1] == '\n' && (h[i + 2] == ' ' || h[i + 2] == '\t')))
            return false;
        if (h[i] == '\n' && !(i > 0 && h[i - 1] == '\r'))
            return false;
    }
    return true;
}

static bool sender_ok(const char *s)
{
    if (*s == 0)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == '<' || *s == '>' || *s == 0x7f)
            return false;
    return true;
}

enum rewrite_status rewrite_headers(const char *hdr, size_t len, const struct rewrite_opts *opts,
                                    struct dbuf *out, struct rewrite_report *report)
{
    struct fields fs = { NULL, 0, 0, false };
    struct rewrite_report local;
    enum rewrite_status st = REWRITE_OK;
    size_t i, k, from_count = 0, reply_to_count = 0;

    if (report == NULL)
        report = &local;
    memset(report, 0, sizeof(*report));
    dbuf_reset(out);
    if (fields_parse(hdr, len, &fs) < 0) {
        st = REWRITE_BAD_HEADER;
        goto done;
    }
    if (opts->from_sender && !sender_ok(opts->from_sender)) {
        st = REWRITE_BAD_HEADER;
        goto done;
    }
    for (i = 0; i < fs.n; i++) {
        if (field_is(&fs.f[i], "From"))
            from_count++;
        else if (field_is(&fs.f[i], "Reply-To"))
            reply_to_count++;
    }
    if (from_count > 1) {
        st = REWRITE_MULTIPLE_FROM;
        goto done;
    }
    for (k = 0; opts->prepend && opts->prepend[k]; k++) {
        if (!prepend_ok(opts->prepend[k])) {
            st = REWRITE_BAD_HEADER;
            goto done;
        }
        append_crlf(out, opts->prepend[k], strlen(opts->prepend[k]));
    }
    for (i = 0; i < fs.n; i++) {
        const struct field *f = &fs.f[i];
        bool drop = false;

        /* From: is rewritten, never removed, so that exactly one leaves. */
        if (!(opts->from_sender && field_is(f, "From"))) {
            for (k = 0; opts->remove && opts->remove[k]; k++)
                if (field_is(f, opts->remove[k]))
                    drop = true;
        }
        if (drop) {
            report->removed++;
            continue;
        }
        if (opts->from_sender && field_is(f, "From")) {
            struct rewrite_mailboxes m;

            rewrite_mailboxes_init(&m);
            rewrite_mailboxes_parse(f->value, f->value_len, &m);
            if (!m.malformed && m.count >= 1 && m.addr.len > 0)
                snprintf(report->old_from, sizeof(report->old_from), "%s", m.addr.data);
            if (!m.malformed && m.count == 1 && !m.group && m.addr.len > 0
                && strcasecmp(m.addr.data, opts->from_sender) == 0) {
                /* Already the route's sender: nothing to do. */
                append_crlf(out, f->start, f->len);
            } else {
                rewrite_from_line(m.malformed ? "" : dbuf_str(&m.display),
                                  m.malformed ? 0 : m.display.len, opts->from_sender, out);
                report->from_rewritten = true;
                if (opts->add_reply_to && reply_to_count == 0 && report->old_from[0]) {
                    /* The original value as written: display names and
                     * every mailbox of a list stay reachable. */
                    dbuf_append_str(out, "Reply-To:");
                    append_crlf(out, f->value, f->value_len);
                    report->reply_to_added = true;
                }
            }
            rewrite_mailboxes_free(&m);
            continue;
        }
        append_crlf(out, f->start, f->len);
    }
    if (opts->from_sender && from_count == 0) {
        rewrite_from_line("", 0, opts->from_sender, out);
        report->from_added = true;
    }
    if (fs.empty_line)
        dbuf_append(out, "\r\n", 2);

done:
    if (st != REWRITE_OK) {
        dbuf_reset(out);
        memset(report, 0, sizeof(*report));
    }
    myfree(fs.f);
    return st;
}
