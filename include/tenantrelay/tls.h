/*
 * tls.h - OpenSSL 3 for both directions of SMTP.
 *
 * Client side (tls_client.c, tls_cache.c): contexts and connections to
 * upstreams, with the verification a route asks for, and a cache of
 * contexts per trust setting.  Server side (tls_server.c): only the context
 * a listen entry's STARTTLS needs; the handshake and the record I/O run in
 * the listener, which owns the socket and its deadlines.
 *
 * A tls_client_ctx holds the policy of one route (trust store or ca_file,
 * verification on or off, TLS 1.2 minimum); it may be shared by threads.
 * A tls_conn is one TLS session over a connected, non-blocking socket that
 * the caller owns (tls_conn_free() never closes the fd).  All I/O is
 * blocking from the caller's view, bounded by a timeout in milliseconds.
 *
 * Verification is done after the handshake, before any application byte is
 * written: the handshake itself never fails on a certificate problem, so the
 * peer's certificate can be reported (subject, issuer, expiry) and the
 * failure classified precisely; tls_client_start() then refuses to hand out
 * the connection.  The host name is checked with X509_VERIFY_PARAM host or
 * IP checks; SNI is sent for host names only, never for IP literals.
 *
 * Errors: functions return 0/-1 (or NULL) and fill a caller-provided
 * tls_error; errstr is left untouched on success (msmtp's convention).
 * Thread safety: each tls_conn belongs to one thread at a time; the
 * OpenSSL error queue is per thread.
 */
#ifndef TENANTRELAY_TLS_H
#define TENANTRELAY_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <openssl/types.h>

/* Failure classes the SMTP client maps onto its own error classes. */
enum tls_status {
    TLS_OK = 0,
    TLS_ERR_CONFIG,             /* context could not be built (ca_file unreadable, ...) */
    TLS_ERR_HANDSHAKE,          /* protocol/cipher/alert failure during the handshake */
    TLS_ERR_MODE_MISMATCH,      /* the peer answered in plaintext (not a TLS port) */
    TLS_ERR_UNTRUSTED,          /* chain does not lead to a trusted root (incl. self-signed) */
    TLS_ERR_NAME_MISMATCH,      /* certificate valid but not for this host */
    TLS_ERR_EXPIRED,            /* expired or not yet valid */
    TLS_ERR_CERT_OTHER,         /* any other verification failure (revoked, bad purpose, ...) */
    TLS_ERR_TIMEOUT,            /* the peer did not progress within the timeout */
    TLS_ERR_CLOSED,             /* the peer closed the connection (EOF or reset) */
    TLS_ERR_IO,                 /* other socket or TLS record error */
};

/* Printable names: "ok", "config", "handshake", "mode_mismatch", "untrusted",
 * "name_mismatch", "expired", "cert_other", "timeout", "closed", "io". */
const char *tls_status_name(enum tls_status st);

#define TLS_ERRSTR_MAX 256

struct tls_error {
    enum tls_status status;
    char errstr[TLS_ERRSTR_MAX];   /* human-readable detail; never holds a secret */
};

/* What a probe or a delivery log reports about a session.  Filled as far as
 * known, even when verification failed (then verified is false). */
struct tls_info {
    char version[16];           /* "TLSv1.3" */
    char cipher[64];            /* "TLS_AES_256_GCM_SHA384" */
    int cipher_bits;
    char subject[256];          /* RFC 2253 one-line form of the peer certificate's subject */
    char issuer[256];
    char not_before[32];        /* RFC 3339 UTC, "" when unknown */
    char not_after[32];
    bool have_peer_cert;
    bool verify_enabled;        /* false when the route sets tls_verify = false */
    bool verified;              /* chain, name and dates all good (or verification off) */
    long verify_code;           /* X509_V_OK or X509_V_ERR_* */
    char verify_error[128];     /* X509_verify_cert_error_string() text */
};

struct tls_client_ctx;
struct tls_conn;

/* A client context: TLS >= 1.2, the system trust store (or only ca_file
 * when given), peer verification unless verify is false.  NULL on failure
 * with err filled.  Free with tls_client_ctx_free(); shareable by threads. */
struct tls_client_ctx *tls_client_ctx_new(const char *ca_file, bool verify, struct tls_error *err);
void tls_client_ctx_free(struct tls_client_ctx *ctx);

/* A cache of client contexts, one per (ca_file, verify) pair (tls_cache.c):
 * an empty cache is a NULL pointer.  tls_cache_get() returns the cached
 * context, building it on first use, or NULL when it cannot be built (not
 * cached: the session then builds its own and reports the error).  The
 * contexts live until tls_cache_free(); the caller serialises access. */
struct tls_cache;
struct tls_client_ctx *tls_cache_get(struct tls_cache **cache, const char *ca_file, bool verify);
void tls_cache_free(struct tls_cache *cache);

/* Free OpenSSL's state of the calling thread (its error queue, random
 * generators) now, for a detached thread about to end: left to the thread's
 * own exit, it may come after the process's, and LeakSanitizer reports it. */
void tls_thread_end(void);

/* Handshake over the connected socket fd (made non-blocking here), for the
 * peer named host (a DNS name or an IP literal, as the route gives it).
 * info (optional) is filled even on verification failure.  Returns the
 * connection, or NULL with err set (status UNTRUSTED, NAME_MISMATCH,
 * EXPIRED, CERT_OTHER, HANDSHAKE, MODE_MISMATCH, TIMEOUT, CLOSED, IO).
 * The caller frees the connection with tls_conn_free() and closes fd. */
struct tls_conn *tls_client_start(struct tls_client_ctx *ctx, int fd, const char *host,
                                  int timeout_ms, struct tls_info *info, struct tls_error *err);

/* Read up to len bytes, waiting up to timeout_ms for the first one.
 * Returns the count (> 0), 0 on end of stream (clean or not: err->status
 * CLOSED), or -1 with err set. */
ssize_t tls_conn_read(struct tls_conn *c, void *buf, size_t len, int timeout_ms,
                      struct tls_error *err);
/* Write all len bytes, each wait bounded by timeout_ms.  0 or -1 with err.
 * The plaintext is not kept by us after return; OpenSSL encrypts it in its
 * own record buffer. */
int tls_conn_write(struct tls_conn *c, const void *buf, size_t len, int timeout_ms,
                   struct tls_error *err);
/* Input waiting inside OpenSSL: decrypted bytes, or (read-ahead) at least
 * 1 when records are buffered but not yet processed; 0 when none. */
size_t tls_conn_pending(const struct tls_conn *c);
/* Send close_notify when polite (best effort, short timeout) and free. */
void tls_conn_free(struct tls_conn *c, bool polite);

/* Whether text is an IPv4 or IPv6 literal (no SNI, IP-address check). */
bool tls_host_is_ip(const char *host);

/* ---- server side ---- */

/* The STARTTLS context of one listen entry: cert (PEM chain) and key, TLS
 * 1.2 at least, no renegotiation or compression.  The caller owns it
 * (SSL_CTX_free).  NULL with the reason in err. */
SSL_CTX *tls_server_context(const char *cert, const char *key, char *err, size_t errlen);

#endif
