/*
 * mime_convert.c - the message walked as a MIME tree and made fit for the
 * upstream (see mime.h): parts re-encoded only where they do not fit,
 * everything else copied byte for byte.
 *
 * Header fields are found with the one header grammar
 * (rewrite_field_name), so that a part's headers read here as they read
 * everywhere else.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "tenantrelay/mime.h"
#include "tenantrelay/rewrite.h"

#define MIME_DEPTH_MAX 32       /* deeper nesting is copied as opaque text */

struct conv {
    unsigned flags;
    struct dbuf *out;
    int converted;
};

/* What an entity's header section says about its body. */
struct entity_info {
    char type[64];              /* "text/plain", lower case; "" when absent */
    char boundary[72];          /* multipart boundary (RFC 2046: 1..70 characters) */
    char cte[32];               /* Content-Transfer-Encoding, lower case; "" when absent */
    bool has_mime_version;
    bool has_empty_line;        /* the section ends with the empty line */
};

static bool line_too_long(const char *s, size_t len)
{
    size_t start = 0;

    while (start < len) {
        const char *nl = memchr(s + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - s) : len;
        size_t l = end - start;

        if (l > 0 && nl && s[end - 1] == '\r')
            l--;
        if (l > MIME_LINE_MAX)
            return true;
        start = end + 1;
    }
    return false;
}

static bool has_8bit(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80)
            return true;
    return false;
}

bool mime_needs_fix(const char *hdr, size_t hlen, const char *body, size_t blen, unsigned flags)
{
    if ((flags & MIME_FIX_LINES) && (line_too_long(hdr, hlen) || line_too_long(body, blen)))
        return true;
    return (flags & MIME_FIX_8BIT) && has_8bit(body, blen);
}

/* ---- reading a header section ---- */

/* Copy the token at s (up to a tspecial or white space), lower-cased. */
static size_t copy_token(const char *s, size_t len, char *dst, size_t dlen)
{
    size_t i = 0, n = 0;

    while (i < len && (unsigned char)s[i] > ' ' && strchr("()<>@,;:\\\"/[]?=", s[i]) == NULL) {
        if (n + 1 < dlen)
            dst[n++] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
        i++;
    }
    if (dlen)
        dst[n] = 0;
    return i;
}

static size_t skip_cfws(const char *s, size_t len, size_t i)
{
    while (i < len) {
        if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
            i++;
        } else if (s[i] == '(') {
            int depth = 0;

            for (; i < len; i++) {
                if (s[i] == '\\' && i + 1 < len)
                    i++;
                else if (s[i] == '(')
                    depth++;
                else if (s[i] == ')' && --depth == 0) {
                    i++;
                    break;
                }
            }
        } else {
            break;
        }
    }
    return i;
}

/* Content-Type: type/subtype, and the boundary parameter. */
static void parse_content_type(const char *v, size_t len, struct entity_info *e)
{
    size_t i = skip_cfws(v, len, 0), n;
    char sub[32];

    n = copy_token(v + i, len - i, e->type, sizeof(e->type) / 2);
    i += n;
    i = skip_cfws(v, len, i);
    if (n == 0 || i >= len || v[i] != '/') {
        e->type[0] = 0;
        return;
    }
    i = skip_cfws(v, len, i + 1);
    i += copy_token(v + i, len - i, sub, sizeof(sub));
    strcat(e->type, "/");
    strncat(e->type, sub, sizeof(e->type) - strlen(e->type) - 1);
    while (i < len) {
        char name[16];

        i = skip_cfws(v, len, i);
        if (i >= len || v[i] != ';') {
            i++;
            continue;
        }
        i = skip_cfws(v, len, i + 1);
        i += copy_token(v + i, len - i, name, sizeof(name));
        i = skip_cfws(v, len, i);
        if (i >= len || v[i] != '=')
            continue;
        i = skip_cfws(v, len, i + 1);
        if (i < len && v[i] == '"') {
            size_t k = 0;

            for (i++; i < len && v[i] != '"'; i++) {
                if (v[i] == '\\' && i + 1 < len)
                    i++;
                if (strcmp(name, "boundary") == 0 && k + 1 < sizeof(e->boundary))
                    e->boundary[k++] = v[i];
            }
            if (strcmp(name, "boundary") == 0)
                e->boundary[k] = 0;
            i++;
        } else {
            size_t start = i;

            while (i < len && (unsigned char)v[i] > ' ' && v[i] != ';')
                i++;
            if (strcmp(name, "boundary") == 0 && i - start < sizeof(e->boundary)) {
                memcpy(e->boundary, v + start, i - start);
                e->boundary[i - start] = 0;
            }
        }
    }
}

/* Walk the fields of hdr: fn(name, nlen, value, vlen, field, flen). */
typedef void (*field_fn)(void *arg, const char *name, size_t nlen, const char *value, size_t vlen,
                         const char *field, size_t flen);

static void each_field(const char *hdr, size_t hlen, field_fn fn, void *arg)
{
    size_t i = 0;

    while (i < hlen) {
        size_t j = i, at = 0, n;

        /* A field is its line plus the continuation lines after it. */
        do {
            const char *nl = memchr(hdr + j, '\n', hlen - j);

            j = nl ? (size_t)(nl - hdr) + 1 : hlen;
        } while (j < hlen && (hdr[j] == ' ' || hdr[j] == '\t'));
        n = rewrite_field_name(hdr + i, j - i, &at);
        fn(arg, hdr + i, n, hdr + i + at, n ? j - i - at : 0, hdr + i, j - i);
        i = j;
    }
}

static void info_field(void *arg, const char *name, size_t nlen, const char *value, size_t vlen,
                       const char *field, size_t flen)
{
    struct entity_info *e = arg;

    (void)field;
    if (nlen == 0) {
        if (flen <= 2 && (field[0] == '\r' || field[0] == '\n'))
            e->has_empty_line = true;
        return;
    }
    if (nlen == 12 && strncasecmp(name, "Content-Type", 12) == 0 && e->type[0] == 0)
        parse_content_type(value, vlen, e);
    else if (nlen == 25 && strncasecmp(name, "Content-Transfer-Encoding", 25) == 0 && e->cte[0] == 0)
        copy_token(value + skip_cfws(value, vlen, 0), vlen - skip_cfws(value, vlen, 0), e->cte,
                   sizeof(e->cte));
    else if (nlen == 12 && strncasecmp(name, "MIME-Version", 12) == 0)
        e->has_mime_version = true;
}

/* ---- writing ---- */

/* One physical line (without its line end) cut to fit: at the last white
 * space that keeps it within MIME_LINE_MAX (header folding), or anywhere
 * when fold is false or there is none (text no reader decodes). */
static void put_line(struct dbuf *out, const char *s, size_t len, bool fold)
{
    size_t lead = 0;            /* the space a fold without white space adds */

    while (lead + len > MIME_LINE_MAX) {
        size_t room = MIME_LINE_MAX - lead, cut = 0;

        if (fold)
            for (size_t k = room; k > 1; k--)
                if (s[k] == ' ' || s[k] == '\t') {
                    cut = k;
                    break;
                }
        if (cut > 0) {
            /* The white space starts the continuation line. */
            dbuf_append(out, s, cut);
            dbuf_append(out, "\r\n", 2);
            lead = 0;
        } else {
            cut = room;
            dbuf_append(out, s, cut);
            /* A header continuation must start with white space. */
            dbuf_append(out, fold ? "\r\n " : "\r\n", fold ? 3 : 2);
            lead = fold ? 1 : 0;
        }
        s += cut;
        len -= cut;
    }
    dbuf_append(out, s, len);
}

/* Copy text, every line cut to fit (fold: as header lines). */
static void put_text(struct dbuf *out, const char *s, size_t len, bool fold, bool strip_8bit)
{
    size_t start = 0;

    while (start < len) {
        const char *nl = memchr(s + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - s) : len;
        size_t l = end - start;

        if (nl && l > 0 && s[end - 1] == '\r')
            l--;
        if (strip_8bit && has_8bit(s + start, l)) {
            /* Only where no reader decodes (preamble, epilogue). */
            struct dbuf q = DBUF_INIT;

            for (size_t k = start; k < start + l; k++)
                dbuf_append_char(&q, (unsigned char)s[k] >= 0x80 ? '?' : s[k]);
            put_line(out, q.data, q.len, fold);
            dbuf_free(&q);
        } else {
            put_line(out, s + start, l, fold);
        }
        dbuf_append(out, s + start + l, end - start - l + (nl ? 1 : 0));
        start = end + 1;
    }
}

struct hdr_copy {
    struct dbuf *out;
    bool drop_cte;
};

static void copy_field(void *arg, const char *name, size_t nlen, const char *value, size_t vlen,
                       const char *field, size_t flen)
{
    struct hdr_copy *h = arg;

    (void)value;
    (void)vlen;
    if (nlen == 0 && flen <= 2 && (field[0] == '\r' || field[0] == '\n'))
        return;                 /* the empty line: written by the caller */
    if (h->drop_cte && nlen == 25 && strncasecmp(name, "Content-Transfer-Encoding", 25) == 0)
        return;
    put_text(h->out, field, flen, true, false);
}

/* The header section, folded; with cte, its Content-Transfer-Encoding
 * replaced (and MIME-Version added when top and missing). */
static void put_headers(struct conv *c, const char *hdr, size_t hlen, const struct entity_info *e,
                        const char *cte, bool top)
{
    struct hdr_copy h = { c->out, cte != NULL };

    if (cte == NULL && !line_too_long(hdr, hlen)) {
        dbuf_append(c->out, hdr, hlen);
        return;
    }
    each_field(hdr, hlen, copy_field, &h);
    if (c->out->len > 0 && c->out->data[c->out->len - 1] != '\n')
        dbuf_append(c->out, "\r\n", 2);     /* an unterminated last field */
    if (cte) {
        if (top && !e->has_mime_version)
            dbuf_append_str(c->out, "MIME-Version: 1.0\r\n");
        dbuf_printf(c->out, "Content-Transfer-Encoding: %s\r\n", cte);
    }
    /* A part whose body began without the empty line gets one now that
     * a header was added; otherwise as it was. */
    if (e->has_empty_line || cte)
        dbuf_append(c->out, "\r\n", 2);
}

static void entity(struct conv *c, const char *hdr, size_t hlen, const char *body, size_t blen, bool top,
                   bool digest, int depth);

static bool is_delimiter(const char *line, size_t len, const char *b, size_t blen, bool *close)
{
    size_t i;

    if (len < blen + 2 || line[0] != '-' || line[1] != '-' || memcmp(line + 2, b, blen) != 0)
        return false;
    i = blen + 2;
    *close = len >= i + 2 && line[i] == '-' && line[i + 1] == '-';
    if (*close)
        i += 2;
    for (; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t')
            return false;
    return true;
}

/* One body part (its own headers, then its body). */
static void part(struct conv *c, const char *s, size_t len, bool digest, int depth)
{
    size_t h = rewrite_header_length(s, len);

    entity(c, s, h, s + h, len - h, false, digest, depth);
}

static void multipart(struct conv *c, const char *body, size_t blen, const char *boundary, bool digest,
                      int depth)
{
    size_t bl = strlen(boundary), pos = 0, seg = 0;
    bool in_part = false, close = false;

    while (pos < blen) {
        const char *nl = memchr(body + pos, '\n', blen - pos);
        size_t end = nl ? (size_t)(nl - body) : blen;
        size_t l = end - pos, next = nl ? end + 1 : blen;

        if (nl && l > 0 && body[end - 1] == '\r')
            l--;
        if (is_delimiter(body + pos, l, boundary, bl, &close)) {
            /* The line end before the delimiter belongs to it. */
            size_t stop = pos;

            if (stop >= seg + 2 && body[stop - 2] == '\r' && body[stop - 1] == '\n')
                stop -= 2;
            else if (stop >= seg + 1 && body[stop - 1] == '\n')
                stop -= 1;
            if (in_part)
                part(c, body + seg, stop - seg, digest, depth + 1);
            else
                put_text(c->out, body + seg, stop - seg, false, c->flags & MIME_FIX_8BIT);
            dbuf_append(c->out, body + stop, next - stop);
            seg = next;
            in_part = true;
            if (close) {
                put_text(c->out, body + seg, blen - seg, false, c->flags & MIME_FIX_8BIT);
                return;
            }
        }
        pos = next;
    }
    /* No closing delimiter: the last part runs to the end. */
    if (in_part)
        part(c, body + seg, blen - seg, digest, depth + 1);
    else
        put_text(c->out, body + seg, blen - seg, false, c->flags & MIME_FIX_8BIT);
}

static void entity(struct conv *c, const char *hdr, size_t hlen, const char *body, size_t blen, bool top,
                   bool digest, int depth)
{
    struct entity_info e;
    bool identity, long_lines = line_too_long(body, blen);
    bool eight = (c->flags & MIME_FIX_8BIT) && has_8bit(body, blen);

    memset(&e, 0, sizeof(e));
    each_field(hdr, hlen, info_field, &e);
    if (e.type[0] == 0 && digest)
        strcpy(e.type, "message/rfc822");
    identity = e.cte[0] == 0 || strcmp(e.cte, "7bit") == 0 || strcmp(e.cte, "8bit") == 0
               || strcmp(e.cte, "binary") == 0;

    if (!long_lines && !eight) {
        put_headers(c, hdr, hlen, &e, NULL, top);
        dbuf_append(c->out, body, blen);
        return;
    }
    if (depth < MIME_DEPTH_MAX && identity && strncmp(e.type, "multipart/", 10) == 0 && e.boundary[0]) {
        /* The parts are made 7-bit: the label must say so. */
        put_headers(c, hdr, hlen, &e, eight && e.cte[0] && strcmp(e.cte, "7bit") != 0 ? "7bit" : NULL, false);
        multipart(c, body, blen, e.boundary, strcmp(e.type, "multipart/digest") == 0, depth);
        return;
    }
    if (depth < MIME_DEPTH_MAX && identity
        && (strcmp(e.type, "message/rfc822") == 0 || strcmp(e.type, "message/global") == 0)) {
        put_headers(c, hdr, hlen, &e, eight && e.cte[0] && strcmp(e.cte, "7bit") != 0 ? "7bit" : NULL, false);
        part(c, body, blen, false, depth + 1);
        return;
    }
    if (identity) {
        put_headers(c, hdr, hlen, &e, "quoted-printable", top);
        mime_qp_encode(body, blen, c->out);
        c->converted++;
    } else if (strcmp(e.cte, "quoted-printable") == 0) {
        put_headers(c, hdr, hlen, &e, NULL, top);
        mime_qp_refit(body, blen, c->out);
        c->converted++;
    } else if (strcmp(e.cte, "base64") == 0) {
        put_headers(c, hdr, hlen, &e, NULL, top);
        mime_b64_rewrap(body, blen, c->out);
        c->converted++;
    } else {
        /* An encoding we cannot read: only cut its lines to fit. */
        put_headers(c, hdr, hlen, &e, NULL, top);
        put_text(c->out, body, blen, false, false);
    }
}

int mime_convert(const char *hdr, size_t hlen, const char *body, size_t blen, unsigned flags,
                 struct dbuf *out)
{
    struct conv c = { flags, out, 0 };

    dbuf_reserve(out, hlen + blen + blen / 16 + 64);
    entity(&c, hdr, hlen, body, blen, true, false, 0);
    return c.converted;
}
