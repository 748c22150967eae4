/*
 * smtpd_tenant.c - which tenant a message belongs to, decided at its final
 * dot (resolve.h) from the snapshot the session runs under, or from the
 * live PostgreSQL store when there is one.
 */
#include "config.h"

#include "smtpd_int.h"
#include "tenantrelay/msg.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/netaddr.h"
#include "tenantrelay/resolve.h"
#include "tenantrelay/store_live.h"
#include "tenantrelay/tenant.h"

static enum spool_tenant_source spool_source(enum resolve_source source)
{
    switch (source) {
    case RESOLVE_SOURCE_HEADER:
        return SPOOL_TENANT_HEADER;
    case RESOLVE_SOURCE_SENDER:
        return SPOOL_TENANT_SENDER;
    case RESOLVE_SOURCE_AUTH:
        return SPOOL_TENANT_AUTH;
    default:
        return SPOOL_TENANT_NONE;
    }
}

int smtpd_tenant_resolve(const struct smtpd_conn *c, const struct smtpd_message *m,
                         struct spool_envelope *env, struct dbuf *reply)
{
    const struct conf *conf = c->snap->conf;
    struct resolve_result r;
    bool stale = false;
    /* A live PostgreSQL store: its newest snapshot, not the one loaded
     * with the configuration. */
    struct tenant_store *live = store_live_acquire(conf->tenant_store, NULL, &stale);
    struct resolve_input in = {
        conf, live ? live : c->snap->store, (const char *const *)m->tenant_values,
        (size_t)m->tenant_value_count,
        /* The header is trusted only from the allowed networks. */
        netaddr_cidr_list_match(conf->allowed_networks, conf->allowed_count,
                                (const struct sockaddr *)&c->peer),
        m->sender, NULL, stale,
    };

    resolve_tenant(&in, &r);
    if (r.verdict != RESOLVE_ACCEPT) {
        msg_info(m->qid, "refused client=[%s] from=<%s> reason=\"%s\"", c->addr, m->sender, r.reason);
        dbuf_printf(reply, "%s\r\n", r.reply);
        tenant_store_free(live);
        return -1;
    }
    msg_debug(m->qid, "resolution: %s", r.reason);
    env->tenant = r.tenant ? mystrdup(r.tenant->id) : NULL;
    tenant_store_free(live);    /* r.tenant is not used past here */
    env->tenant_source = spool_source(r.source);
    return 0;
}
