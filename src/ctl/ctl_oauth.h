/*
 * ctl_oauth.h - the OAuth2 side of `tenant set` and `test --host` (the
 * --auth and --oauth-* flags of SPEC §6): checking them, reading the
 * secret (client secret, PEM private key or Google service-account key)
 * into locked memory, sealing it under its own field and merging the flags
 * into a route.  Private to src/ctl.
 */
#ifndef TENANTRELAY_CTL_OAUTH_H
#define TENANTRELAY_CTL_OAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "tenantrelay/ctl.h"
#include "tenantrelay/vault.h"
#include "tenantrelay/dbuf.h"
#include "tenantrelay/route.h"
#include "ctl_route_flags.h"

/* Whether any OAuth2 flag (or --auth) was given. */
bool ctl_oauth_flags_given(const struct ctl_route_flags *f);
/* The values of --auth and --oauth-provider, and which secret flags go
 * together.  0, or EX_USAGE after saying why. */
int ctl_oauth_flags_check(const struct ctl_route_flags *f);
/* The secret the flags name (--oauth-secret-stdin, --oauth-secret-file or
 * --oauth-key-file) into sodium memory (*out NULL when none was given):
 * free with vault_plain_free().  0 or an exit status. */
int ctl_oauth_secret_read(const struct ctl_route_flags *f, unsigned char **out, size_t *len);
/* Merge the flags into r (fields not given keep their values), with
 * secret (this command's, open) sealed for tenant id under the field its
 * kind needs; the names of changed fields go to changed.  0 or an exit
 * status. */
int ctl_oauth_apply(struct ctl_ctx *ctx, const char *id, struct route *r, const struct ctl_route_flags *f,
                    const unsigned char *secret, size_t len, struct dbuf *changed);
/* For `test --host`: the route's auth and oauth group from the flags alone
 * (the secret stays open, handed to the probe).  0 or an exit status. */
int ctl_oauth_test_route(const struct ctl_route_flags *f, struct route *r);

/* "auth" into j, and for an OAuth2 route "oauth": provider, client id,
 * token URL, certificate thumbprint and expiry, and each sealed secret's
 * key id and (with v) whether it opens for tenant id.  Never a secret. */
void ctl_oauth_json_add(json_t *j, const struct route *r, const struct vault *v, const char *id);
/* The audit of an OAuth2 route: ctl_oauth_json_add() into row, and
 * findings for a plaintext or unopenable secret and a client certificate
 * that expires within 30 days of now (or cannot be read). */
void ctl_oauth_audit(json_t *row, const struct route *r, const struct vault *v, const char *id,
                     json_t *findings, time_t now);
/* key rotate: re-seal each sealed OAuth2 secret of r (tenant id) under v's
 * primary key, counting them in *count.  0 or an exit status (a secret
 * that does not open stops the rotation before anything is written). */
int ctl_oauth_reseal(const struct vault *v, const char *id, struct route *r, size_t *count);
/* How many of r's OAuth2 secrets are sealed with key keyid. */
size_t ctl_oauth_key_uses(const struct route *r, const char *keyid);

#endif
