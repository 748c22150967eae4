/*
 * fuzz_reply.c - libFuzzer harness for what the SMTP client parses from a
 * server (replies, enhanced codes, EHLO capabilities) and for the
 * dot-stuffer (output: CRLF only, no line that is a lone dot but the end).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tenantrelay/dbuf.h"
#include "tenantrelay/smtpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct smtpc_reply r;
    struct smtpc_caps caps;
    struct smtpc_dotstuff d;
    struct dbuf out = DBUF_INIT;
    size_t used = 0, off = 0;
    char err[128];
    int n = 0;

    /* Replies, one after another, as the client reads them. */
    while (off < size && n++ < 64) {
        int rc = smtpc_reply_parse(buf + off, size - off, &r, &used, err, sizeof(err));

        if (rc <= 0)
            break;
        if (used == 0 || used > size - off || strlen(r.text) >= sizeof(r.text))
            abort();
        if (r.code < 200 || r.code > 559)
            abort();
        if (r.code == 250)
            smtpc_caps_parse(r.text, &caps);
        off += used;
    }

    /* Dot-stuffing in two chunks split at the first byte's value. */
    smtpc_dotstuff_init(&d);
    {
        size_t cut = size ? data[0] % (size + 1) : 0;

        smtpc_dotstuff_feed(&d, buf, cut, &out);
        smtpc_dotstuff_feed(&d, buf + cut, size - cut, &out);
    }
    smtpc_dotstuff_finish(&d, &out);
    for (size_t i = 0; i < out.len; i++) {
        if (out.data[i] == '\r' && (i + 1 >= out.len || out.data[i + 1] != '\n'))
            abort();
        if (out.data[i] == '\n' && (i == 0 || out.data[i - 1] != '\r'))
            abort();
    }
    /* The only "\r\n.\r\n" is the end (or the whole output is ".\r\n"). */
    {
        const char *p = out.data, *end = out.data + out.len;
        const char *hit = NULL;

        if (out.len == 3) {
            if (memcmp(out.data, ".\r\n", 3) != 0)
                abort();
        } else {
            for (const char *q = p; q + 5 <= end; q++)
                if (memcmp(q, "\r\n.\r\n", 5) == 0) {
                    hit = q;
                    break;
                }
            if (hit == NULL || hit + 5 != end)
                abort();
            if (out.data[0] == '.' && out.len >= 3 && memcmp(out.data, ".\r\n", 3) == 0)
                abort();
        }
    }
    dbuf_free(&out);
    return 0;
}
