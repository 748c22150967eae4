/*
 * ctl_oauth.c - the --auth / --oauth-* flags of `tenant set` and
 * `test --host` (see ctl_oauth.h): one place that checks them, reads the
 * secret they name into locked memory, seals it under the field its kind
 * needs (oauth_client_secret, oauth_client_key, oauth_service_account) and
 * merges them into a route.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "tenantrelay/mymalloc.h"
#include "tenantrelay/oauth.h"
#include "tenantrelay/str.h"
#include "tenantrelay/tenant_update.h"
#include "tenantrelay/timefmt.h"
#include "ctl_oauth.h"
#include "ctl_vault.h"

bool ctl_oauth_flags_given(const struct ctl_route_flags *f)
{
    return f->auth || f->oauth_provider || f->oauth_directory || f->oauth_token_url || f->oauth_client_id
           || f->oauth_secret_file || f->oauth_key_file || f->oauth_cert_file || f->oauth_scope
           || f->oauth_assertion_alg || f->oauth_secret_stdin;
}

int ctl_oauth_flags_check(const struct ctl_route_flags *f)
{
    int secrets = (f->oauth_secret_stdin ? 1 : 0) + (f->oauth_secret_file ? 1 : 0) + (f->oauth_key_file ? 1 : 0);

    if (f->auth && str_index(route_auth_names, f->auth) < 0)
        return ctl_fail(EX_USAGE, "--auth must be password or xoauth2");
    if (f->oauth_provider && str_index(route_oauth_provider_names, f->oauth_provider) < 0)
        return ctl_fail(EX_USAGE, "--oauth-provider must be microsoft, google or generic");
    if (secrets > 1)
        return ctl_fail(EX_USAGE, "--oauth-secret-stdin, --oauth-secret-file and --oauth-key-file are exclusive");
    if (f->oauth_secret_stdin && f->password_stdin)
        return ctl_fail(EX_USAGE, "--password-stdin and --oauth-secret-stdin cannot both read stdin");
    if (f->auth && strcmp(f->auth, "password") == 0 && ctl_oauth_flags_given(f)
        && (f->oauth_provider || secrets || f->oauth_client_id))
        return ctl_fail(EX_USAGE, "--oauth-* flags need --auth xoauth2");
    if (f->oauth_assertion_alg && strcmp(f->oauth_assertion_alg, "PS256") != 0
        && strcmp(f->oauth_assertion_alg, "RS256") != 0)
        return ctl_fail(EX_USAGE, "--oauth-assertion-alg must be PS256 or RS256");
    if (f->oauth_token_url && strncmp(f->oauth_token_url, "https://", 8) != 0)
        return ctl_fail(EX_USAGE, "--oauth-token-url must be an https:// URL");
    return 0;
}

int ctl_oauth_secret_read(const struct ctl_route_flags *f, unsigned char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (f->oauth_secret_stdin)
        return ctl_secret_read(NULL, out, len);
    if (f->oauth_secret_file)
        return ctl_secret_read(f->oauth_secret_file, out, len);
    if (f->oauth_key_file)
        return ctl_secret_read(f->oauth_key_file, out, len);
    return 0;
}

/* Flags over r's auth and oauth group, the secret left to the caller. */
static void merge_flags(struct route *r, const struct ctl_route_flags *f, struct dbuf *changed)
{
    struct tenant_update_oauth o;
    char abs[PATH_MAX];

    tenant_update_oauth_init(&o);
    if (f->auth)
        o.auth = strcmp(f->auth, "xoauth2") == 0 ? ROUTE_AUTH_XOAUTH2 : ROUTE_AUTH_PASSWORD;
    if (f->oauth_provider)
        o.provider = str_index(route_oauth_provider_names, f->oauth_provider);
    o.directory = f->oauth_directory;
    o.token_url = f->oauth_token_url;
    o.client_id = f->oauth_client_id;
    o.scope = f->oauth_scope;
    o.assertion_alg = f->oauth_assertion_alg;
    /* The daemon runs elsewhere (another cwd): an absolute path. */
    if (f->oauth_cert_file)
        o.client_cert_file = *f->oauth_cert_file && realpath(f->oauth_cert_file, abs) ? abs : f->oauth_cert_file;
    tenant_update_oauth_merge(r, &o, changed);
}

/* Which sealed field this command's secret is, given the merged settings. */
static const char *secret_field(const struct route *r, const struct ctl_route_flags *f, char ***slot)
{
    struct route_oauth *o = (struct route_oauth *)&r->oauth;

    if (f->oauth_key_file && o->provider == ROUTE_OAUTH_GOOGLE) {
        *slot = &o->service_account;
        return OAUTH_FIELD_SERVICE_ACCOUNT;
    }
    if (f->oauth_key_file) {
        *slot = &o->client_key;
        return OAUTH_FIELD_CLIENT_KEY;
    }
    *slot = &o->client_secret;
    return OAUTH_FIELD_CLIENT_SECRET;
}

int ctl_oauth_apply(struct ctl_ctx *ctx, const char *id, struct route *r, const struct ctl_route_flags *f,
                    const unsigned char *secret, size_t len, struct dbuf *changed)
{
    char **slot = NULL;
    const char *field;
    char err[512];
    struct vault *v;
    int status = 0;

    if (!ctl_oauth_flags_given(f))
        return 0;
    merge_flags(r, f, changed);
    if (secret == NULL)
        return 0;
    if (r->auth != ROUTE_AUTH_XOAUTH2)
        return ctl_fail(EX_USAGE, "an OAuth2 secret needs --auth xoauth2");
    field = secret_field(r, f, &slot);
    if ((v = ctl_vault_load(ctx, &status)) == NULL)
        return status;
    if (tenant_update_oauth_seal(r, v, id, field, secret, len, changed, err, sizeof(err)) < 0)
        status = ctl_fail(EX_DATAERR, "%s", err);
    vault_free(v);
    return status;
}

int ctl_oauth_test_route(const struct ctl_route_flags *f, struct route *r)
{
    struct dbuf ignored = DBUF_INIT;
    char **slot = NULL;
    char err[512];

    if (!ctl_oauth_flags_given(f))
        return 0;
    merge_flags(r, f, &ignored);
    dbuf_free(&ignored);
    if (r->auth != ROUTE_AUTH_XOAUTH2)
        return 0;
    /* The secret stays open (the probe takes it); a placeholder that has
     * the shape of a sealed token satisfies the checks. */
    secret_field(r, f, &slot);
    if (f->oauth_secret_stdin || f->oauth_secret_file || f->oauth_key_file)
        *slot = mystrdup("trv1:open:-");
    if (route_oauth_validate(r, err, sizeof(err)) < 0)
        return ctl_fail(EX_USAGE, "%s", err);
    return 0;
}


/* One sealed secret as it may be shown: its key id and, with a keyring,
 * whether it opens.  Never the secret. */
static json_t *secret_json(const struct vault *v, const char *id, const char *field, const char *token)
{
    char keyid[VAULT_KEYID_LEN + 1], err[256];
    unsigned char *plain = NULL;
    size_t len = 0;
    json_t *j;

    if (token == NULL)
        return NULL;
    if (vault_token_key_id(token, keyid) != VAULT_OK)
        return json_pack("{s:s}", "state", "plaintext");
    j = json_pack("{s:s, s:s}", "state", "sealed", "key_id", keyid);
    if (v) {
        bool opens = vault_open(v, id, field, token, &plain, &len, err, sizeof(err)) == VAULT_OK;

        vault_plain_free(plain, len);
        json_object_set_new(j, "opens", json_boolean(opens));
    }
    return j;
}

void ctl_oauth_json_add(json_t *j, const struct route *r, const struct vault *v, const char *id)
{
    const struct route_oauth *o = &r->oauth;
    char urlbuf[512];
    json_t *oj;

    json_object_set_new(j, "auth", json_string(route_auth_names[r->auth]));
    if (r->auth != ROUTE_AUTH_XOAUTH2)
        return;
    oj = json_pack("{s:s, s:s?, s:s, s:s?, s:s?, s:s}", "provider", route_oauth_provider_names[o->provider],
                   "directory", o->directory, "token_url", route_oauth_token_url(o, urlbuf, sizeof(urlbuf)),
                   "client_id", o->client_id, "client_cert_file", o->client_cert_file,
                   "scope", route_oauth_scope(o));
    if (o->client_secret)
        json_object_set_new(oj, "client_secret", secret_json(v, id, OAUTH_FIELD_CLIENT_SECRET, o->client_secret));
    if (o->client_key)
        json_object_set_new(oj, "client_key", secret_json(v, id, OAUTH_FIELD_CLIENT_KEY, o->client_key));
    if (o->service_account)
        json_object_set_new(oj, "service_account",
                            secret_json(v, id, OAUTH_FIELD_SERVICE_ACCOUNT, o->service_account));
    if (o->client_key)
        json_object_set_new(oj, "assertion_alg", json_string(o->assertion_alg ? o->assertion_alg : "PS256"));
    if (o->client_cert_file) {
        char thumb[64], err[256];
        long long not_after = 0;

        if (oauth_cert_thumbprint(o->client_cert_file, thumb, &not_after, err, sizeof(err)) == 0) {
            json_object_set_new(oj, "certificate_thumbprint", json_string(thumb));
            json_object_set_new(oj, "certificate_expiry", timefmt_json((time_t)not_after));
        } else {
            json_object_set_new(oj, "certificate_error", json_string(err));
        }
    }
    json_object_set_new(j, "oauth", oj);
}

static void oauth_finding(json_t *findings, const char *severity, const char *code, const char *id,
                          const char *detail)
{
    json_array_append_new(findings, json_pack("{s:s, s:s, s:s?, s:s}", "severity", severity, "code", code,
                                              "tenant", id, "detail", detail));
}

void ctl_oauth_audit(json_t *row, const struct route *r, const struct vault *v, const char *id,
                     json_t *findings, time_t now)
{
    static const char *const names[] = { "client_secret", "client_key", "service_account" };
    json_t *oj, *s;
    char detail[512];

    ctl_oauth_json_add(row, r, v, id);
    if ((oj = json_object_get(row, "oauth")) == NULL)
        return;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if ((s = json_object_get(oj, names[i])) == NULL)
            continue;
        if (strcmp(json_string_value(json_object_get(s, "state")), "plaintext") == 0) {
            snprintf(detail, sizeof(detail), "the OAuth2 %s is stored in plaintext: set it again with "
                     "tenantrelayctl tenant set ID --oauth-secret-stdin or --oauth-key-file", names[i]);
            oauth_finding(findings, "critical", "plaintext_secret", id, detail);
        } else if (json_is_false(json_object_get(s, "opens"))) {
            snprintf(detail, sizeof(detail), "the OAuth2 %s does not open with this keyring", names[i]);
            oauth_finding(findings, "high", "secret_unopenable", id, detail);
        }
    }
    if ((s = json_object_get(oj, "certificate_expiry")) != NULL && json_is_string(s)) {
        time_t exp;

        if (timefmt_parse_rfc3339(json_string_value(s), &exp) == 0 && exp - now < 30 * 86400) {
            snprintf(detail, sizeof(detail), "the OAuth2 client certificate %s %s %s: create a new one, "
                     "upload it to the app registration, then tenant set ID --oauth-key-file F "
                     "--oauth-cert-file F", r->oauth.client_cert_file, exp < now ? "expired" : "expires",
                     json_string_value(s));
            oauth_finding(findings, exp < now ? "high" : "medium", "oauth_certificate_expiring", id, detail);
        }
    } else if (json_object_get(oj, "certificate_error")) {
        snprintf(detail, sizeof(detail), "the OAuth2 client certificate cannot be read: %s",
                 json_string_value(json_object_get(oj, "certificate_error")));
        oauth_finding(findings, "high", "oauth_certificate_unreadable", id, detail);
    }
}

/* The three sealed secrets of an oauth group with their fields. */
static void secret_slots(struct route_oauth *o, char **slots[3], const char *fields[3])
{
    slots[0] = &o->client_secret;
    fields[0] = OAUTH_FIELD_CLIENT_SECRET;
    slots[1] = &o->client_key;
    fields[1] = OAUTH_FIELD_CLIENT_KEY;
    slots[2] = &o->service_account;
    fields[2] = OAUTH_FIELD_SERVICE_ACCOUNT;
}

int ctl_oauth_reseal(const struct vault *v, const char *id, struct route *r, size_t *count)
{
    char **slots[3];
    const char *fields[3];

    if (r->auth != ROUTE_AUTH_XOAUTH2)
        return 0;
    secret_slots(&r->oauth, slots, fields);
    for (int i = 0; i < 3; i++) {
        unsigned char *plain = NULL;
        size_t len = 0;
        char err[512], *token = NULL;
        int rc;

        if (*slots[i] == NULL || !vault_token_looks_sealed(*slots[i]))
            continue;
        if (vault_open(v, id, fields[i], *slots[i], &plain, &len, err, sizeof(err)) != VAULT_OK)
            return ctl_fail(EX_DATAERR, "tenant %s: the %s does not open (%s): nothing was changed; set it "
                            "again with tenant set first", id, fields[i], err);
        rc = vault_seal(v, id, fields[i], plain, len, &token, err, sizeof(err));
        vault_plain_free(plain, len);
        if (rc < 0)
            return ctl_fail(EX_SOFTWARE, "%s", err);
        myfree(*slots[i]);
        *slots[i] = token;
        (*count)++;
    }
    return 0;
}

size_t ctl_oauth_key_uses(const struct route *r, const char *keyid)
{
    char **slots[3];
    const char *fields[3];
    size_t n = 0;

    if (r->auth != ROUTE_AUTH_XOAUTH2)
        return 0;
    secret_slots((struct route_oauth *)&r->oauth, slots, fields);
    for (int i = 0; i < 3; i++) {
        char tid[VAULT_KEYID_LEN + 1];

        if (*slots[i] && vault_token_key_id(*slots[i], tid) == VAULT_OK && strcmp(tid, keyid) == 0)
            n++;
    }
    return n;
}
