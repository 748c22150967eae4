/*
 * smtpd.h - the SMTP server session as a pure state machine, and the DATA
 * reader under it.
 *
 * Nothing here touches a socket: bytes go in through smtpd_session_input(),
 * replies come out in smtpd_session_output(), and the few side effects
 * (spool file, commit) go through struct smtpd_ops.  The socket and TLS
 * (smtpd_io.c), timeouts (smtpd_server.c) and session caps (smtpd_admit.c)
 * live elsewhere; unit tests and fuzzers drive the same code from memory
 * buffers.
 *
 * Memory per session is bounded whatever the client sends: the input buffer
 * (SMTPD_INBUF), the header section (SMTPD_MAX_HEADER), max_recipients
 * addresses of at most SMTPD_MAX_PATH bytes, and one output chunk.
 */
#ifndef TENANTRELAY_SMTPD_H
#define TENANTRELAY_SMTPD_H

#include <stdbool.h>
#include <stddef.h>

#include "tenantrelay/dbuf.h"
#include "tenantrelay/spool.h"

#define SMTPD_LINE_CMD 512          /* RFC 5321 §4.5.3.1.4, with CRLF */
/* MAIL/RCPT: 512 plus SIZE= (RFC 1870: 26), BODY= (RFC 6152: 14),
 * SMTPUTF8 (RFC 6531: 10). */
#define SMTPD_LINE_MAIL (512 + 26 + 14 + 10)
#define SMTPD_LINE_AUTH 12288       /* RFC 4954 §4 */
#define SMTPD_INBUF 16384
#define SMTPD_MAX_HEADER (256 * 1024)
#define SMTPD_MAX_PATH 256          /* RFC 5321 §4.5.3.1.3 */
#define SMTPD_MAX_ERRORS 20

/* ---- DATA reader ----
 * Only CRLF "." CRLF ends the data.  Dot-unstuffing is exact (a leading dot
 * after CRLF is removed).  A bare LF is written as CRLF and flagged but never
 * starts a line for the purpose of the end marker or unstuffing; a bare CR
 * or a NUL is flagged (the message is then refused).  Lines longer than
 * max_line bytes are flagged. */
#define SMTPD_DATA_BARE_LF  0x1
#define SMTPD_DATA_BARE_CR  0x2
#define SMTPD_DATA_NUL      0x4
#define SMTPD_DATA_LONGLINE 0x8

struct smtpd_data {
    int state;
    size_t line_len;
    size_t max_line;
    unsigned flags;             /* SMTPD_DATA_* seen so far */
};

void smtpd_data_init(struct smtpd_data *d, size_t max_line);
/* Consume bytes of buf, appending the stored content to out.  Returns how
 * many bytes were consumed; *done is set when the end marker was consumed
 * (the bytes after it belong to the next command). */
size_t smtpd_data_feed(struct smtpd_data *d, const char *buf, size_t len, struct dbuf *out,
                       bool *done);

/* ---- session ---- */
enum smtpd_state {
    SMTPD_S_CONNECTED,          /* greeting sent, waiting for EHLO/HELO */
    SMTPD_S_GREETED,            /* no transaction */
    SMTPD_S_MAIL,               /* MAIL accepted */
    SMTPD_S_RCPT,               /* at least one RCPT accepted */
    SMTPD_S_DATA,               /* reading the message */
    SMTPD_S_CLOSED,
};

enum smtpd_action {
    SMTPD_ACT_NONE,             /* send the output, read more input */
    SMTPD_ACT_STARTTLS,         /* send the output, then the TLS handshake and
                                 * smtpd_session_tls_started() */
    SMTPD_ACT_CLOSE,            /* send the output, then close */
};

/* What the session hands over at the final dot of an acceptable message. */
struct smtpd_message {
    const char *qid;
    const char *sender;         /* "" for <> */
    char *const *recipients;    /* NULL-terminated */
    int recipient_count;
    unsigned flags;             /* SPOOL_FLAG_* */
    char *const *tenant_values; /* NULL-terminated values of every tenant header */
    int tenant_value_count;
    const char *message_id;     /* NULL when absent */
    const char *helo;
    size_t size;                /* bytes stored */
};

struct smtpd_ops {
    /* Start a spool file; fill qid.  -1 → "452 4.3.1" to DATA. */
    int (*begin)(void *ctx, char qid[SPOOL_QID_LEN + 1]);
    /* Append stored content.  -1 → the message ends in "452 4.3.1". */
    int (*write)(void *ctx, const void *data, size_t len);
    /* Decide and commit the message; append exactly one reply line
     * ("250 2.0.0 Ok: queued as QID\r\n", or a refusal after aborting). */
    void (*finish)(void *ctx, const struct smtpd_message *m, struct dbuf *reply);
    /* Drop the message begun (refused, aborted, session ended). */
    void (*abort)(void *ctx);
};

struct smtpd_params {
    const char *id;             /* session id for the log */
    const char *hostname;       /* our name in the greeting and Received: */
    const char *client_addr;    /* printable IP */
    size_t max_message_size;
    int max_recipients;
    size_t max_line_length;
    bool bare_lf_reject;
    bool tls_available;         /* offer STARTTLS */
    const char *tenant_header;  /* removed from every message */
};

struct smtpd_session;

/* A new session; the greeting is already in the output.  params strings
 * must outlive the session.  Free with smtpd_session_free(). */
struct smtpd_session *smtpd_session_new(const struct smtpd_params *params,
                                        const struct smtpd_ops *ops, void *ctx);
/* Ends a message in flight through ops->abort. */
void smtpd_session_free(struct smtpd_session *s);
/* How many bytes the driver may pass to the next input call. */
size_t smtpd_session_room(const struct smtpd_session *s);
/* Process input (at most room bytes). */
enum smtpd_action smtpd_session_input(struct smtpd_session *s, const char *data, size_t len);
/* Replies to send; the driver consumes them (dbuf_consume / dbuf_reset). */
struct dbuf *smtpd_session_output(struct smtpd_session *s);
/* After a successful handshake: back to "EHLO first" (RFC 3207 §4.2). */
void smtpd_session_tls_started(struct smtpd_session *s);
/* Append a last reply (timeouts, shutdown) and end the session. */
void smtpd_session_close(struct smtpd_session *s, const char *reply);
enum smtpd_state smtpd_session_state(const struct smtpd_session *s);
/* Number of command lines and messages completed (progress for timeouts). */
unsigned long smtpd_session_progress(const struct smtpd_session *s);
const char *smtpd_state_name(enum smtpd_state st);

#endif
