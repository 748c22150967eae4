/*
 * tls_client.c - OpenSSL 3 client contexts and connections to upstreams.
 *
 * The handshake runs with SSL_VERIFY_NONE and a verify callback that
 * records every verification problem instead of aborting: the chain, name
 * and dates are then judged after the handshake and before a single
 * application byte is written.  That lets the probe show the certificate
 * it was given and tell "expired" from "wrong name" from "unknown CA",
 * which OpenSSL's own alert would blur.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tenantrelay/clock.h"
#include "tenantrelay/errstr.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/timefmt.h"
#include "tenantrelay/tls.h"

struct tls_client_ctx {
    SSL_CTX *ssl_ctx;
    bool verify;
};

struct tls_conn {
    SSL *ssl;
    int fd;
};

/* What the verify callback saw, attached to the SSL object. */
struct verify_seen {
    bool untrusted;
    bool expired;
    bool name;
    bool other;
    long first_code;
};

static int verify_ex_index = -1;
static pthread_once_t verify_once = PTHREAD_ONCE_INIT;

static void verify_index_init(void)
{
    verify_ex_index = SSL_get_ex_new_index(0, "tenantrelay verify", NULL, NULL, NULL);
}

const char *tls_status_name(enum tls_status st)
{
    static const char *const names[] = {
        "ok", "config", "handshake", "mode_mismatch", "untrusted", "name_mismatch",
        "expired", "cert_other", "timeout", "closed", "io",
    };

    if ((unsigned)st < sizeof(names) / sizeof(names[0]))
        return names[st];
    return "unknown";
}

static void set_err(struct tls_error *err, enum tls_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(struct tls_error *err, enum tls_status st, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return;
    err->status = st;
    va_start(ap, fmt);
    errstr_vset(err->errstr, sizeof(err->errstr), fmt, ap);
    va_end(ap);
}

/* The first OpenSSL error of this thread's queue, as text; clears the queue. */
static const char *ssl_errtext(char *buf, size_t len, unsigned long *first)
{
    unsigned long e = ERR_get_error();

    if (first)
        *first = e;
    if (e == 0)
        snprintf(buf, len, "no OpenSSL error recorded");
    else
        ERR_error_string_n(e, buf, len);
    ERR_clear_error();
    return buf;
}

bool tls_host_is_ip(const char *host)
{
    unsigned char tmp[16];

    return host && (inet_pton(AF_INET, host, tmp) == 1 || inet_pton(AF_INET6, host, tmp) == 1);
}

static int verify_cb(int ok, X509_STORE_CTX *xctx)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(xctx, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct verify_seen *seen = ssl ? SSL_get_ex_data(ssl, verify_ex_index) : NULL;
    int code;

    if (ok || seen == NULL)
        return 1;
    code = X509_STORE_CTX_get_error(xctx);
    if (seen->first_code == X509_V_OK)
        seen->first_code = code;
    switch (code) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED:
        seen->untrusted = true;
        break;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
        seen->expired = true;
        break;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        seen->name = true;
        break;
    default:
        seen->other = true;
        break;
    }
    /* Keep going: every problem is recorded and judged after the handshake. */
    return 1;
}

struct tls_client_ctx *tls_client_ctx_new(const char *ca_file, bool verify, struct tls_error *err)
{
    struct tls_client_ctx *ctx = NULL;
    SSL_CTX *sc;
    char ebuf[200];

    pthread_once(&verify_once, verify_index_init);
    ERR_clear_error();
    sc = SSL_CTX_new(TLS_client_method());
    if (sc == NULL) {
        set_err(err, TLS_ERR_CONFIG, "SSL_CTX_new: %s", ssl_errtext(ebuf, sizeof(ebuf), NULL));
        goto fail;
    }
    if (!SSL_CTX_set_min_proto_version(sc, TLS1_2_VERSION)) {
        set_err(err, TLS_ERR_CONFIG, "cannot require TLS 1.2: %s", ssl_errtext(ebuf, sizeof(ebuf), NULL));
        goto fail;
    }
    /* No renegotiation, no compression: neither is needed by SMTP. */
    SSL_CTX_set_options(sc, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(sc, SSL_MODE_RELEASE_BUFFERS);
    /* One read(2) per burst of records instead of two per record (header,
     * then body); tls_conn_pending() counts what this buffers. */
    SSL_CTX_set_read_ahead(sc, 1);
    if (ca_file && *ca_file) {
        if (!SSL_CTX_load_verify_locations(sc, ca_file, NULL)) {
            set_err(err, TLS_ERR_CONFIG, "cannot load ca_file %s: %s", ca_file,
                    ssl_errtext(ebuf, sizeof(ebuf), NULL));
            goto fail;
        }
    } else if (!SSL_CTX_set_default_verify_paths(sc)) {
        set_err(err, TLS_ERR_CONFIG, "cannot load the system trust store: %s",
                ssl_errtext(ebuf, sizeof(ebuf), NULL));
        goto fail;
    }
    SSL_CTX_set_verify(sc, SSL_VERIFY_NONE, verify_cb);
    ctx = mycalloc(1, sizeof(*ctx));
    ctx->ssl_ctx = sc;
    ctx->verify = verify;
    return ctx;

fail:
    SSL_CTX_free(sc);
    return NULL;
}

void tls_thread_end(void)
{
    OPENSSL_thread_stop();
}

void tls_client_ctx_free(struct tls_client_ctx *ctx)
{
    if (ctx == NULL)
        return;
    SSL_CTX_free(ctx->ssl_ctx);
    myfree(ctx);
}

/* Wait for events on fd until deadline (monotonic ms).  1 ready, 0 timeout, -1 error. */
static int wait_fd(int fd, short events, long deadline)
{
    struct pollfd p;
    long left;
    int n;

    for (;;) {
        left = deadline - clock_mono_ms();
        if (left < 0)
            left = 0;
        p.fd = fd;
        p.events = events;
        p.revents = 0;
        n = poll(&p, 1, (int)left);
        if (n > 0)
            return 1;
        if (n == 0)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

/* After SSL_* returned r <= 0: wait as OpenSSL asks.  1 retry, else -1 with err set. */
static int ssl_wait(struct tls_conn *c, int r, long deadline, const char *what, struct tls_error *err)
{
    int e = SSL_get_error(c->ssl, r);
    int w;
    char ebuf[200];

    switch (e) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        w = wait_fd(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
        if (w > 0)
            return 1;
        if (w == 0)
            set_err(err, TLS_ERR_TIMEOUT, "%s: timed out", what);
        else
            set_err(err, TLS_ERR_IO, "%s: poll: %s", what, strerror(errno));
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        set_err(err, TLS_ERR_CLOSED, "%s: the server closed the TLS session", what);
        return -1;
    case SSL_ERROR_SYSCALL:
        if (ERR_peek_error() == 0) {
            if (errno == 0 || errno == EPIPE || errno == ECONNRESET)
                set_err(err, TLS_ERR_CLOSED, "%s: the server closed the connection%s%s", what,
                        errno ? ": " : "", errno ? strerror(errno) : "");
            else
                set_err(err, TLS_ERR_IO, "%s: %s", what, strerror(errno));
            return -1;
        }
        /* FALLTHROUGH */
    default: {
        unsigned long first;
        const char *text = ssl_errtext(ebuf, sizeof(ebuf), &first);

        /* A TLS record layer reading SMTP text: the port speaks plaintext. */
        if (ERR_GET_LIB(first) == ERR_LIB_SSL
            && (ERR_GET_REASON(first) == SSL_R_WRONG_VERSION_NUMBER
                || ERR_GET_REASON(first) == SSL_R_PACKET_LENGTH_TOO_LONG
                || ERR_GET_REASON(first) == SSL_R_HTTP_REQUEST))
            set_err(err, TLS_ERR_MODE_MISMATCH, "%s: the server did not answer in TLS (%s)", what, text);
        else if (ERR_GET_LIB(first) == ERR_LIB_SSL
                 && ERR_GET_REASON(first) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
            set_err(err, TLS_ERR_CLOSED, "%s: the server closed the connection", what);
        else
            set_err(err, TLS_ERR_HANDSHAKE, "%s: %s", what, text);
        return -1;
    }
    }
}

static void asn1_time_text(const ASN1_TIME *t, char *out, size_t len)
{
    struct tm tm;

    out[0] = 0;
    if (t && ASN1_TIME_to_tm(t, &tm) == 1)
        timefmt_rfc3339_tm(&tm, out, len);
}

static void name_text(const X509_NAME *name, char *out, size_t len)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p;
    long n;

    out[0] = 0;
    if (b == NULL)
        return;
    if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        n = BIO_get_mem_data(b, &p);
        if (n > 0) {
            if ((size_t)n >= len)
                n = (long)len - 1;
            memcpy(out, p, (size_t)n);
            out[n] = 0;
        }
    }
    BIO_free(b);
}

static void fill_info(SSL *ssl, const struct verify_seen *seen, bool verify, struct tls_info *info)
{
    X509 *peer;
    const SSL_CIPHER *cipher;

    memset(info, 0, sizeof(*info));
    snprintf(info->version, sizeof(info->version), "%s", SSL_get_version(ssl));
    cipher = SSL_get_current_cipher(ssl);
    if (cipher) {
        snprintf(info->cipher, sizeof(info->cipher), "%s", SSL_CIPHER_get_name(cipher));
        info->cipher_bits = SSL_CIPHER_get_bits(cipher, NULL);
    }
    peer = SSL_get1_peer_certificate(ssl);
    if (peer) {
        info->have_peer_cert = true;
        name_text(X509_get_subject_name(peer), info->subject, sizeof(info->subject));
        name_text(X509_get_issuer_name(peer), info->issuer, sizeof(info->issuer));
        asn1_time_text(X509_get0_notBefore(peer), info->not_before, sizeof(info->not_before));
        asn1_time_text(X509_get0_notAfter(peer), info->not_after, sizeof(info->not_after));
        X509_free(peer);
    }
    info->verify_enabled = verify;
    info->verify_code = peer ? seen->first_code : X509_V_ERR_APPLICATION_VERIFICATION;
    snprintf(info->verify_error, sizeof(info->verify_error), "%s",
             peer ? X509_verify_cert_error_string(info->verify_code) : "no peer certificate");
    info->verified = peer != NULL && !seen->untrusted && !seen->expired && !seen->name && !seen->other
        && SSL_get_verify_result(ssl) == X509_V_OK;
}

struct tls_conn *tls_client_start(struct tls_client_ctx *ctx, int fd, const char *host,
                                  int timeout_ms, struct tls_info *info, struct tls_error *err)
{
    struct tls_conn *c = mycalloc(1, sizeof(*c));
    struct verify_seen seen = { false, false, false, false, X509_V_OK };
    struct tls_info local_info;
    long deadline = clock_mono_ms() + timeout_ms;
    char ebuf[200];
    int flags, r;

    if (info == NULL)
        info = &local_info;
    memset(info, 0, sizeof(*info));
    c->fd = fd;
    flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        set_err(err, TLS_ERR_IO, "fcntl: %s", strerror(errno));
        goto fail;
    }
    ERR_clear_error();
    c->ssl = SSL_new(ctx->ssl_ctx);
    if (c->ssl == NULL || !SSL_set_fd(c->ssl, fd)) {
        set_err(err, TLS_ERR_CONFIG, "SSL_new: %s", ssl_errtext(ebuf, sizeof(ebuf), NULL));
        goto fail;
    }
    SSL_set_ex_data(c->ssl, verify_ex_index, &seen);
    if (tls_host_is_ip(host)) {
        /* RFC 6066: no SNI for address literals; match an IP SAN. */
        if (!X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), host)) {
            set_err(err, TLS_ERR_CONFIG, "bad IP address %s", host);
            goto fail;
        }
    } else {
        SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (!SSL_set_tlsext_host_name(c->ssl, host) || !SSL_set1_host(c->ssl, host)) {
            set_err(err, TLS_ERR_CONFIG, "cannot set the TLS host name %s: %s", host,
                    ssl_errtext(ebuf, sizeof(ebuf), NULL));
            goto fail;
        }
    }
    for (;;) {
        errno = 0;
        r = SSL_connect(c->ssl);
        if (r == 1)
            break;
        if (ssl_wait(c, r, deadline, "TLS handshake", err) < 0)
            goto fail;
    }
    fill_info(c->ssl, &seen, ctx->verify, info);
    SSL_set_ex_data(c->ssl, verify_ex_index, NULL);
    if (ctx->verify && !info->verified) {
        if (!info->have_peer_cert)
            set_err(err, TLS_ERR_CERT_OTHER, "the server sent no certificate");
        else if (seen.untrusted)
            set_err(err, TLS_ERR_UNTRUSTED, "certificate not trusted (%s): subject %s, issuer %s",
                    info->verify_error, info->subject, info->issuer);
        else if (seen.expired)
            set_err(err, TLS_ERR_EXPIRED, "certificate expired or not yet valid: valid %s to %s",
                    info->not_before, info->not_after);
        else if (seen.name)
            set_err(err, TLS_ERR_NAME_MISMATCH, "certificate does not match %s: subject %s",
                    host, info->subject);
        else
            set_err(err, TLS_ERR_CERT_OTHER, "certificate verification failed: %s", info->verify_error);
        /* Nothing more is said on this connection: no close_notify either. */
        goto fail;
    }
    return c;

fail:
    if (c->ssl)
        SSL_set_ex_data(c->ssl, verify_ex_index, NULL);
    SSL_free(c->ssl);
    myfree(c);
    ERR_clear_error();
    return NULL;
}

ssize_t tls_conn_read(struct tls_conn *c, void *buf, size_t len, int timeout_ms,
                      struct tls_error *err)
{
    long deadline = clock_mono_ms() + timeout_ms;
    size_t got = 0;
    int r;

    for (;;) {
        errno = 0;
        ERR_clear_error();
        r = SSL_read_ex(c->ssl, buf, len, &got);
        if (r == 1)
            return (ssize_t)got;
        if (ssl_wait(c, 0, deadline, "TLS read", err) < 0)
            return err && err->status == TLS_ERR_CLOSED ? 0 : -1;
    }
}

int tls_conn_write(struct tls_conn *c, const void *buf, size_t len, int timeout_ms,
                   struct tls_error *err)
{
    const char *p = buf;
    size_t done;
    int r;

    while (len > 0) {
        long deadline = clock_mono_ms() + timeout_ms;

        for (;;) {
            errno = 0;
            ERR_clear_error();
            r = SSL_write_ex(c->ssl, p, len, &done);
            if (r == 1)
                break;
            if (ssl_wait(c, 0, deadline, "TLS write", err) < 0)
                return -1;
        }
        p += done;
        len -= done;
    }
    return 0;
}

size_t tls_conn_pending(const struct tls_conn *c)
{
    int n = SSL_pending(c->ssl);

    /* With read-ahead, bytes of records not yet processed count too. */
    if (n <= 0 && SSL_has_pending(c->ssl))
        return 1;
    return n > 0 ? (size_t)n : 0;
}

void tls_conn_free(struct tls_conn *c, bool polite)
{
    if (c == NULL)
        return;
    if (polite) {
        /* One attempt, non-blocking: a close_notify is a courtesy only. */
        (void)SSL_shutdown(c->ssl);
    }
    SSL_free(c->ssl);
    ERR_clear_error();
    myfree(c);
}
