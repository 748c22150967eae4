/*
 * tenant.h - the tenant store, read side: an immutable snapshot of every
 * tenant record, with O(1) lookups by id, by envelope-sender address and by
 * sender domain.
 *
 * Everything that routes mail (listener, milter, delivery) reads the store
 * only through this interface.  A snapshot never changes: a reload loads a
 * new one and swaps the pointer, so lookups need no lock.  The write side
 * (atomic updates, lock file, change log) is in tenant_write.h.
 */
#ifndef TENANTRELAY_TENANT_H
#define TENANTRELAY_TENANT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "tenantrelay/conf_get.h"
#include "tenantrelay/route.h"

#define TENANT_ID_MAX 64

struct tenant {
    char *id;                   /* [a-z0-9][a-z0-9._-]{0,63}; never "default" */
    bool enabled;               /* false: the tenant switched its own server off */
    struct route route;         /* host, port, TLS, credentials (sealed), sender */
    char **domains;             /* NULL-terminated, lower case */
    char **addresses;           /* NULL-terminated, lower case */
    time_t created;
    time_t updated;
    time_t verified;            /* last passed connectivity test; 0 = never */
};

struct tenant_store;

/* Load the store at path (a file or a directory; absent means empty).
 * NULL on error with "FILE:LINE: reason" (naming the field) in err. */
struct tenant_store *tenant_store_load(const char *path, struct conf_error *err);
/* Release a reference (the last one frees; a snapshot may be shared). */
void tenant_store_free(struct tenant_store *store);
/* Another reference to the same immutable snapshot. */
struct tenant_store *tenant_store_ref(struct tenant_store *store);
/* A snapshot of n records from elsewhere (a database): takes each
 * record's fields (recs[i] is zeroed), checks ids and claims are unique.
 * origin names the source in errors.  NULL with err on error. */
struct tenant_store *tenant_store_from_records(struct tenant *recs, size_t n, const char *origin,
                                              struct conf_error *err);

size_t tenant_store_count(const struct tenant_store *store);
/* The i-th tenant in id order (0 <= i < count). */
const struct tenant *tenant_store_at(const struct tenant_store *store, size_t i);
/* The tenant with this id, or NULL. */
const struct tenant *tenant_store_find(const struct tenant_store *store, const char *id);
/* The tenant declaring this envelope sender: its exact address first, then
 * its domain; case-insensitive.  NULL when no tenant claims it. */
const struct tenant *tenant_store_find_by_sender(const struct tenant_store *store,
                                                 const char *address);

/* True when id matches [a-z0-9][a-z0-9._-]{0,63} (and so cannot name a path). */
bool tenant_id_is_valid(const char *id);

#endif
