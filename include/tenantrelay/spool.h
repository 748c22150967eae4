/*
 * spool.h - the durable queue.
 *
 * Layout under spool_directory:
 *   tmp/            files being written (removed at start-up: never acknowledged)
 *   queue/QID.msg   the message as accepted: CRLF lines, dot-unstuffed, tenant
 *                   headers removed, our Received: first (immutable)
 *   queue/QID.env   the envelope written at acceptance (immutable, text)
 *   queue/QID.state the delivery state (absent = never tried); replaced
 *                   atomically by spool_state_save()
 * A message exists once its .env is renamed into queue/ and the directory
 * fsynced: only then does the client get "250 2.0.0 Ok: queued as QID".
 * A .msg without .env is debris of a crash before the 250 and is removed.
 *
 * Queue ids are 16 characters of [0-9A-Z], unique per spool, sortable by
 * arrival.  All text fields are single lines (addresses are validated before
 * they reach the spool).
 */
#ifndef TENANTRELAY_SPOOL_H
#define TENANTRELAY_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define SPOOL_QID_LEN 16

enum spool_tenant_source {
    SPOOL_TENANT_NONE,          /* no tenant: default route */
    SPOOL_TENANT_HEADER,
    SPOOL_TENANT_SENDER,
    SPOOL_TENANT_AUTH,
    SPOOL_TENANT_MILTER,        /* stamped by tenantrelay-milter */
};

#define SPOOL_FLAG_8BITMIME 0x1
#define SPOOL_FLAG_SMTPUTF8 0x2

struct spool_envelope {
    char id[SPOOL_QID_LEN + 1];
    char *tenant;               /* NULL: none (default route) */
    enum spool_tenant_source tenant_source;
    char *sender;               /* original envelope sender; "" for <> */
    char **recipients;          /* NULL-terminated */
    int recipient_count;
    time_t arrival;
    unsigned flags;             /* SPOOL_FLAG_* */
    size_t size;                /* bytes of QID.msg */
    char *client_addr;
    char *helo;
    char *message_id;           /* Message-ID header value, or NULL */
};

enum spool_state_kind {
    SPOOL_QUEUED,               /* waiting for its next attempt */
    SPOOL_DEFERRED,             /* an attempt failed temporarily */
    SPOOL_HELD,                 /* held by an operator or the circuit breaker */
    SPOOL_FAILED,               /* permanently failed; kept for failed_retention */
};

struct spool_state {
    enum spool_state_kind state;
    int attempts;
    time_t next_attempt;        /* 0 = as soon as possible */
    time_t last_attempt;        /* 0 = never */
    char *last_reply;           /* the upstream's reply or our reason, or NULL */
    char **done_recipients;     /* NULL-terminated: already accepted upstream */
};

/* Queue-id strings and the state names used in JSON ("queued", ...). */
const char *spool_state_name(enum spool_state_kind kind);

#endif
