/*
 * errstr.c - the one error-string helper (see errstr.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "tenantrelay/errstr.h"

int errstr_vset(char *err, size_t errlen, const char *fmt, va_list ap)
{
    int saved = errno;

    if (err && errlen)
        vsnprintf(err, errlen, fmt, ap);
    errno = saved;
    return -1;
}

int errstr_set(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    errstr_vset(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}
