/*
 * mymalloc.h - allocation that succeeds or dies.
 *
 * A mail relay that runs out of memory cannot do anything useful with the
 * error, and checking every allocation hides the logic.  These wrappers log
 * and exit(EX_OSERR) instead.  myfree(NULL) is a no-op.
 */
#ifndef TENANTRELAY_MYMALLOC_H
#define TENANTRELAY_MYMALLOC_H

#include <stddef.h>

void *mymalloc(size_t len) __attribute__((malloc, returns_nonnull));
void *mycalloc(size_t n, size_t len) __attribute__((malloc, returns_nonnull));
void *myrealloc(void *ptr, size_t len) __attribute__((returns_nonnull));
char *mystrdup(const char *s) __attribute__((malloc, returns_nonnull));
char *mystrndup(const char *s, size_t len) __attribute__((malloc, returns_nonnull));
/* mystrdup() that maps NULL to NULL. */
char *mystrdup_or_null(const char *s);
void myfree(void *ptr);

#endif
