/*
 * dbuf.c - growable byte buffer (see dbuf.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "tenantrelay/dbuf.h"
#include "tenantrelay/mymalloc.h"

void dbuf_init(struct dbuf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void dbuf_free(struct dbuf *b)
{
    myfree(b->data);
    dbuf_init(b);
}

void dbuf_reset(struct dbuf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = 0;
}

void dbuf_reserve(struct dbuf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    size_t cap;

    if (need <= b->cap)
        return;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->data = myrealloc(b->data, cap);
    b->cap = cap;
}

void dbuf_append(struct dbuf *b, const void *data, size_t len)
{
    dbuf_reserve(b, len);
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = 0;
}

void dbuf_append_str(struct dbuf *b, const char *s)
{
    dbuf_append(b, s, strlen(s));
}

void dbuf_append_list(struct dbuf *b, const char *item)
{
    if (b->len)
        dbuf_append_char(b, ',');
    dbuf_append_str(b, item);
}

void dbuf_append_char(struct dbuf *b, char c)
{
    dbuf_append(b, &c, 1);
}

void dbuf_vprintf(struct dbuf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return;
    dbuf_reserve(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void dbuf_printf(struct dbuf *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    dbuf_vprintf(b, fmt, ap);
    va_end(ap);
}

void dbuf_consume(struct dbuf *b, size_t n)
{
    if (n >= b->len) {
        dbuf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = 0;
}

char *dbuf_steal(struct dbuf *b)
{
    char *p = b->data ? b->data : mystrdup("");

    dbuf_init(b);
    return p;
}

const char *dbuf_str(const struct dbuf *b)
{
    return b->data ? b->data : "";
}
