/*
 * test_resolve.c - tenant resolution: header, sender address and domain,
 * auth, order, trust, conflicts, unknown and disabled tenants under each
 * unknown_tenant policy.  Against a real tenant store loaded from a file.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "tenantrelay/resolve.h"

static struct tenant_store *store;
static char path[64];

#define REC(id, extra) "{ id = \"" id "\"; host = \"smtp." id ".example\"; sender = \"n@" id ".example\"; " extra " }"

static int setup(void **state)
{
    struct conf_error err = { "" };
    FILE *fp;

    snprintf(path, sizeof(path), "/tmp/tr-resolve.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fp = fdopen(fd, "w");
    fputs("tenants = (\n"
          REC("acme", "domains = [ \"acme.example\" ]; addresses = [ \"billing@other.example\" ];") ",\n"
          REC("beta", "enabled = false; domains = [ \"beta.example\" ];") ",\n"
          REC("zed", "addresses = [ \"boss@acme.example\" ];") "\n);\n", fp);
    fclose(fp);
    store = tenant_store_load(path, &err);
    if (store == NULL)
        fail_msg("store: %s", err.text);
    return 0;
}

static int teardown(void **state)
{
    tenant_store_free(store);
    unlink(path);
    return 0;
}

enum order { HS, SH, S_ONLY, A_ONLY };

struct resolve_case {
    const char *name;
    enum order order;
    enum conf_unknown_tenant unknown;
    const char *headers[3];
    bool trusted;
    const char *sender;
    const char *auth;
    enum resolve_verdict verdict;
    const char *tenant;         /* NULL: default route */
    enum resolve_source source;
    const char *reply;          /* prefix when refused */
    bool stale;                 /* the store's database is unreachable */
};

static const struct resolve_case cases[] = {
    { "header names the tenant", HS, CONF_UNKNOWN_DEFAULT, { "acme" }, true, "a@x.example", NULL,
      RESOLVE_ACCEPT, "acme", RESOLVE_SOURCE_HEADER, NULL, false },
    { "header value trimmed and case-folded", HS, CONF_UNKNOWN_DEFAULT, { "  ACME \t" }, true, "", NULL,
      RESOLVE_ACCEPT, "acme", RESOLVE_SOURCE_HEADER, NULL, false },
    { "the same id twice is fine", HS, CONF_UNKNOWN_DEFAULT, { "acme", "Acme" }, true, "", NULL,
      RESOLVE_ACCEPT, "acme", RESOLVE_SOURCE_HEADER, NULL, false },
    { "two different ids: 5.7.1", HS, CONF_UNKNOWN_DEFAULT, { "acme", "zed" }, true, "", NULL,
      RESOLVE_REJECT, NULL, RESOLVE_SOURCE_HEADER, "550 5.7.1 Error: conflicting X-Tenant-ID", false },
    { "header from an untrusted client ignored", HS, CONF_UNKNOWN_DEFAULT, { "acme" }, false, "a@x.example", NULL,
      RESOLVE_ACCEPT, NULL, RESOLVE_SOURCE_NONE, NULL, false },
    { "untrusted conflicting headers ignored, not refused", HS, CONF_UNKNOWN_REJECT, { "acme", "zed" }, false, "a@x.example", NULL,
      RESOLVE_ACCEPT, NULL, RESOLVE_SOURCE_NONE, NULL, false },
    { "untrusted header, then the sender decides", HS, CONF_UNKNOWN_DEFAULT, { "zed" }, false, "a@acme.example", NULL,
      RESOLVE_ACCEPT, "acme", RESOLVE_SOURCE_SENDER, NULL, false },
    { "sender domain", HS, CONF_UNKNOWN_DEFAULT, { NULL }, true, "news@acme.example", NULL,
      RESOLVE_ACCEPT, "acme", RESOLVE_SOURCE_SENDER, NULL, false },
    { "sender address", HS, CONF_UNKNOWN_DEFAULT, { NULL }, true, "billing@other.example", NULL,
      RESOLVE_ACCEPT, "acme", RESOLVE_SOURCE_SENDER, NULL, false },
    { "sender address beats the domain", HS, CONF_UNKNOWN_DEFAULT, { NULL }, true, "boss@acme.example", NULL,
      RESOLVE_ACCEPT, "zed", RESOLVE_SOURCE_SENDER, NULL, false },
    { "sender matching is case-insensitive", HS, CONF_UNKNOWN_DEFAULT, { NULL }, true, "Boss@ACME.Example", NULL,
      RESOLVE_ACCEPT, "zed", RESOLVE_SOURCE_SENDER, NULL, false },
    { "nothing matches: default route", HS, CONF_UNKNOWN_REJECT, { NULL }, true, "a@nowhere.example", NULL,
      RESOLVE_ACCEPT, NULL, RESOLVE_SOURCE_NONE, NULL, false },
    { "null sender: default route", HS, CONF_UNKNOWN_DEFAULT, { NULL }, true, "", NULL,
      RESOLVE_ACCEPT, NULL, RESOLVE_SOURCE_NONE, NULL, false },
    { "unknown tenant, unknown_tenant = default", HS, CONF_UNKNOWN_DEFAULT, { "nope" }, true, "a@acme.example", NULL,
      RESOLVE_ACCEPT, NULL, RESOLVE_SOURCE_NONE, NULL, false },
    { "unknown tenant, unknown_tenant = reject", HS, CONF_UNKNOWN_REJECT, { "nope" }, true, "", NULL,
      RESOLVE_REJECT, NULL, RESOLVE_SOURCE_HEADER, "550 5.7.1 Error: tenant 'nope' is unknown", false },
    { "unknown tenant, unknown_tenant = tempfail", HS, CONF_UNKNOWN_TEMPFAIL, { "nope" }, true, "", NULL,
      RESOLVE_TEMPFAIL, NULL, RESOLVE_SOURCE_HEADER, "451 4.7.1 Error: tenant 'nope' is unknown", false },
    { "a path is no tenant id", HS, CONF_UNKNOWN_REJECT, { "../etc" }, true, "", NULL,
      RESOLVE_REJECT, NULL, RESOLVE_SOURCE_HEADER, "550 5.7.1", false },
    { "disabled tenant, reject", HS, CONF_UNKNOWN_REJECT, { "beta" }, true, "", NULL,
      RESOLVE_REJECT, NULL, RESOLVE_SOURCE_HEADER, "550 5.7.1 Error: tenant 'beta' is disabled", false },
    { "disabled tenant by sender, default", HS, CONF_UNKNOWN_DEFAULT, { NULL }, true, "x@beta.example", NULL,
      RESOLVE_ACCEPT, NULL, RESOLVE_SOURCE_NONE, NULL, false },
    { "disabled tenant by sender, tempfail", HS, CONF_UNKNOWN_TEMPFAIL, { NULL }, true, "x@beta.example", NULL,
      RESOLVE_TEMPFAIL, NULL, RESOLVE_SOURCE_SENDER, "451 4.7.1", false },
    { "order header, sender: header wins", HS, CONF_UNKNOWN_DEFAULT, { "zed" }, true, "x@acme.example", NULL,
      RESOLVE_ACCEPT, "zed", RESOLVE_SOURCE_HEADER, NULL, false },
    { "order sender, header: sender wins", SH, CONF_UNKNOWN_DEFAULT, { "zed" }, true, "x@acme.example", NULL,
      RESOLVE_ACCEPT, "acme", RESOLVE_SOURCE_SENDER, NULL, false },
    { "order sender, header: header when the sender is nobody's", SH, CONF_UNKNOWN_DEFAULT, { "zed" }, true, "x@else.example", NULL,
      RESOLVE_ACCEPT, "zed", RESOLVE_SOURCE_HEADER, NULL, false },
    { "header not a source: its values are not used", S_ONLY, CONF_UNKNOWN_REJECT, { "acme", "zed" }, true, "x@else.example", NULL,
      RESOLVE_ACCEPT, NULL, RESOLVE_SOURCE_NONE, NULL, false },
    { "auth identity as tenant id", A_ONLY, CONF_UNKNOWN_DEFAULT, { NULL }, true, "", "acme",
      RESOLVE_ACCEPT, "acme", RESOLVE_SOURCE_AUTH, NULL, false },
    { "auth identity as address", A_ONLY, CONF_UNKNOWN_DEFAULT, { NULL }, true, "", "boss@acme.example",
      RESOLVE_ACCEPT, "zed", RESOLVE_SOURCE_AUTH, NULL, false },
    { "no auth identity: default", A_ONLY, CONF_UNKNOWN_REJECT, { NULL }, true, "x@acme.example", NULL,
      RESOLVE_ACCEPT, NULL, RESOLVE_SOURCE_NONE, NULL, false },
    /* A stale PostgreSQL snapshot: an unknown named tenant may have been
     * created since, so it is tempfailed whatever unknown_tenant says. */
    { "stale store: known tenant still routes", HS, CONF_UNKNOWN_DEFAULT, { "acme" }, true, "", NULL,
      RESOLVE_ACCEPT, "acme", RESOLVE_SOURCE_HEADER, NULL, true },
    { "stale store: unknown tenant 451, not the default route", HS, CONF_UNKNOWN_DEFAULT, { "nope" }, true, "", NULL,
      RESOLVE_TEMPFAIL, NULL, RESOLVE_SOURCE_HEADER, "451 4.3.0 Error: tenant 'nope' is unknown", true },
    { "stale store: unknown tenant 451 even with reject", HS, CONF_UNKNOWN_REJECT, { "nope" }, true, "", NULL,
      RESOLVE_TEMPFAIL, NULL, RESOLVE_SOURCE_HEADER, "451 4.3.0", true },
    { "stale store: unknown auth identity 451", A_ONLY, CONF_UNKNOWN_DEFAULT, { NULL }, true, "", "nope",
      RESOLVE_TEMPFAIL, NULL, RESOLVE_SOURCE_AUTH, "451 4.3.0", true },
    { "stale store: disabled tenant follows unknown_tenant", HS, CONF_UNKNOWN_DEFAULT, { "beta" }, true, "", NULL,
      RESOLVE_ACCEPT, NULL, RESOLVE_SOURCE_NONE, NULL, true },
    { "stale store: no tenant named, default route", HS, CONF_UNKNOWN_DEFAULT, { NULL }, true, "a@nowhere.example", NULL,
      RESOLVE_ACCEPT, NULL, RESOLVE_SOURCE_NONE, NULL, true },
};

static void test_table(void **state)
{
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct resolve_case *c = &cases[i];
        struct conf conf;
        struct resolve_input in;
        struct resolve_result r;
        size_t nh = 0;

        memset(&conf, 0, sizeof(conf));
        conf.tenant_header = "X-Tenant-ID";
        conf.unknown_tenant = c->unknown;
        switch (c->order) {
        case HS:
            conf.resolution[0] = CONF_RESOLVE_HEADER;
            conf.resolution[1] = CONF_RESOLVE_SENDER;
            conf.resolution_count = 2;
            break;
        case SH:
            conf.resolution[0] = CONF_RESOLVE_SENDER;
            conf.resolution[1] = CONF_RESOLVE_HEADER;
            conf.resolution_count = 2;
            break;
        case S_ONLY:
            conf.resolution[0] = CONF_RESOLVE_SENDER;
            conf.resolution_count = 1;
            break;
        case A_ONLY:
            conf.resolution[0] = CONF_RESOLVE_AUTH;
            conf.resolution_count = 1;
            break;
        }
        while (nh < 3 && c->headers[nh])
            nh++;
        in = (struct resolve_input){ &conf, store, c->headers, nh, c->trusted, c->sender, c->auth, c->stale };
        resolve_tenant(&in, &r);
        if (r.verdict != c->verdict || r.source != c->source
            || (c->tenant == NULL) != (r.tenant == NULL)
            || (c->tenant && strcmp(c->tenant, r.tenant->id) != 0)
            || (c->reply && strncmp(r.reply, c->reply, strlen(c->reply)) != 0))
            fail_msg("case \"%s\": verdict %d source %s tenant %s reply \"%s\" reason \"%s\"", c->name,
                     r.verdict, resolve_source_name(r.source), r.tenant ? r.tenant->id : "-", r.reply,
                     r.reason);
        assert_true(r.reason[0] != 0);
    }
}

static void test_empty_store(void **state)
{
    struct conf conf;
    struct resolve_result r;
    const char *h[] = { "acme" };
    struct resolve_input in;

    memset(&conf, 0, sizeof(conf));
    conf.tenant_header = "X-Tenant-ID";
    conf.resolution[0] = CONF_RESOLVE_HEADER;
    conf.resolution[1] = CONF_RESOLVE_SENDER;
    conf.resolution_count = 2;
    conf.unknown_tenant = CONF_UNKNOWN_REJECT;
    in = (struct resolve_input){ &conf, NULL, h, 1, true, "a@acme.example", NULL, false };
    resolve_tenant(&in, &r);
    assert_int_equal(r.verdict, RESOLVE_REJECT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_table, setup, teardown),
        cmocka_unit_test(test_empty_store),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
