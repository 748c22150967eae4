/*
 * errstr.h - the one error-string helper: every module that reports a
 * failure through a caller's "char *err, size_t errlen" (or a struct's
 * text field) formats it here.  errno survives, so a caller can still
 * report or test it after describing it.
 */
#ifndef TENANTRELAY_ERRSTR_H
#define TENANTRELAY_ERRSTR_H

#include <stdarg.h>
#include <stddef.h>

/* Format into err (truncated to errlen; nothing when err is NULL or errlen
 * 0), errno untouched.  Returns -1, so "return errstr_set(...);" fails. */
int errstr_set(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The same with a va_list, for helpers that fill a struct's error text. */
int errstr_vset(char *err, size_t errlen, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

#endif
