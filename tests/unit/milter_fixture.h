/*
 * milter_fixture.h - what the milter's unit tests (test_milter.c,
 * test_header_grammar.c) decide against: a tenant store and a configuration
 * written as files to a fresh temporary directory and loaded from there,
 * as the milter loads them (into conf and store); removed again afterwards.
 */
#ifndef TENANTRELAY_TEST_MILTER_FIXTURE_H
#define TENANTRELAY_TEST_MILTER_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "unit.h"
#include "tenantrelay/conf.h"
#include "tenantrelay/tenant.h"

/* What the tests decide against, once milter_fixture_load has run. */
static struct conf *conf;
static struct tenant_store *store;
static char fixture_dir[64], fixture_conf_path[128], fixture_store_path[128];

/* milter_fixture_load: the directory from the mkdtemp(3) template TMPL;
 * the store file holds TENANTS (libconfig text); the configuration names
 * it, then EXTRA (libconfig lines, may be "") and the default route. */
static void milter_fixture_load(const char *tmpl, const char *tenants, const char *extra)
{
    struct conf_error err = { "" };
    FILE *fp;

    snprintf(fixture_dir, sizeof(fixture_dir), "%s", tmpl);
    assert_non_null(mkdtemp(fixture_dir));
    snprintf(fixture_store_path, sizeof(fixture_store_path), "%s/tenants", fixture_dir);
    snprintf(fixture_conf_path, sizeof(fixture_conf_path), "%s/relay.conf", fixture_dir);
    fp = fopen(fixture_store_path, "w");
    assert_non_null(fp);
    fputs(tenants, fp);
    fclose(fp);
    fp = fopen(fixture_conf_path, "w");
    assert_non_null(fp);
    fprintf(fp, "hostname = \"relay.test\";\ntenant_store = \"%s\";\n%s"
                "default_route = { host = \"127.0.0.1\"; port = 465; sender = \"notifications@platform.test\"; };\n",
            fixture_store_path, extra);
    fclose(fp);
    if ((conf = conf_load(fixture_conf_path, &err)) == NULL)
        fail_msg("conf: %s", err.text);
    if ((store = tenant_store_load(fixture_store_path, &err)) == NULL)
        fail_msg("store: %s", err.text);
}

/* A cmocka teardown: frees and removes what milter_fixture_load made. */
static int milter_fixture_teardown(void **state)
{
    (void)state;
    tenant_store_free(store);
    conf_unref(conf);
    unlink(fixture_store_path);
    unlink(fixture_conf_path);
    rmdir(fixture_dir);
    return 0;
}

#endif
