/*
 * test_common.c - the shared utilities of src/common: the monotonic clock
 * and the time formatter (table-driven).
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "unit.h"
#include "tenantrelay/clock.h"
#include "tenantrelay/timefmt.h"

static void test_clock(void **state)
{
    long long ns = clock_mono_ns(), ms = clock_mono_ms(), s = clock_mono_s();

    (void)state;
    /* One clock in three units: each read is at or after the one before. */
    assert_true(ms >= ns / 1000000);
    assert_true(s >= ns / 1000000000LL);
    assert_true(clock_mono_ns() >= ns);
}

static void test_format(void **state)
{
    char buf[TIMEFMT_LEN];
    struct timespec ts = { 1767323045, 987654321 };
    struct tm tm;

    (void)state;
    assert_string_equal(timefmt_rfc3339(0, buf, sizeof(buf)), "1970-01-01T00:00:00Z");
    assert_string_equal(timefmt_rfc3339(1767323045, buf, sizeof(buf)), "2026-01-02T03:04:05Z");
    assert_string_equal(timefmt_rfc3339_ms(&ts, buf, sizeof(buf)), "2026-01-02T03:04:05.987Z");
    assert_string_equal(timefmt_rfc5322(1767323045, buf, sizeof(buf)), "Fri, 02 Jan 2026 03:04:05 +0000");
    gmtime_r(&ts.tv_sec, &tm);
    assert_string_equal(timefmt_rfc3339_tm(&tm, buf, sizeof(buf)), "2026-01-02T03:04:05Z");
    assert_string_equal(timefmt_rfc3339_tm(&tm, buf, 5), "");
}

static void test_parse(void **state)
{
    static const struct {
        const char *in;
        int rc;
        time_t t;
    } cases[] = {
        { "2026-01-02T03:04:05Z", 0, 1767323045 },
        { "2026-01-02T03:04:05z", 0, 1767323045 },
        { "2026-01-02T03:04:05.123Z", 0, 1767323045 },
        { "2026-01-02T03:04:05+00:00", 0, 1767323045 },
        { "1970-01-01T00:00:00Z", 0, 0 },
        { "2026-01-02T03:04:05+02:00", -1, 0 },
        { "2026-01-02T03:04:05.Z", -1, 0 },
        { "2026-01-02T03:04:05Zjunk", -1, 0 },
        { "2026-01-02", -1, 0 },
        { "", -1, 0 },
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        time_t t = 42;

        assert_int_equal(timefmt_parse_rfc3339(cases[i].in, &t), cases[i].rc);
        if (cases[i].rc == 0)
            assert_int_equal(t, cases[i].t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clock),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_parse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
