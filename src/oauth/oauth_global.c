/*
 * oauth_global.c - the module's process-wide teardown (oauth.h):
 * oauth_global_cleanup() frees the curl handles (oauth_http.c) and the
 * cached tokens (oauth_cache.c).  In a file of its own, above both: the
 * cache fetches through the HTTP layer, so the HTTP layer must not call
 * the cache.  oauth_global_init() stays in oauth_http.c, whose first
 * request calls it.
 */
#include "config.h"

#include "tenantrelay/oauth.h"
#include "oauth_int.h"

void oauth_global_cleanup(void)
{
    oauth_http_cleanup();
    oauth_cache_clear();
}
