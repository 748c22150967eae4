/*
 * test_tenant_fast_oauth.c - the fast reader of the canonical store layout
 * (src/tenant/tenant_fast.c) on OAuth2 records: what tenant_store_write_file()
 * writes for each provider is taken by the fast reader (a PostgreSQL node's
 * spool snapshot is read this way) with the same records libconfig gives,
 * and every variant it is not sure of is declined (left to libconfig, which
 * gives the error).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/tenant_write.h"
#include "../../src/tenant/tenant_int.h"

#define TOK "trv1:0123456789ab:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo"

struct rec {
    const char *id;
    enum route_auth auth;
    enum route_oauth_provider provider;
    const char *directory, *token_url, *client_id, *client_secret, *cert, *key, *sa, *scope, *alg;
};

static const struct rec recs[] = {
    { "pw", ROUTE_AUTH_PASSWORD, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
    { "ms-secret", ROUTE_AUTH_XOAUTH2, ROUTE_OAUTH_MICROSOFT, "contoso.onmicrosoft.com", NULL,
      "11111111-2222-3333-4444-555555555555", TOK, NULL, NULL, NULL, NULL, NULL },
    { "ms-cert", ROUTE_AUTH_XOAUTH2, ROUTE_OAUTH_MICROSOFT, NULL, "https://login.example/d/oauth2/v2.0/token",
      "c2", NULL, "/etc/tenantrelay/oauth/app.pem", TOK, NULL, "https://outlook.office365.com/.default", "RS256" },
    { "google", ROUTE_AUTH_XOAUTH2, ROUTE_OAUTH_GOOGLE, NULL, NULL, NULL, NULL, NULL, NULL, TOK, NULL, NULL },
    { "generic", ROUTE_AUTH_XOAUTH2, ROUTE_OAUTH_GENERIC, NULL, "https://idp.example/token", "c3", TOK,
      NULL, NULL, NULL, "smtp", NULL },
};
#define NRECS (sizeof(recs) / sizeof(recs[0]))

static char *dup_or_null(const char *s)
{
    return s ? mystrdup(s) : NULL;
}

static void make(struct tenant *t, const struct rec *r)
{
    char buf[128];

    memset(t, 0, sizeof(*t));
    route_init(&t->route);
    t->id = mystrdup(r->id);
    t->enabled = true;
    t->route.host = mystrdup("smtp.example.com");
    t->route.port = 587;
    snprintf(buf, sizeof(buf), "box@%s.example", r->id);
    t->route.username = mystrdup(buf);
    t->route.sender = mystrdup(buf);
    t->route.password = r->auth == ROUTE_AUTH_PASSWORD ? mystrdup(TOK) : NULL;
    t->route.auth = r->auth;
    t->route.oauth.provider = r->provider;
    t->route.oauth.directory = dup_or_null(r->directory);
    t->route.oauth.token_url = dup_or_null(r->token_url);
    t->route.oauth.client_id = dup_or_null(r->client_id);
    t->route.oauth.client_secret = dup_or_null(r->client_secret);
    t->route.oauth.client_cert_file = dup_or_null(r->cert);
    t->route.oauth.client_key = dup_or_null(r->key);
    t->route.oauth.service_account = dup_or_null(r->sa);
    t->route.oauth.scope = dup_or_null(r->scope);
    t->route.oauth.assertion_alg = dup_or_null(r->alg);
    t->domains = mycalloc(1, sizeof(char *));
    t->addresses = mycalloc(1, sizeof(char *));
    t->created = t->updated = 1764547200;
}

struct got {
    struct tenant t[8];
    size_t n;
};

static void collect(void *ctx, struct tenant *t, const char *file, unsigned line)
{
    struct got *g = ctx;

    (void)file;
    (void)line;
    assert_true(g->n < 8);
    g->t[g->n++] = *t;
}

static void got_free(struct got *g)
{
    for (size_t i = 0; i < g->n; i++)
        tenant_free_fields(&g->t[i]);
    g->n = 0;
}

static char *written(char *path, size_t *len)
{
    struct tenant ts[NRECS];
    const struct tenant *ptrs[NRECS];
    struct conf_error err = { "" };
    FILE *f;
    char *buf;
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    close(fd);
    for (size_t i = 0; i < NRECS; i++) {
        make(&ts[i], &recs[i]);
        ptrs[i] = &ts[i];
    }
    assert_int_equal(tenant_store_write_file(path, ptrs, NRECS, &err), 0);
    for (size_t i = 0; i < NRECS; i++)
        tenant_free_fields(&ts[i]);
    assert_non_null(f = fopen(path, "r"));
    buf = mycalloc(1, 1 << 16);
    *len = fread(buf, 1, (1 << 16) - 1, f);
    fclose(f);
    return buf;
}

/* Every provider's record as written: taken by the fast reader, the same
 * records as libconfig's. */
static void test_written_taken(void **state)
{
    char path[] = "/tmp/tr-fast-oauth.XXXXXX";
    size_t len;
    char *buf = written(path, &len);
    struct got g = { .n = 0 };
    struct tenant_fast_out out = { &g, collect };
    struct conf_error err = { "" };
    struct tenant_store *slow;

    (void)state;
    assert_int_equal(tenant_fast_parse(buf, len, path, &out), 0);
    assert_int_equal(g.n, NRECS);
    tenant_store_fast_reader(false);
    slow = tenant_store_load(path, &err);
    tenant_store_fast_reader(true);
    assert_non_null(slow);
    for (size_t i = 0; i < NRECS; i++) {
        const struct tenant *s = tenant_store_find(slow, g.t[i].id);

        assert_non_null(s);
        assert_int_equal(g.t[i].route.auth, recs[i].auth);
        assert_int_equal(g.t[i].route.auth, s->route.auth);
        assert_true(route_oauth_equal(&g.t[i].route.oauth, &s->route.oauth));
        if (recs[i].auth == ROUTE_AUTH_XOAUTH2)
            assert_null(g.t[i].route.password);
    }
    tenant_store_free(slow);
    got_free(&g);
    myfree(buf);
    unlink(path);
}

/* buf with the first occurrence of from replaced by to (a fresh copy). */
static char *edit(const char *buf, const char *from, const char *to, size_t *len)
{
    const char *at = strstr(buf, from);
    char *out;

    assert_non_null(at);
    out = mycalloc(1, strlen(buf) + strlen(to) + 1);
    memcpy(out, buf, (size_t)(at - buf));
    strcat(out, to);
    strcat(out, at + strlen(from));
    *len = strlen(out);
    return out;
}

/* Variants the fast reader must decline (libconfig decides, and names the
 * error), and one it takes. */
static void test_variants(void **state)
{
    static const struct { const char *from, *to; int want; } cases[] = {
        { "    auth = \"xoauth2\";\n", "", -1 },                          /* a group without auth */
        { "    oauth = {\n      provider = \"google\";\n      service_account = \"" TOK "\";\n    };\n",
          "", -1 },                                                          /* auth without a group */
        { "client_secret = \"" TOK "\"", "client_secret = \"Plain-s3cret\"", -1 },  /* not sealed */
        { "      provider = \"microsoft\";\n", "      provider = \"microsoft\";\n      provider = \"microsoft\";\n", -1 },
        { "provider = \"generic\"", "provider = \"yahoo\"", -1 },
        { "directory = \"contoso.onmicrosoft.com\"", "directory = \"\"", -1 },
        { "      client_id = \"c3\";\n", "", -1 },                             /* generic needs a client id */
        { "      provider = \"google\";\n", "", -1 },                          /* provider required */
        { "      scope = \"smtp\";\n", "      color = \"blue\";\n", -1 },       /* unknown key */
        { "token_url = \"https://idp.example/token\"", "token_url = \"http://idp.example/token\"", -1 },
        { "    oauth = {\n", "    oauth = { \n", -1 },                      /* another layout */
        { "    tls = \"starttls\";\n", "    tls = \"starttls\";\n    auth = \"password\";\n", 0 },
    };
    char path[] = "/tmp/tr-fast-oauth.XXXXXX";
    size_t len;
    char *buf = written(path, &len);

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n;
        char *b = edit(buf, cases[i].from, cases[i].to, &n);
        struct got g = { .n = 0 };
        struct tenant_fast_out out = { &g, collect };
        int rc = tenant_fast_parse(b, n, path, &out);

        if (rc != cases[i].want)
            fail_msg("case %zu: tenant_fast_parse gave %d, want %d", i, rc, cases[i].want);
        got_free(&g);
        myfree(b);
    }
    myfree(buf);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_written_taken),
        cmocka_unit_test(test_variants),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
