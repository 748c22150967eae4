/*
 * ctl_key.c - tenantrelayctl key init | list | rotate | retire ID.
 *
 * rotate: a new primary key, then every sealed secret re-sealed under it:
 * each tenant record and the config file's default_route password token
 * (only that token's bytes change in the config file).  Order matters for
 * crash safety: every new token is computed first, then the keyring (with
 * both keys) is saved, then the store files, then the config file.  Each
 * step is an atomic replace, and the old key stays in the keyring until
 * `key retire`, so at every instant every token on disk opens.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "tenantrelay/fdio.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/tenant_write.h"
#include "tenantrelay/timefmt.h"
#include "ctl_oauth.h"
#include "ctl_vault.h"

static int key_init(struct ctl_ctx *ctx)
{
    struct conf *conf = ctl_conf(ctx);
    struct vault *v;
    char err[1024], id[VAULT_KEYID_LEN + 1];
    int status = 0;

    if (conf == NULL)
        return EX_CONFIG;
    if (conf->key_credential)
        return ctl_fail(EX_CONFIG, "key_credential is set: the keyring comes from systemd. Create it "
                        "with a configuration naming key_file, then load it with LoadCredential= or "
                        "encrypt it with systemd-creds (see the README)");
    if ((v = vault_new()) == NULL)
        return ctl_fail(EX_OSERR, "cannot allocate secure memory");
    if (vault_key_generate(v, id, err, sizeof(err)) < 0) {
        status = ctl_fail(EX_SOFTWARE, "%s", err);
    } else if (vault_save(v, conf->key_file, true, err, sizeof(err)) < 0) {
        status = ctl_fail(ctl_status_for_errno(errno) == EX_CONFIG ? EX_CANTCREAT
                          : ctl_status_for_errno(errno), "%s", err);
    } else {
        struct conf_error cerr = { "" };
        struct stat st;
        int lock;

        printf("created keyring %s with primary key %s\n", conf->key_file, id);
        fprintf(stderr, "tenantrelayctl: back up %s now (offline, access-controlled): without it no "
                "sealed secret can be opened\n", conf->key_file);
        /* The daemon refuses a missing store (it is never taken for an
         * empty one); the first step of an installation creates it. */
        if (stat(conf->tenant_store, &st) < 0 && errno == ENOENT) {
            if ((lock = tenant_store_lock(conf->tenant_store, &cerr)) < 0) {
                status = ctl_fail(EX_CANTCREAT, "%s", cerr.text);
            } else {
                int fd = -1;

                /* A single-file store: an empty file is an empty store. */
                if (!tenant_store_is_dir(conf->tenant_store)
                    && (fd = open(conf->tenant_store, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                                  0640)) < 0 && errno != EEXIST)
                    status = ctl_fail(EX_CANTCREAT, "%s: %s", conf->tenant_store, strerror(errno));
                else
                    printf("created the tenant store %s (empty)\n", conf->tenant_store);
                if (fd >= 0)
                    close(fd);
                tenant_store_unlock(lock);
            }
        }
    }
    vault_free(v);
    return status;
}

static int key_list(struct ctl_ctx *ctx)
{
    struct vault *v;
    struct tenant_store *store;
    json_t *keys;
    int status = 0;

    if ((v = ctl_vault_load(ctx, &status)) == NULL)
        return status;
    if ((store = ctl_store_load(ctx, &status)) == NULL) {
        vault_free(v);
        return status;
    }
    keys = json_array();
    if (!ctx->json)
        printf("%-14s %-8s %-21s %s\n", "ID", "STATE", "CREATED", "USES");
    for (size_t i = 0; i < vault_key_count(v); i++) {
        const struct vault_key_info *k = vault_key_at(v, i);
        size_t uses = ctl_key_uses(ctx->conf, store, k->id);
        char when[64];

        timefmt_rfc3339(k->created, when, sizeof(when));
        if (ctx->json)
            json_array_append_new(keys, json_pack("{s:s, s:s, s:s, s:I}", "id", k->id, "state",
                                                  vault_key_state_names[k->state], "created", when,
                                                  "uses", (json_int_t)uses));
        else
            printf("%-14s %-8s %-21s %zu\n", k->id, vault_key_state_names[k->state], when, uses);
    }
    if (ctx->json)
        ctl_json_print(json_pack("{s:o}", "keys", keys));
    else
        json_decref(keys);
    tenant_store_free(store);
    vault_free(v);
    return status;
}

/* Replace the one occurrence of old in the config file by new, keeping
 * every other byte, its owner and mode; atomic. */
static int rewrite_config_token(const char *path, const char *old, const char *new)
{
    FILE *fp = fopen(path, "r");
    char *text = NULL, *hit, *tmp = NULL, *copy = NULL;
    size_t tmplen;
    size_t len = 0;
    struct stat st;
    int fd = -1, dfd = -1, status = EX_IOERR;

    if (fp == NULL || fstat(fileno(fp), &st) < 0)
        return ctl_fail(ctl_status_for_errno(errno), "%s: %s", path, strerror(errno));
    text = mymalloc((size_t)st.st_size + 1);
    len = fread(text, 1, (size_t)st.st_size, fp);
    fclose(fp);
    text[len] = 0;
    if ((hit = strstr(text, old)) == NULL || strstr(hit + 1, old) != NULL) {
        status = ctl_fail(EX_DATAERR, "%s: the default_route password token (or the webhook secret) must "
                          "appear exactly once in the file (not rewritten; reseal it by hand with `seal "
                          "--tenant default --field password` or `--field webhook_secret`)", path);
        goto out;
    }
    tmplen = strlen(path) + 32;
    tmp = mymalloc(tmplen);
    snprintf(tmp, tmplen, "%s.tmp.%ld", path, (long)getpid());
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 07777)) < 0)
        goto io;
    if ((fchown(fd, st.st_uid, st.st_gid) < 0 && geteuid() == 0) || fchmod(fd, st.st_mode & 07777) < 0)
        goto io;
    if (fdio_write_all(fd, text, (size_t)(hit - text)) < 0
        || fdio_write_all(fd, new, strlen(new)) < 0
        || fdio_write_all(fd, hit + strlen(old), len - (size_t)(hit - text) - strlen(old)) < 0
        || fsync(fd) < 0)
        goto io;
    close(fd);
    fd = -1;
    if (rename(tmp, path) < 0)
        goto io;
    copy = mystrdup(path);
    if ((dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
        fsync(dfd);
    status = 0;
    goto out;
io:
    status = ctl_fail(ctl_status_for_errno(errno), "%s: cannot rewrite: %s", path, strerror(errno));
    unlink(tmp);
out:
    if (fd >= 0)
        close(fd);
    if (dfd >= 0)
        close(dfd);
    myfree(text);
    myfree(tmp);
    myfree(copy);
    return status;
}

/* Re-seal token of (tenant, field), opened with whatever key it names,
 * under v's primary. */
static int reseal(const struct vault *v, const char *tenant, const char *field, const char *token, char **out)
{
    unsigned char *plain;
    size_t len;
    char err[512];
    int rc;

    *out = NULL;
    if (vault_open(v, tenant, field, token, &plain, &len, err, sizeof(err)) != VAULT_OK)
        return strcmp(field, "password") == 0
               ? ctl_fail(EX_DATAERR, "tenant %s: the password does not open (%s): nothing was changed; "
                          "fix it with `tenant set %s --password-stdin` first", tenant, err, tenant)
               : ctl_fail(EX_DATAERR, "the config's %s token does not open (%s): nothing was changed; "
                          "seal it again with `seal --tenant %s --field %s`", field, err, tenant, field);
    rc = vault_seal(v, tenant, field, plain, len, out, err, sizeof(err));
    vault_plain_free(plain, len);
    return rc < 0 ? ctl_fail(EX_SOFTWARE, "%s", err) : 0;
}

static int key_rotate(struct ctl_ctx *ctx)
{
    struct conf *conf = ctl_conf(ctx);
    struct conf_error cerr = { "" };
    struct store_txn *txn = NULL;
    const struct tenant_store *store = NULL;
    struct vault *v = NULL;
    struct tenant *copies = NULL;
    const struct tenant **repl = NULL;
    char err[1024], id[VAULT_KEYID_LEN + 1], path[4096], *conf_token = NULL, *hook_token = NULL;
    size_t n = 0, resealed = 0, conf_oauth_n = 0;
    struct route conf_oauth;
    bool have_conf_oauth = false;
    int status = 0;

    if (conf == NULL)
        return EX_CONFIG;
    if (conf->key_credential)
        return ctl_fail(EX_CONFIG, "key_credential is set: rotate on a copy of the keyring named by "
                        "key_file, then install the new credential (see the README)");
    /* The whole store, under its write lock (either backend). */
    if ((txn = store_txn_begin(conf, NULL, NULL, NULL, &cerr)) == NULL)
        return ctl_fail(errno == EINVAL ? EX_DATAERR : EX_IOERR, "tenant store: %s", cerr.text);
    store = store_txn_view(txn);
    if ((v = ctl_vault_load(ctx, &status)) == NULL)
        goto out;
    if (vault_key_generate(v, id, err, sizeof(err)) < 0) {
        status = ctl_fail(EX_SOFTWARE, "%s", err);
        goto out;
    }
    /* 1. Every new token, in memory: nothing is written if any fails. */
    n = tenant_store_count(store);
    copies = mycalloc(n + 1, sizeof(*copies));
    repl = mycalloc(n + 1, sizeof(*repl));
    for (size_t i = 0; i < n; i++) {
        const struct tenant *t = tenant_store_at(store, i);
        char *token;

        repl[i] = t;
        if (t->route.auth == ROUTE_AUTH_XOAUTH2) {
            /* The OAuth2 secrets, each under its own field. */
            tenant_copy(&copies[i], t);
            repl[i] = &copies[i];
            if ((status = ctl_oauth_reseal(v, t->id, &copies[i].route, &resealed)) != 0)
                goto out;
            continue;
        }
        if (t->route.password == NULL || !vault_token_looks_sealed(t->route.password)) {
            if (t->route.password)
                fprintf(stderr, "tenantrelayctl: tenant %s: plaintext password left as is (see audit)\n",
                        t->id);
            continue;
        }
        if ((status = reseal(v, t->id, "password", t->route.password, &token)) != 0)
            goto out;
        tenant_copy(&copies[i], t);
        myfree(copies[i].route.password);
        copies[i].route.password = token;
        repl[i] = &copies[i];
        resealed++;
    }
    if (conf->default_route.password && vault_token_looks_sealed(conf->default_route.password)
        && (status = reseal(v, "default", "password", conf->default_route.password, &conf_token)) != 0)
        goto out;
    /* The webhook's secret lives in the config file too. */
    if (conf->webhook.secret && vault_token_looks_sealed(conf->webhook.secret)
        && (status = reseal(v, "default", "webhook_secret", conf->webhook.secret, &hook_token)) != 0)
        goto out;
    /* The default route's OAuth2 secrets, re-sealed in memory first too. */
    route_copy(&conf_oauth, &conf->default_route);
    have_conf_oauth = true;
    if ((status = ctl_oauth_reseal(v, "default", &conf_oauth, &conf_oauth_n)) != 0)
        goto out;
    /* 2. The keyring with the new primary (the old key stays: every token
     * on disk keeps opening whatever happens next). */
    if (vault_save(v, vault_path(conf->key_file, conf->key_credential, path, sizeof(path)), false,
                   err, sizeof(err)) < 0) {
        status = ctl_fail(ctl_status_for_errno(errno), "%s", err);
        goto out;
    }
    /* 3. The store, 4. the config file. */
    /* One transaction with its change-log entry (PostgreSQL: and the
     * notification every node reloads on). */
    switch (store_txn_commit(txn, repl, NULL, "key-rotate", "*", "password", &cerr)) {
    case STORE_OK:
        break;
    case STORE_RACE:
        status = ctl_fail(EX_TEMPFAIL, "%s (the keyring already has the new key; run rotate again)",
                          cerr.text);
        goto out;
    default:
        status = ctl_fail(EX_IOERR, "%s (the keyring already has the new key; run rotate again)",
                          cerr.text);
        goto out;
    }
    if (conf_token && (status = rewrite_config_token(ctx->config_path, conf->default_route.password,
                                                     conf_token)) != 0)
        goto out;
    if (hook_token && (status = rewrite_config_token(ctx->config_path, conf->webhook.secret, hook_token)) != 0)
        goto out;
    {
        const char *olds[] = { conf->default_route.oauth.client_secret, conf->default_route.oauth.client_key,
                               conf->default_route.oauth.service_account };
        const char *news[] = { conf_oauth.oauth.client_secret, conf_oauth.oauth.client_key,
                               conf_oauth.oauth.service_account };

        for (int i = 0; i < 3; i++)
            if (olds[i] && news[i] && strcmp(olds[i], news[i]) != 0
                && (status = rewrite_config_token(ctx->config_path, olds[i], news[i])) != 0)
                goto out;
    }
    printf("new primary key %s; re-sealed %zu tenant secret%s%s%s%s\n", id, resealed,
           resealed == 1 ? "" : "s", conf_token ? " and the default route's password" : "",
           conf_oauth_n ? " and the default route's OAuth2 secrets" : "",
           hook_token ? " and the webhook secret" : "");
    printf("the previous key stays until `tenantrelayctl key retire ID`; reload the daemon\n");
out:
    for (size_t i = 0; copies && i < n; i++)
        if (copies[i].id)
            tenant_free_fields(&copies[i]);
    myfree(copies);
    myfree(repl);
    myfree(conf_token);
    myfree(hook_token);
    if (have_conf_oauth)
        route_free(&conf_oauth);
    vault_free(v);
    store_txn_end(txn);
    return status;
}

static int key_retire(struct ctl_ctx *ctx, const char *id)
{
    struct conf *conf = ctl_conf(ctx);
    struct conf_error cerr = { "" };
    struct tenant_store *store = NULL;
    struct vault *v = NULL;
    char err[1024], path[4096];
    size_t uses;
    int lock = -1, status = 0;

    if (conf == NULL)
        return EX_CONFIG;
    if (conf->key_credential)
        return ctl_fail(EX_CONFIG, "key_credential is set: retire on the keyring file, then install "
                        "the new credential");
    /* Under the store lock: no tenant set can seal with it meanwhile. */
    if ((lock = tenant_store_lock(conf->tenant_store, &cerr)) < 0)
        return ctl_fail(EX_IOERR, "%s", cerr.text);
    if ((v = ctl_vault_load(ctx, &status)) == NULL || (store = ctl_store_load(ctx, &status)) == NULL)
        goto out;
    if (vault_key_find(v, id) == NULL) {
        status = ctl_fail(EX_DATAERR, "no key %s in the keyring", id);
        goto out;
    }
    if ((uses = ctl_key_uses(conf, store, id)) > 0) {
        status = ctl_fail(EX_DATAERR, "key %s still seals %zu secret%s: run `key rotate` first", id,
                          uses, uses == 1 ? "" : "s");
        goto out;
    }
    if (vault_key_retire(v, id, err, sizeof(err)) < 0) {
        status = ctl_fail(EX_DATAERR, "%s", err);
        goto out;
    }
    if (vault_save(v, vault_path(conf->key_file, conf->key_credential, path, sizeof(path)), false,
                   err, sizeof(err)) < 0) {
        status = ctl_fail(ctl_status_for_errno(errno), "%s", err);
        goto out;
    }
    if (tenant_changelog_append(conf->change_log, "key-retire", "*", id, &cerr) < 0)
        fprintf(stderr, "tenantrelayctl: warning: %s\n", cerr.text);
    printf("key %s retired\n", id);
out:
    tenant_store_free(store);
    vault_free(v);
    tenant_store_unlock(lock);
    return status;
}

int ctl_key(struct ctl_ctx *ctx, int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "init") == 0)
        return key_init(ctx);
    if (argc == 2 && strcmp(argv[1], "list") == 0)
        return key_list(ctx);
    if (argc == 2 && strcmp(argv[1], "rotate") == 0)
        return key_rotate(ctx);
    if (argc == 3 && strcmp(argv[1], "retire") == 0)
        return key_retire(ctx, argv[2]);
    return ctl_fail(EX_USAGE, "usage: key init | list | rotate | retire ID");
}
