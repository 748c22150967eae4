/*
 * utf8.c - UTF-8 validity, cutting and replacement (see utf8.h).
 *
 * Replacement is one U+FFFD per byte that starts no valid character, the
 * simplest rule that makes any byte string valid and keeps the length of
 * the damage visible.
 */
#include "config.h"

#include <string.h>

#include "tenantrelay/utf8.h"

#define REPLACEMENT "\xef\xbf\xbd"

size_t utf8_char_len(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n, i;
    unsigned long cp;

    if (len == 0 || p[0] == 0)
        return 0;
    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        n = 2;
        cp = p[0] & 0x1f;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        n = 3;
        cp = p[0] & 0x0f;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        n = 4;
        cp = p[0] & 0x07;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    /* Shortest form only, no surrogates, nothing above U+10FFFF. */
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff
        || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

bool utf8_is_valid(const char *s, size_t len)
{
    size_t i = 0, n;

    while (i < len) {
        if ((n = utf8_char_len(s + i, len - i)) == 0)
            return false;
        i += n;
    }
    return true;
}

size_t utf8_cut(const char *s, size_t len, size_t max)
{
    size_t i = 0, n;

    if (max >= len)
        return len;
    /* Walk whole characters (an invalid byte counts as one) up to max. */
    while (i < max) {
        n = utf8_char_len(s + i, len - i);
        if (n == 0)
            n = 1;
        if (i + n > max)
            break;
        i += n;
    }
    return i;
}

void utf8_sanitize(const char *s, size_t len, struct dbuf *out)
{
    size_t i = 0;

    dbuf_reserve(out, len);
    while (i < len) {
        size_t run = i, n;

        /* Copy valid characters in one go. */
        while (run < len && (n = utf8_char_len(s + run, len - run)) > 0)
            run += n;
        dbuf_append(out, s + i, run - i);
        i = run;
        if (i < len) {
            dbuf_append(out, REPLACEMENT, 3);
            i++;
        }
    }
}

/* A text that fills its buffer was probably cut by snprintf: a valid but
 * incomplete character at its very end is the cut, not damage. */
static size_t trim_partial(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;

    for (size_t back = 1; back <= 3 && back <= len; back++) {
        unsigned char c = p[len - back];
        size_t need;

        if ((c & 0xc0) == 0x80)
            continue;           /* a continuation byte: look further back */
        need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        return need > back ? len - back : len;
    }
    return len;
}

void utf8_sanitize_buf(char *buf, size_t size)
{
    struct dbuf b = DBUF_INIT;
    size_t len;

    if (size == 0)
        return;
    len = strnlen(buf, size - 1);
    if (len == size - 1)
        len = trim_partial(buf, len);
    if (utf8_is_valid(buf, len)) {
        buf[len] = 0;
        return;
    }
    utf8_sanitize(buf, len, &b);
    len = utf8_cut(b.data, b.len, size - 1);
    memcpy(buf, b.data, len);
    buf[len] = 0;
    dbuf_free(&b);
}

json_t *utf8_json_string(const char *s)
{
    struct dbuf b = DBUF_INIT;
    json_t *j;
    size_t len;

    if (s == NULL)
        return json_null();
    len = strlen(s);
    if (utf8_is_valid(s, len))
        return json_stringn(s, len);
    utf8_sanitize(s, len, &b);
    j = json_stringn(b.data, b.len);
    dbuf_free(&b);
    return j;
}
