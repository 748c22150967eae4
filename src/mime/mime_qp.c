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

/* Append a token of tlen characters at column *col, with a soft line
 * break first when it would not fit (last: nothing follows on the line,
 * so no room for the "=" of a soft break is needed). */
static void put_token(struct dbuf *out, size_t *col, const char *tok, size_t tlen, bool last)
{
    if (*col > 0 && *col + tlen > (last ? MIME_QP_LINE : MIME_QP_LINE - 1)) {
        dbuf_append(out, "=\r\n", 3);
        *col = 0;
    }
    dbuf_append(out, tok, tlen);
    *col += tlen;
}

void mime_qp_encode(const char *in, size_t len, struct dbuf *out)
{
    size_t i = 0, col = 0;

    dbuf_reserve(out, len + len / 8 + 16);
    while (i < len) {
        unsigned char c = (unsigned char)in[i];
        bool last = at_eol(in, len, i);
        char tok[3];

        if (is_crlf(in, len, i)) {
            dbuf_append(out, "\r\n", 2);
            col = 0;
            i += 2;
            continue;
        }
        if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last)) {
            tok[0] = (char)c;
            put_token(out, &col, tok, 1, last);
        } else {
            tok[0] = '=';
            tok[1] = hexdigits[c >> 4];
            tok[2] = hexdigits[c & 15];
            put_token(out, &col, tok, 3, last);
        }
        i++;
    }
}

void mime_qp_refit(const char *in, size_t len, struct dbuf *out)
{
    size_t i = 0, col = 0;

    dbuf_reserve(out, len + len / 32 + 16);
    while (i < len) {
        unsigned char c = (unsigned char)in[i];

        if (is_crlf(in, len, i)) {
            dbuf_append(out, "\r\n", 2);
            col = 0;
            i += 2;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '=') {
            size_t j = i + 1;

            while (j < len && (in[j] == ' ' || in[j] == '\t'))
                j++;
            if (is_crlf(in, len, j) && c == '=') {
                dbuf_append(out, "=\r\n", 3);   /* an existing soft break */
                col = 0;
                i = j + 2;
                continue;
            }
            if (is_crlf(in, len, j)) {
                i = j;          /* white space a reader drops anyway */
                continue;
            }
        }
        if (c == '=' && i + 2 < len && hexval(in[i + 1]) >= 0 && hexval(in[i + 2]) >= 0) {
            put_token(out, &col, in + i, 3, at_eol(in, len, i + 2));
            i += 3;
            continue;
        }
        if ((c >= 32 && c <= 126) || c == '\t') {
            /* Printable, white space, or a stray '=' a reader keeps. */
            put_token(out, &col, in + i, 1, at_eol(in, len, i));
        } else {
            char tok[3] = { '=', hexdigits[c >> 4], hexdigits[c & 15] };

            put_token(out, &col, tok, 3, at_eol(in, len, i));
        }
        i++;
    }
}

void mime_qp_decode(const char *in, size_t len, struct dbuf *out)
{
    size_t i = 0;

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
                dbuf_append_char(out, (char)(hexval(in[k + 1]) * 16 + hexval(in[k + 2])));
                k += 2;
            } else if (in[k] == '=' && k + 1 == end && has_break) {
                soft = true;    /* soft line break: the CRLF goes too */
            } else {
                dbuf_append_char(out, in[k]);
            }
        }
        if (!has_break)
            break;
        if (!soft)
            dbuf_append(out, "\r\n", 2);
        i = eol + 2;
    }
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
