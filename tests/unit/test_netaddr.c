/*
 * test_netaddr.c - CIDR parsing and matching, IPv4, IPv6 and mapped.
 */
#include "config.h"

#include <string.h>

#include "unit.h"
#include "tenantrelay/netaddr.h"

struct match_case {
    const char *net;
    const char *addr;
    int match;
};

static const struct match_case cases[] = {
    { "127.0.0.0/8", "127.0.0.1", 1 },
    { "127.0.0.0/8", "128.0.0.1", 0 },
    { "10.1.2.3/32", "10.1.2.3", 1 },
    { "10.1.2.3", "10.1.2.4", 0 },
    { "192.168.0.0/23", "192.168.1.200", 1 },
    { "192.168.0.0/23", "192.168.2.1", 0 },
    { "0.0.0.0/0", "203.0.113.9", 1 },
    { "::1/128", "::1", 1 },
    { "::1/128", "::2", 0 },
    { "2001:db8::/32", "2001:db8:ffff::1", 1 },
    { "2001:db8::/32", "2001:db9::1", 0 },
    { "127.0.0.0/8", "::ffff:127.0.0.5", 1 },
    { "::1/128", "127.0.0.1", 0 },
};

static void test_match(void **state)
{
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct netaddr_cidr net;
        struct sockaddr_storage sa;
        socklen_t len;

        assert_int_equal(netaddr_parse_cidr(cases[i].net, &net), 0);
        assert_int_equal(netaddr_parse_ip(cases[i].addr, 25, &sa, &len), 0);
        if (netaddr_cidr_match(&net, (struct sockaddr *)&sa) != cases[i].match)
            fail_msg("case %zu: %s in %s should be %d", i, cases[i].addr, cases[i].net, cases[i].match);
    }
}

static void test_bad(void **state)
{
    static const char *const bad[] = {
        "", "/8", "1.2.3.4/", "1.2.3.4/33", "1.2.3.4/-1", "1.2.3/8", "::1/129", "host.example",
        "1.2.3.4/8x", "1.2.3.4 /8",
    };
    struct netaddr_cidr net;

    for (size_t i = 0; i < ARRAY_LEN(bad); i++)
        if (netaddr_parse_cidr(bad[i], &net) == 0)
            fail_msg("\"%s\" should not parse", bad[i]);
}

static void test_loopback(void **state)
{
    struct sockaddr_storage sa;
    socklen_t len;

    assert_int_equal(netaddr_parse_ip("127.0.0.2", 25, &sa, &len), 0);
    assert_true(netaddr_is_loopback((struct sockaddr *)&sa));
    assert_int_equal(netaddr_parse_ip("::1", 25, &sa, &len), 0);
    assert_true(netaddr_is_loopback((struct sockaddr *)&sa));
    assert_int_equal(netaddr_parse_ip("0.0.0.0", 25, &sa, &len), 0);
    assert_false(netaddr_is_loopback((struct sockaddr *)&sa));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_loopback),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
