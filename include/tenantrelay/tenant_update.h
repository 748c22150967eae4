/*
 * tenant_update.h - `tenant set` as a library: merge the requested changes
 * over the stored record, check it, run the connectivity probe WITHOUT the
 * store's lock, then save under the lock only if what would be saved is
 * still what was probed.  tenantrelayctl (tenant set) and tenantrelayd's
 * HTTP API (PUT /v1/tenants/{id}) both call tenant_update_apply(), so the
 * two behave alike: same checks, same probe, same race rule (75), same
 * change log line (with the caller's user name).
 *
 * Store calls (lock, load for update, rewrite, change log) are all in
 * tenant_update.c: the one place to switch when another store backend
 * arrives.
 *
 * Secrets: the request's secret is the caller's (sodium_malloc memory); it
 * is sealed with the caller's keyring and never copied in clear.
 */
#ifndef TENANTRELAY_TENANT_UPDATE_H
#define TENANTRELAY_TENANT_UPDATE_H

#include <stdbool.h>
#include <stddef.h>

#include "tenantrelay/conf.h"
#include "tenantrelay/dbuf.h"
#include "tenantrelay/probe.h"
#include "tenantrelay/tenant.h"
#include "tenantrelay/vault.h"

/* What to change; NULL / -1: not given ("" clears an optional string). */
struct tenant_update {
    const char *id;
    const char *host, *username, *sender, *ca_file;
    long port;                  /* -1, else 1..65535 */
    int tls;                    /* -1, else enum route_tls */
    bool insecure_plaintext;    /* set it (never cleared here) */
    int tls_verify;             /* -1, 0, 1 */
    long max_connections, rate_limit;   /* -1: not given */
    char **domains, **addresses;        /* NULL-terminated when given; lower-cased in place */
    const unsigned char *secret;        /* the password in clear, or NULL */
    size_t secret_len;
    const char *to;             /* probe recipient; NULL: the sender */
    bool no_test;
    const char *user;           /* change log user; NULL: the login user */
    /* Route fields only the caller merges (tenantrelayctl's OAuth2
     * flags, the HTTP API's oauth object): called after the common merge
     * of every record built; 0, or an exit status with why in err (or
     * printed by the callback, err left empty).  extra_differs: whether
     * such fields differ between the probed record and the one to save
     * (a race).  Both may be NULL. */
    int (*merge_extra)(const char *id, struct route *r, struct dbuf *changed, char *err, size_t errlen,
                       void *arg);
    bool (*extra_differs)(const struct route *probed, const struct route *now);
    void *extra_arg;
    /* Each probe step as it is recorded (probe_options.on_step); may be NULL. */
    void (*on_step)(const struct probe_report *rep, enum probe_step_id id, void *arg);
    void *on_step_arg;
};

/* A change of a route's OAuth2 settings (SPEC §8), from tenantrelayctl's
 * --auth/--oauth-* flags or the HTTP API's "auth" and "oauth" fields, so
 * that both merge them by one rule (tenant_update_oauth.c).  -1 / NULL:
 * not given; "" clears an optional string. */
struct tenant_update_oauth {
    int auth;                   /* -1, else enum route_auth */
    int provider;               /* -1, else enum route_oauth_provider */
    const char *directory, *token_url, *client_id, *client_cert_file, *scope, *assertion_alg;
};

/* Fill o with "nothing given". */
void tenant_update_oauth_init(struct tenant_update_oauth *o);
/* Merge o over r, appending the name of each changed field to changed.
 * Switching to password auth drops the oauth group; switching to xoauth2
 * drops the password (the token replaces it). */
void tenant_update_oauth_merge(struct route *r, const struct tenant_update_oauth *o, struct dbuf *changed);
/* Seal secret (open, len bytes) for tenant id with v under its vault field
 * (OAUTH_FIELD_*) into r; a secret of the other kind (client secret vs
 * certificate key and file) is dropped, the field named in changed.  0, or
 * -1 with why in err (nothing changed). */
int tenant_update_oauth_seal(struct route *r, const struct vault *v, const char *id, const char *field,
                             const unsigned char *secret, size_t len, struct dbuf *changed, char *err,
                             size_t errlen);

/* The outcome.  status uses tenantrelayctl's exit codes: 0 saved or
 * nothing changed, 1 probe failed (nothing saved), 64 usage, 65 bad data,
 * 73/74/77 store errors, 75 raced with another change (nothing saved),
 * 78 keyring/config. */
struct tenant_update_result {
    int status;
    char error[768];            /* why, when status != 0 */
    bool probe_ran;
    struct probe_report rep;    /* valid when probe_ran; free with tenant_update_result_free */
    bool store_error;           /* the store could not be read or written (not the request's fault) */
    bool existed;               /* the tenant was in the store */
    bool changed;               /* something was saved */
    char fields[512];           /* names of the fields changed */
};

/* Fill u with "nothing given". */
void tenant_update_init(struct tenant_update *u);

/* Run the update.  vault: the keyring to seal the secret with, or NULL to
 * load the configured one afresh for each seal (tenantrelayctl).  probe_cb (may be NULL) is called once with the
 * report right after the probe ran (before the save).  Returns res->status. */
int tenant_update_apply(const struct conf *conf, const struct vault *vault, struct tenant_update *u,
                        void (*probe_cb)(const struct probe_report *rep, void *arg), void *arg,
                        struct tenant_update_result *res);

void tenant_update_result_free(struct tenant_update_result *res);

/* remove / enable / disable of one record under the lock (user as above):
 * the same exit codes; *noop set when it was already in that state. */
int tenant_update_change(const struct conf *conf, const char *action, const char *id, const char *user,
                         bool *noop, char *err, size_t errlen);

#endif
