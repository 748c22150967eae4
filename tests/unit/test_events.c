/*
 * test_events.c - the events file: one compact JSON object per line,
 * appended, readable back.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "tenantrelay/events.h"

static void test_append_lines(void **state)
{
    char path[] = "/tmp/tr-events-XXXXXX";
    int fd = mkstemp(path);
    char line[512];
    FILE *fp;
    int n = 0;

    assert_true(fd >= 0);
    close(fd);
    for (int i = 0; i < 3; i++) {
        json_t *o = json_pack("{s:s, s:i, s:s}", "queue_id", "0123456789ABCDEF", "attempt", i,
                              "reply", "250 2.0.0 Ok\nwith newline");

        assert_int_equal(events_append(path, o), 0);
        json_decref(o);
    }
    fp = fopen(path, "r");
    assert_non_null(fp);
    while (fgets(line, sizeof(line), fp)) {
        json_error_t jerr;
        json_t *o = json_loads(line, 0, &jerr);

        assert_non_null(o);
        assert_int_equal(json_integer_value(json_object_get(o, "attempt")), n);
        json_decref(o);
        n++;
    }
    fclose(fp);
    assert_int_equal(n, 3);
    unlink(path);
}

static void test_time_format(void **state)
{
    char buf[32];

    assert_string_equal(events_time(0, buf, sizeof(buf)), "1970-01-01T00:00:00Z");
    assert_string_equal(events_time(1764040447, buf, sizeof(buf)), "2025-11-25T03:14:07Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_lines),
        cmocka_unit_test(test_time_format),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
