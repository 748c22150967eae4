/*
 * oauth_int.h - what the files of src/oauth share and callers do not see.
 */
#ifndef TENANTRELAY_OAUTH_INT_H
#define TENANTRELAY_OAUTH_INT_H

/* Free every idle thread's curl handle (a handle inside a request is left
 * to its thread's exit) and this thread's key (oauth_http.c; the first
 * half of oauth_global_cleanup()). */
void oauth_http_cleanup(void);

#endif
