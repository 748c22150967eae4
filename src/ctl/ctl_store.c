/*
 * ctl_store.c - tenantrelayctl store init | import FROM | status: the
 * PostgreSQL tenant store's schema (created or migrated, idempotent), a
 * file store copied into it in one transaction, and its versions with
 * each node's last report (SPEC §5, §6).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "tenantrelay/store.h"
#include "ctl_vault.h"

#define STORE_USAGE "usage: store init | import FROM | status"

static int store_fail(const struct conf_error *err)
{
    return ctl_fail(strstr(err->text, "cannot connect") ? EX_UNAVAILABLE : EX_DATAERR, "%s", err->text);
}

static void print_status(const char *text, bool json)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr), *nodes, *n;
    size_t i;

    if (json || j == NULL) {
        printf("%s\n", text);
        json_decref(j);
        return;
    }
    printf("schema version   %lld (this build: %lld)\n",
           (long long)json_integer_value(json_object_get(j, "schema_version")),
           (long long)json_integer_value(json_object_get(j, "schema_version_supported")));
    if (!json_is_true(json_object_get(j, "initialized"))) {
        printf("not initialized: run `tenantrelayctl store init`\n");
        json_decref(j);
        return;
    }
    printf("store version    %lld\n", (long long)json_integer_value(json_object_get(j, "version")));
    printf("tenants          %lld\n", (long long)json_integer_value(json_object_get(j, "tenants")));
    printf("last change      %s\n", json_string_value(json_object_get(j, "last_change"))
                                     ? json_string_value(json_object_get(j, "last_change")) : "never");
    nodes = json_object_get(j, "nodes");
    printf("%-40s %10s %8s %22s %14s\n", "NODE", "VERSION", "BEHIND", "LAST SEEN", "SNAPSHOT AGE");
    json_array_foreach(nodes, i, n) {
        char age[32] = "none";

        if (json_is_integer(json_object_get(n, "snapshot_age")))
            snprintf(age, sizeof(age), "%llds", (long long)json_integer_value(json_object_get(n, "snapshot_age")));
        printf("%-40s %10lld %8lld %22s %14s\n", json_string_value(json_object_get(n, "node")),
               (long long)json_integer_value(json_object_get(n, "version")),
               (long long)json_integer_value(json_object_get(n, "versions_behind")),
               json_string_value(json_object_get(n, "last_seen")), age);
    }
    json_decref(j);
}

int ctl_store(struct ctl_ctx *ctx, int argc, char **argv)
{
    struct conf *conf = ctl_conf(ctx);
    struct conf_error err = { "" };
    const char *sub = argc > 1 ? argv[1] : "";

    if (conf == NULL)
        return EX_CONFIG;
    if (!(strcmp(sub, "init") == 0 && argc == 2) && !(strcmp(sub, "import") == 0 && argc == 3)
        && !(strcmp(sub, "status") == 0 && argc == 2))
        return ctl_fail(EX_USAGE, STORE_USAGE);
    if (!store_is_pg(conf->tenant_store))
        return ctl_fail(EX_CONFIG, "store %s: tenant_store is not a PostgreSQL URI (postgresql://...): "
                        "the file store needs no init", sub);
    if (strcmp(sub, "init") == 0) {
        int from, to;

        if (store_pg_init(conf->tenant_store, &from, &to, &err) < 0)
            return store_fail(&err);
        if (from == to)
            printf("schema version %d: up to date, nothing changed\n", to);
        else
            printf("schema version %d -> %d\n", from, to);
        return 0;
    }
    if (strcmp(sub, "import") == 0) {
        size_t n;

        if (store_pg_import(conf->tenant_store, argv[2], &n, &err) < 0)
            return store_fail(&err);
        printf("imported %zu tenant%s from %s\n", n, n == 1 ? "" : "s", argv[2]);
        return 0;
    }
    {
        char *text = store_pg_status(conf->tenant_store, &err);

        if (text == NULL)
            return store_fail(&err);
        print_status(text, ctx->json);
        free(text);
    }
    return 0;
}
