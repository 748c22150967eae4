/*
 * test_store.c - the tenant-store interface (store.h) on the file backend:
 * store_tenant_put's compare-and-swap (a stale base is a race, nothing
 * saved), claims, removal, enable/disable, and how a URI is shown in logs.
 * (The PostgreSQL backend runs the same operations in
 * tests/integration/test_store_backends.sh and test_store_pg.sh.)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/store.h"
#include "tenantrelay/tenant_write.h"
#include "../../src/store/store_backend.h"

static char dir[64], store_path[128], log_path[128];
static struct conf conf;

static int setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/tr-store.XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(store_path, sizeof(store_path), "%s/tenants", dir);
    snprintf(log_path, sizeof(log_path), "%s/changes.log", dir);
    memset(&conf, 0, sizeof(conf));
    conf.tenant_store = store_path;
    conf.change_log = log_path;
    return 0;
}

static int teardown(void **state)
{
    char cmd[256];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static char **names(const char *a)
{
    char **v = mycalloc(2, sizeof(char *));

    v[0] = a ? mystrdup(a) : NULL;
    return v;
}

static void make(struct tenant *t, const char *id, const char *domain)
{
    memset(t, 0, sizeof(*t));
    route_init(&t->route);
    t->id = mystrdup(id);
    t->enabled = true;
    t->route.host = mystrdup("mx.example");
    t->route.sender = mystrdup("n@example.test");
    t->domains = names(domain);
    t->addresses = names(NULL);
    t->created = t->updated = 1700000000;
}

/* The stored record of id, copied (caller frees), or zeroed. */
static void stored(const char *id, struct tenant *out)
{
    struct conf_error err = { "" };
    struct tenant_store *s = store_load(&conf, NULL, &err);
    const struct tenant *t;

    assert_non_null(s);
    memset(out, 0, sizeof(*out));
    if ((t = tenant_store_find(s, id)) != NULL)
        tenant_copy(out, t);
    tenant_store_free(s);
}

static void test_put_compare_and_swap(void **state)
{
    struct conf_error err = { "" };
    struct tenant a, b, base, now;

    make(&a, "acme", "acme.test");
    assert_int_equal(store_tenant_put(&conf, NULL, &a, "id", &err), STORE_OK);
    /* Created meanwhile: a put that expected no tenant loses. */
    err.text[0] = 0;
    assert_int_equal(store_tenant_put(&conf, NULL, &a, "id", &err), STORE_RACE);
    assert_non_null(strstr(err.text, "was created"));

    stored("acme", &base);
    assert_true(store_tenant_same(&base, &a));
    /* Two writers read the same base; the first wins... */
    tenant_copy(&b, &base);
    b.route.port = 2525;
    assert_int_equal(store_tenant_put(&conf, &base, &b, "port", &err), STORE_OK);
    /* ...the second, still on the old base, loses and saves nothing. */
    a.route.rate_limit = 7;
    err.text[0] = 0;
    assert_int_equal(store_tenant_put(&conf, &base, &a, "rate_limit", &err), STORE_RACE);
    assert_non_null(strstr(err.text, "changed since it was read"));
    stored("acme", &now);
    assert_true(store_tenant_same(&now, &b));
    /* Read again, it saves: no update lost. */
    tenant_free_fields(&a);
    tenant_copy(&a, &now);
    a.route.rate_limit = 7;
    assert_int_equal(store_tenant_put(&conf, &now, &a, "rate_limit", &err), STORE_OK);
    tenant_free_fields(&now);
    stored("acme", &now);
    assert_int_equal(now.route.port, 2525);
    assert_int_equal(now.route.rate_limit, 7);
    tenant_free_fields(&now);
    tenant_free_fields(&a);
    tenant_free_fields(&b);
    tenant_free_fields(&base);
}

static void test_claims_remove_enable(void **state)
{
    struct conf_error err = { "" };
    struct tenant a, z, now;
    bool changed;

    make(&a, "acme", "acme.test");
    make(&z, "zed", "acme.test");
    assert_int_equal(store_tenant_put(&conf, NULL, &a, "id", &err), STORE_OK);
    assert_int_equal(store_tenant_put(&conf, NULL, &z, "id", &err), STORE_CONFLICT);
    assert_non_null(strstr(err.text, "domain acme.test already belongs to tenant acme"));
    stored("zed", &now);
    assert_null(now.id);

    assert_int_equal(store_tenant_set_enabled(&conf, "acme", false, &changed, &err), STORE_OK);
    assert_true(changed);
    assert_int_equal(store_tenant_set_enabled(&conf, "acme", false, &changed, &err), STORE_OK);
    assert_false(changed);
    stored("acme", &now);
    assert_false(now.enabled);
    tenant_free_fields(&now);

    err.text[0] = 0;
    assert_int_equal(store_tenant_remove(&conf, "nosuch", &err), STORE_NOT_FOUND);
    assert_int_equal(store_tenant_remove(&conf, "acme", &err), STORE_OK);
    stored("acme", &now);
    assert_null(now.id);
    tenant_free_fields(&a);
    tenant_free_fields(&z);
}

static void test_display_name(void **state)
{
    static const struct { const char *in, *out; } cases[] = {
        { "/etc/tenantrelay/tenants", "/etc/tenantrelay/tenants" },
        { "postgresql://u@db.internal/tr", "postgresql://u@db.internal/tr" },
        { "postgresql://u:s3cret@db.internal:5432/tr", "postgresql://u:***@db.internal:5432/tr" },
        { "postgres://u:s3cret@db/tr?sslmode=require&password=x", "postgres://u:***@db/tr" },
        { "postgresql://db/tr?password=x", "postgresql://db/tr" },
        { "postgresql://u:p@", "postgresql://u:***@" },
    };
    char buf[256];

    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        assert_string_equal(store_display_name(cases[i].in, buf, sizeof(buf)), cases[i].out);
    assert_true(store_is_pg("postgresql://x"));
    assert_true(store_is_pg("postgres://x"));
    assert_false(store_is_pg("/var/lib/postgresql://x"));
}

/* The optimistic check's route part is route_equal(), except that a
 * password route's oauth group (meaningless there) never counts. */
static void test_tenant_same_route(void **state)
{
    struct tenant a, b;

    make(&a, "acme", "acme.test");
    make(&b, "acme", "acme.test");
    assert_true(store_tenant_same(&a, &b));
    assert_true(store_tenant_same(NULL, NULL));
    assert_false(store_tenant_same(&a, NULL));
    b.route.max_connections = 9;
    assert_false(store_tenant_same(&a, &b));
    b.route.max_connections = a.route.max_connections;
    myfree(b.route.bind_address);
    b.route.bind_address = mystrdup("192.0.2.1");
    assert_false(store_tenant_same(&a, &b));
    myfree(b.route.bind_address);
    b.route.bind_address = NULL;
    /* A leftover group on a password route: still the same record. */
    b.route.oauth.client_id = mystrdup("left-over");
    assert_true(store_tenant_same(&a, &b));
    /* On xoauth2 routes the group is compared. */
    a.route.auth = b.route.auth = ROUTE_AUTH_XOAUTH2;
    assert_false(store_tenant_same(&a, &b));
    a.route.oauth.client_id = mystrdup("left-over");
    assert_true(store_tenant_same(&a, &b));
    b.route.auth = ROUTE_AUTH_PASSWORD;
    assert_false(store_tenant_same(&a, &b));
    tenant_free_fields(&a);
    tenant_free_fields(&b);
}

/* The backend comes from the setting alone; the file backend's two loads
 * differ only on a store that does not exist yet. */
static void test_backend_for(void **state)
{
    struct conf_error err = { "" };
    struct tenant_store *s;

    assert_ptr_equal(store_backend_for("postgresql://u@db/tr"), &store_backend_pg);
    assert_ptr_equal(store_backend_for("postgres://db/tr"), &store_backend_pg);
    assert_ptr_equal(store_backend_for(store_path), &store_backend_file);
    assert_string_equal(store_backend_pg.name, "postgresql");
    assert_string_equal(store_backend_file.name, "file");
    s = store_load(&conf, NULL, &err);
    assert_non_null(s);
    assert_int_equal(tenant_store_count(s), 0);
    tenant_store_free(s);
    assert_null(store_load_whole(&conf, NULL, &err));
    assert_true(err.text[0] != 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_compare_and_swap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claims_remove_enable, setup, teardown),
        cmocka_unit_test(test_display_name),
        cmocka_unit_test(test_tenant_same_route),
        cmocka_unit_test_setup_teardown(test_backend_for, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
