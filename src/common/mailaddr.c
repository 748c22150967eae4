/*
 * mailaddr.c - mailbox syntax (see mailaddr.h).
 */
#include "config.h"

#include <string.h>

#include "tenantrelay/mailaddr.h"

static bool is_atext(unsigned char c, bool utf8)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    if (c >= 0x80)
        return utf8;
    return strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL && c != 0;
}

static bool valid_local(const char *p, size_t len, bool utf8)
{
    if (len == 0 || len > 64)
        return false;
    if (p[0] == '"') {
        if (len < 2 || p[len - 1] != '"')
            return false;
        for (size_t i = 1; i < len - 1; i++) {
            unsigned char c = (unsigned char)p[i];

            if (c == '\\') {
                if (++i >= len - 1 || p[i] < 32 || p[i] > 126)
                    return false;
            } else if (c == '"' || c < 32 || c == 127 || (c >= 0x80 && !utf8)) {
                return false;
            }
        }
        return true;
    }
    if (p[0] == '.' || p[len - 1] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '.') {
            if (p[i + 1] == '.')
                return false;
        } else if (!is_atext((unsigned char)p[i], utf8)) {
            return false;
        }
    }
    return true;
}

static bool valid_domain(const char *d, bool utf8)
{
    size_t len = strlen(d);
    size_t label = 0;

    if (len == 0 || len > 255)
        return false;
    if (d[0] == '[')
        return d[len - 1] == ']' && len > 2 && strspn(d + 1, "0123456789abcdefABCDEF.:IPv6") == len - 2;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)d[i];

        if (c == '.') {
            if (label == 0 || d[i - 1] == '-')
                return false;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                   || (c >= 0x80 && utf8)) {
            if (++label > 63)
                return false;
        } else if (c == '-') {
            if (label == 0)
                return false;
            label++;
        } else {
            return false;
        }
    }
    return label > 0 && d[len - 1] != '-';
}

bool mailaddr_is_hostname(const char *name)
{
    return name[0] != '[' && valid_domain(name, false);
}

const char *mailaddr_domain(const char *addr)
{
    const char *at = strrchr(addr, '@');

    return at ? at + 1 : NULL;
}

bool mailaddr_is_valid(const char *addr, bool utf8)
{
    const char *at = strrchr(addr, '@');

    if (at == NULL || strlen(addr) > 254)
        return false;
    return valid_local(addr, (size_t)(at - addr), utf8) && valid_domain(at + 1, utf8);
}
