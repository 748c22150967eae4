/*
 * oauth.h - OAuth2 access tokens for XOAUTH2 / OAUTHBEARER routes
 * (SPEC §3): obtained by tenantrelay itself over HTTPS (libcurl), cached
 * for the whole daemon, refreshed before they expire.
 *
 * Grants: Microsoft client credentials (client secret, or a certificate
 * through an RS256/PS256 JWT client assertion with x5t#S256), Google's
 * service account (RS256 JWT-bearer grant, sub = the mailbox), and a
 * generic token URL with client credentials.
 *
 * Secrets: the client secret, the private key and the service-account key
 * are opened from the vault only for the request that needs them; the
 * request body, the assertion and every access token live only in
 * sodium_malloc'd memory (locked, MADV_DONTDUMP) and are wiped when freed.
 * No secret or token is ever put in an error, a log line or an event.
 * What is out of our hands: libcurl's and OpenSSL's own receive buffers
 * (ordinary heap) hold the answer briefly; the daemon disables core dumps
 * (daemon_disable_core_dumps), and jansson's buffers are wiped when freed
 * (oauth_global_init sets wiping allocation functions).
 *
 * Threads: oauth_global_init() once, before any thread (curl_global_init
 * is not thread-safe); every other function may be called from any thread.
 * Each thread gets its own curl handle (kept for reuse, freed at thread exit).
 */
#ifndef TENANTRELAY_OAUTH_H
#define TENANTRELAY_OAUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "tenantrelay/route.h"
#include "tenantrelay/route_policy.h"
#include "tenantrelay/vault.h"

#define OAUTH_DETAIL_MAX 1024
#define OAUTH_HINT_MAX 1024
#define OAUTH_TIMEOUT_DEFAULT_MS 30000
#define OAUTH_RESPONSE_MAX (256 * 1024)     /* longest token response read */

/* Once per process, before threads.  0 or -1. */
int oauth_global_init(void);
/* At exit, after every thread that used it has stopped: the curl handles
 * and the cached tokens (wiped) are freed. */
void oauth_global_cleanup(void);

/* What went wrong getting a token.  Never holds a secret. */
struct oauth_error {
    const char *code;           /* static probe code: "oauth_invalid_client", ... */
    bool breaker;               /* counts toward the route's circuit breaker */
    int http_status;            /* 0: no HTTP answer */
    long retry_after;           /* seconds the endpoint asked us to wait; 0 none */
    char detail[OAUTH_DETAIL_MAX];      /* the provider's own words (error, AADSTS text) */
    char hint[OAUTH_HINT_MAX];  /* the admin step that fixes it */
};

/* An access token: data is sodium_malloc'd (alloc bytes), NUL-terminated. */
struct oauth_token {
    unsigned char *data;
    size_t len, alloc;
    long lifetime;              /* expires_in as the endpoint said (seconds) */
    bool from_cache;            /* obtained earlier (a 535 may mean it was revoked) */
};
void oauth_token_free(struct oauth_token *t);

/* Who asks for a token.  The secret the provider needs is either handed over
 * open (secret, owned by the caller) or opened from vault for seal_tenant. */
struct oauth_request {
    const struct route_oauth *oauth;
    const char *username;       /* the mailbox (Google: the JWT's sub) */
    const char *ca_file;        /* the route's CA file: trusted for the token URL too */
    const struct vault *vault;
    const char *seal_tenant;
    const unsigned char *secret;
    size_t secret_len;
    int timeout_ms;             /* 0: OAUTH_TIMEOUT_DEFAULT_MS */
    const struct route_policy *policy;  /* tenant routes: every address of the token
                                 * URL checked before connecting (route_policy.h;
                                 * addresses only, HTTPS has its own port); NULL: exempt */
};

/* One token request, no cache (the probe).  0 with *tok filled, or -1 with
 * *e filled. */
int oauth_fetch(const struct oauth_request *req, struct oauth_token *tok, struct oauth_error *e)
    __attribute__((warn_unused_result));

/* ---- The daemon-wide cache (oauth_cache.c). ---- */

/* A token for req: from the cache while fresh, else fetched (one request in
 * flight per key; the others wait for it).  Refreshed at 75-80% of its
 * lifetime; a failed refresh keeps the old token while it lasts.  After a
 * failure, the error is remembered (Retry-After, or a short back-off) and
 * returned without a new request until then.  0 or -1 with *e. */
int oauth_cache_get(const struct oauth_request *req, struct oauth_token *tok, struct oauth_error *e)
    __attribute__((warn_unused_result));
/* The server refused tok (a 535 after a cached token): drop it, if it is
 * still the cached one, so the next get fetches a new one. */
void oauth_cache_invalidate(const struct oauth_request *req, const struct oauth_token *tok);
/* Token requests sent since start (for logs, metrics and tests). */
unsigned long oauth_cache_fetches(void);
/* Forget every token (tests, shutdown). */
void oauth_cache_clear(void);

/* ---- Pieces, exposed for unit tests and fuzzing. ---- */

/* The vault field each secret of an oauth group is sealed under. */
#define OAUTH_FIELD_CLIENT_SECRET "oauth_client_secret"
#define OAUTH_FIELD_CLIENT_KEY "oauth_client_key"
#define OAUTH_FIELD_SERVICE_ACCOUNT "oauth_service_account"
/* Which field and sealed token the provider's secret is (NULL: none). */
const char *oauth_secret_field(const struct route_oauth *o, const char **token);

/* Parse a token endpoint's answer (HTTP status and body).  0 with *tok (the
 * access token in sodium memory, its lifetime), or -1 with *e classified.
 * The body is not modified; a token in it is never copied elsewhere. */
int oauth_response_parse(int http_status, const char *body, size_t len, struct oauth_token *tok,
                         struct oauth_error *e);

/* Classify an error answer: the OAuth2 error, its description, the HTTP
 * status (oauth_errors.c).  Fills e->code, e->breaker, e->hint, e->detail. */
void oauth_error_classify(struct oauth_error *e, int http_status, const char *error,
                          const char *description);
/* A local failure (no HTTP answer): "oauth_token_failed" with detail. */
void oauth_error_local(struct oauth_error *e, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The SMTP reply to an OAuth2 AUTH (or a later command) as a probe code
 * and hint (535 5.7.3, 5.7.139, 430 4.2.0 STOREDRV, 5.2.252 SendAsDenied),
 * or NULL when nothing OAuth-specific applies. */
const char *oauth_smtp_classify(int code, const char *enhanced, const char *text, bool after_token,
                                char *hint, size_t len);

/* base64url without padding of len bytes into out (size >= 4*len/3 + 4). */
void oauth_b64url(const unsigned char *in, size_t len, char *out, size_t outlen);
/* A signed JWT "header.claims.signature" (RS256 or PS256) with the PEM key
 * (pem, len bytes, may be a secret).  *jwt is sodium_malloc'd (free with
 * oauth_secret_free(*jwt, *alloc)).  0 or -1 with err. */
int oauth_jwt_sign(const char *alg, const char *header_json, const char *claims_json,
                   const unsigned char *pem, size_t pem_len, char **jwt, size_t *alloc,
                   char *err, size_t errlen) __attribute__((warn_unused_result));
/* x5t#S256 of the PEM certificate in file: base64url(SHA-256(DER)); the
 * certificate's notAfter goes to *not_after when not NULL.  0 or -1. */
int oauth_cert_thumbprint(const char *file, char out[64], long long *not_after, char *err,
                          size_t errlen);
void oauth_secret_free(void *p, size_t alloc);

/* One HTTPS POST of an application/x-www-form-urlencoded body (oauth_http.c).
 * https only, verified TLS (system store, plus ca_file), bounded time,
 * never verbose.  The answer body goes to sodium memory. */
struct oauth_http_reply {
    long status;
    long retry_after;           /* seconds; 0 when absent */
    char *body;                 /* sodium_malloc'd, NUL-terminated */
    size_t len, alloc;
};
/* policy: NULL, or the tenant route policy every address is checked
 * against before connecting; a refusal fails with err "route_policy: ...". */
int oauth_http_post(const char *url, const char *ca_file, const struct route_policy *policy,
                    const char *body, size_t body_len, int timeout_ms, struct oauth_http_reply *reply,
                    char *err, size_t errlen) __attribute__((warn_unused_result));
void oauth_http_reply_free(struct oauth_http_reply *reply);

#endif
