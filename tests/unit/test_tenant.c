/*
 * test_tenant.c - the tenant store, read side: good stores load with the
 * right values and lookups; every bad store gives "FILE:LINE: reason"
 * naming the field; write + reload round trips.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/tenant.h"
#include "tenantrelay/tenant_write.h"
#include "../../src/tenant/tenant_int.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/tr-tenant-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *write_file(const char *name, const char *text)
{
    static char path[256];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    return path;
}

#define REC(id, extra) "{ id = \"" id "\"; host = \"smtp." id ".example\"; sender = \"n@" id ".example\"; " extra " }"

static void test_good_store(void **state)
{
    struct conf_error err = { "" };
    struct tenant_store *s;
    const struct tenant *t;
    char sub[128];

    (void)state;
    snprintf(sub, sizeof(sub), "%s/store", dir);
    mkdir(sub, 0700);
    write_file("store/a.conf", "tenants = ( " REC("acme", "port = 465; username = \"u\"; password = \"trv1:x:y\"; "
               "domains = [ \"Acme.Example\" ]; addresses = [ \"Billing@Other.Example\" ]; "
               "created = \"2026-01-02T03:04:05Z\"; verified = 1700000000;") ", "
               REC("beta", "enabled = false; tls = \"starttls\"; port = 2525;") " );\n");
    write_file("store/b.conf", "tenants = ( " REC("0zed", "domains = [ \"zed.example\" ];") " );\n");
    write_file("store/empty.conf", "");
    write_file("store/.shard-00.conf.tmp.1", "garbage {{{");
    write_file("store/README", "not a store file");
    s = tenant_store_load(sub, &err);
    if (s == NULL)
        fail_msg("%s", err.text);
    assert_int_equal(tenant_store_count(s), 3);
    assert_string_equal(tenant_store_at(s, 0)->id, "0zed");
    assert_string_equal(tenant_store_at(s, 1)->id, "acme");
    assert_string_equal(tenant_store_at(s, 2)->id, "beta");
    t = tenant_store_find(s, "acme");
    assert_non_null(t);
    assert_int_equal(t->route.port, 465);
    assert_int_equal(t->route.tls, ROUTE_TLS_IMPLICIT);
    assert_string_equal(t->domains[0], "acme.example");
    assert_int_equal(t->created, 1767323045);
    assert_int_equal(t->verified, 1700000000);
    assert_int_equal(t->updated, 0);
    assert_true(t->enabled);
    assert_false(tenant_store_find(s, "beta")->enabled);
    assert_int_equal(tenant_store_find(s, "beta")->route.tls, ROUTE_TLS_STARTTLS);
    assert_null(tenant_store_find(s, "nope"));
    assert_ptr_equal(tenant_store_find_by_sender(s, "billing@other.example"), t);
    assert_ptr_equal(tenant_store_find_by_sender(s, "BILLING@OTHER.EXAMPLE"), t);
    assert_ptr_equal(tenant_store_find_by_sender(s, "anyone@acme.example"), t);
    assert_ptr_equal(tenant_store_find_by_sender(s, "x@ZED.example"), tenant_store_find(s, "0zed"));
    assert_null(tenant_store_find_by_sender(s, "other@other.example"));
    assert_null(tenant_store_find_by_sender(s, "noat"));
    assert_non_null(strstr(tenant_store_file_of(s, t), "/a.conf"));
    tenant_store_free(s);
}

static void test_absent_is_empty(void **state)
{
    struct conf_error err = { "" };
    char sub[128];
    struct tenant_store *s;

    (void)state;
    snprintf(sub, sizeof(sub), "%s/absent", dir);
    s = tenant_store_load(sub, &err);
    assert_non_null(s);
    assert_int_equal(tenant_store_count(s), 0);
    assert_null(tenant_store_find(s, "x"));
    assert_null(tenant_store_find_by_sender(s, "a@b.example"));
    tenant_store_free(s);
    /* A new store is a directory unless named like one file. */
    assert_true(tenant_store_is_dir(sub));
    snprintf(sub, sizeof(sub), "%s/absent.conf", dir);
    assert_false(tenant_store_is_dir(sub));
}

struct bad_case {
    const char *text;
    const char *expect;         /* substring of the error after the file name */
};

static const struct bad_case bad_cases[] = {
    { "tenants = ( " REC("a", "") ",\n" REC("a", "") " );\n", ":2: tenant id 'a' is defined twice" },
    { "tenants = (\n" REC("Bad", "") " );\n", ":2: key 'id': \"Bad\" must match" },
    { "tenants = (\n" REC("default", "") " );\n", ":2: key 'id': \"default\" is reserved" },
    { "tenants = (\n{ id = \"../etc\"; host = \"h.example\"; sender = \"a@b.example\"; } );\n", "must match" },
    { "tenants = (\n{ host = \"h.example\"; sender = \"a@b.example\"; } );\n", ":2: key 'id' is required" },
    { "tenants = (\n{ id = \"a\";\n sender = \"a@b.example\"; } );\n", ":2: key 'host' is required" },
    { "tenants = (\n{ id = \"a\"; host = \"h.example\"; } );\n", "key 'sender' is required" },
    { "tenants = (\n{ id = \"a\"; host = \"h.example\"; sender = \"a@b.example\";\n  bogus = 1; } );\n",
      ":3: unknown key 'bogus'" },
    { "tenants = (\n" REC("a", "\n port = 99999;") " );\n", ":3: key 'port'" },
    { "tenants = (\n" REC("a", "\n domains = [ \"not a domain\" ];") " );\n", ":3: key 'domains': \"not a domain\" is not a valid domain" },
    { "tenants = (\n" REC("a", "\n addresses = [ \"nope\" ];") " );\n", ":3: key 'addresses': \"nope\" is not a valid address" },
    { "tenants = (\n" REC("a", "\n created = \"yesterday\";") " );\n", ":3: key 'created' must be an RFC 3339" },
    { "tenants = (\n" REC("a", "domains = [\"x.example\"];") ",\n" REC("b", "domains = [\"X.example\"];") " );\n",
      ":3: tenant 'b': domain \"x.example\" is already claimed by tenant 'a'" },
    { "tenants = (\n" REC("a", "addresses = [\"p@x.example\"];") ",\n" REC("b", "addresses = [\"p@x.example\"];") " );\n",
      "address \"p@x.example\" is already claimed by tenant 'a'" },
    { "tenants = (\n" REC("a", "username = \"u\";") " );\n", "'username' and 'password' go together" },
    { "tenants = (\n" REC("a", "tls = \"none\";") " );\n", "requires insecure_plaintext" },
    { "tenants = { a = 1; };\n", ":1: key 'tenants' must be a list" },
    { "tenant = ();\n", ":1: unknown key 'tenant'" },
    { "tenants = ( \"x\" );\n", ":1: a tenant record must be a group" },
    { "tenants = ( { id = \"a\" ", ":1: syntax error" },
};

static void test_bad_stores(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(bad_cases); i++) {
        struct conf_error err = { "" };
        char *path = write_file("bad.conf", bad_cases[i].text);
        struct tenant_store *s = tenant_store_load(path, &err);

        if (s != NULL)
            fail_msg("case %zu loaded", i);
        if (strstr(err.text, path) == NULL || strstr(err.text, bad_cases[i].expect) == NULL)
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, err.text, bad_cases[i].expect);
    }
}

static void test_ids(void **state)
{
    static const struct { const char *id; bool ok; } cases[] = {
        { "a", true }, { "0", true }, { "acme-corp.eu_1", true }, { "", false }, { "-a", false },
        { ".a", false }, { "A", false }, { "a/b", false }, { "a b", false }, { "default", false },
        { "defaults", true }, { "..", false },
        { "a123456789012345678901234567890123456789012345678901234567890123", true },
        { "a1234567890123456789012345678901234567890123456789012345678901234", false },
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        if (tenant_id_is_valid(cases[i].id) != cases[i].ok)
            fail_msg("id \"%s\"", cases[i].id);
}

static void count_add(void *ctx, struct tenant *t, const char *file, unsigned line)
{
    (void)file;
    (void)line;
    (*(int *)ctx)++;
    tenant_free_fields(t);
}

/* What the writer produces is what the fast reader takes. */
static void assert_fast_takes(const char *file, int expect)
{
    FILE *fp = fopen(file, "r");
    char buf[65536];
    size_t len;
    int count = 0;
    struct tenant_fast_out out = { &count, count_add };

    assert_non_null(fp);
    len = fread(buf, 1, sizeof(buf), fp);
    fclose(fp);
    assert_int_equal(tenant_fast_parse(buf, len, file, &out), 0);
    assert_int_equal(count, expect);
}

static void test_write_round_trip(void **state)
{
    struct conf_error err = { "" };
    struct tenant t, u;
    const struct tenant *recs[2] = { &t, &u };
    struct tenant_store *s;
    char path[256], *file;

    (void)state;
    memset(&t, 0, sizeof(t));
    route_init(&t.route);
    t.id = mystrdup("acme");
    t.enabled = true;
    t.route.host = mystrdup("smtp.acme.example");
    t.route.port = 587;
    t.route.username = mystrdup("we\"ird\\user");
    t.route.password = mystrdup("trv1:abc:def");
    t.route.sender = mystrdup("n@acme.example");
    t.route.tls_verify = false;
    t.domains = mycalloc(3, sizeof(char *));
    t.domains[0] = mystrdup("acme.example");
    t.domains[1] = mystrdup("acme2.example");
    t.addresses = mycalloc(1, sizeof(char *));
    t.created = 1700000000;
    t.updated = 1700000001;
    tenant_copy(&u, &t);
    myfree(u.id);
    u.id = mystrdup("beta");
    conf_free_strings(u.domains);
    u.domains = mycalloc(1, sizeof(char *));

    snprintf(path, sizeof(path), "%s/rt", dir);
    file = tenant_store_file_for(path, "acme");
    assert_non_null(strstr(file, "/rt/shard-"));
    int fd = tenant_store_lock(path, &err);
    assert_true(fd >= 0);
    assert_int_equal(tenant_store_write_file(file, recs, 2, &err), 0);
    tenant_store_unlock(fd);
    s = tenant_store_load(path, &err);
    if (s == NULL)
        fail_msg("%s", err.text);
    assert_int_equal(tenant_store_count(s), 2);
    const struct tenant *r = tenant_store_find(s, "acme");
    assert_string_equal(r->route.username, "we\"ird\\user");
    assert_string_equal(r->route.password, "trv1:abc:def");
    assert_false(r->route.tls_verify);
    assert_int_equal(r->route.tls, ROUTE_TLS_STARTTLS);
    assert_string_equal(r->domains[1], "acme2.example");
    assert_int_equal(r->created, 1700000000);
    assert_int_equal(r->verified, 0);
    assert_string_equal(tenant_store_file_of(s, r), file);
    tenant_store_free(s);
    /* Without the escaped username, the fast reader takes the writer's
     * output as it is (the escape made it hand the file to libconfig). */
    myfree(t.route.username);
    t.route.username = mystrdup("user@acme.example");
    t.route.ca_file = mystrdup("/etc/ssl/ca.pem");
    t.verified = 1700000002;
    t.enabled = false;
    t.route.insecure_plaintext = true;
    t.route.rewrite_from = false;
    assert_int_equal(tenant_store_write_file(file, recs, 1, &err), 0);
    assert_fast_takes(file, 1);
    /* n = 0 removes the file. */
    assert_int_equal(tenant_store_write_file(file, recs, 0, &err), 0);
    assert_int_equal(access(file, F_OK), -1);
    myfree(file);
    tenant_free_fields(&t);
    tenant_free_fields(&u);
}

/* The partial load of a writer must see every record that holds the id or
 * one of the claims, however the file is written. */
static void test_load_for_update(void **state)
{
    static const struct { const char *text; bool must_see; } cases[] = {
        { "tenants = ( " REC("a", "domains = [ \"x.example\" ];") " );\n", true },
        { "tenants = ( " REC("a", "domains = [ \"X.Example\" ];") " );\n", true },
        { "# a stray \" quote in a comment\ntenants = ( " REC("a", "domains = [ \"x.example\" ];") " );\n", true },
        { "// \"\n/* \" */ tenants = ( " REC("a", "domains = [ \"x.example\" ];") " );\n", true },
        { "tenants = ( " REC("a", "domains = [ \"x.\" \"example\" ];") " );\n", true },
        { "tenants = ( " REC("a", "domains = [ \"x\\x2eexample\" ];") " );\n", true },
        { "tenants = ( " REC("a", "domains = [ \"y.example\" ];") " );\n", false },
        { "tenants = ( " REC("a", "domains = [ \"xx.example\" ];") " );\n", false },
    };
    char sub[128], file[160];
    char *domains[] = { "x.example", NULL };

    (void)state;
    snprintf(sub, sizeof(sub), "%s/upd", dir);
    mkdir(sub, 0700);
    snprintf(file, sizeof(file), "upd/zz-hand-written.conf");
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct conf_error err = { "" };
        struct tenant_store *s;

        write_file(file, cases[i].text);
        s = tenant_store_load_for_update(sub, "b", domains, NULL, &err);
        if (s == NULL)
            fail_msg("case %zu: %s", i, err.text);
        if ((tenant_store_find(s, "a") != NULL) != cases[i].must_see)
            fail_msg("case %zu: tenant a %s", i, cases[i].must_see ? "missed" : "parsed for nothing");
        tenant_store_free(s);
    }
    /* The id itself, wherever it lives. */
    {
        struct conf_error err = { "" };
        struct tenant_store *s;

        write_file(file, "tenants = ( " REC("b", "") " );\n");
        s = tenant_store_load_for_update(sub, "b", NULL, NULL, &err);
        assert_non_null(s);
        assert_non_null(tenant_store_find(s, "b"));
        tenant_store_free(s);
    }
}

/* The fast reader of the canonical layout and libconfig agree: the same
 * records, and the same errors with the same lines. */
static void test_fast_reader(void **state)
{
    static const char canonical[] =
        "# tenantrelay tenant store\n"
        "tenants = (\n"
        "  {\n    id = \"acme\";\n    enabled = false;\n    host = \"smtp.acme.example\";\n"
        "    port = 465;\n    username = \"u\";\n    password = \"trv1:abc:def\";\n"
        "    sender = \"n@acme.example\";\n    domains = [ \"Acme.example\", \"b.example\" ];\n"
        "    addresses = [ ];\n    tls_verify = false;\n    created = \"2026-01-02T03:04:05Z\";\n"
        "    verified = 1700000000;\n  },\n"
        "  {\n    id = \"beta\";\n    host = \"127.0.0.1\";\n    tls = \"none\";\n"
        "    insecure_plaintext = true;\n    sender = \"n@beta.example\";\n  }\n"
        ");\n";
    static const char dup[] =
        "tenants = (\n"
        "  {\n    id = \"a\";\n    host = \"h.example\";\n    sender = \"n@a.example\";\n  },\n"
        "  {\n    id = \"a\";\n    host = \"h.example\";\n    sender = \"n@a.example\";\n  }\n"
        ");\n";
    const char *texts[] = { canonical, dup };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(texts); i++) {
        struct conf_error e1 = { "" }, e2 = { "" };
        char *path = write_file("fast.conf", texts[i]);
        struct tenant_store *fast, *slow;

        tenant_store_fast_reader(false);
        slow = tenant_store_load(path, &e1);
        tenant_store_fast_reader(true);
        fast = tenant_store_load(path, &e2);
        assert_string_equal(e1.text, e2.text);
        assert_int_equal(fast == NULL, slow == NULL);
        if (i == 0) {
            const struct tenant *a = tenant_store_find(fast, "acme"), *b = tenant_store_find(slow, "acme");

            assert_non_null(a);
            assert_non_null(b);
            assert_int_equal(a->route.port, b->route.port);
            assert_int_equal(a->route.tls, ROUTE_TLS_IMPLICIT);
            assert_int_equal(a->route.tls, b->route.tls);
            assert_false(a->enabled);
            assert_false(a->route.tls_verify);
            assert_string_equal(a->domains[0], "acme.example");
            assert_string_equal(a->domains[0], b->domains[0]);
            assert_int_equal(a->created, b->created);
            assert_int_equal(a->verified, 1700000000);
            assert_int_equal(tenant_store_find(fast, "beta")->route.tls, ROUTE_TLS_NONE);
        } else {
            if (!strstr(e2.text, ":7: tenant id 'a' is defined twice (also"))
                fail_msg("%s", e2.text);
            assert_non_null(strstr(e2.text, ":2)"));
        }
        tenant_store_free(fast);
        tenant_store_free(slow);
    }
}

static void test_times(void **state)
{
    char buf[64];
    time_t t;

    (void)state;
    tenant_time_format(1767323045, buf, sizeof(buf));
    assert_string_equal(buf, "2026-01-02T03:04:05Z");
    assert_int_equal(tenant_time_parse("2026-01-02T03:04:05Z", &t), 0);
    assert_int_equal(t, 1767323045);
    assert_int_equal(tenant_time_parse("2026-01-02T03:04:05.123Z", &t), 0);
    assert_int_equal(tenant_time_parse("2026-01-02T03:04:05+00:00", &t), 0);
    assert_int_equal(tenant_time_parse("2026-01-02T03:04:05+02:00", &t), -1);
    assert_int_equal(tenant_time_parse("2026-01-02", &t), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_store),
        cmocka_unit_test(test_absent_is_empty),
        cmocka_unit_test(test_bad_stores),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_write_round_trip),
        cmocka_unit_test(test_load_for_update),
        cmocka_unit_test(test_fast_reader),
        cmocka_unit_test(test_times),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
