/*
 * utf8.h - UTF-8 for what leaves as JSON (events, status, queue --json).
 *
 * Client and upstream bytes (a Message-ID, a HELO name, an upstream's
 * reply) may be any bytes; JSON, and jansson, take only valid UTF-8, and a
 * string jansson refuses makes the whole event disappear.  Everything from
 * outside goes through here first: invalid bytes become U+FFFD, and a text
 * cut to fit a buffer is cut between characters, never inside one.
 */
#ifndef TENANTRELAY_UTF8_H
#define TENANTRELAY_UTF8_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "tenantrelay/dbuf.h"

/* Length of the sequence starting at s[0] if it is one valid UTF-8
 * character (shortest form, no surrogate, at most U+10FFFF) within len
 * bytes; 0 when s[0] starts no valid character there. */
size_t utf8_char_len(const char *s, size_t len);

/* Whether s (len bytes) is valid UTF-8 with no NUL. */
bool utf8_is_valid(const char *s, size_t len);

/* The largest n <= max such that s[0..n) does not end inside a valid
 * multi-byte character of s (len bytes): where to cut s to max bytes. */
size_t utf8_cut(const char *s, size_t len, size_t max);

/* Append s (len bytes) to out as valid UTF-8: every byte that starts no
 * valid character (and every NUL) becomes U+FFFD. */
void utf8_sanitize(const char *s, size_t len, struct dbuf *out);

/* The same, in place, for a NUL-terminated text in a buffer of size
 * bytes; what no longer fits is cut at a character boundary.  A text that
 * fills the buffer (snprintf cut it) loses an incomplete last character
 * instead of getting a U+FFFD for it. */
void utf8_sanitize_buf(char *buf, size_t size);

/* A JSON string of s made valid (utf8_sanitize); json_null() for NULL.
 * A new reference (never NULL unless out of memory). */
json_t *utf8_json_string(const char *s);

#endif
