/*
 * fuzz_mime.c - libFuzzer harness for the MIME walk that makes a message
 * fit the upstream (src/mime/mime_convert.c).
 *
 * Input: one option byte (bit 0: also make 8-bit content 7-bit), then a
 * message (header section as rewrite_header_length() finds it, then the
 * body).  Properties: after mime_convert() no line is longer than 998
 * octets; a message that needs nothing is reported so; and a message
 * without MIME headers decodes (quoted-printable, when it was re-encoded)
 * to exactly its body, 7-bit when asked.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tenantrelay/dbuf.h"
#include "tenantrelay/mime.h"
#include "tenantrelay/rewrite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_lines(const struct dbuf *b)
{
    size_t col = 0;

    for (size_t i = 0; i < b->len; i++) {
        if (b->data[i] == '\n') {
            col = 0;
            continue;
        }
        if (b->data[i] == '\r' && i + 1 < b->len && b->data[i + 1] == '\n')
            continue;
        if (++col > MIME_LINE_MAX)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned flags;
    const char *msg;
    size_t len, hlen;
    struct dbuf out = DBUF_INIT, dec = DBUF_INIT;

    if (size < 1)
        return 0;
    flags = MIME_FIX_LINES | ((data[0] & 1) ? MIME_FIX_8BIT : 0);
    msg = (const char *)data + 1;
    len = size - 1;
    hlen = rewrite_header_length(msg, len);
    mime_convert(msg, hlen, msg + hlen, len - hlen, flags, &out);
    check_lines(&out);
    if (!mime_needs_fix(msg, hlen, msg + hlen, len - hlen, flags)
        && (out.len != len || (len > 0 && memcmp(out.data, msg, len) != 0)))
        abort();                /* what fits goes as it is */

    /* No MIME header at all: the body alone is what a reader decodes. */
    if (rewrite_count_header(msg, hlen, "Content-Type") == 0
        && rewrite_count_header(msg, hlen, "Content-Transfer-Encoding") == 0
        && rewrite_count_header(msg, hlen, "MIME-Version") == 0 && memchr(msg, '\r', len) == NULL) {
        const char *mark = "Content-Transfer-Encoding: quoted-printable\r\n";
        const char *at = out.data ? memmem(out.data, out.len, mark, strlen(mark)) : NULL;

        if (at != NULL) {
            const char *body = at + strlen(mark);
            size_t blen = out.len - (size_t)(body - out.data);

            if (hlen > 0 && msg[hlen - 1] == '\n') {
                /* The empty line the section had, or the one we added. */
                if (blen < 2 || memcmp(body, "\r\n", 2) != 0)
                    abort();
                body += 2;
                blen -= 2;
            } else if (blen >= 2 && memcmp(body, "\r\n", 2) == 0) {
                body += 2;
                blen -= 2;
            }
            mime_qp_decode(body, blen, &dec);
            if (dec.len != len - hlen || (dec.len > 0 && memcmp(dec.data, msg + hlen, dec.len) != 0))
                abort();
        }
    }
    dbuf_free(&out);
    dbuf_free(&dec);
    return 0;
}
