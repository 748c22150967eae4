/*
 * test_dbuf.c - the growable buffer.
 */
#include "config.h"

#include <string.h>

#include "unit.h"
#include "tenantrelay/dbuf.h"
#include "tenantrelay/mymalloc.h"

static void test_append_and_consume(void **state)
{
    struct dbuf b = DBUF_INIT;

    assert_string_equal(dbuf_str(&b), "");
    dbuf_append_str(&b, "hello ");
    dbuf_printf(&b, "%s %d", "world", 42);
    assert_string_equal(dbuf_str(&b), "hello world 42");
    dbuf_consume(&b, 6);
    assert_string_equal(dbuf_str(&b), "world 42");
    assert_int_equal(b.len, 8);
    dbuf_append(&b, "\0x", 2);
    assert_int_equal(b.len, 10);
    dbuf_consume(&b, 100);
    assert_int_equal(b.len, 0);
    dbuf_free(&b);
}

static void test_growth(void **state)
{
    struct dbuf b = DBUF_INIT;

    for (int i = 0; i < 10000; i++)
        dbuf_append_char(&b, (char)('a' + i % 26));
    assert_int_equal(b.len, 10000);
    assert_int_equal(b.data[9999], 'a' + 9999 % 26);
    assert_int_equal(b.data[10000], 0);
    char *s = dbuf_steal(&b);
    assert_int_equal(strlen(s), 10000);
    assert_null(b.data);
    myfree(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_consume),
        cmocka_unit_test(test_growth),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
