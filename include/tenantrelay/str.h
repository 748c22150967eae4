/*
 * str.h - small string helpers every module needs the same way.
 */
#ifndef TENANTRELAY_STR_H
#define TENANTRELAY_STR_H

#include <stdbool.h>
#include <string.h>

/* Whether a and b are the same string, NULL equal only to NULL (optional
 * settings compare this way). */
static inline bool str_same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* The index of s in names, a NULL-terminated list (route_tls_names,
 * route_auth_names, ...), or -1 when it is not there; names NULL is the
 * empty list. */
static inline int str_index(const char *const *names, const char *s)
{
    for (int i = 0; names && names[i]; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

#endif
