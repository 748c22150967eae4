/*
 * fuzz_qp.c - libFuzzer harness for the quoted-printable encoder and
 * re-fitter (src/mime/mime_qp.c), differential against the decoder.
 *
 * Properties on any input: decode(encode(x)) == x byte for byte;
 * decode(refit(x)) == decode(x); both outputs are 7-bit, made only of
 * CRLF lines of at most 76 characters; base64 re-wrapping keeps every
 * base64 character in order.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tenantrelay/dbuf.h"
#include "tenantrelay/mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_lines(const struct dbuf *b)
{
    size_t col = 0;

    for (size_t i = 0; i < b->len; i++) {
        unsigned char c = (unsigned char)b->data[i];

        if (c == '\r' && i + 1 < b->len && b->data[i + 1] == '\n') {
            col = 0;
            i++;
            continue;
        }
        if (c >= 0x80 || c == '\r' || c == '\n' || c == 0 || ++col > MIME_QP_LINE)
            abort();
    }
}

static void same(const struct dbuf *a, const char *b, size_t blen)
{
    if (a->len != blen || (blen > 0 && memcmp(a->data, b, blen) != 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    struct dbuf enc = DBUF_INIT, dec = DBUF_INIT, ref = DBUF_INIT, d1 = DBUF_INIT, b64 = DBUF_INIT;
    size_t k = 0;

    if (size > 2048)
        return 0;               /* long enough for lines of any length; keeps runs fast */
    mime_qp_encode(in, size, &enc);
    check_lines(&enc);
    mime_qp_decode(enc.data ? enc.data : "", enc.len, &dec);
    same(&dec, in, size);

    mime_qp_refit(in, size, &ref);
    check_lines(&ref);
    dbuf_reset(&dec);
    mime_qp_decode(in, size, &d1);
    mime_qp_decode(ref.data ? ref.data : "", ref.len, &dec);
    same(&dec, d1.data ? d1.data : "", d1.len);

    mime_b64_rewrap(in, size, &b64);
    check_lines(&b64);
    for (size_t i = 0; i < size; i++) {
        unsigned char c = data[i];

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+'
            || c == '/' || c == '=') {
            while (k < b64.len && (b64.data[k] == '\r' || b64.data[k] == '\n'))
                k++;
            if (k >= b64.len || (unsigned char)b64.data[k] != c)
                abort();
            k++;
        }
    }
    dbuf_free(&enc);
    dbuf_free(&dec);
    dbuf_free(&ref);
    dbuf_free(&d1);
    dbuf_free(&b64);
    return 0;
}
