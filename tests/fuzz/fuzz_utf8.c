/*
 * fuzz_utf8.c - libFuzzer harness for making bytes valid UTF-8 before
 * JSON (src/common/utf8.c).
 *
 * Properties on any input: utf8_sanitize() output is valid UTF-8 that
 * jansson takes and is the input itself when the input was valid; cutting
 * the result anywhere with utf8_cut() leaves valid UTF-8; the in-place
 * form fits its buffer, NUL-terminated and valid.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tenantrelay/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    struct dbuf out = DBUF_INIT;
    char buf[64];
    json_t *j;

    utf8_sanitize(in, size, &out);
    if (!utf8_is_valid(out.data ? out.data : "", out.len))
        abort();
    if (utf8_is_valid(in, size) && (out.len != size || (size && memcmp(out.data, in, size) != 0)))
        abort();
    j = json_stringn(out.data ? out.data : "", out.len);
    if (j == NULL)
        abort();
    json_decref(j);
    for (size_t max = 0; max <= out.len && max < 16; max++)
        if (!utf8_is_valid(out.data, utf8_cut(out.data, out.len, max)))
            abort();
    memset(buf, 0, sizeof(buf));
    memcpy(buf, in, size < sizeof(buf) - 1 ? size : sizeof(buf) - 1);
    utf8_sanitize_buf(buf, sizeof(buf));
    if (!utf8_is_valid(buf, strlen(buf)))
        abort();
    dbuf_free(&out);
    return 0;
}
