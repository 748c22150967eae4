/*
 * resolve.h - tenant resolution (SPEC §2), one pure function shared by the
 * listener (at the final dot) and the milter (at end of message).
 *
 * Sources are tried in conf->resolution order; the first that names a
 * tenant decides:
 *   header  the values of every conf->tenant_header field (trusted only
 *           when the caller says so: allowed networks for the listener,
 *           trusted/authenticated clients for the milter; otherwise they
 *           are ignored).  Two different ids → reject 5.7.1, never guessed
 *           (when header is one of the configured sources).
 *   sender  the envelope sender's exact address, then its domain.
 *   auth    the AUTH identity: a tenant id, else an address as for sender.
 * A named tenant that is unknown or disabled follows conf->unknown_tenant:
 * default route, reject (5.7.1) or tempfail (4.7.1).  No tenant at all →
 * the default route.  While the store is stale (store_live.h) an unknown
 * named tenant is tempfailed whatever unknown_tenant says: it may be a
 * tenant created since the snapshot, and never goes by the default route.
 *
 * Nothing is allocated: the result borrows the tenant from the store
 * snapshot, which must outlive it.
 */
#ifndef TENANTRELAY_RESOLVE_H
#define TENANTRELAY_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>

#include "tenantrelay/conf.h"
#include "tenantrelay/tenant.h"

enum resolve_verdict {
    RESOLVE_ACCEPT,             /* tenant (or NULL: default route) */
    RESOLVE_REJECT,             /* 5.7.1: reply holds the SMTP reply */
    RESOLVE_TEMPFAIL,           /* 4.7.1: reply holds the SMTP reply */
};

enum resolve_source {
    RESOLVE_SOURCE_NONE,
    RESOLVE_SOURCE_HEADER,
    RESOLVE_SOURCE_SENDER,
    RESOLVE_SOURCE_AUTH,
};

struct resolve_input {
    const struct conf *conf;            /* resolution order, unknown_tenant */
    const struct tenant_store *store;   /* NULL: an empty store */
    const char *const *header_values;   /* every tenant header value seen */
    size_t header_count;
    bool header_trusted;
    const char *sender;                 /* envelope sender; "" for <> */
    const char *auth_id;                /* NULL: not authenticated */
    bool store_stale;                   /* the store's database is unreachable: a
                                           named tenant the snapshot lacks may
                                           exist, so it is tempfailed (451) */
};

struct resolve_result {
    enum resolve_verdict verdict;
    const struct tenant *tenant;        /* ACCEPT: NULL means the default route */
    enum resolve_source source;         /* what matched (NONE for the default route) */
    char reply[256];                    /* REJECT/TEMPFAIL: "550 5.7.1 ..." (no CRLF) */
    char reason[192];                   /* for the log: why this outcome */
};

/* Resolve; always fills out (never fails). */
void resolve_tenant(const struct resolve_input *in, struct resolve_result *out);
const char *resolve_source_name(enum resolve_source src);

#endif
