/*
 * fuzz_oauth_token.c - libFuzzer harness for the token endpoint's answer
 * parser (oauth_response_parse): the first byte picks the HTTP status, the
 * rest is the body.  A token comes out only from a 200, NUL-terminated, of
 * the length reported, made of b64token characters; a failure always has
 * a code and a hint.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tenantrelay/oauth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int statuses[] = { 200, 400, 401, 403, 429, 500, 503, 302 };
    struct oauth_token t;
    struct oauth_error e;
    int status;

    if (size < 1 || oauth_global_init() < 0)   /* sodium_init, as the daemon does */
        return 0;
    status = statuses[data[0] % (sizeof(statuses) / sizeof(statuses[0]))];
    if (oauth_response_parse(status, (const char *)data + 1, size - 1, &t, &e) == 0) {
        if (status != 200 || t.data == NULL || t.len == 0 || t.data[t.len] != 0
            || strlen((char *)t.data) != t.len || t.lifetime <= 0)
            abort();
        for (size_t i = 0; i < t.len; i++)
            if (t.data[i] <= 0x20 || t.data[i] >= 0x7f)
                abort();
        oauth_token_free(&t);
    } else {
        if (e.code == NULL || e.hint[0] == 0 || t.data != NULL)
            abort();
        if (strlen(e.detail) >= sizeof(e.detail))
            abort();
    }
    return 0;
}
