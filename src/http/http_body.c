/*
 * http_body.c - a request body as the upload handler collects it (see
 * http_int.h).  A PUT /v1/tenants/{id} or POST /v1/test body holds a
 * password or an OAuth2 secret in clear, so no buffer of it goes back to
 * the allocator unzeroed: not the last one (http_body_free()), and not
 * the smaller ones it outgrew, which a plain realloc() would free with
 * the first part of the body still in them.
 */
#include "config.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "tenantrelay/mymalloc.h"
#include "http_int.h"

#define BODY_MIN 1024

static void body_release(struct http_body *b, char *p, size_t size)
{
    if (p == NULL)
        return;
    sodium_memzero(p, size);
    if (b->on_release)
        b->on_release(p, size, b->on_release_arg);
    myfree(p);
}

/* Room for want bytes and the NUL, in a new buffer: copy, zero, free the old. */
static void body_grow(struct http_body *b, size_t want)
{
    size_t cap = b->cap ? b->cap : BODY_MIN;
    char *p;

    while (cap < want + 1)
        cap *= 2;
    p = mymalloc(cap);
    if (b->len)
        memcpy(p, b->data, b->len);
    p[b->len] = 0;
    body_release(b, b->data, b->cap);
    b->data = p;
    b->cap = cap;
}

void http_body_reserve(struct http_body *b, size_t want, size_t max)
{
    if (want > max)
        want = max;
    if (want + 1 > b->cap)
        body_grow(b, want);
}

int http_body_append(struct http_body *b, const void *data, size_t len, size_t max)
{
    if (len > max || b->len > max - len)
        return -1;
    if (b->len + len + 1 > b->cap)
        body_grow(b, b->len + len);
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = 0;
    return 0;
}

void http_body_free(struct http_body *b)
{
    body_release(b, b->data, b->cap);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* jansson's own message quotes the text near the error ("... near
 * '\"s3cr'") and, for a bad escape, the escape itself: a piece of a
 * secret, so only the kind of error and its place are told. */
static const char *json_error_kind(const json_error_t *e)
{
    switch (json_error_code(e)) {
    case json_error_premature_end_of_input: return "premature end of input";
    case json_error_end_of_input_expected: return "end of input expected";
    case json_error_invalid_utf8: return "invalid UTF-8";
    case json_error_null_character: return "NUL character";
    case json_error_null_byte_in_key: return "NUL byte in an object key";
    case json_error_duplicate_key: return "duplicate object key";
    case json_error_numeric_overflow: return "number out of range";
    case json_error_stack_overflow: return "nested too deeply";
    case json_error_out_of_memory: return "out of memory";
    default: return "invalid syntax";
    }
}

json_t *http_body_json(const struct http_body *b, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *j = json_loadb(b->data ? b->data : "", b->len, JSON_REJECT_DUPLICATES, &jerr);

    if (j == NULL)
        snprintf(err, errlen, "the body is not valid JSON (line %d column %d: %s)", jerr.line, jerr.column,
                 json_error_kind(&jerr));
    sodium_memzero(&jerr, sizeof(jerr));
    return j;
}
