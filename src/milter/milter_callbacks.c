/*
 * milter_callbacks.c - the libmilter callbacks: a context per connection
 * (client address, the message being received), the snapshot pinned per
 * message, and the plan of milter_plan.c replayed with smfi_*().
 *
 * The decision is made and applied at end of message, the only stage
 * where libmilter allows edits (the body itself is never asked for).
 * Whatever goes wrong inside answers tempfail: a message must never leave
 * the MTA unrewritten.
 *
 * Postfix and Sendmail count smfi_insheader() positions differently:
 * Postfix over the fields it received plus its own Received:, Sendmail over
 * its whole internal list, which also holds the configuration's default
 * fields (Return-Path, Date, From, Message-Id... whether sent or not), so
 * no position there is reliable but the front and the end (Sendmail's
 * headers.c says so).  The MTA names itself in the macro v at connect: an
 * insert is made where the plan wants it only in Postfix, elsewhere the
 * field is added at the end.
 */
#include "config.h"

#include <libmilter/mfapi.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "tenantrelay/milter.h"
#include "tenantrelay/msg.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/netaddr.h"
#include "tenantrelay/store_live.h"
#include "milter_int.h"

/* Per connection; freed in the close callback. */
struct milter_conn {
    struct sockaddr_storage peer;
    bool have_peer;
    char addr[64];              /* printable client address, "unknown" without one */
    char qid[64];               /* the MTA's queue id ({i}), "-" until known */
    bool mta_postfix;           /* v says Postfix: smfi_insheader() positions are exact */
    struct milter_snap *snap;   /* pinned from MAIL FROM to the end of the message */
    struct milter_message msg;
    struct milter_plan plan;
    bool too_big;
};

static struct milter_conn *conn_of(SMFICTX *ctx)
{
    return smfi_getpriv(ctx);
}

/* Forget the message in progress (end, abort, or a new MAIL FROM). */
static void message_end(struct milter_conn *c)
{
    milter_message_reset(&c->msg);
    milter_plan_free(&c->plan);
    memset(&c->plan, 0, sizeof(c->plan));
    c->too_big = false;
    milter_snap_put(c->snap);
    c->snap = NULL;
    snprintf(c->qid, sizeof(c->qid), "-");
}

static void update_qid(SMFICTX *ctx, struct milter_conn *c)
{
    const char *i = smfi_getsymval(ctx, "i");

    if (i && *i)
        snprintf(c->qid, sizeof(c->qid), "%s", i);
}

/* An internal failure: 451, logged, never a message passed unchanged. */
static sfsistat tempfail(SMFICTX *ctx, const char *qid, const char *what)
{
    msg_error(qid, "%s: message deferred", what);
    smfi_setreply(ctx, "451", "4.3.0", "Error: tenantrelay-milter internal error, try again later");
    return SMFIS_TEMPFAIL;
}

static sfsistat on_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                             unsigned long f3, unsigned long *pf0, unsigned long *pf1,
                             unsigned long *pf2, unsigned long *pf3)
{
    const unsigned long need = SMFIF_CHGFROM | SMFIF_CHGHDRS | SMFIF_ADDHDRS;

    (void)f2;
    (void)f3;
    if ((f0 & need) != need) {
        /* Without these the milter cannot rewrite: refusing the negotiation
         * makes the MTA apply its default action (Postfix: tempfail). */
        msg_error("-", "the MTA does not offer the needed actions (offered 0x%lx, needed 0x%lx)", f0, need);
        return SMFIS_REJECT;
    }
    *pf0 = need | (f0 & SMFIF_SETSYMLIST);
    /* The body is never needed: the MTA can keep it. */
    *pf1 = f1 & SMFIP_NOBODY;
    *pf2 = 0;
    *pf3 = 0;
    if (f0 & SMFIF_SETSYMLIST) {
        smfi_setsymlist(ctx, SMFIM_CONNECT, "v");
        smfi_setsymlist(ctx, SMFIM_ENVFROM, "i {auth_authen}");
        smfi_setsymlist(ctx, SMFIM_EOM, "i");
        /* Sendmail 8.17 uses a filter's end-of-message list only when the
         * filter also set one for end of headers (it tests the EOH bit):
         * without this it sends its global {msg_id} and no i. */
        smfi_setsymlist(ctx, SMFIM_EOH, "i");
    }
    return SMFIS_CONTINUE;
}

static sfsistat on_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
    struct milter_conn *c = mycalloc(1, sizeof(*c));
    const char *v;

    (void)hostname;
    v = smfi_getsymval(ctx, "v");
    c->mta_postfix = v && strncmp(v, "Postfix", 7) == 0;
    milter_message_init(&c->msg);
    snprintf(c->qid, sizeof(c->qid), "-");
    snprintf(c->addr, sizeof(c->addr), "unknown");
    if (hostaddr && (hostaddr->sa_family == AF_INET || hostaddr->sa_family == AF_INET6)) {
        size_t len = hostaddr->sa_family == AF_INET ? sizeof(struct sockaddr_in)
                                                    : sizeof(struct sockaddr_in6);

        memcpy(&c->peer, hostaddr, len);
        c->have_peer = true;
        netaddr_format((const struct sockaddr *)&c->peer, c->addr, sizeof(c->addr));
    }
    if (smfi_setpriv(ctx, c) == MI_FAILURE) {
        myfree(c);
        return tempfail(ctx, "-", "cannot keep the connection context");
    }
    return SMFIS_CONTINUE;
}

static sfsistat on_envfrom(SMFICTX *ctx, char **argv)
{
    struct milter_conn *c = conn_of(ctx);
    const char *auth;

    if (c == NULL)
        return tempfail(ctx, "-", "no connection context");
    message_end(c);
    update_qid(ctx, c);
    if ((c->snap = milter_snap_get()) == NULL)
        return tempfail(ctx, c->qid, "no configuration loaded");
    c->msg.sender = milter_envelope_address(argv && argv[0] ? argv[0] : "");
    auth = smfi_getsymval(ctx, "{auth_authen}");
    c->msg.auth_id = auth && *auth ? mystrdup(auth) : NULL;
    /* The tenant header counts only from trusted networks or
     * authenticated clients; from anyone else it is removed and ignored. */
    c->msg.client_trusted = c->msg.auth_id != NULL
                            || (c->have_peer
                                && netaddr_cidr_list_match(c->snap->conf->milter.trusted_networks,
                                                           c->snap->conf->milter.trusted_count,
                                                           (const struct sockaddr *)&c->peer));
    return SMFIS_CONTINUE;
}

static sfsistat on_header(SMFICTX *ctx, char *name, char *value)
{
    struct milter_conn *c = conn_of(ctx);

    if (c == NULL || c->snap == NULL)
        return tempfail(ctx, "-", "header outside a message");
    if (c->too_big)
        return SMFIS_CONTINUE;
    if (c->msg.header_bytes + strlen(name) + strlen(value) > MILTER_HEADER_MAX) {
        c->too_big = true;
        return SMFIS_CONTINUE;
    }
    milter_message_add_header(&c->msg, name, value);
    return SMFIS_CONTINUE;
}

static int apply_edit(SMFICTX *ctx, const struct milter_conn *c, const struct milter_edit *e)
{
    switch (e->op) {
    case MILTER_EDIT_INSERT:
        if (!c->mta_postfix)
            return smfi_addheader(ctx, e->name, e->value);
        return smfi_insheader(ctx, e->index, e->name, e->value);
    case MILTER_EDIT_DELETE:
        return smfi_chgheader(ctx, e->name, e->index, NULL);
    case MILTER_EDIT_CHANGE:
        return smfi_chgheader(ctx, e->name, e->index, e->value);
    case MILTER_EDIT_ADD:
        return smfi_addheader(ctx, e->name, e->value);
    case MILTER_EDIT_CHGFROM:
        return smfi_chgfrom(ctx, e->value, NULL);
    }
    return MI_FAILURE;
}

static sfsistat on_eom(SMFICTX *ctx)
{
    struct milter_conn *c = conn_of(ctx);
    char buf[512], ebuf[256];
    sfsistat rc = SMFIS_CONTINUE;
    struct tenant_store *live = NULL;   /* the plan borrows from it until done */
    bool stale = false;

    if (c == NULL || c->snap == NULL)
        return tempfail(ctx, "-", "end of message outside a message");
    update_qid(ctx, c);
    if (c->too_big) {
        msg_info(c->qid, "refused client=[%s] from=<%s> reason=\"header section larger than %d bytes\"",
                 c->addr, c->msg.sender, MILTER_HEADER_MAX);
        smfi_setreply(ctx, "552", "5.3.4", "Error: message header section too large");
        rc = SMFIS_REJECT;
        goto done;
    }
    /* A live PostgreSQL store: its newest snapshot, not the one loaded
     * with the configuration. */
    live = store_live_acquire(c->snap->conf->tenant_store, NULL, &stale);
    c->msg.store_stale = stale;
    if (milter_plan_build(c->snap->conf, live ? live : c->snap->store, &c->msg, &c->plan) < 0) {
        rc = tempfail(ctx, c->qid, c->plan.reason);
        goto done;
    }
    if (c->plan.verdict != MILTER_ACCEPT) {
        msg_info(c->qid, "refused client=[%s] from=<%s> reason=\"%s\" reply=\"%s %s %s\"", c->addr,
                 c->msg.sender, c->plan.reason, c->plan.rcode, c->plan.xcode, c->plan.text);
        if (smfi_setreply(ctx, c->plan.rcode, c->plan.xcode, c->plan.text) == MI_FAILURE)
            msg_warn(c->qid, "cannot set the reply text");
        rc = c->plan.verdict == MILTER_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
        goto done;
    }
    for (size_t i = 0; i < c->plan.nedits; i++) {
        if (apply_edit(ctx, c, &c->plan.edits[i]) == MI_FAILURE) {
            snprintf(buf, sizeof(buf), "edit failed: %.200s",
                     milter_edit_format(&c->plan.edits[i], ebuf, sizeof(ebuf)));
            rc = tempfail(ctx, c->qid, buf);
            goto done;
        }
        msg_debug(c->qid, "edit %s", milter_edit_format(&c->plan.edits[i], buf, sizeof(buf)));
    }
    msg_info(c->qid, "rewritten client=[%s] trusted=%s from=<%s> sender=<%s> tenant=%s source=%s removed=%d from=%s",
             c->addr, c->msg.client_trusted ? "yes" : "no", c->msg.sender,
             c->plan.sender_rewritten ? c->plan.route_sender : c->msg.sender,
             c->plan.tenant[0] ? c->plan.tenant : "-", c->plan.source, c->plan.removed,
             c->plan.from_rewritten ? "rewritten" : c->plan.from_added ? "added" : "kept");
done:
    message_end(c);
    tenant_store_free(live);
    return rc;
}

static sfsistat on_abort(SMFICTX *ctx)
{
    struct milter_conn *c = conn_of(ctx);

    if (c)
        message_end(c);
    return SMFIS_CONTINUE;
}

static sfsistat on_close(SMFICTX *ctx)
{
    struct milter_conn *c = conn_of(ctx);

    if (c) {
        message_end(c);
        myfree(c);
        smfi_setpriv(ctx, NULL);
    }
    return SMFIS_CONTINUE;
}

struct smfiDesc milter_desc = {
    .xxfi_name = "tenantrelay",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_CHGFROM | SMFIF_CHGHDRS | SMFIF_ADDHDRS | SMFIF_SETSYMLIST,
    .xxfi_connect = on_connect,
    .xxfi_envfrom = on_envfrom,
    .xxfi_header = on_header,
    .xxfi_eom = on_eom,
    .xxfi_abort = on_abort,
    .xxfi_close = on_close,
    .xxfi_negotiate = on_negotiate,
};
