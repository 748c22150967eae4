/*
 * smtpc.h - a blocking SMTP client for upstream delivery and the probe.
 *
 * One struct smtpc_session is one connection to one upstream, used by one
 * thread at a time (delivery workers, `tenantrelayctl test`).  Every step
 * takes a struct smtpc_result that it fills: an error class, the server's
 * exact reply (code, enhanced status, text), the SMTP stage, and the step's
 * elapsed milliseconds.  Steps return 0 on success and -1 on failure; on
 * success res->err is SMTPC_OK and res->errstr is left untouched (msmtp's
 * convention), on failure errstr says what went wrong in words.
 *
 * The steps, in order (the probe runs them one by one, delivery calls
 * smtpc_open() and smtpc_send()):
 *
 *   smtpc_session_new()      options copied; nothing on the network yet
 *   smtpc_resolve()          getaddrinfo (IPv4 and IPv6)
 *   smtpc_connect()          TCP, each address in turn, optional bind address
 *   smtpc_tls()              implicit: handshake; starttls: greeting, EHLO,
 *                            STARTTLS (mandatory), handshake; then the
 *                            certificate check; none: only with
 *                            insecure_plaintext
 *   smtpc_ehlo()             greeting (when not read yet) and EHLO; after
 *                            STARTTLS the old capabilities are discarded
 *   smtpc_auth()             PLAIN or LOGIN, or XOAUTH2 / OAUTHBEARER with an
 *                            OAuth2 token, only over TLS
 *   smtpc_envelope()         [RSET] MAIL + RCPTs (one write under PIPELINING)
 *   smtpc_data()             DATA, the body dot-stuffed, the final reply
 *   smtpc_rset()             between messages of a reused session
 *   smtpc_quit()             polite end
 *   smtpc_session_free()     closes the socket (QUIT not sent)
 *
 * Security: AUTH is refused unless TLS is up; the secret comes from the
 * caller (struct smtpc_cred) in memory the caller owns, and every buffer
 * derived from it (base64, the command line) is sodium_malloc'd here and
 * wiped; it is never logged or put in a result.  Bytes the server sends
 * after its 220 to STARTTLS abort the session; nothing read before TLS is
 * used after it.
 *
 * The process must ignore SIGPIPE (tenantrelayd does): OpenSSL writes to
 * the socket with write(2), which raises it when the upstream has gone.
 * Plaintext writes use MSG_NOSIGNAL.
 */
#ifndef TENANTRELAY_SMTPC_H
#define TENANTRELAY_SMTPC_H

#include <stdbool.h>
#include <stddef.h>

#include "tenantrelay/route.h"
#include "tenantrelay/route_policy.h"
#include "tenantrelay/tls.h"

/* Error classes.  Delivery maps them to deferred/failed (only REPLY_5XX and
 * EXT_UNSUPPORTED are permanent by nature), the probe to its step codes. */
enum smtpc_err {
    SMTPC_OK = 0,
    SMTPC_ERR_DNS,                  /* name does not resolve */
    SMTPC_ERR_CONNECT_REFUSED,      /* every address refused (RST) */
    SMTPC_ERR_CONNECT_TIMEOUT,      /* no address answered in time */
    SMTPC_ERR_CONNECT,              /* other connect failure (unreachable, bind_address) */
    SMTPC_ERR_TIMEOUT,              /* the server stalled (greeting, a reply, a write) */
    SMTPC_ERR_CONNECTION_LOST,      /* the server closed or reset the connection */
    SMTPC_ERR_TLS_HANDSHAKE,        /* TLS handshake failed */
    SMTPC_ERR_CERT_UNTRUSTED,       /* certificate chain not trusted (self-signed, unknown CA) */
    SMTPC_ERR_CERT_NAME_MISMATCH,   /* certificate not for this host */
    SMTPC_ERR_CERT_EXPIRED,         /* certificate expired or not yet valid */
    SMTPC_ERR_CERT_INVALID,         /* other certificate verification failure */
    SMTPC_ERR_STARTTLS_NOT_OFFERED, /* starttls mode, the server does not offer it */
    SMTPC_ERR_TLS_MODE_MISMATCH,    /* implicit TLS against a plaintext port (detected) */
    SMTPC_ERR_AUTH_NOT_OFFERED,     /* no usable AUTH mechanism offered (or not over TLS) */
    SMTPC_ERR_AUTH_FAILED,          /* the server refused the credentials (reply kept) */
    SMTPC_ERR_PROTOCOL,             /* malformed reply, unexpected code, bytes after STARTTLS 220 */
    SMTPC_ERR_REPLY_4XX,            /* a transient refusal (reply kept) */
    SMTPC_ERR_REPLY_5XX,            /* a permanent refusal (reply kept) */
    SMTPC_ERR_EXT_UNSUPPORTED,      /* the message needs SMTPUTF8/8BITMIME the server lacks */
    SMTPC_ERR_LOCAL,                /* our side: bad options, body fd unreadable, ... */
    SMTPC_ERR_ROUTE_POLICY,         /* the port or every address refused by the route policy */
    SMTPC_ERR_NOT_SMTP,             /* the far end's greeting is not SMTP (another service) */
};

/* Stable lower-case names: "ok", "dns", "connect_refused", "connect_timeout",
 * "connect", "timeout", "connection_lost", "tls_handshake", "cert_untrusted",
 * "cert_name_mismatch", "cert_expired", "cert_invalid", "starttls_not_offered",
 * "tls_mode_mismatch", "auth_not_offered", "auth_failed", "protocol",
 * "reply_4xx", "reply_5xx", "ext_unsupported", "local", "route_policy",
 * "not_smtp". */
const char *smtpc_err_name(enum smtpc_err err);
/* True for the classes worth retrying later (everything but REPLY_5XX,
 * EXT_UNSUPPORTED and LOCAL).  AUTH failures are transient on purpose:
 * the tenant may fix its password; the circuit breaker stops a storm. */
bool smtpc_err_is_transient(enum smtpc_err err);

#define SMTPC_REPLY_MAX 1024        /* reply text kept per result (truncated beyond) */
#define SMTPC_ERRSTR_MAX 256

/* The server's reply as parsed from the wire. */
struct smtpc_reply {
    int code;                       /* 3 digits; 0 when no reply was read */
    char enhanced[16];              /* "5.7.8" (RFC 3463), "" when absent */
    char text[SMTPC_REPLY_MAX];     /* every line as received, without CRLF,
                                     * joined by "\n" ("535-5.7.8 ...\n535 5.7.8 ...") */
    bool truncated;                 /* text was cut at SMTPC_REPLY_MAX - 1 */
};

struct smtpc_result {
    enum smtpc_err err;
    const char *stage;              /* static: "dns", "connect", "greeting", "ehlo",
                                     * "starttls", "tls", "auth", "mail", "rcpt",
                                     * "data", "dot", "rset", "quit" */
    struct smtpc_reply reply;       /* the last reply of this step (code 0 if none) */
    char errstr[SMTPC_ERRSTR_MAX];  /* on failure: what went wrong; untouched on success */
    long ms;                        /* elapsed wall time of the step */
};

/* Per-recipient outcome of smtpc_envelope(). */
struct smtpc_rcpt_result {
    enum smtpc_err err;             /* SMTPC_OK, REPLY_4XX, REPLY_5XX, PROTOCOL */
    struct smtpc_reply reply;
};

/* Connection options.  The strings are copied by smtpc_session_new(). */
struct smtpc_options {
    const char *host;               /* DNS name or IP literal (also the TLS name) */
    int port;
    enum route_tls tls;             /* implicit, starttls, none */
    bool insecure_plaintext;        /* required for ROUTE_TLS_NONE */
    const char *ca_file;            /* NULL: the system trust store */
    bool tls_verify;                /* false only when the route says so */
    const char *bind_address;       /* NULL or "": any source address */
    const char *helo_name;          /* EHLO argument (the config's hostname) */
    int connect_timeout_ms;         /* per address; 0: 30 s */
    int command_timeout_ms;         /* greeting, each reply, each write; 0: 300 s */
    int data_timeout_ms;            /* each body write and the reply to the dot; 0: 600 s */
    struct tls_client_ctx *tls_ctx; /* optional shared context (not owned); NULL: one is
                                     * built from ca_file / tls_verify and owned */
    const struct route_policy *policy; /* tenant routes: checked (copied) before each
                                     * connect; NULL: exempt (the default route) */
};

/* What the server said in EHLO (after STARTTLS, the second EHLO only). */
struct smtpc_caps {
    bool esmtp;                     /* EHLO accepted (else HELO was used) */
    bool starttls;
    bool pipelining;
    bool eightbitmime;
    bool smtputf8;
    bool enhancedstatuscodes;
    bool size;
    unsigned long size_max;         /* 0: no limit announced */
    bool auth_plain;
    bool auth_login;
    bool auth_xoauth2;
    bool auth_oauthbearer;
};

/* Credentials.  The secret is the caller's: typically opened from the
 * vault into sodium_malloc memory and wiped right after smtpc_auth(); this
 * module never copies it into ordinary heap memory and never logs it. */
enum smtpc_cred_kind {
    SMTPC_CRED_PASSWORD,            /* username + password: AUTH PLAIN or LOGIN */
    SMTPC_CRED_XOAUTH2,             /* username + OAuth2 access token: XOAUTH2, else OAUTHBEARER */
};
enum smtpc_auth_mech {
    SMTPC_AUTH_AUTO = 0,            /* PLAIN if offered, else LOGIN (password kind) */
    SMTPC_AUTH_PLAIN,
    SMTPC_AUTH_LOGIN,
    SMTPC_AUTH_XOAUTH2,
    SMTPC_AUTH_OAUTHBEARER,         /* RFC 7628 */
};
struct smtpc_cred {
    enum smtpc_cred_kind kind;
    enum smtpc_auth_mech mech;      /* SMTPC_AUTH_AUTO or a forced mechanism */
    const char *username;
    const unsigned char *secret;    /* password or token; NOT NUL-terminated necessarily */
    size_t secret_len;
};
/* "PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER" ("AUTO" for SMTPC_AUTH_AUTO). */
const char *smtpc_auth_mech_name(enum smtpc_auth_mech mech);

/* What the message needs from the server. */
struct smtpc_envelope {
    const char *sender;             /* "" for the null reverse-path */
    const char *const *rcpts;
    size_t nrcpts;
    bool body_8bit;                 /* 8-bit body: BODY=8BITMIME, refused without it */
    bool smtputf8;                  /* SMTPUTF8 needed (also implied by non-ASCII addresses) */
    unsigned long size;             /* SIZE= hint when offered; 0: none */
    bool reset_first;               /* a reused session: RSET first (pipelined
                                     * with MAIL when PIPELINING is offered) */
};

/* The message content, sent in order: headers from a buffer, then the body
 * from a buffer or read from an fd to its end.  Lines end in CRLF; the
 * stream is dot-stuffed on the way, a bare CR or LF is sent as CRLF (never
 * a lone one: no SMTP smuggling upstream), and a missing final CRLF added. */
struct smtpc_source {
    const char *buf;                /* used when fd < 0 */
    size_t len;
    int fd;                         /* >= 0: read from the current offset to EOF */
};

struct smtpc_session;

/* Clear o and set what the route says of the connection: host, port, tls,
 * insecure_plaintext, ca_file, tls_verify, bind_address (borrowed from r,
 * not copied).  The caller sets its own: helo_name, the timeouts, tls_ctx
 * and policy (left 0 / NULL: "localhost", the defaults, an owned context,
 * exempt). */
void smtpc_options_from_route(struct smtpc_options *o, const struct route *r);

/* A session for opts (copied), or NULL with res filled (SMTPC_ERR_LOCAL:
 * tls none without insecure_plaintext, TLS context failure).  Owned by the
 * caller: smtpc_session_free(). */
struct smtpc_session *smtpc_session_new(const struct smtpc_options *opts, struct smtpc_result *res);
/* Close the connection (no QUIT) and free everything.  NULL is a no-op. */
void smtpc_session_free(struct smtpc_session *s);

int smtpc_resolve(struct smtpc_session *s, struct smtpc_result *res)
    __attribute__((warn_unused_result));
/* Resolves first when smtpc_resolve() was not called. */
int smtpc_connect(struct smtpc_session *s, struct smtpc_result *res)
    __attribute__((warn_unused_result));
/* The TLS step of the route's mode (see above).  A no-op returning 0 for
 * ROUTE_TLS_NONE.  Certificate failures leave tls_info filled. */
int smtpc_tls(struct smtpc_session *s, struct smtpc_result *res)
    __attribute__((warn_unused_result));
int smtpc_ehlo(struct smtpc_session *s, struct smtpc_result *res)
    __attribute__((warn_unused_result));
/* AUTH with cred over TLS.  SMTPC_ERR_AUTH_NOT_OFFERED when no usable
 * mechanism is offered or TLS is not up; SMTPC_ERR_AUTH_FAILED with the
 * server's reply when refused (any 4xx/5xx to AUTH). */
int smtpc_auth(struct smtpc_session *s, const struct smtpc_cred *cred, struct smtpc_result *res)
    __attribute__((warn_unused_result));
/* MAIL FROM and RCPT TO for each recipient; rcpt_res has env->nrcpts
 * entries (caller's array).  Returns 0 when MAIL and at least one RCPT were
 * accepted; -1 otherwise (res->stage "mail" or "rcpt"; with every RCPT
 * refused, res carries the first refusal).  Per-recipient outcomes always
 * in rcpt_res when MAIL was accepted. */
int smtpc_envelope(struct smtpc_session *s, const struct smtpc_envelope *env,
                   struct smtpc_rcpt_result *rcpt_res, struct smtpc_result *res)
    __attribute__((warn_unused_result));
/* DATA, the content, the final dot, and the server's reply to it. */
int smtpc_data(struct smtpc_session *s, const struct smtpc_source *src, size_t nsrc,
               struct smtpc_result *res) __attribute__((warn_unused_result));
/* Before the next message of a reused session, after a refused envelope
 * or DATA (smtpc_usable() still true); a broken session must be freed. */
int smtpc_rset(struct smtpc_session *s, struct smtpc_result *res)
    __attribute__((warn_unused_result));
/* QUIT and wait (command timeout) for the 221; the connection is closed. */
int smtpc_quit(struct smtpc_session *s, struct smtpc_result *res);

/* Convenience for delivery: connect, TLS, EHLO and (when cred is not
 * NULL) AUTH.  res holds the failing step's result. */
int smtpc_open(struct smtpc_session *s, const struct smtpc_cred *cred, struct smtpc_result *res)
    __attribute__((warn_unused_result));
/* Delivery's transaction on an open session: envelope then data.  Under
 * PIPELINING the whole envelope is one write, DATA included (RFC 2920
 * allows it last in a group): [RSET] MAIL RCPT... DATA, then the content,
 * so a message costs two round trips.  A failure with res->stage "rset"
 * means the reused session was gone before the message started: the
 * caller may retry at once on a new session. */
int smtpc_send(struct smtpc_session *s, const struct smtpc_envelope *env,
               struct smtpc_rcpt_result *rcpt_res, const struct smtpc_source *src, size_t nsrc,
               struct smtpc_result *res) __attribute__((warn_unused_result));

/* State for the probe and the logs (valid until smtpc_session_free()). */
const struct smtpc_caps *smtpc_caps(const struct smtpc_session *s);
/* NULL before a TLS handshake was attempted. */
const struct tls_info *smtpc_tls_info(const struct smtpc_session *s);
bool smtpc_tls_active(const struct smtpc_session *s);
/* "127.0.0.1:465" of the connected peer, "" before connect. */
const char *smtpc_peer(const struct smtpc_session *s);
/* The AUTH mechanism used by the last successful smtpc_auth(), or NULL. */
const char *smtpc_auth_used(const struct smtpc_session *s);
/* The server's decoded 334 challenge to the last failed OAuth2 AUTH
 * (Google's JSON error, RFC 7628's), or NULL.  Holds no secret. */
const char *smtpc_auth_challenge(const struct smtpc_session *s);
/* Whether the session can carry another message (connected, no error). */
bool smtpc_usable(const struct smtpc_session *s);

/* ---- Pure helpers, exposed for unit tests and fuzzing. ---- */

/* Parse one reply line "DDD-text" / "DDD text" / "DDD".  Sets *code and
 * *last (space or nothing after the code).  0 or -1 (malformed). */
int smtpc_parse_reply_line(const char *line, size_t len, int *code, bool *last);
/* The RFC 3463 enhanced status code at the start of text (after the
 * reply code and separator), matching the reply's class; copies it into
 * out (16 bytes) and returns 0, or -1 when there is none. */
int smtpc_parse_enhanced(int code, const char *text, char out[16]);
/* Parse a whole reply held in buf (CRLF lines) into r; *used gets the bytes
 * consumed.  1 complete, 0 more input needed, -1 malformed (errstr set). */
int smtpc_reply_parse(const char *buf, size_t len, struct smtpc_reply *r, size_t *used,
                      char *errstr, size_t errlen);
/* A short printable excerpt of bytes the far end sent where SMTP was
 * expected: at most SMTPC_EXCERPT_MAX of them, anything but printable
 * ASCII (and quotes, backslashes) as '.', "..." appended when cut. */
#define SMTPC_EXCERPT_MAX 24
void smtpc_excerpt(const char *in, size_t len, char *out, size_t outlen);
/* Capabilities from the text of an EHLO reply (struct smtpc_reply.text). */
void smtpc_caps_parse(const char *text, struct smtpc_caps *caps);

/* RFC 4954 §4: the longest AUTH command line, CRLF included; an initial
 * response that would make it longer is sent after a 334 instead. */
#define SMTPC_AUTH_LINE_MAX 12288
/* The SASL initial responses (not base64-encoded yet), in sodium_malloc'd
 * memory (*out, *alloc bytes; free with sodium_memzero + sodium_free).
 * XOAUTH2: "user=U^Aauth=Bearer T^A^A"; OAUTHBEARER (RFC 7628):
 * "n,a=U,^Ahost=H^Aport=P^Aauth=Bearer T^A^A" with ',' and '=' of U
 * escaped.  0, or -1 (out of memory, or a control character in U or H). */
int smtpc_sasl_xoauth2(const char *user, const unsigned char *token, size_t token_len,
                       unsigned char **out, size_t *len, size_t *alloc);
int smtpc_sasl_oauthbearer(const char *user, const char *host, int port, const unsigned char *token,
                           size_t token_len, unsigned char **out, size_t *len, size_t *alloc);
/* The base64 text of a 334 challenge (reply text, "334 " and all) decoded
 * into out as printable text (other bytes as '?').  0, or -1 when it is
 * not base64 or empty. */
int smtpc_sasl_challenge_decode(const char *reply_text, char *out, size_t outlen);

/* Streaming dot-stuffer: feed chunks, get wire bytes appended to out. */
struct smtpc_dotstuff {
    bool bol;                       /* at the beginning of a line */
    bool cr;                        /* the last byte fed was a CR */
};
void smtpc_dotstuff_init(struct smtpc_dotstuff *d);
struct dbuf;
void smtpc_dotstuff_feed(struct smtpc_dotstuff *d, const char *in, size_t len, struct dbuf *out);
/* The end: a CRLF when the content did not end with one, then ".\r\n". */
void smtpc_dotstuff_finish(struct smtpc_dotstuff *d, struct dbuf *out);

#endif
