/*
 * resolve.c - tenant resolution as a pure function (see resolve.h).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "tenantrelay/resolve.h"

const char *resolve_source_name(enum resolve_source src)
{
    static const char *const names[] = { "none", "header", "sender", "auth" };

    return (unsigned)src < 4 ? names[src] : "none";
}

/* The value of a tenant header, trimmed and lower-cased into buf. */
static void normalise(const char *v, char *buf, size_t len)
{
    size_t n = 0;

    while (*v == ' ' || *v == '\t')
        v++;
    for (; *v && n + 1 < len; v++)
        buf[n++] = (char)tolower((unsigned char)*v);
    while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
        n--;
    buf[n] = 0;
}

static const struct tenant *find_id(const struct tenant_store *store, const char *id)
{
    return store && tenant_id_is_valid(id) ? tenant_store_find(store, id) : NULL;
}

/* A named tenant that cannot be used: unknown or disabled. */
static void unusable(const struct resolve_input *in, struct resolve_result *out,
                     enum resolve_source src, const char *id, const char *why)
{
    out->source = src;
    out->tenant = NULL;
    switch (in->conf->unknown_tenant) {
    case CONF_UNKNOWN_DEFAULT:
        out->verdict = RESOLVE_ACCEPT;
        out->source = RESOLVE_SOURCE_NONE;
        snprintf(out->reason, sizeof(out->reason), "tenant '%.64s' from %s is %s: default route",
                 id, resolve_source_name(src), why);
        break;
    case CONF_UNKNOWN_REJECT:
        out->verdict = RESOLVE_REJECT;
        snprintf(out->reply, sizeof(out->reply), "550 5.7.1 Error: tenant '%.64s' is %s", id, why);
        snprintf(out->reason, sizeof(out->reason), "tenant '%.64s' from %s is %s: rejected",
                 id, resolve_source_name(src), why);
        break;
    case CONF_UNKNOWN_TEMPFAIL:
        out->verdict = RESOLVE_TEMPFAIL;
        snprintf(out->reply, sizeof(out->reply), "451 4.7.1 Error: tenant '%.64s' is %s, try again later", id, why);
        snprintf(out->reason, sizeof(out->reason), "tenant '%.64s' from %s is %s: deferred",
                 id, resolve_source_name(src), why);
        break;
    }
}

/* Settle on a tenant (or an unusable id).  Returns true when decided. */
static bool decide(const struct resolve_input *in, struct resolve_result *out,
                   enum resolve_source src, const char *id, const struct tenant *t)
{
    if (t == NULL) {
        if (id == NULL)
            return false;
        if (in->store_stale) {
            out->verdict = RESOLVE_TEMPFAIL;
            out->source = src;
            snprintf(out->reply, sizeof(out->reply), "451 4.3.0 Error: tenant '%.64s' is unknown to this "
                     "node's snapshot of the tenant store (database unreachable), try again later", id);
            snprintf(out->reason, sizeof(out->reason), "tenant '%.64s' from %s unknown to the stale "
                     "tenant store snapshot: deferred", id, resolve_source_name(src));
            return true;
        }
        unusable(in, out, src, id, "unknown");
        return true;
    }
    if (!t->enabled) {
        unusable(in, out, src, t->id, "disabled");
        return true;
    }
    out->verdict = RESOLVE_ACCEPT;
    out->tenant = t;
    out->source = src;
    snprintf(out->reason, sizeof(out->reason), "tenant '%s' from %s", t->id, resolve_source_name(src));
    return true;
}

void resolve_tenant(const struct resolve_input *in, struct resolve_result *out)
{
    char first[TENANT_ID_MAX + 64] = "";
    char other[TENANT_ID_MAX + 64];
    size_t distinct = 0;
    bool by_header = false;

    for (int k = 0; k < in->conf->resolution_count; k++)
        by_header |= in->conf->resolution[k] == CONF_RESOLVE_HEADER;
    memset(out, 0, sizeof(*out));
    out->verdict = RESOLVE_ACCEPT;
    out->source = RESOLVE_SOURCE_NONE;
    /* Conflicting headers are refused whatever the order: guessing which
     * tenant a message belongs to is how mail leaks between customers. */
    if (in->header_trusted && by_header) {
        for (size_t i = 0; i < in->header_count; i++) {
            normalise(in->header_values[i], other, sizeof(other));
            if (other[0] == 0)
                continue;
            if (distinct == 0) {
                snprintf(first, sizeof(first), "%s", other);
                distinct = 1;
            } else if (strcmp(first, other) != 0) {
                out->verdict = RESOLVE_REJECT;
                out->source = RESOLVE_SOURCE_HEADER;
                snprintf(out->reply, sizeof(out->reply),
                         "550 5.7.1 Error: conflicting %.64s headers (two different tenant ids)",
                         in->conf->tenant_header);
                snprintf(out->reason, sizeof(out->reason), "conflicting tenant headers '%.64s' and '%.64s'",
                         first, other);
                return;
            }
        }
    }
    for (int k = 0; k < in->conf->resolution_count; k++) {
        switch (in->conf->resolution[k]) {
        case CONF_RESOLVE_HEADER:
            if (distinct && decide(in, out, RESOLVE_SOURCE_HEADER, first, find_id(in->store, first)))
                return;
            break;
        case CONF_RESOLVE_SENDER:
            if (in->sender && in->sender[0] && in->store
                && decide(in, out, RESOLVE_SOURCE_SENDER, NULL,
                          tenant_store_find_by_sender(in->store, in->sender)))
                return;
            break;
        case CONF_RESOLVE_AUTH:
            if (in->auth_id && in->auth_id[0]) {
                const struct tenant *t = find_id(in->store, in->auth_id);

                if (t == NULL && in->store && strchr(in->auth_id, '@'))
                    t = tenant_store_find_by_sender(in->store, in->auth_id);
                if (decide(in, out, RESOLVE_SOURCE_AUTH, in->auth_id, t))
                    return;
            }
            break;
        }
    }
    snprintf(out->reason, sizeof(out->reason), "no tenant: default route");
}
