/*
 * str.h - small string predicates every module needs the same way.
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

#endif
