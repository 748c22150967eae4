/*
 * smtpd_spool.c - the spool side of a session (struct smtpd_ops): a message
 * is written to the spool the daemon lends us, committed once its tenant is
 * resolved, and announced through the queued hook before the client gets
 * its 250, so delivery never misses a message the client thinks is queued.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "smtpd_int.h"
#include "tenantrelay/msg.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/server.h"

/* Borrowed: set by server_start(), cleared by a server_stop() that saw
 * every session end; the daemon closes it. */
static struct spool *spool;
static void (*queued_hook)(const struct spool_envelope *env, void *arg);
static void *queued_arg;

void smtpd_spool_attach(struct spool *s)
{
    spool = s;
}

void smtpd_spool_detach(void)
{
    spool = NULL;
}

const char *smtpd_spool_directory(void)
{
    return spool_directory(spool);
}

void server_set_queued_hook(void (*hook)(const struct spool_envelope *env, void *arg), void *arg)
{
    queued_hook = hook;
    queued_arg = arg;
}

static int op_begin(void *ctx, char qid[SPOOL_QID_LEN + 1])
{
    struct smtpd_conn *c = ctx;
    char err[256];

    if ((c->msg = spool_msg_begin(spool, err, sizeof(err))) == NULL) {
        msg_error(c->id, "cannot start a message: %s", err);
        return -1;
    }
    memcpy(qid, spool_msg_id(c->msg), SPOOL_QID_LEN + 1);
    return 0;
}

static int op_write(void *ctx, const void *data, size_t len)
{
    struct smtpd_conn *c = ctx;

    if (c->msg == NULL || spool_msg_write(c->msg, data, len) < 0) {
        if (c->msg)
            msg_error(spool_msg_id(c->msg), "cannot write the message: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static void op_abort(void *ctx)
{
    struct smtpd_conn *c = ctx;

    spool_msg_abort(c->msg);
    c->msg = NULL;
}

static void op_finish(void *ctx, const struct smtpd_message *m, struct dbuf *reply)
{
    struct smtpd_conn *c = ctx;
    struct spool_envelope env;
    char err[256];

    memset(&env, 0, sizeof(env));
    if (smtpd_tenant_resolve(c, m, &env, reply) < 0) {
        op_abort(c);
        goto cleanup;
    }
    env.sender = (char *)m->sender;
    env.recipients = (char **)m->recipients;
    env.recipient_count = m->recipient_count;
    env.arrival = time(NULL);
    env.flags = m->flags;
    env.client_addr = c->addr;
    env.helo = (char *)m->helo;
    env.message_id = (char *)m->message_id;
    if (spool_msg_commit(c->msg, &env, err, sizeof(err)) < 0) {
        c->msg = NULL;
        msg_error(m->qid, "not queued: %s", err);
        dbuf_append_str(reply, "452 4.3.1 Insufficient system storage\r\n");
        goto cleanup;
    }
    c->msg = NULL;
    c->messages++;
    msg_info(env.id, "queued client=[%s] from=<%s> nrcpt=%d size=%zu tenant=%s source=%s message-id=%s",
             c->addr, m->sender, m->recipient_count, env.size, env.tenant ? env.tenant : "-",
             spool_tenant_source_name(env.tenant_source), m->message_id ? m->message_id : "-");
    if (queued_hook)
        queued_hook(&env, queued_arg);
    dbuf_printf(reply, "250 2.0.0 Ok: queued as %s\r\n", env.id);
cleanup:
    myfree(env.tenant);
}

const struct smtpd_ops smtpd_spool_ops = { op_begin, op_write, op_finish, op_abort };
