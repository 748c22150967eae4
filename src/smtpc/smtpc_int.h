/*
 * smtpc_int.h - the SMTP client's session and its I/O layer, shared by the
 * files of src/smtpc only.
 */
#ifndef TENANTRELAY_SMTPC_INT_H
#define TENANTRELAY_SMTPC_INT_H

#include <netdb.h>
#include <stdbool.h>

#include "tenantrelay/clock.h"
#include "tenantrelay/dbuf.h"
#include "tenantrelay/smtpc.h"
#include "tenantrelay/tls.h"

#define SMTPC_IN_MAX (256 * 1024)   /* unread input kept at most */

struct smtpc_session {
    /* Options, with owned copies of the strings. */
    struct smtpc_options o;
    char *host;
    char *ca_file;
    char *bind_address;
    char *helo_name;
    struct tls_client_ctx *tls_ctx;
    bool own_tls_ctx;
    struct route_policy policy;     /* copy of o.policy (tenant routes) */
    bool has_policy;

    struct addrinfo *ai;            /* from smtpc_resolve() */
    int fd;                         /* -1 when not connected */
    char peer[80];
    struct tls_conn *tls;           /* NULL: plaintext */
    struct tls_info tls_info;
    bool tls_tried;
    struct dbuf in;                 /* bytes read, not yet parsed */
    struct dbuf out;                /* one command being built (never a secret) */
    bool greeted;
    bool ehlo_done;
    struct smtpc_caps caps;
    const char *auth_used;
    char auth_challenge[512];       /* decoded 334 challenge of a failed OAuth2 AUTH */
    bool broken;                    /* an I/O or protocol error: the session cannot go on */
    bool in_data;                   /* between 354 and the final reply */
    bool data_ready;                /* a pipelined DATA got its 354: content next */
};

/* Start a step: res->err OK, the stage, an empty reply; errstr untouched. */
void smtpc_step_begin(struct smtpc_result *res, const char *stage);
void smtpc_step_end(struct smtpc_result *res, long t0);
/* Fail the step: class and errstr; returns -1. */
int smtpc_fail(struct smtpc_result *res, enum smtpc_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Shared by the steps (smtpc_proto.c, smtpc_auth.c; defined in
 * smtpc_session.c, below both). */
/* Send the command in s->out (CRLF added here) and read the reply. */
int smtpc_command(struct smtpc_session *s, int timeout_ms, struct smtpc_result *res);
/* A socket that has not failed (it may be inside DATA). */
bool smtpc_connected(const struct smtpc_session *s);
/* The opening every step shares: res reset for stage and, unless ready,
 * the step refused (SMTPC_ERR_LOCAL with refusal) before a byte is sent. */
int smtpc_step_open(struct smtpc_result *res, const char *stage, bool ready, const char *refusal);
/* Write all bytes (TLS or plain), bounded by timeout_ms per wait. */
int smtpc_io_write(struct smtpc_session *s, const void *buf, size_t len, int timeout_ms,
                   struct smtpc_result *res);
/* Read one complete reply into res->reply within timeout_ms in total. */
int smtpc_io_reply(struct smtpc_session *s, int timeout_ms, struct smtpc_result *res);
/* Whether bytes are waiting: in our buffer, inside TLS, or on the socket. */
bool smtpc_io_has_input(struct smtpc_session *s);
/* Close the connection (TLS freed, fd closed). */
void smtpc_io_close(struct smtpc_session *s, bool polite);

#endif
