/*
 * route.h - where and how mail leaves: the default route and each tenant's.
 *
 * A route is read from a libconfig group by route_parse() (route_parse.h:
 * the config's default_route, a tenant record), by the store's fast reader,
 * or built by tenantrelayctl and the HTTP API; route_check() holds the
 * rules every one of them applies.  password holds the sealed token (see
 * vault.h), never a plaintext secret; it is opened only for the AUTH step.
 * This header needs no libconfig.
 */
#ifndef TENANTRELAY_ROUTE_H
#define TENANTRELAY_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

enum route_tls {
    ROUTE_TLS_IMPLICIT,         /* SMTPS: TLS from the first byte */
    ROUTE_TLS_STARTTLS,         /* mandatory STARTTLS, never a plaintext fallback */
    ROUTE_TLS_NONE,             /* only with insecure_plaintext = true */
};

/* How the route logs in (SPEC §3): a password (PLAIN/LOGIN) or an OAuth2
 * access token obtained by tenantrelay itself (XOAUTH2/OAUTHBEARER). */
enum route_auth {
    ROUTE_AUTH_PASSWORD,
    ROUTE_AUTH_XOAUTH2,
};

enum route_oauth_provider {
    ROUTE_OAUTH_MICROSOFT,      /* client credentials: secret or certificate assertion */
    ROUTE_OAUTH_GOOGLE,         /* service account, jwt-bearer with sub = the mailbox */
    ROUTE_OAUTH_GENERIC,        /* any token_url, client credentials with a secret */
};

/* The oauth group of a route (§8).  The three secrets are sealed tokens
 * (fields oauth_client_secret, oauth_client_key, oauth_service_account);
 * every string is owned, NULL when absent. */
struct route_oauth {
    enum route_oauth_provider provider;
    char *directory;            /* microsoft: the directory (tenant) id or domain */
    char *token_url;            /* as configured; route_oauth_token_url() for the effective one */
    char *client_id;
    char *client_secret;        /* sealed */
    char *client_cert_file;     /* PEM certificate of a certificate assertion */
    char *client_key;           /* sealed PEM private key */
    char *service_account;      /* sealed Google service-account JSON key */
    char *scope;                /* NULL: the provider's default */
    char *assertion_alg;        /* certificate assertion: "PS256" (NULL, the default) or "RS256" */
};

struct route {
    char *host;
    int port;
    enum route_tls tls;
    char *username;             /* NULL: no AUTH */
    char *password;             /* sealed token; NULL when no username */
    char *sender;               /* the validated sender address */
    char *ca_file;              /* NULL: the system trust store */
    bool tls_verify;
    bool rewrite_sender;
    bool rewrite_from;
    int max_connections;
    int rate_limit;             /* messages per minute, 0 = unlimited */
    char *bind_address;         /* NULL: any */
    bool insecure_plaintext;
    enum route_auth auth;       /* password (default) or xoauth2 */
    struct route_oauth oauth;   /* meaningful when auth is xoauth2 */
};

/* Keys a route group may hold (NULL-terminated). */
extern const char *const route_keys[];
/* Names of route_tls values, indexable by the enum. */
extern const char *const route_tls_names[];

/* "password", "xoauth2"; "microsoft", "google", "generic" (indexable by the enums). */
extern const char *const route_auth_names[];
extern const char *const route_oauth_provider_names[];
/* Keys an oauth group may hold (NULL-terminated). */
extern const char *const route_oauth_keys[];

/* The default TLS mode for a port: 465 implicit, else starttls. */
enum route_tls route_tls_for_port(int port);
/* Set the defaults (port 25, tls by port, verify on, rewrites on, 4 connections). */
void route_init(struct route *r);
/* Normalise a route just read: the empty username, password and
 * bind_address mean "not set" (NULL); tls < 0 (the key absent) takes the
 * mode the port implies, else r->tls = tls. */
void route_normalize(struct route *r, int tls);

/* What route_check() refuses, for each caller to word its own way (the
 * config loader with FILE:LINE, tenantrelayctl with its flags). */
enum route_problem_class {
    ROUTE_MISSING = 1,          /* a required key is absent */
    ROUTE_INVALID,              /* a key holds a value the rules refuse */
};
enum route_rule {
    ROUTE_RULE_REQUIRED = 1,    /* host or sender absent (or sender "") */
    ROUTE_RULE_EMPTY,           /* host or ca_file "" */
    ROUTE_RULE_RANGE,           /* port, max_connections, rate_limit out of range */
    ROUTE_RULE_HOST_NAME,       /* host neither a host name nor an IPv6 literal */
    ROUTE_RULE_SENDER_ADDRESS,  /* sender not a valid address */
    ROUTE_RULE_OAUTH,           /* key "oauth": route_oauth_validate() refused (reason is its message) */
    ROUTE_RULE_LOGIN_PAIR,      /* password auth: username without password (key "password",
                                 * missing) or password without username (key "username", missing) */
    ROUTE_RULE_TLS_NONE_INSECURE,   /* key "tls": none without insecure_plaintext */
    ROUTE_RULE_TLS_NONE_LOGIN,  /* key "tls": none with a username (AUTH in plaintext) */
    ROUTE_RULE_USERNAME_CONTROL,    /* a control character in username */
};
struct route_problem {
    const char *key;            /* the route key at fault: "host", "sender", "tls", ... (route_keys) */
    enum route_problem_class cls;
    enum route_rule rule;
    char reason[512];           /* without the key: "\"x\" is not a host name" */
    char msg[600];              /* the config's wording: "key 'host': \"x\" is not a host name" */
};

/* Every rule of a valid route, in one place: host and sender present (when
 * require_host) and valid, ca_file not empty, the numbers in range, the
 * auth/oauth combination (route_oauth_validate()), username and password
 * together for password auth, tls none only with insecure_plaintext and no
 * login, no control character in username.  0, or -1 with the first
 * problem in p (p may be NULL). */
int route_check(const struct route *r, bool require_host, struct route_problem *p)
    __attribute__((warn_unused_result));

/* The checks of an xoauth2 route's settings (each provider has what its
 * grant needs; secrets sealed; username, no password).  0, or -1 with a
 * message in err.  0 for a password route. */
int route_oauth_validate(const struct route *r, char *err, size_t errlen);
/* The token URL requests go to: token_url, else the provider's (Microsoft's
 * from the directory, Google's).  A static or o-owned string. */
const char *route_oauth_token_url(const struct route_oauth *o, char *buf, size_t len);
/* The scope requested: scope, else the provider's default (may be ""). */
const char *route_oauth_scope(const struct route_oauth *o);
/* Whether two oauth groups are the same settings. */
bool route_oauth_equal(const struct route_oauth *a, const struct route_oauth *b);
/* Whether two routes' OAuth2 settings differ as a connectivity test sees
 * them (auth, every setting, and which secrets are present): a tenant
 * update whose probe ran on other settings is a race. */
bool route_oauth_settings_differ(const struct route *a, const struct route *b);
void route_oauth_copy(struct route_oauth *dst, const struct route_oauth *src);
void route_oauth_free(struct route_oauth *o);

/* Whether two routes would deliver the same way (every setting, the
 * credentials and the OAuth2 group included). */
bool route_equal(const struct route *a, const struct route *b);
/* Deep copy. */
void route_copy(struct route *dst, const struct route *src);
void route_free(struct route *r);

#endif
