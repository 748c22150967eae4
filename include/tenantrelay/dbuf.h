/*
 * dbuf.h - a growable byte buffer, always NUL-terminated.
 *
 * The one string type of the project (Postfix's VSTRING in spirit).  The
 * buffer owns its memory; dbuf_free() releases it.  data may contain NULs;
 * len counts the bytes before the terminating NUL that dbuf keeps.
 */
#ifndef TENANTRELAY_DBUF_H
#define TENANTRELAY_DBUF_H

#include <stdarg.h>
#include <stddef.h>

struct dbuf {
    char *data;
    size_t len;
    size_t cap;
};

#define DBUF_INIT { NULL, 0, 0 }

void dbuf_init(struct dbuf *b);
void dbuf_free(struct dbuf *b);
void dbuf_reset(struct dbuf *b);
/* Make room for at least extra more bytes. */
void dbuf_reserve(struct dbuf *b, size_t extra);
void dbuf_append(struct dbuf *b, const void *data, size_t len);
void dbuf_append_str(struct dbuf *b, const char *s);
void dbuf_append_char(struct dbuf *b, char c);
/* Append item to a comma-separated list ("a,b"): the changed-field lists. */
void dbuf_append_list(struct dbuf *b, const char *item);
void dbuf_printf(struct dbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dbuf_vprintf(struct dbuf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Drop the first n bytes. */
void dbuf_consume(struct dbuf *b, size_t n);
/* Hand over the data (caller frees with myfree) and reset the buffer. */
char *dbuf_steal(struct dbuf *b);
/* The contents as a C string (never NULL). */
const char *dbuf_str(const struct dbuf *b);

#endif
