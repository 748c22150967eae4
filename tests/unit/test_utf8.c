/*
 * test_utf8.c - making client and upstream bytes valid UTF-8 for JSON
 * (events, status, queue --json): validity, replacement, cutting between
 * characters, and jansson taking every result.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "tenantrelay/utf8.h"

static const struct {
    const char *in;
    const char *out;
} sanitize_cases[] = {
    { "plain ascii", "plain ascii" },
    { "caf\xc3\xa9", "caf\xc3\xa9" },
    { "<id\xe9@x>", "<id\xef\xbf\xbd@x>" },                  /* Latin-1 e-acute */
    { "\xe2\x82\xac euro", "\xe2\x82\xac euro" },
    { "\xe2\x82 cut", "\xef\xbf\xbd\xef\xbf\xbd cut" },       /* incomplete */
    { "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },               /* overlong '/' */
    { "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* surrogate */
    { "\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* > U+10FFFF */
    { "\xf0\x9f\x98\x80!", "\xf0\x9f\x98\x80!" },
    { "\xff\xfe", "\xef\xbf\xbd\xef\xbf\xbd" },
};

static void test_sanitize(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(sanitize_cases); i++) {
        struct dbuf b = DBUF_INIT;
        json_t *j;

        utf8_sanitize(sanitize_cases[i].in, strlen(sanitize_cases[i].in), &b);
        dbuf_append(&b, "", 0);
        if (b.len != strlen(sanitize_cases[i].out) || memcmp(b.data, sanitize_cases[i].out, b.len) != 0)
            fail_msg("sanitize case %zu", i);
        assert_true(utf8_is_valid(b.data, b.len));
        assert_int_equal(utf8_is_valid(sanitize_cases[i].in, strlen(sanitize_cases[i].in)),
                         strcmp(sanitize_cases[i].in, sanitize_cases[i].out) == 0);
        j = utf8_json_string(sanitize_cases[i].in);
        assert_non_null(j);
        assert_string_equal(json_string_value(j), sanitize_cases[i].out);
        json_decref(j);
        dbuf_free(&b);
    }
    json_t *n = utf8_json_string(NULL);
    assert_true(json_is_null(n));
    json_decref(n);
}

static void test_cut(void **state)
{
    const char *s = "ab\xe2\x82\xac" "cd";   /* a, b, euro (3 bytes), c, d */

    (void)state;
    assert_int_equal(utf8_cut(s, 7, 2), 2);
    assert_int_equal(utf8_cut(s, 7, 3), 2);
    assert_int_equal(utf8_cut(s, 7, 4), 2);
    assert_int_equal(utf8_cut(s, 7, 5), 5);
    assert_int_equal(utf8_cut(s, 7, 6), 6);
    assert_int_equal(utf8_cut(s, 7, 100), 7);
}

static void test_sanitize_buf(void **state)
{
    char buf[8];

    (void)state;
    /* snprintf cut the euro sign after its first two bytes: it goes. */
    memcpy(buf, "abcde\xe2\x82", 8);
    utf8_sanitize_buf(buf, sizeof(buf));
    assert_string_equal(buf, "abcde");
    /* An invalid byte inside: replaced, and the result cut to fit between
     * characters. */
    memcpy(buf, "ab\xe9" "defg", 8);
    utf8_sanitize_buf(buf, sizeof(buf));
    assert_string_equal(buf, "ab\xef\xbf\xbd" "de");
    assert_true(utf8_is_valid(buf, strlen(buf)));
    strcpy(buf, "ok");
    utf8_sanitize_buf(buf, sizeof(buf));
    assert_string_equal(buf, "ok");
}

/* Every byte string, however cut, becomes something jansson takes. */
static void test_random(void **state)
{
    unsigned seed = 12;

    (void)state;
    for (int round = 0; round < 2000; round++) {
        char s[64];
        size_t len = (size_t)(rand_r(&seed) % 63);
        struct dbuf b = DBUF_INIT;
        json_t *j;

        for (size_t i = 0; i < len; i++)
            s[i] = (char)(rand_r(&seed) % 255 + 1);
        s[len] = 0;
        utf8_sanitize(s, len, &b);
        assert_true(utf8_is_valid(b.data, b.len));
        j = json_stringn(b.data, b.len);
        assert_non_null(j);
        json_decref(j);
        assert_true(utf8_is_valid(b.data, utf8_cut(b.data, b.len, (size_t)round % 40)));
        dbuf_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sanitize),
        cmocka_unit_test(test_cut),
        cmocka_unit_test(test_sanitize_buf),
        cmocka_unit_test(test_random),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
