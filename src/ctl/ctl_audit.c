/*
 * ctl_audit.c - tenantrelayctl audit [--json]: what a security team needs
 * to sign off the credential store.
 *
 * Every route (the default route and each tenant) with its host, port, TLS
 * mode, verification, auth user, sender, key id, and whether its secret
 * actually opens; findings for plaintext secrets, secrets that do not open
 * (tampered, swapped between tenants or fields, unknown key), a keyring or
 * store open to group/others, tls_verify off, plaintext routes, unused
 * keys and records on a retired key, tenant routes the tenant route
 * policy refuses (their mail would be deferred).  Exit 0 clean, 1 with
 * findings.
 *
 * The audit never refuses to run because of what it is meant to report:
 * a keyring with a weak mode is reported and still used to check secrets.
 */
#include "config.h"

#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>

#include "tenantrelay/mymalloc.h"
#include "tenantrelay/tenant_write.h"
#include "tenantrelay/timefmt.h"
#include "ctl_oauth.h"
#include "ctl_vault.h"

struct audit {
    json_t *tenants;
    json_t *findings;
    const struct vault *vault;
};

static void finding(struct audit *a, const char *severity, const char *code, const char *tenant,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void finding(struct audit *a, const char *severity, const char *code, const char *tenant,
                    const char *fmt, ...)
{
    char detail[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    json_array_append_new(a->findings, json_pack("{s:s, s:s, s:s?, s:s}", "severity", severity,
                                                 "code", code, "tenant", tenant, "detail", detail));
}

/* A file or directory that group or others may read or write. */
static void check_mode(struct audit *a, const char *path, bool secret, const char *what)
{
    struct stat st;

    if (lstat(path, &st) < 0)
        return;
    if (secret && (st.st_mode & 077))
        finding(a, "critical", "key_file_permissions", NULL,
                "%s %s has mode %04o: group or others can read or write the master keys (chmod 600)",
                what, path, (unsigned)(st.st_mode & 07777));
    else if (!secret && (st.st_mode & 022))
        finding(a, "high", "store_writable", NULL,
                "%s %s has mode %04o: group or others can change where tenant mail goes (chmod go-w)",
                what, path, (unsigned)(st.st_mode & 07777));
    else if (!secret && (st.st_mode & 004))
        finding(a, "medium", "store_readable", NULL,
                "%s %s has mode %04o: others can read tenant servers and user names (chmod o-r)",
                what, path, (unsigned)(st.st_mode & 07777));
}

static void check_store_modes(struct audit *a, const char *store)
{
    struct stat st;
    DIR *d;
    struct dirent *e;
    char path[4096];

    check_mode(a, store, false, "tenant store");
    if (stat(store, &st) < 0 || !S_ISDIR(st.st_mode) || (d = opendir(store)) == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", store, e->d_name);
        check_mode(a, path, false, "tenant store file");
    }
    closedir(d);
}

/* One route: its row in "tenants" and its findings. */
static void audit_route(struct audit *a, const char *id, const struct route *r, const struct tenant *t)
{
    const char *secret = "none";
    char keyid[VAULT_KEYID_LEN + 1] = "";
    json_t *row;

    if (r->password && !vault_token_looks_sealed(r->password)) {
        secret = "plaintext";
        finding(a, "critical", "plaintext_secret", id,
                "the password is stored in plaintext: reseal it (%s)", t
                ? "tenantrelayctl tenant set ID --password-stdin"
                : "tenantrelayctl seal --tenant default --field password");
    } else if (r->password) {
        const struct vault_key_info *k;
        unsigned char *plain = NULL;
        size_t len = 0;
        char err[512];

        if (vault_token_key_id(r->password, keyid) != VAULT_OK)
            keyid[0] = 0;
        if (a->vault == NULL) {
            secret = "unchecked";
        } else if (vault_open(a->vault, id, "password", r->password, &plain, &len, err, sizeof(err))
                   == VAULT_OK) {
            secret = "opens";
            vault_plain_free(plain, len);
        } else {
            secret = "fails";
            finding(a, "high", "secret_unopenable", id, "the password does not open: %s", err);
        }
        if (a->vault && keyid[0] && (k = vault_key_find(a->vault, keyid)) != NULL
            && k->state == VAULT_KEY_RETIRED)
            finding(a, "medium", "retired_key_in_use", id,
                    "the password is sealed with retired key %s: run tenantrelayctl key rotate", keyid);
    }
    if (!r->tls_verify)
        finding(a, "medium", "tls_verify_off", id,
                "certificate verification is off: the password can be phished by anyone on the path");
    if (r->tls == ROUTE_TLS_NONE)
        finding(a, "high", "plaintext_route", id, "mail to %s:%d leaves without TLS", r->host, r->port);
    row = json_pack("{s:s, s:b, s:s?, s:i, s:s, s:b, s:b, s:s?, s:s?, s:s?, s:s}",
                    "id", id, "enabled", t ? t->enabled : true, "host", r->host, "port", r->port,
                    "tls", route_tls_names[r->tls], "tls_verify", r->tls_verify,
                    "verified", t ? t->verified != 0 : false, "username", r->username,
                    "sender", r->sender, "key_id", keyid[0] ? keyid : NULL, "secret", secret);
    json_object_set_new(row, "verified_at", timefmt_json(t ? t->verified : 0));
    json_object_set_new(row, "created", timefmt_json(t ? t->created : 0));
    json_object_set_new(row, "updated", timefmt_json(t ? t->updated : 0));
    ctl_oauth_audit(row, r, a->vault, id, a->findings, time(NULL));
    json_array_append_new(a->tenants, row);
}

static void print_text(json_t *report)
{
    json_t *row, *f;
    size_t i;

    printf("%-24s %-30s %-6s %-9s %-9s %-14s %-9s %s\n", "ID", "HOST", "PORT", "TLS", "VERIFIED",
           "KEY", "SECRET", "SENDER");
    json_array_foreach(json_object_get(report, "tenants"), i, row) {
        const char *verified = json_string_value(json_object_get(row, "verified_at"));
        const char *key = json_string_value(json_object_get(row, "key_id"));
        const char *host = json_string_value(json_object_get(row, "host"));
        const char *sender = json_string_value(json_object_get(row, "sender"));
        char ver[16];

        snprintf(ver, sizeof(ver), "%.10s", verified ? verified : "never");
        printf("%-24s %-30s %-6d %-9s %-9s %-14s %-9s %s\n",
               json_string_value(json_object_get(row, "id")), host ? host : "-",
               (int)json_integer_value(json_object_get(row, "port")),
               json_string_value(json_object_get(row, "tls")), ver, key ? key : "-",
               json_string_value(json_object_get(row, "secret")), sender ? sender : "-");
    }
    printf("\n");
    if (json_array_size(json_object_get(report, "findings")) == 0)
        printf("no findings\n");
    json_array_foreach(json_object_get(report, "findings"), i, f) {
        const char *tenant = json_string_value(json_object_get(f, "tenant"));

        printf("%-8s %-22s %-16s %s\n", json_string_value(json_object_get(f, "severity")),
               json_string_value(json_object_get(f, "code")), tenant ? tenant : "-",
               json_string_value(json_object_get(f, "detail")));
    }
}

int ctl_audit(struct ctl_ctx *ctx, int argc, char **argv)
{
    struct conf *conf;
    struct tenant_store *store;
    struct vault *v = NULL;
    struct audit a;
    json_t *report;
    char err[1024];
    int status = 0;
    bool ok;

    (void)argv;
    if (argc != 1)
        return ctl_fail(EX_USAGE, "usage: audit [--json]");
    if ((conf = ctl_conf(ctx)) == NULL)
        return EX_CONFIG;
    if ((store = ctl_store_load(ctx, &status)) == NULL)
        return status;
    a.tenants = json_array();
    a.findings = json_array();

    if (!conf->key_credential) {
        struct stat st;
        struct passwd *pw = getpwnam(conf->user);

        check_mode(&a, conf->key_file, true, "key file");
        /* Its owner can swap in keys of their own (the tools refuse it too). */
        if (stat(conf->key_file, &st) == 0 && st.st_uid != 0 && (pw == NULL || st.st_uid != pw->pw_uid))
            finding(&a, "critical", "key_file_owner", NULL,
                    "key file %s is owned by uid %u, neither root nor the service user %s (chown root %s)",
                    conf->key_file, (unsigned)st.st_uid, conf->user, conf->key_file);
    }
    check_store_modes(&a, conf->tenant_store);
    /* Mode already reported above: load it anyway to check the secrets. */
    v = conf->key_credential ? vault_load(conf->key_file, conf->key_credential, conf->user, err, sizeof(err))
                             : vault_load_file(conf->key_file, false, err, sizeof(err));
    if (v == NULL)
        finding(&a, "high", "keyring_unavailable", NULL, "%s: sealed secrets were not checked", err);
    a.vault = v;

    audit_route(&a, CONF_RESERVED_TENANT, &conf->default_route, NULL);
    for (size_t i = 0; i < tenant_store_count(store); i++) {
        const struct tenant *t = tenant_store_at(store, i);
        char why[512];

        audit_route(&a, t->id, &t->route, t);
        /* Saved before the policy (or under a wider one): delivery defers it. */
        if (t->route.host && route_policy_check_host(&conf->tenant_route_policy, t->route.host,
                                                     t->route.port, why, sizeof(why)) < 0)
            finding(&a, "high", "route_policy", t->id, "delivery refuses this route: %s", why);
    }
    for (size_t i = 0; i < vault_key_count(v); i++) {
        const struct vault_key_info *k = vault_key_at(v, i);

        if (k->state == VAULT_KEY_ACTIVE && ctl_key_uses(conf, store, k->id) == 0)
            finding(&a, "low", "unused_key", NULL,
                    "key %s seals nothing: retire it (tenantrelayctl key retire %s)", k->id, k->id);
    }
    ok = json_array_size(a.findings) == 0;
    report = json_pack("{s:b, s:o, s:o}", "ok", ok, "tenants", a.tenants, "findings", a.findings);
    if (ctx->json)
        ctl_json_print(report);
    else {
        print_text(report);
        json_decref(report);
    }
    vault_free(v);
    tenant_store_free(store);
    return ok ? 0 : 1;
}
