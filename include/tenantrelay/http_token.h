/*
 * http_token.h - API tokens of the HTTP API (SPEC §6 api-token, §9).
 *
 * A token is "trt_" and 43 base64url characters (32 random bytes), shown
 * once by `tenantrelayctl api-token add NAME`.  Only its BLAKE2b-256 hash
 * is stored, one line per token in the api_tokens file:
 *     NAME HASH_HEX CREATED_RFC3339
 * The file is mode 0600 and replaced atomically (temp file, fsync,
 * rename, directory fsync).  A presented token is hashed and compared to
 * every stored hash with sodium_memcmp (constant time; no early exit on a
 * match), so timing tells nothing about which bytes matched.
 */
#ifndef TENANTRELAY_HTTP_TOKEN_H
#define TENANTRELAY_HTTP_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define HTTP_TOKEN_NAME_MAX 64
#define HTTP_TOKEN_HASH_LEN 32

struct http_token_entry {
    char name[HTTP_TOKEN_NAME_MAX + 1];
    unsigned char hash[HTTP_TOKEN_HASH_LEN];
    time_t created;
};

/* NAME matches [A-Za-z0-9][A-Za-z0-9._-]{0,63}. */
bool http_token_name_is_valid(const char *name);

/* Read the file (absent: no tokens).  *out (myfree) and *n set; 0, or -1
 * with err (a malformed line names its line number). */
int http_token_load(const char *path, struct http_token_entry **out, size_t *n, char *err, size_t errlen);

/* Add NAME with a fresh token: the token in clear goes to token_out
 * (sodium_malloc'd, NUL-terminated; free with http_token_free_clear).
 * -1 with err when NAME exists or the file cannot be written. */
int http_token_add(const char *path, const char *name, char **token_out, char *err, size_t errlen);
void http_token_free_clear(char *token);

/* Remove NAME; -1 with err when absent (*missing set) or on I/O error. */
int http_token_revoke(const char *path, const char *name, bool *missing, char *err, size_t errlen);

/* The name of the token that matches, copied to name_out, or false. */
bool http_token_check(const struct http_token_entry *v, size_t n, const char *token, size_t token_len,
                      char name_out[HTTP_TOKEN_NAME_MAX + 1]);

#endif
