/*
 * mime_qp.c - quoted-printable encoding, re-fitting and decoding, and the
 * re-wrapping of base64 (see mime.h).
 *
 * Only a CRLF pair is a line break: a lone CR or LF is data (=0D, =0A), so
 * that decoding gives back every byte, whatever the input was.
 */
#include "config.h"

#include <string.h>

#include "tenantrelay/mime.h"

static const char hexdigits[] = "0123456789ABCDEF";

static bool is_crlf(const char *in, size_t len, size_t i)
{
    return i + 1 < len && in[i] == '\r' && in[i + 1] == '\n';
}

/* Whether in[i] is the last byte before a line break or the end. */
static bool at_eol(const char *in, size_t len, size_t i)
{
    return i + 1 == len || is_crlf(in, len, i + 1);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Output written straight into reserved room (one byte at a time through
 * dbuf_append would cost a call per byte on messages of megabytes). */
struct qp_out {
    struct dbuf *b;
    char *p;
    size_t col;
};

/* Room for the worst case: every byte as =XX plus a soft break every 75
 * characters; CRLF pairs only shrink. */
static void out_begin(struct qp_out *o, struct dbuf *b, size_t len)
{
    dbuf_reserve(b, len * 4 + 16);
    o->b = b;
    o->p = b->data + b->len;
    o->col = 0;
}

static void out_end(struct qp_out *o)
{
    o->b->len = (size_t)(o->p - o->b->data);
    o->b->data[o->b->len] = 0;
}

static void out_crlf(struct qp_out *o)
{
    *o->p++ = '\r';
    *o->p++ = '\n';
    o->col = 0;
}

/* A token of tlen characters, with a soft line break first when it would
 * not fit (last: nothing follows on the line, so no room for the "=" of a
 * soft break is needed). */
static void put_token(struct qp_out *o, const char *tok, size_t tlen, bool last)
{
    if (o->col > 0 && o->col + tlen > (last ? MIME_QP_LINE : MIME_QP_LINE - 1)) {
        *o->p++ = '=';
        out_crlf(o);
    }
    memcpy(o->p, tok, tlen);
    o->p += tlen;
    o->col += tlen;
}

static void put_hex(struct qp_out *o, unsigned char c, bool last)
{
    char tok[3] = { '=', hexdigits[c >> 4], hexdigits[c & 15] };

    put_token(o, tok, 3, last);
}

void mime_qp_encode(const char *in, size_t len, struct dbuf *out)
{
    struct qp_out o;
    size_t i = 0;

    out_begin(&o, out, len);
    while (i < len) {
        unsigned char c = (unsigned char)in[i];
        bool last = at_eol(in, len, i);

        if (is_crlf(in, len, i)) {
            out_crlf(&o);
            i += 2;
            continue;
        }
        if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last))
            put_token(&o, in + i, 1, last);
        else
            put_hex(&o, c, last);
        i++;
    }
    out_end(&o);
}

void mime_qp_refit(const char *in, size_t len, struct dbuf *out)
{
    struct qp_out o;
    size_t i = 0, run_end = 0;

    out_begin(&o, out, len);
    while (i < len) {
        unsigned char c = (unsigned char)in[i];

        if (is_crlf(in, len, i)) {
            out_crlf(&o);
            i += 2;
            continue;
        }
        if ((c == ' ' || c == '\t' || c == '=') && i >= run_end) {
            /* Where the run of white space at (or after an '=' at) i
             * ends; kept for the rest of the run, so a long run costs
             * one scan. */
            run_end = i + 1;
            while (run_end < len && (in[run_end] == ' ' || in[run_end] == '\t'))
                run_end++;
        }
        if ((c == ' ' || c == '\t' || c == '=') && is_crlf(in, len, run_end)) {
            if (c == '=') {
                *o.p++ = '=';   /* an existing soft break */
                out_crlf(&o);
                i = run_end + 2;
            } else {
                i = run_end;    /* white space a reader drops anyway */
            }
            continue;
        }
        if (c == '=' && i + 2 < len && hexval(in[i + 1]) >= 0 && hexval(in[i + 2]) >= 0) {
            put_token(&o, in + i, 3, at_eol(in, len, i + 2));
            i += 3;
            continue;
        }
        if ((c >= 32 && c <= 126) || c == '\t')
            put_token(&o, in + i, 1, at_eol(in, len, i));   /* a stray '=' a reader keeps, too */
        else
            put_hex(&o, c, at_eol(in, len, i));
        i++;
    }
    out_end(&o);
}

void mime_qp_decode(const char *in, size_t len, struct dbuf *out)
{
    size_t i = 0;
    char *p;

    dbuf_reserve(out, len);     /* decoding never grows the text */
    p = out->data + out->len;
    while (i < len) {
        size_t eol = i, end, k;
        bool has_break, soft = false;

        /* One line at a time: white space before its CRLF goes. */
        while (eol < len && !is_crlf(in, len, eol))
            eol++;
        has_break = eol < len;
        end = eol;
        if (has_break)
            while (end > i && (in[end - 1] == ' ' || in[end - 1] == '\t'))
                end--;
        for (k = i; k < end; k++) {
            if (in[k] == '=' && k + 2 < end && hexval(in[k + 1]) >= 0 && hexval(in[k + 2]) >= 0) {
                *p++ = (char)(hexval(in[k + 1]) * 16 + hexval(in[k + 2]));
                k += 2;
            } else if (in[k] == '=' && k + 1 == end && has_break) {
                soft = true;    /* soft line break: the CRLF goes too */
            } else {
                *p++ = in[k];
            }
        }
        if (!has_break)
            break;
        if (!soft) {
            *p++ = '\r';
            *p++ = '\n';
        }
        i = eol + 2;
    }
    out->len = (size_t)(p - out->data);
    out->data[out->len] = 0;
}

static bool is_b64(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/'
           || c == '=';
}

void mime_b64_rewrap(const char *in, size_t len, struct dbuf *out)
{
    size_t col = 0;
    bool any = false;

    for (size_t i = 0; i < len; i++) {
        if (!is_b64((unsigned char)in[i]))
            continue;
        if (col == MIME_QP_LINE) {
            dbuf_append(out, "\r\n", 2);
            col = 0;
        }
        dbuf_append_char(out, in[i]);
        col++;
        any = true;
    }
    if (any && len >= 2 && in[len - 2] == '\r' && in[len - 1] == '\n')
        dbuf_append(out, "\r\n", 2);
}
