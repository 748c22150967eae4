/*
 * fuzz_rewrite.c - libFuzzer harness for the header rewriter.
 *
 * Input: one option byte, then a header section.  Properties checked on
 * every successful rewrite: exactly one From:, CRLF line ends only (no bare
 * CR or LF, no NUL), the empty line at the end, the removed header gone,
 * and the output itself a valid section that a second rewrite leaves
 * with its From: unchanged.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tenantrelay/dbuf.h"
#include "tenantrelay/rewrite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_crlf(const struct dbuf *out, bool empty_line)
{
    for (size_t i = 0; i < out->len; i++) {
        if (out->data[i] == 0)
            abort();
        if (out->data[i] == '\r' && (i + 1 >= out->len || out->data[i + 1] != '\n'))
            abort();
        if (out->data[i] == '\n' && (i == 0 || out->data[i - 1] != '\r'))
            abort();
    }
    if (out->len > 0 && (out->len < 2 || memcmp(out->data + out->len - 2, "\r\n", 2) != 0))
        abort();
    if (empty_line && !(out->len == 2 || (out->len >= 4 && memcmp(out->data + out->len - 4, "\r\n\r\n", 4) == 0)))
        abort();
}

/* Whether the section hdr[0, len) ends with the empty line. */
static bool ends_with_empty_line(const char *h, size_t len)
{
    if (len == 0 || h[len - 1] != '\n')
        return false;
    if (len == 1 || h[len - 2] == '\n')
        return true;
    return h[len - 2] == '\r' && (len == 2 || h[len - 3] == '\n');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const remove[] = { "X-Tenant-ID", NULL };
    static const char *const prepend[] = { "Received: from localhost\r\n\tby relay.test; Mon, 1 Jan 2024 00:00:00 +0000",
                                           NULL };
    struct rewrite_opts o = { remove, "tenant@acme.example", true, prepend };
    struct dbuf out = DBUF_INIT, again = DBUF_INIT, removed = DBUF_INIT;
    struct rewrite_report rep, rep2;
    const char *hdr;
    size_t len, hlen;

    if (size < 1)
        return 0;
    o.add_reply_to = data[0] & 1;
    if (data[0] & 2)
        o.from_sender = NULL;
    if (data[0] & 4)
        o.prepend = NULL;
    hdr = (const char *)data + 1;
    len = size - 1;
    hlen = rewrite_header_length(hdr, len);
    if (hlen > len)
        abort();
    (void)rewrite_count_header(hdr, hlen, "From");
    (void)rewrite_remove_header(hdr, hlen, "X-Tenant-ID", &removed);
    if (rewrite_headers(hdr, hlen, &o, &out, &rep) == REWRITE_OK) {
        check_crlf(&out, ends_with_empty_line(hdr, hlen));
        if (rewrite_header_length(out.data, out.len) != out.len)
            abort();
        if (rewrite_count_header(out.data, out.len, "X-Tenant-ID") != 0)
            abort();
        if (o.from_sender) {
            if (rewrite_count_header(out.data, out.len, "From") != 1)
                abort();
            /* Rewriting the result again is stable for its From:. */
            o.prepend = NULL;
            if (rewrite_headers(out.data, out.len, &o, &again, &rep2) != REWRITE_OK)
                abort();
            if (rep2.from_added || rep2.reply_to_added)
                abort();
            if (rewrite_count_header(again.data, again.len, "From") != 1)
                abort();
        }
    } else if (out.len != 0) {
        abort();
    }
    dbuf_free(&out);
    dbuf_free(&again);
    dbuf_free(&removed);
    return 0;
}
