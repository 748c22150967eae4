/*
 * smtpd_tls.h - the listener's side of STARTTLS: one OpenSSL server context
 * per listen entry that has tls_cert and tls_key (TLS 1.2 at least).
 * The caller owns the returned context (SSL_CTX_free).
 */
#ifndef TENANTRELAY_SMTPD_TLS_H
#define TENANTRELAY_SMTPD_TLS_H

#include <stddef.h>
#include <openssl/ssl.h>

/* A server context for cert (PEM chain) and key.  NULL with err set. */
SSL_CTX *smtpd_tls_context(const char *cert, const char *key, char *err, size_t errlen);

#endif
