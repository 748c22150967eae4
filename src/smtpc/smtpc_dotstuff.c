/*
 * smtpc_dotstuff.c - the DATA transparency procedure (RFC 5321 §4.5.2),
 * streaming: chunks of any size in, wire bytes out.
 *
 * Every line that starts with a dot gets one more.  Line ends are made
 * canonical on the way: a bare LF or a bare CR leaves as CRLF, so that no
 * upstream can be fed an ambiguous end of data (SMTP smuggling).  The
 * spool holds CRLF lines already; this is the last line of defence.
 */
#include "config.h"

#include <string.h>

#include "tenantrelay/dbuf.h"
#include "tenantrelay/smtpc.h"

void smtpc_dotstuff_init(struct smtpc_dotstuff *d)
{
    d->bol = true;
    d->cr = false;
}

void smtpc_dotstuff_feed(struct smtpc_dotstuff *d, const char *in, size_t len, struct dbuf *out)
{
    size_t i = 0;

    dbuf_reserve(out, len + len / 32 + 4);
    while (i < len) {
        size_t run;

        if (d->cr) {
            /* A CR ends a line whether or not an LF follows it. */
            dbuf_append(out, "\r\n", 2);
            d->cr = false;
            d->bol = true;
            if (in[i] == '\n') {
                i++;
                continue;
            }
        }
        if (in[i] == '\r') {
            d->cr = true;
            i++;
            continue;
        }
        if (in[i] == '\n') {
            dbuf_append(out, "\r\n", 2);
            d->bol = true;
            i++;
            continue;
        }
        if (d->bol && in[i] == '.')
            dbuf_append_char(out, '.');
        /* Copy the rest of the line up to the next CR or LF in one go. */
        run = 0;
        while (i + run < len && in[i + run] != '\r' && in[i + run] != '\n')
            run++;
        dbuf_append(out, in + i, run);
        i += run;
        d->bol = false;
    }
}

void smtpc_dotstuff_finish(struct smtpc_dotstuff *d, struct dbuf *out)
{
    if (d->cr) {
        dbuf_append(out, "\r\n", 2);
        d->cr = false;
        d->bol = true;
    }
    if (!d->bol)
        dbuf_append(out, "\r\n", 2);
    dbuf_append(out, ".\r\n", 3);
    d->bol = true;
}
