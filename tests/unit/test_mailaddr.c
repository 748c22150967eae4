/*
 * test_mailaddr.c - mailbox syntax.
 */
#include "config.h"

#include "unit.h"
#include "tenantrelay/mailaddr.h"

struct addr_case {
    const char *addr;
    int utf8;
    int valid;
};

static const struct addr_case cases[] = {
    { "user@example.com", 0, 1 },
    { "first.last+tag@sub.example.co.uk", 0, 1 },
    { "\"quoted local\"@example.com", 0, 1 },
    { "user@[192.0.2.1]", 0, 1 },
    { "user@localhost", 0, 1 },
    { "no-at-sign", 0, 0 },
    { "@example.com", 0, 0 },
    { "user@", 0, 0 },
    { ".user@example.com", 0, 0 },
    { "us..er@example.com", 0, 0 },
    { "user@-example.com", 0, 0 },
    { "user@example-.com", 0, 0 },
    { "user@exa mple.com", 0, 0 },
    { "us er@example.com", 0, 0 },
    { "user@example..com", 0, 0 },
    { "j\xc3\xb6rg@example.com", 0, 0 },
    { "j\xc3\xb6rg@example.com", 1, 1 },
    { "a@b@example.com", 0, 0 },
    { "<user@example.com>", 0, 0 },
};

static void test_addresses(void **state)
{
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        if (mailaddr_is_valid(cases[i].addr, cases[i].utf8) != cases[i].valid)
            fail_msg("case %zu: \"%s\" should be %s", i, cases[i].addr,
                     cases[i].valid ? "valid" : "invalid");
}

static void test_domain(void **state)
{
    assert_string_equal(mailaddr_domain("a@example.com"), "example.com");
    assert_null(mailaddr_domain("nodomain"));
    assert_true(mailaddr_is_hostname("smtp.example.com"));
    assert_false(mailaddr_is_hostname("smtp example.com"));
    assert_false(mailaddr_is_hostname(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_domain),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
