/*
 * test_route_check.c - route_check() (src/route/route_check.c), the one set
 * of rules of a valid route the config loader, the store's fast reader and
 * `tenant set` share: each rule with a route it passes and one it refuses,
 * the key named, missing told from invalid, and the config's wording;
 * route_normalize(); and route_parse() placing each problem at its line.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/route.h"
#include "tenantrelay/route_parse.h"

#define TOK "trv1:0123456789ab:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo"

static void set(char **slot, const char *v)
{
    myfree(*slot);
    *slot = v ? mystrdup(v) : NULL;
}

/* A valid password route without a login. */
static void base(struct route *r)
{
    route_init(r);
    set(&r->host, "smtp.example.com");
    set(&r->sender, "relay@example.com");
}

/* An xoauth2 route (google) that passes. */
static void google(struct route *r)
{
    base(r);
    r->auth = ROUTE_AUTH_XOAUTH2;
    r->oauth.provider = ROUTE_OAUTH_GOOGLE;
    set(&r->oauth.service_account, TOK);
    set(&r->username, "box@example.com");
}

static void passes(struct route *r, bool require_host)
{
    struct route_problem p;

    memset(&p, 0, sizeof(p));
    if (route_check(r, require_host, &p) != 0)
        fail_msg("refused: %s", p.msg);
    assert_int_equal(route_check(r, require_host, NULL), 0);
    route_free(r);
}

/* Refused with the key, class, rule and msg (a substring) expected. */
static void refused(struct route *r, bool require_host, const char *key, enum route_problem_class cls,
                    enum route_rule rule, const char *msg)
{
    struct route_problem p;

    memset(&p, 0, sizeof(p));
    assert_int_equal(route_check(r, require_host, &p), -1);
    assert_int_equal(route_check(r, require_host, NULL), -1);  /* no problem wanted: still refused */
    assert_non_null(p.key);
    assert_string_equal(p.key, key);
    assert_int_equal(p.cls, cls);
    assert_int_equal(p.rule, rule);
    if (strstr(p.msg, msg) == NULL)
        fail_msg("msg \"%s\" lacks \"%s\"", p.msg, msg);
    assert_true(p.reason[0] != 0);
    route_free(r);
}

static void test_host(void **state)
{
    struct route r;

    (void)state;
    base(&r);
    passes(&r, true);
    base(&r);
    set(&r.host, "192.0.2.1");
    passes(&r, true);
    base(&r);
    set(&r.host, "2001:db8::1");        /* an IPv6 literal */
    passes(&r, true);
    base(&r);
    set(&r.host, NULL);
    refused(&r, true, "host", ROUTE_MISSING, ROUTE_RULE_REQUIRED, "key 'host' is required");
    base(&r);
    set(&r.host, NULL);
    set(&r.sender, NULL);
    passes(&r, false);                  /* not required */
    base(&r);
    set(&r.host, "");
    refused(&r, true, "host", ROUTE_INVALID, ROUTE_RULE_EMPTY, "key 'host' must not be empty");
    base(&r);
    set(&r.host, "bad host!");
    refused(&r, true, "host", ROUTE_INVALID, ROUTE_RULE_HOST_NAME,
            "key 'host': \"bad host!\" is not a host name");
    base(&r);
    set(&r.host, "bad host!");
    refused(&r, false, "host", ROUTE_INVALID, ROUTE_RULE_HOST_NAME, "is not a host name");
}

static void test_sender(void **state)
{
    struct route r;

    (void)state;
    base(&r);
    set(&r.sender, NULL);
    refused(&r, true, "sender", ROUTE_MISSING, ROUTE_RULE_REQUIRED, "key 'sender' is required");
    base(&r);
    set(&r.sender, "");
    refused(&r, true, "sender", ROUTE_MISSING, ROUTE_RULE_REQUIRED, "key 'sender' is required");
    base(&r);
    set(&r.sender, "");
    refused(&r, false, "sender", ROUTE_INVALID, ROUTE_RULE_SENDER_ADDRESS, "is not a valid address");
    base(&r);
    set(&r.sender, "not-an-address");
    refused(&r, true, "sender", ROUTE_INVALID, ROUTE_RULE_SENDER_ADDRESS,
            "key 'sender': \"not-an-address\" is not a valid address");
    base(&r);
    set(&r.sender, "a@b.example");
    passes(&r, true);
    /* Missing comes before invalid: a bad host and no sender is "sender". */
    base(&r);
    set(&r.host, "bad host!");
    set(&r.sender, NULL);
    refused(&r, true, "sender", ROUTE_MISSING, ROUTE_RULE_REQUIRED, "is required");
}

static void test_ranges(void **state)
{
    static const struct {
        const char *key;
        size_t off;
        int lo, hi;
        const char *below, *above;
    } keys[] = {
        { "port", offsetof(struct route, port), 1, 65535,
          "key 'port': 0 is out of range 1..65535", "key 'port': 65536 is out of range 1..65535" },
        { "max_connections", offsetof(struct route, max_connections), 1, 1000,
          "key 'max_connections': 0 is out of range 1..1000", "1001 is out of range 1..1000" },
        { "rate_limit", offsetof(struct route, rate_limit), 0, 1000000,
          "key 'rate_limit': -1 is out of range 0..1000000", "1000001 is out of range 0..1000000" },
    };
    struct route r;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
        int *v;

        base(&r);
        v = (int *)(void *)((char *)&r + keys[i].off);
        *v = keys[i].lo;
        passes(&r, true);
        base(&r);
        v = (int *)(void *)((char *)&r + keys[i].off);
        *v = keys[i].hi;
        passes(&r, true);
        base(&r);
        v = (int *)(void *)((char *)&r + keys[i].off);
        *v = keys[i].lo - 1;
        refused(&r, true, keys[i].key, ROUTE_INVALID, ROUTE_RULE_RANGE, keys[i].below);
        base(&r);
        v = (int *)(void *)((char *)&r + keys[i].off);
        *v = keys[i].hi + 1;
        refused(&r, true, keys[i].key, ROUTE_INVALID, ROUTE_RULE_RANGE, keys[i].above);
    }
}

static void test_ca_file(void **state)
{
    struct route r;

    (void)state;
    base(&r);
    set(&r.ca_file, "/etc/ssl/certs/ca.pem");
    passes(&r, true);
    base(&r);
    set(&r.ca_file, "");
    refused(&r, true, "ca_file", ROUTE_INVALID, ROUTE_RULE_EMPTY, "key 'ca_file' must not be empty");
}

static void test_oauth(void **state)
{
    struct route r;

    (void)state;
    google(&r);
    passes(&r, true);
    /* xoauth2 without what the provider needs (no oauth group at all). */
    base(&r);
    r.auth = ROUTE_AUTH_XOAUTH2;
    set(&r.username, "box@example.com");
    refused(&r, true, "oauth", ROUTE_INVALID, ROUTE_RULE_OAUTH, "oauth provider \"microsoft\" needs");
    google(&r);
    set(&r.oauth.service_account, NULL);
    refused(&r, true, "oauth", ROUTE_INVALID, ROUTE_RULE_OAUTH, "needs 'service_account'");
    google(&r);
    set(&r.oauth.service_account, "{\"private_key\": \"plain\"}");
    refused(&r, true, "oauth", ROUTE_INVALID, ROUTE_RULE_OAUTH, "must be a sealed token");
    google(&r);
    set(&r.username, NULL);
    refused(&r, true, "oauth", ROUTE_INVALID, ROUTE_RULE_OAUTH, "auth \"xoauth2\" needs 'username'");
    google(&r);
    set(&r.password, TOK);
    refused(&r, true, "oauth", ROUTE_INVALID, ROUTE_RULE_OAUTH, "auth \"xoauth2\" takes no 'password'");
}

static void test_login_pair(void **state)
{
    struct route r;

    (void)state;
    base(&r);
    set(&r.username, "u");
    set(&r.password, TOK);
    passes(&r, true);
    base(&r);
    set(&r.username, "u");
    refused(&r, true, "password", ROUTE_MISSING, ROUTE_RULE_LOGIN_PAIR,
            "keys 'username' and 'password' go together");
    base(&r);
    set(&r.password, TOK);
    refused(&r, true, "username", ROUTE_MISSING, ROUTE_RULE_LOGIN_PAIR,
            "keys 'username' and 'password' go together");
}

static void test_tls_none(void **state)
{
    struct route r;

    (void)state;
    base(&r);
    r.tls = ROUTE_TLS_NONE;
    r.insecure_plaintext = true;
    passes(&r, true);
    base(&r);
    r.tls = ROUTE_TLS_NONE;
    refused(&r, true, "tls", ROUTE_INVALID, ROUTE_RULE_TLS_NONE_INSECURE,
            "key 'tls': \"none\" requires insecure_plaintext = true");
    base(&r);
    r.tls = ROUTE_TLS_NONE;
    r.insecure_plaintext = true;
    set(&r.username, "u");
    set(&r.password, TOK);
    refused(&r, true, "tls", ROUTE_INVALID, ROUTE_RULE_TLS_NONE_LOGIN,
            "key 'tls': \"none\" cannot carry a username and password");
    base(&r);
    r.tls = ROUTE_TLS_IMPLICIT;
    set(&r.username, "u");
    set(&r.password, TOK);
    passes(&r, true);
}

static void test_username_control(void **state)
{
    struct route r;

    (void)state;
    base(&r);
    set(&r.username, "user@example.com");
    set(&r.password, TOK);
    passes(&r, true);
    base(&r);
    set(&r.username, "u\001x");
    set(&r.password, TOK);
    refused(&r, true, "username", ROUTE_INVALID, ROUTE_RULE_USERNAME_CONTROL,
            "key 'username': control characters are not allowed");
    base(&r);
    set(&r.username, "u\177");
    set(&r.password, TOK);
    refused(&r, true, "username", ROUTE_INVALID, ROUTE_RULE_USERNAME_CONTROL, "control characters");
    google(&r);
    set(&r.username, "box\r\n@example.com");
    refused(&r, true, "username", ROUTE_INVALID, ROUTE_RULE_USERNAME_CONTROL, "control characters");
}

static void test_normalize(void **state)
{
    struct route r;

    (void)state;
    base(&r);
    set(&r.username, "");
    set(&r.password, "");
    set(&r.bind_address, "");
    r.port = 465;
    route_normalize(&r, -1);
    assert_null(r.username);
    assert_null(r.password);
    assert_null(r.bind_address);
    assert_int_equal(r.tls, ROUTE_TLS_IMPLICIT);
    passes(&r, true);
    base(&r);
    set(&r.bind_address, "192.0.2.7");
    r.port = 587;
    route_normalize(&r, -1);
    assert_string_equal(r.bind_address, "192.0.2.7");
    assert_int_equal(r.tls, ROUTE_TLS_STARTTLS);
    route_normalize(&r, ROUTE_TLS_NONE);
    assert_int_equal(r.tls, ROUTE_TLS_NONE);
    refused(&r, true, "tls", ROUTE_INVALID, ROUTE_RULE_TLS_NONE_INSECURE, "requires insecure_plaintext");
    /* An empty username normalised away is no login: no pair problem. */
    base(&r);
    set(&r.username, "");
    route_normalize(&r, -1);
    passes(&r, true);
}

/* route_parse() over text: "" when it parses, else the error (whose
 * start the cases give). */
static void parse(const char *text, char *out, size_t len)
{
    config_t cfg;
    struct conf_error err = { "" };
    struct route r;

    config_init(&cfg);
    assert_int_equal(config_read_string(&cfg, text), CONFIG_TRUE);
    route_init(&r);
    if (route_parse(config_lookup(&cfg, "r"), &r, true, &err) == 0)
        err.text[0] = 0;
    snprintf(out, len, "%s", err.text);
    route_free(&r);
    config_destroy(&cfg);
}

static void test_parse_lines(void **state)
{
    static const struct {
        const char *text, *expect;
    } cases[] = {
        { "r = { host = \"h.example\";\n sender = \"a@b.example\"; };", "" },
        /* invalid: the offending setting's line */
        { "r = { host = \"h.example\";\n sender = \"a@b.example\";\n username = \"u\\x01\"; password = \"" TOK "\"; };",
          "<config>:3: key 'username': control characters are not allowed" },
        { "r = { host = \"h.example\"; sender = \"a@b.example\";\n port = 0; };",
          "<config>:2: key 'port': 0 is out of range 1..65535" },
        { "r = { host = \"\";\n sender = \"a@b.example\"; };", "<config>:1: key 'host' must not be empty" },
        { "r = { host = \"h.example\"; sender = \"a@b.example\";\n\n ca_file = \"\"; };",
          "<config>:3: key 'ca_file' must not be empty" },
        { "r = { host = \"h.example\";\n sender = \"a@b.example\";\n tls = \"none\"; };",
          "<config>:3: key 'tls': \"none\" requires insecure_plaintext = true" },
        { "r = { host = \"h.example\"; sender = \"a@b.example\"; auth = \"xoauth2\"; username = \"b@x.example\";\n"
          " oauth = { provider = \"google\"; }; };", "<config>:2: oauth provider \"google\" needs 'service_account'" },
        /* missing (or a pair): the group's line */
        { "r = {\n host = \"h.example\"; };", "<config>:1: key 'sender' is required" },
        { "r = {\n host = \"h.example\"; sender = \"a@b.example\";\n username = \"u\"; };",
          "<config>:1: keys 'username' and 'password' go together" },
    };
    char got[1100];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        parse(cases[i].text, got, sizeof(got));
        if (*cases[i].expect ? strncmp(got, cases[i].expect, strlen(cases[i].expect)) != 0 : *got != 0)
            fail_msg("case %zu: \"%s\", not \"%s\"", i, got, cases[i].expect);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host),
        cmocka_unit_test(test_sender),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_ca_file),
        cmocka_unit_test(test_oauth),
        cmocka_unit_test(test_login_pair),
        cmocka_unit_test(test_tls_none),
        cmocka_unit_test(test_username_control),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_parse_lines),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
