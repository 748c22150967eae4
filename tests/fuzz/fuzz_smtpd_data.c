/*
 * fuzz_smtpd_data.c - libFuzzer harness for the DATA reader (end marker,
 * dot-unstuffing, bare LF/CR, NUL).  Properties checked:
 *   - reading in one piece and one byte at a time give the same result;
 *   - clean content (no flag) has only CRLF line ends;
 *   - dot-stuffing the content again and reading it back gives the same
 *     bytes: what we relay is exactly what we stored.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tenantrelay/smtpd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t read_all(const char *in, size_t len, size_t chunk, struct dbuf *out,
                       unsigned *flags, bool *done)
{
    struct smtpd_data d;
    size_t used = 0;

    smtpd_data_init(&d, 100);
    *done = false;
    while (used < len && !*done) {
        size_t n = len - used < chunk ? len - used : chunk;
        used += smtpd_data_feed(&d, in + used, n, out, done);
    }
    *flags = d.flags;
    return used;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dbuf a = DBUF_INIT, b = DBUF_INIT, stuffed = DBUF_INIT, again = DBUF_INIT;
    unsigned fa, fb, fc;
    bool da, db, dc;
    size_t ua, ub;

    ua = read_all((const char *)data, size, size ? size : 1, &a, &fa, &da);
    ub = read_all((const char *)data, size, 1, &b, &fb, &db);
    dbuf_append(&a, "", 0);
    dbuf_append(&b, "", 0);
    if (ua != ub || fa != fb || da != db || a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
        abort();
    if (fa == 0) {
        for (size_t i = 0; i < a.len; i++) {
            if (a.data[i] == '\n' && (i == 0 || a.data[i - 1] != '\r'))
                abort();
            if (a.data[i] == '\r' && (i + 1 >= a.len || a.data[i + 1] != '\n'))
                if (!(i + 1 == a.len && !da))
                    abort();
        }
    }
    if (fa == 0 && da) {
        /* Stuff as a client would, end it, read it back. */
        bool bol = true;

        for (size_t i = 0; i < a.len; i++) {
            if (bol && a.data[i] == '.')
                dbuf_append_char(&stuffed, '.');
            dbuf_append_char(&stuffed, a.data[i]);
            bol = a.data[i] == '\n';
        }
        dbuf_append_str(&stuffed, ".\r\n");
        if (read_all(stuffed.data, stuffed.len, 7, &again, &fc, &dc) != stuffed.len || !dc || fc != 0)
            abort();
        dbuf_append(&again, "", 0);
        if (again.len != a.len || memcmp(again.data, a.data, a.len) != 0)
            abort();
    }
    dbuf_free(&a);
    dbuf_free(&b);
    dbuf_free(&stuffed);
    dbuf_free(&again);
    return 0;
}
