/*
 * tls_cache.c - a cache of TLS client contexts, one per (ca_file, verify)
 * pair.  Building a context re-reads the CA file, the largest single cost
 * of opening a session, so every user of the same trust settings shares
 * one.  The owner (delivery's generation) serialises access and frees the
 * cache when it goes, so a reload rereads the CA files.
 */
#include "config.h"

#include <string.h>

#include "tenantrelay/mymalloc.h"
#include "tenantrelay/str.h"
#include "tenantrelay/tls.h"

struct tls_cache {
    char *ca_file;              /* NULL: the system trust store */
    bool verify;
    struct tls_client_ctx *ctx;
    struct tls_cache *next;
};


struct tls_client_ctx *tls_cache_get(struct tls_cache **cache, const char *ca_file, bool verify)
{
    struct tls_error terr;
    struct tls_cache *d;

    for (d = *cache; d; d = d->next)
        if (d->verify == verify && str_same(d->ca_file, ca_file))
            return d->ctx;
    d = mycalloc(1, sizeof(*d));
    d->ca_file = mystrdup_or_null(ca_file);
    d->verify = verify;
    if ((d->ctx = tls_client_ctx_new(ca_file, verify, &terr)) == NULL) {
        /* Not cached: the session builds its own and reports the error. */
        myfree(d->ca_file);
        myfree(d);
        return NULL;
    }
    d->next = *cache;
    *cache = d;
    return d->ctx;
}

void tls_cache_free(struct tls_cache *cache)
{
    while (cache) {
        struct tls_cache *next = cache->next;

        tls_client_ctx_free(cache->ctx);
        myfree(cache->ca_file);
        myfree(cache);
        cache = next;
    }
}
