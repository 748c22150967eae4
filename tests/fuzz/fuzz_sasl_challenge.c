/*
 * fuzz_sasl_challenge.c - libFuzzer harness for the decoder of a server's
 * 334 challenge to an OAuth2 AUTH (smtpc_sasl_challenge_decode): whatever
 * the server sends, the output is printable, NUL-terminated and within its
 * buffer.  The SASL builders get the same input as a user name and token.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tenantrelay/smtpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    char out[128];
    unsigned char *msg = NULL;
    size_t len = 0, alloc = 0;

    if (text == NULL || sodium_init() < 0)
        abort();
    memcpy(text, data, size);
    text[size] = 0;
    memset(out, 'x', sizeof(out));
    if (smtpc_sasl_challenge_decode(text, out, sizeof(out)) == 0) {
        size_t n = strnlen(out, sizeof(out));

        if (n == sizeof(out) || n == 0)
            abort();
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] >= 0x7f)
                abort();
    }
    /* The same bytes as a user name: framing characters are refused. */
    if (smtpc_sasl_oauthbearer(text, "smtp.test", 587, data, size, &msg, &len, &alloc) == 0) {
        if (memchr(text, 0x01, strlen(text)) || len > alloc)
            abort();
        sodium_memzero(msg, alloc);
        sodium_free(msg);
    }
    free(text);
    return 0;
}
