/*
 * smtpd_mem.h - a message store in memory for the unit tests that feed an
 * SMTP session from memory (test_smtpd_session.c, test_header_grammar.c):
 * the smtpd_ops mem_ops keep the stored and the last committed message,
 * counts, the sender, recipients, flags, the tenant header values and the
 * Message-ID; fail_begin and fail_write make the store refuse.
 */
#ifndef TENANTRELAY_TEST_SMTPD_MEM_H
#define TENANTRELAY_TEST_SMTPD_MEM_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tenantrelay/dbuf.h"
#include "tenantrelay/smtpd.h"

struct mem {
    struct dbuf stored;         /* content of the message being written */
    struct dbuf last;           /* content of the last committed message */
    int begun, committed, aborted;
    bool fail_begin, fail_write;
    char sender[300];
    int nrcpt;
    unsigned flags;
    char tenants[512];          /* "|"-joined tenant header values */
    char message_id[300];
};

static int m_begin(void *ctx, char qid[SPOOL_QID_LEN + 1])
{
    struct mem *m = ctx;

    if (m->fail_begin)
        return -1;
    m->begun++;
    dbuf_reset(&m->stored);
    snprintf(qid, SPOOL_QID_LEN + 1, "TESTQID%09d", m->begun);
    return 0;
}

static int m_write(void *ctx, const void *data, size_t len)
{
    struct mem *m = ctx;

    if (m->fail_write)
        return -1;
    dbuf_append(&m->stored, data, len);
    return 0;
}

static void m_finish(void *ctx, const struct smtpd_message *msg, struct dbuf *reply)
{
    struct mem *m = ctx;

    m->committed++;
    dbuf_reset(&m->last);
    dbuf_append(&m->last, m->stored.data, m->stored.len);
    snprintf(m->sender, sizeof(m->sender), "%s", msg->sender);
    m->nrcpt = msg->recipient_count;
    m->flags = msg->flags;
    m->tenants[0] = 0;
    for (int i = 0; msg->tenant_values[i]; i++) {
        strncat(m->tenants, msg->tenant_values[i], sizeof(m->tenants) - strlen(m->tenants) - 2);
        strcat(m->tenants, "|");
    }
    snprintf(m->message_id, sizeof(m->message_id), "%s", msg->message_id ? msg->message_id : "");
    dbuf_printf(reply, "250 2.0.0 Ok: queued as %s\r\n", msg->qid);
}

static void m_abort(void *ctx)
{
    struct mem *m = ctx;

    m->aborted++;
}

static const struct smtpd_ops mem_ops = { m_begin, m_write, m_finish, m_abort };

#endif
