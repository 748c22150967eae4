/*
 * smtpd_data.c - the DATA reader: finds the one true end of data (CRLF "."
 * CRLF), undoes dot-stuffing and flags the bytes that make SMTP smuggling
 * possible (bare LF, bare CR, NUL).  A byte-at-a-time state machine, so a
 * marker split across reads is seen exactly as one in a single read; runs
 * of ordinary bytes inside a line are copied as one span (the machine has
 * nothing to decide for them).
 */
#include "config.h"

#include "tenantrelay/smtpd.h"

enum {
    D_BOL,                      /* after CRLF (or at the start) */
    D_TEXT,                     /* inside a line */
    D_CR,                       /* CR seen inside a line */
    D_DOT,                      /* "." at the start of a line */
    D_DOT_CR,                   /* "." CR at the start of a line */
};

void smtpd_data_init(struct smtpd_data *d, size_t max_line)
{
    d->state = D_BOL;
    d->line_len = 0;
    d->max_line = max_line;
    d->flags = 0;
}

static void text_byte(struct smtpd_data *d, char c, struct dbuf *out)
{
    switch (c) {
    case '\r':
        d->state = D_CR;
        return;
    case '\n':
        /* Normalised, but it does not start a line: "\n.\r\n" never ends
         * the data and its dot is kept. */
        d->flags |= SMTPD_DATA_BARE_LF;
        dbuf_append(out, "\r\n", 2);
        d->line_len = 0;
        d->state = D_TEXT;
        return;
    case '\0':
        d->flags |= SMTPD_DATA_NUL;
        break;
    default:
        break;
    }
    dbuf_append_char(out, c);
    if (++d->line_len > d->max_line)
        d->flags |= SMTPD_DATA_LONGLINE;
    d->state = D_TEXT;
}

/* The bytes that the state machine must see one by one. */
static bool is_special(unsigned char c)
{
    return c == '\r' || c == '\n' || c == '\0';
}

/* Length of the run of ordinary bytes at buf (up to len). */
static size_t ordinary_run(const char *buf, size_t len)
{
    size_t n = 0;

    while (n < len && !is_special((unsigned char)buf[n]))
        n++;
    return n;
}

size_t smtpd_data_feed(struct smtpd_data *d, const char *buf, size_t len, struct dbuf *out,
                       bool *done)
{
    *done = false;
    dbuf_reserve(out, len + len / 2 + 2);
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];

        /* Inside a line, or a line that does not start with a dot: what
         * text_byte() would do byte by byte, done for the whole run. */
        if (d->state == D_TEXT || (d->state == D_BOL && c != '.')) {
            size_t run = ordinary_run(buf + i, len - i);

            if (run > 0) {
                dbuf_append(out, buf + i, run);
                d->line_len += run;
                if (d->line_len > d->max_line)
                    d->flags |= SMTPD_DATA_LONGLINE;
                d->state = D_TEXT;
                i += run - 1;
                continue;
            }
        }
        switch (d->state) {
        case D_BOL:
            if (c == '.')
                d->state = D_DOT;
            else
                text_byte(d, c, out);
            break;
        case D_TEXT:
            text_byte(d, c, out);
            break;
        case D_CR:
            if (c == '\n') {
                dbuf_append(out, "\r\n", 2);
                d->line_len = 0;
                d->state = D_BOL;
            } else {
                d->flags |= SMTPD_DATA_BARE_CR;
                dbuf_append_char(out, '\r');
                d->line_len++;
                text_byte(d, c, out);
            }
            break;
        case D_DOT:
            if (c == '\r') {
                d->state = D_DOT_CR;
            } else {
                /* Dot-unstuffing: the leading dot goes. */
                text_byte(d, c, out);
            }
            break;
        case D_DOT_CR:
            if (c == '\n') {
                *done = true;
                d->state = D_BOL;
                return i + 1;
            }
            d->flags |= SMTPD_DATA_BARE_CR;
            dbuf_append_char(out, '\r');
            d->line_len++;
            text_byte(d, c, out);
            break;
        }
    }
    return len;
}
