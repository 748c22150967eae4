/*
 * test_http.c - the pure parts of the HTTP API and its neighbours, table
 * driven: the route table, a PUT body as a tenant update, API tokens
 * (add, check, revoke, file mode), the webhook signature (RFC 4231), and
 * the metrics exposition (names, _total, # EOF only in OpenMetrics), the
 * request body's buffers wiped as they are let go of, a JSON error that
 * never quotes the body, and the settings POST /v1/test refuses.
 */
#include "config.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "tenantrelay/dbuf.h"
#include "tenantrelay/http.h"
#include "tenantrelay/http_token.h"
#include "tenantrelay/metrics.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/webhook.h"
#include "../../src/http/http_int.h"

static void test_routes(void **state)
{
    static const struct { const char *path; enum http_route r; const char *id; } cases[] = {
        { "/metrics", HTTP_R_METRICS, "" },
        { "/healthz", HTTP_R_HEALTHZ, "" },
        { "/readyz", HTTP_R_READYZ, "" },
        { "/ui", HTTP_R_UI, "" },
        { "/ui/app.js", HTTP_R_UI, "" },
        { "/v1/tenants", HTTP_R_TENANTS, "" },
        { "/v1/tenants/acme", HTTP_R_TENANT, "acme" },
        { "/v1/tenants/acme/test", HTTP_R_TENANT_TEST, "acme" },
        { "/v1/tenants/acme/other", HTTP_R_NOT_FOUND, "" },
        { "/v1/tenants/", HTTP_R_NOT_FOUND, "" },
        { "/v1/test", HTTP_R_TEST, "" },
        { "/v1/status", HTTP_R_STATUS, "" },
        { "/v1/queue", HTTP_R_QUEUE, "" },
        { "/v1/events", HTTP_R_EVENTS, "" },
        { "/v1/eventsx", HTTP_R_NOT_FOUND, "" },
        { "/", HTTP_R_NOT_FOUND, "" },
        { "/uix", HTTP_R_NOT_FOUND, "" },
    };
    char id[16];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        assert_int_equal(http_route_of(cases[i].path, id, sizeof(id)), cases[i].r);
        assert_string_equal(id, cases[i].id);
    }
    /* An id longer than the buffer is no route, never a truncated id. */
    assert_int_equal(http_route_of("/v1/tenants/abcdefghijklmnopqrstuvwxyz", id, sizeof(id)), HTTP_R_NOT_FOUND);
}

static void test_update_parse(void **state)
{
    static const struct { const char *body; const char *error; } bad[] = {
        { "[]", "the body must be a JSON object" },
        { "{\"hots\": \"x\"}", "unknown field 'hots'" },
        { "{\"port\": \"25\"}", "field 'port' must be an integer in 1..65535" },
        { "{\"port\": 0}", "field 'port' must be an integer in 1..65535" },
        { "{\"tls\": \"ssl\"}", "field 'tls' must be \"implicit\", \"starttls\" or \"none\"" },
        { "{\"domains\": [1]}", "field 'domains': element 0 must be a string" },
        { "{\"tls_verify\": 1}", "field 'tls_verify' must be true or false" },
        { "{\"test\": \"no\"}", "field 'test' must be true or false" },
        { "{\"password\": \"\"}", "field 'password' must be 1..1024 characters" },
        { "{\"host\": \"a\\u0000b\"}", "field 'host' must be a string" },
    };
    struct tenant_update u;
    char err[256];
    json_t *j;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        j = json_loads(bad[i].body, JSON_ALLOW_NUL, NULL);
        assert_non_null(j);
        tenant_update_init(&u);
        err[0] = 0;
        assert_int_equal(http_update_parse(j, &u, err, sizeof(err)), -1);
        assert_string_equal(err, bad[i].error);
        http_update_free(&u);
        json_decref(j);
    }
    j = json_loads("{\"host\": \"smtp.acme.test\", \"port\": 587, \"tls\": \"starttls\", \"username\": \"u\","
                   " \"password\": \"pw\", \"sender\": \"a@acme.test\", \"domains\": [\"acme.test\"],"
                   " \"tls_verify\": false, \"test\": false, \"max_connections\": 3}", 0, NULL);
    tenant_update_init(&u);
    assert_int_equal(http_update_parse(j, &u, err, sizeof(err)), 0);
    assert_string_equal(u.host, "smtp.acme.test");
    assert_int_equal(u.port, 587);
    assert_int_equal(u.tls, ROUTE_TLS_STARTTLS);
    assert_int_equal(u.secret_len, 2);
    assert_memory_equal(u.secret, "pw", 2);
    assert_string_equal(u.domains[0], "acme.test");
    assert_null(u.domains[1]);
    assert_null(u.addresses);           /* not given: keeps its value */
    assert_int_equal(u.tls_verify, 0);
    assert_true(u.no_test);
    assert_int_equal(u.max_connections, 3);
    assert_int_equal(u.rate_limit, -1);
    http_update_free(&u);
    json_decref(j);
}

/* The auth and oauth fields: checked, the secret copied to locked memory. */
static void test_oauth_parse(void **state)
{
    static const struct { const char *body; const char *error; } bad[] = {
        { "{\"auth\": \"oauth\"}", "field 'auth' must be \"password\" or \"xoauth2\"" },
        { "{\"oauth\": []}", "field 'oauth' must be an object" },
        { "{\"oauth\": {\"provider\": \"yahoo\"}}",
          "field 'oauth.provider' must be \"microsoft\", \"google\" or \"generic\"" },
        { "{\"oauth\": {\"clientid\": \"x\"}}", "unknown field 'oauth.clientid'" },
        { "{\"oauth\": {\"client_secret\": \"a\", \"client_key\": \"b\"}}",
          "give one of oauth.client_secret, oauth.client_key, oauth.service_account" },
        { "{\"oauth\": {\"scope\": 3}}", "field 'oauth.scope' must be a string" },
    };
    struct http_oauth o;
    char err[256];
    json_t *j;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        j = json_loads(bad[i].body, 0, NULL);
        assert_non_null(j);
        err[0] = 0;
        assert_int_equal(http_oauth_parse(j, &o, err, sizeof(err)), -1);
        assert_string_equal(err, bad[i].error);
        http_oauth_free(&o);
        json_decref(j);
    }
    j = json_loads("{\"auth\": \"xoauth2\", \"oauth\": {\"provider\": \"microsoft\", \"client_id\": \"c1\","
                   " \"directory\": \"contoso\", \"client_secret\": \"s3cret\"}}", 0, NULL);
    assert_int_equal(http_oauth_parse(j, &o, err, sizeof(err)), 0);
    assert_true(o.given);
    assert_int_equal(o.auth, ROUTE_AUTH_XOAUTH2);
    assert_int_equal(o.provider, ROUTE_OAUTH_MICROSOFT);
    assert_string_equal(o.client_id, "c1");
    assert_string_equal(o.secret_field, "oauth_client_secret");
    assert_int_equal(o.secret_len, 6);
    assert_memory_equal(o.secret, "s3cret", 6);
    http_oauth_free(&o);
    json_decref(j);
    j = json_loads("{\"host\": \"h\"}", 0, NULL);
    assert_int_equal(http_oauth_parse(j, &o, err, sizeof(err)), 0);
    assert_false(o.given);
    http_oauth_free(&o);
    json_decref(j);
}

static void test_tokens(void **state)
{
    char dir[] = "/tmp/tr-tokens-XXXXXX", path[300], name[HTTP_TOKEN_NAME_MAX + 1], err[512];
    char *t1 = NULL, *t2 = NULL;
    struct http_token_entry *v = NULL;
    struct stat st;
    size_t n = 0;
    bool missing;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/api-tokens", dir);
    assert_false(http_token_name_is_valid(""));
    assert_false(http_token_name_is_valid("-x"));
    assert_false(http_token_name_is_valid("a b"));
    assert_true(http_token_name_is_valid("platform-web.1"));
    assert_int_equal(http_token_add(path, "web", &t1, err, sizeof(err)), 0);
    assert_int_equal(http_token_add(path, "ops", &t2, err, sizeof(err)), 0);
    {
        char *t3 = NULL;

        assert_int_equal(http_token_add(path, "web", &t3, err, sizeof(err)), -1);   /* the name exists */
        assert_null(t3);
    }
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(http_token_load(path, &v, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 2);
    assert_true(http_token_check(v, n, t1, strlen(t1), name));
    assert_string_equal(name, "web");
    assert_true(http_token_check(v, n, t2, strlen(t2), name));
    assert_string_equal(name, "ops");
    assert_false(http_token_check(v, n, t1, strlen(t1) - 1, name));
    assert_false(http_token_check(v, n, "", 0, name));
    myfree(v);
    assert_int_equal(http_token_revoke(path, "web", &missing, err, sizeof(err)), 0);
    assert_int_equal(http_token_revoke(path, "web", &missing, err, sizeof(err)), -1);
    assert_true(missing);
    assert_int_equal(http_token_load(path, &v, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 1);
    assert_false(http_token_check(v, n, t1, strlen(t1), name));
    myfree(v);
    http_token_free_clear(t1);
    http_token_free_clear(t2);
    unlink(path);
    rmdir(dir);
}

/* RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?". */
static void test_webhook_sign(void **state)
{
    char sig[WEBHOOK_SIG_LEN];

    (void)state;
    assert_true(sodium_init() >= 0);
    webhook_sign((const unsigned char *)"Jefe", 4, "what do ya want for nothing?", 28, sig);
    assert_string_equal(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void test_metrics(void **state)
{
    struct dbuf om = DBUF_INIT, text = DBUF_INIT;
    struct metrics_gauges g;

    (void)state;
    memset(&g, 0, sizeof(g));
    metrics_count_received();
    metrics_count_delivery(METRICS_SENT, 0.02, NULL);
    metrics_count_delivery(METRICS_DEFERRED, 3.0, "starttls");
    metrics_count_delivery(METRICS_FAILED, 0.1, "weird-stage");
    metrics_render(&om, &g, true);
    metrics_render(&text, &g, false);
    assert_non_null(strstr(dbuf_str(&om), "# TYPE tenantrelay_messages_received counter\n"));
    assert_non_null(strstr(dbuf_str(&om), "\ntenantrelay_messages_received_total 1\n"));
    assert_non_null(strstr(dbuf_str(&om), "tenantrelay_upstream_failures_total{step=\"tls\"} 1\n"));
    assert_non_null(strstr(dbuf_str(&om), "tenantrelay_upstream_failures_total{step=\"other\"} 1\n"));
    assert_non_null(strstr(dbuf_str(&om), "tenantrelay_delivery_duration_seconds_bucket{le=\"0.025\"} 1\n"));
    assert_non_null(strstr(dbuf_str(&om), "tenantrelay_delivery_duration_seconds_bucket{le=\"+Inf\"} 3\n"));
    assert_non_null(strstr(dbuf_str(&om), "# UNIT tenantrelay_delivery_duration_seconds seconds\n"));
    assert_string_equal(dbuf_str(&om) + om.len - 6, "# EOF\n");
    assert_non_null(strstr(dbuf_str(&text), "# TYPE tenantrelay_messages_received_total counter\n"));
    assert_non_null(strstr(dbuf_str(&text), "# TYPE tenantrelay_build_info gauge\n"));
    assert_null(strstr(dbuf_str(&text), "# EOF"));
    assert_null(strstr(dbuf_str(&text), "# UNIT"));
    assert_null(strstr(dbuf_str(&text), "tenant="));
    dbuf_free(&om);
    dbuf_free(&text);
}

/* What the body buffer's hook saw: every buffer it let go of, and whether
 * each was all zeros by then. */
struct released {
    int count;
    int dirty;
    size_t bytes;
};

static void on_release(const void *p, size_t size, void *arg)
{
    struct released *r = arg;
    const unsigned char *b = p;

    r->count++;
    r->bytes += size;
    for (size_t i = 0; i < size; i++)
        if (b[i]) {
            r->dirty++;
            break;
        }
}

/* The request body holds a secret in clear: the buffers it outgrows and
 * the last one are zeroed before they are freed; the cap holds. */
static void test_body_wipe(void **state)
{
    static const char piece[] = "{\"password\": \"Body-s3cret-7781\"} ";
    struct http_body b;
    struct released rel;
    size_t plen = sizeof(piece) - 1, n = 0;

    (void)state;
    memset(&b, 0, sizeof(b));
    memset(&rel, 0, sizeof(rel));
    b.on_release = on_release;
    b.on_release_arg = &rel;
    /* In small pieces, as libmicrohttpd hands them over: it grows. */
    while (b.len + plen <= 5000) {
        assert_int_equal(http_body_append(&b, piece, plen, 5000), 0);
        n++;
    }
    assert_int_equal(b.len, n * plen);
    assert_int_equal(b.data[b.len], 0);
    assert_memory_equal(b.data + (n - 1) * plen, piece, plen);
    assert_true(rel.count >= 2);        /* 1024, 2048, 4096 outgrown */
    assert_int_equal(rel.dirty, 0);
    /* Over the cap: refused, nothing appended. */
    assert_int_equal(http_body_append(&b, piece, plen, 5000), -1);
    assert_int_equal(b.len, n * plen);
    assert_int_equal(http_body_append(&b, piece, (size_t)-1, 5000), -1);
    http_body_free(&b);
    assert_null(b.data);
    assert_int_equal(rel.dirty, 0);
    assert_true(rel.bytes >= n * plen);

    /* Reserved from a Content-Length: one buffer, wiped once at the end. */
    memset(&rel, 0, sizeof(rel));
    http_body_reserve(&b, 3 * plen, 65536);
    for (int i = 0; i < 3; i++)
        assert_int_equal(http_body_append(&b, piece, plen, 65536), 0);
    assert_int_equal(rel.count, 0);
    http_body_free(&b);
    assert_int_equal(rel.count, 1);
    assert_int_equal(rel.dirty, 0);
    http_body_free(&b);                 /* twice: a no-op */
    assert_int_equal(rel.count, 1);
}

/* A body that is not JSON: the error tells the kind and the place, never
 * the text near it (jansson would quote a piece of the password). */
static void test_body_json_error(void **state)
{
    static const char *const bodies[] = {
        "{\"password\": \"Qz9-s3cret",
        "{\"password\": \"Qz9-s3cret\\u12\"}",
        "{\"password\": \"Qz9-s3cret\\x\"}",
        "{\"password\": Qz9-s3cret}",
        "{\"password\": \"Qz9-s3cret\x01\"}",
        "{\"oauth\": {\"client_secret\": \"Qz9-s3cret\"}} Qz9",
    };
    struct http_body b;
    char err[300];
    json_t *j;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(bodies); i++) {
        memset(&b, 0, sizeof(b));
        assert_int_equal(http_body_append(&b, bodies[i], strlen(bodies[i]), 4096), 0);
        err[0] = 0;
        assert_null(http_body_json(&b, err, sizeof(err)));
        assert_non_null(strstr(err, "the body is not valid JSON (line 1 column "));
        assert_null(strstr(err, "Qz9"));
        http_body_free(&b);
    }
    memset(&b, 0, sizeof(b));
    assert_int_equal(http_body_append(&b, "{\"a\": 1, \"a\": 2}", 16, 4096), 0);
    assert_null(http_body_json(&b, err, sizeof(err)));
    assert_non_null(strstr(err, "duplicate object key"));
    http_body_free(&b);
    assert_int_equal(http_body_append(&b, "{\"host\": \"h\"}", 13, 4096), 0);
    assert_non_null(j = http_body_json(&b, err, sizeof(err)));
    json_decref(j);
    http_body_free(&b);
}

/* POST /v1/test refuses settings the route rules refuse, before any
 * connection (so no conf is read): 400 with the rule, never the secret. */
static void test_probe_settings_refused(void **state)
{
    static const struct { const char *body; const char *error; } bad[] = {
        { "{\"host\": \"smtp.acme.test\"}", "host and sender are needed" },
        { "{\"host\": \"smtp.acme.test\", \"sender\": \"a@acme.test\", \"username\": \"u\"}",
          "keys 'username' and 'password' go together" },
        { "{\"host\": \"smtp.acme.test\", \"sender\": \"a@acme.test\", \"oauth\": {\"provider\": \"generic\","
          " \"client_secret\": \"Qz9-s3cret\"}}", "field 'oauth' needs \"auth\": \"xoauth2\"" },
        { "{\"host\": \"smtp.acme.test\", \"sender\": \"a@acme.test\", \"username\": \"a@acme.test\","
          " \"auth\": \"xoauth2\", \"oauth\": {\"provider\": \"microsoft\", \"directory\": \"contoso\","
          " \"client_id\": \"c1\"}}",
          "oauth provider \"microsoft\" needs either 'client_secret' or 'client_key' with 'client_cert_file' "
          "(one of them)" },
        { "{\"host\": \"smtp.acme.test\", \"sender\": \"a@acme.test\", \"username\": \"a@acme.test\","
          " \"password\": \"Qz9-s3cret\", \"auth\": \"xoauth2\", \"oauth\": {\"provider\": \"generic\","
          " \"token_url\": \"https://idp.acme.test/token\", \"client_id\": \"c1\", \"client_secret\": \"Qz9-s3cret\"}}",
          "auth \"xoauth2\" takes no 'password' (the token comes from the oauth group)" },
        { "{\"host\": \"smtp.acme.test\", \"sender\": \"a@acme.test\", \"auth\": \"xoauth2\", \"oauth\":"
          " {\"provider\": \"generic\", \"token_url\": \"https://idp.acme.test/token\", \"client_id\": \"c1\","
          " \"client_secret\": \"Qz9-s3cret\"}}",
          "auth \"xoauth2\" needs 'username' (the mailbox the token sends as)" },
        { "{\"host\": \"smtp.acme.test\", \"sender\": \"a@acme.test\", \"username\": \"a@acme.test\","
          " \"auth\": \"xoauth2\", \"oauth\": {\"provider\": \"generic\", \"token_url\": \"http://idp.acme.test/t\","
          " \"client_id\": \"c1\", \"client_secret\": \"Qz9-s3cret\"}}",
          "oauth token_url \"http://idp.acme.test/t\" is not an https:// URL (tokens are never fetched in "
          "plaintext)" },
        { "{\"host\": \"smtp.acme.test\", \"sender\": \"not an address\"}",
          "key 'sender': \"not an address\" is not a valid address" },
        { "{\"host\": \"smtp.acme.test\", \"sender\": \"a@acme.test\", \"to\": \"nope\"}",
          "field 'to': \"nope\" is not a valid address" },
    };
    struct conf conf;
    char err[600];
    int status;
    json_t *j;

    (void)state;
    memset(&conf, 0, sizeof(conf));
    status = 0;
    assert_null(http_probe_settings(&conf, NULL, &status, err, sizeof(err)));
    assert_int_equal(status, 400);
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        j = json_loads(bad[i].body, 0, NULL);
        assert_non_null(j);
        err[0] = 0;
        status = 0;
        assert_null(http_probe_settings(&conf, j, &status, err, sizeof(err)));
        assert_int_equal(status, 400);
        assert_string_equal(err, bad[i].error);
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_update_parse),
        cmocka_unit_test(test_oauth_parse),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_webhook_sign),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_body_wipe),
        cmocka_unit_test(test_body_json_error),
        cmocka_unit_test(test_probe_settings_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
