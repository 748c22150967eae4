/*
 * test_route_policy.c - the tenant route policy: address classification
 * (table: address, expected class or public), the port list, extra
 * networks, and the tenant_route_policy group's parsing and errors.
 */
#include "config.h"

#include <string.h>

#include "unit.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/oauth.h"
#include "tenantrelay/route_parse.h"
#include "tenantrelay/route_policy.h"

struct class_case {
    const char *addr;
    const char *cls;            /* NULL: public unicast */
};

static const struct class_case classes[] = {
    { "8.8.8.8", NULL },
    { "1.1.1.1", NULL },
    { "203.0.114.1", NULL },
    { "100.63.255.255", NULL },
    { "100.128.0.0", NULL },
    { "172.32.0.1", NULL },
    { "0.1.2.3", "this-network" },
    { "10.1.2.3", "private" },
    { "100.64.0.1", "shared (CGNAT)" },
    { "100.127.255.255", "shared (CGNAT)" },
    { "127.0.0.1", "loopback" },
    { "127.255.0.9", "loopback" },
    { "169.254.169.254", "link-local" },
    { "172.16.0.1", "private" },
    { "172.31.255.255", "private" },
    { "192.0.0.8", "ietf-protocol" },
    { "192.0.2.55", "documentation" },
    { "192.88.99.1", "6to4-relay" },
    { "192.168.1.1", "private" },
    { "198.18.0.1", "benchmarking" },
    { "198.19.255.255", "benchmarking" },
    { "198.51.100.7", "documentation" },
    { "203.0.113.9", "documentation" },
    { "224.0.0.251", "multicast" },
    { "239.255.255.250", "multicast" },
    { "240.0.0.1", "reserved" },
    { "255.255.255.255", "broadcast" },
    { "2a00:1450:4001::1", NULL },
    { "2606:4700::1111", NULL },
    { "2001:4860:4860::8888", NULL },
    { "::", "unspecified" },
    { "::1", "loopback" },
    { "::ffff:10.0.0.1", "private" },
    { "::ffff:127.0.0.1", "loopback" },
    { "::ffff:8.8.8.8", NULL },
    { "::10.0.0.1", "ipv4-compatible" },
    { "64:ff9b::10.0.0.1", "private" },
    { "64:ff9b::7f00:1", "loopback" },
    { "64:ff9b::8.8.8.8", NULL },
    { "64:ff9b:1::8.8.8.8", "nat64-local" },
    { "2002:0a00:0001::1", "private" },
    { "2002:7f00:0001::1", "loopback" },
    { "2002:a9fe:a9fe::1", "link-local" },
    { "2002:0808:0808::1", NULL },
    { "2001:0:4136:e378:8000:63bf:3fff:fdd2", "teredo" },
    { "2001:db8::1", "documentation" },
    { "2001:2::1", "ietf-protocol" },
    { "3fff::1", "documentation" },
    { "fc00::1", "unique-local" },
    { "fd12:3456::1", "unique-local" },
    { "fe80::1", "link-local" },
    { "febf::1", "link-local" },
    { "fec0::1", "site-local" },
    { "ff02::1", "multicast" },
    { "100::1", "discard-only" },
    { "4000::1", "not-global-unicast" },
    { "1::1", "not-global-unicast" },
};

static void sa_of(const char *text, struct sockaddr_storage *sa)
{
    socklen_t len;

    assert_int_equal(netaddr_parse_ip(text, 25, sa, &len), 0);
}

static void test_classify(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(classes); i++) {
        struct sockaddr_storage sa;
        const struct route_addr_class *c;

        sa_of(classes[i].addr, &sa);
        c = route_addr_classify((struct sockaddr *)&sa);
        if (classes[i].cls == NULL) {
            if (c != NULL)
                fail_msg("%s: expected public, got %s", classes[i].addr, c->name);
        } else {
            if (c == NULL)
                fail_msg("%s: expected %s, got public", classes[i].addr, classes[i].cls);
            if (strcmp(c->name, classes[i].cls) != 0)
                fail_msg("%s: expected %s, got %s", classes[i].addr, classes[i].cls, c->name);
        }
    }
}

static void test_defaults(void **state)
{
    struct route_policy p;
    struct sockaddr_storage sa;
    char why[256];

    (void)state;
    route_policy_init(&p);
    assert_int_equal(route_policy_check_port(&p, 587, why, sizeof(why)), 0);
    assert_int_equal(route_policy_check_port(&p, 2525, why, sizeof(why)), 0);
    assert_int_equal(route_policy_check_port(&p, 6379, why, sizeof(why)), -1);
    assert_string_equal(why, "port 6379 is not in tenant_route_policy.ports (25, 465, 587, 2525)");
    sa_of("10.0.0.5", &sa);
    assert_int_equal(route_policy_check_addr(&p, (struct sockaddr *)&sa, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "10.0.0.5 is private (10.0.0.0/8)"));
    assert_non_null(strstr(why, "tenant_route_policy.extra_networks"));
    sa_of("::ffff:127.0.0.1", &sa);
    assert_int_equal(route_policy_check_addr(&p, (struct sockaddr *)&sa, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "::ffff:127.0.0.1 is loopback (127.0.0.0/8)"));
    sa_of("8.8.8.8", &sa);
    assert_int_equal(route_policy_check_addr(&p, (struct sockaddr *)&sa, why, sizeof(why)), 0);
    assert_int_equal(route_policy_check_host(&p, "127.0.0.1", 25, why, sizeof(why)), -1);
    assert_int_equal(route_policy_check_host(&p, "8.8.8.8", 6379, why, sizeof(why)), -1);
    assert_int_equal(route_policy_check_host(&p, "8.8.8.8", 465, why, sizeof(why)), 1);
    route_policy_free(&p);
}

static int parse_text(const char *text, struct route_policy *p, struct conf_error *err)
{
    config_t cfg;
    int rc;

    config_init(&cfg);
    if (config_read_string(&cfg, text) != CONFIG_TRUE) {
        config_destroy(&cfg);
        return -2;
    }
    route_policy_init(p);
    rc = route_policy_parse(config_root_setting(&cfg), p, err);
    config_destroy(&cfg);
    return rc;
}

static void test_parse(void **state)
{
    struct route_policy p, q;
    struct conf_error err = { "" };
    struct sockaddr_storage sa;
    char why[256];

    (void)state;
    assert_int_equal(parse_text("tenant_route_policy = { extra_networks = [ \"127.0.0.0/8\", \"fd00::/8\" ];"
                                " ports = [ 2525, 6379 ]; };", &p, &err), 0);
    assert_int_equal(p.nextra, 2);
    assert_int_equal(p.nports, 2);
    sa_of("::ffff:127.0.0.9", &sa);
    assert_int_equal(route_policy_check_addr(&p, (struct sockaddr *)&sa, why, sizeof(why)), 0);
    sa_of("fd00::5", &sa);
    assert_int_equal(route_policy_check_addr(&p, (struct sockaddr *)&sa, why, sizeof(why)), 0);
    sa_of("10.0.0.1", &sa);
    assert_int_equal(route_policy_check_addr(&p, (struct sockaddr *)&sa, why, sizeof(why)), -1);
    assert_int_equal(route_policy_check_port(&p, 6379, why, sizeof(why)), 0);
    assert_int_equal(route_policy_check_port(&p, 25, why, sizeof(why)), -1);
    route_policy_copy(&q, &p);
    route_policy_free(&p);
    assert_int_equal(route_policy_check_port(&q, 6379, why, sizeof(why)), 0);
    route_policy_free(&q);

    /* [] allows any port; absent keys keep the defaults. */
    assert_int_equal(parse_text("tenant_route_policy = { ports = [ ]; };", &p, &err), 0);
    assert_int_equal(route_policy_check_port(&p, 6379, why, sizeof(why)), 0);
    route_policy_free(&p);
    assert_int_equal(parse_text("hostname = \"x\";", &p, &err), 0);
    assert_int_equal(p.nports, 4);
    route_policy_free(&p);

    /* Errors name the line and the key. */
    assert_int_equal(parse_text("tenant_route_policy = {\n ports = [ 70000 ]; };", &p, &err), -1);
    assert_non_null(strstr(err.text, ":2: key 'ports': 70000 is out of range"));
    route_policy_free(&p);
    err.text[0] = 0;
    assert_int_equal(parse_text("tenant_route_policy = { extra_networks = [ \"10.0.0.0/33\" ]; };", &p, &err), -1);
    assert_non_null(strstr(err.text, "\"10.0.0.0/33\" is not an address or network"));
    route_policy_free(&p);
    err.text[0] = 0;
    assert_int_equal(parse_text("tenant_route_policy = { extra = [ ]; };", &p, &err), -1);
    assert_non_null(strstr(err.text, "extra"));
    route_policy_free(&p);
    err.text[0] = 0;
    assert_int_equal(parse_text("tenant_route_policy = 5;", &p, &err), -1);
    assert_non_null(strstr(err.text, "must be a group"));
    route_policy_free(&p);
}

/* A tenant's OAuth2 token URL is held to the policy too: refused before
 * any connection (without the policy the same URL gets a refused TCP
 * connection, port 1 on loopback). */
static void test_token_url(void **state)
{
    struct route_policy p;
    struct oauth_http_reply reply;
    char err[512];

    (void)state;
    assert_int_equal(oauth_global_init(), 0);
    route_policy_init(&p);
    assert_int_equal(oauth_http_post("https://127.0.0.1:1/token", NULL, &p, "a=b", 3, 3000, &reply,
                                     err, sizeof(err)), -1);
    if (strstr(err, "route_policy: 127.0.0.1 is loopback (127.0.0.0/8)") != err)
        fail_msg("%s", err);
    assert_int_equal(oauth_http_post("https://127.0.0.1:1/token", NULL, NULL, "a=b", 3, 3000, &reply,
                                     err, sizeof(err)), -1);
    assert_null(strstr(err, "route_policy"));
    route_policy_free(&p);
    oauth_global_cleanup();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_token_url),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
