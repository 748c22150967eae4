/*
 * mymalloc.c - allocation that succeeds or dies (see mymalloc.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "tenantrelay/msg.h"
#include "tenantrelay/mymalloc.h"

static void *check(void *p, size_t len)
{
    if (p == NULL)
        msg_fatal(EX_OSERR, "-", "out of memory allocating %zu bytes", len);
    return p;
}

void *mymalloc(size_t len)
{
    return check(malloc(len ? len : 1), len);
}

void *mycalloc(size_t n, size_t len)
{
    return check(calloc(n ? n : 1, len ? len : 1), n * len);
}

void *myrealloc(void *ptr, size_t len)
{
    return check(realloc(ptr, len ? len : 1), len);
}

char *mystrdup(const char *s)
{
    return check(strdup(s), strlen(s) + 1);
}

char *mystrndup(const char *s, size_t len)
{
    return check(strndup(s, len), len + 1);
}

char *mystrdup_or_null(const char *s)
{
    return s ? mystrdup(s) : NULL;
}

void myfree(void *ptr)
{
    free(ptr);
}
