/*
 * tls_server.c - the listener's OpenSSL server context for STARTTLS (tls.h).
 * The handshake itself runs in smtpd_io.c, which owns the socket.
 */
#include "config.h"

#include <stdio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tenantrelay/tls.h"

static void set_error(char *err, size_t errlen, const char *what, const char *file)
{
    char buf[256];
    unsigned long e = ERR_get_error();

    ERR_error_string_n(e, buf, sizeof(buf));
    snprintf(err, errlen, "%s %s: %s", what, file ? file : "", e ? buf : "unknown error");
    ERR_clear_error();
}

SSL_CTX *tls_server_context(const char *cert, const char *key, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    if (ctx == NULL) {
        set_error(err, errlen, "cannot create a TLS context", NULL);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* No renegotiation, no compression, no session tickets across restarts. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION
                        | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        set_error(err, errlen, "cannot load tls_cert", cert);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        set_error(err, errlen, "cannot load tls_key", key);
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        set_error(err, errlen, "tls_key does not match tls_cert", key);
        goto fail;
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}
