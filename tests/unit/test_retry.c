/*
 * test_retry.c - the retry schedule: intervals, the last one repeating,
 * and failure at max_age (never later).
 */
#include "config.h"

#include "unit.h"
#include "tenantrelay/retry.h"

static int schedule[] = { 60, 300, 900 };
static const struct conf_retry retry = { schedule, 3, 3600, 604800, 3 };

struct retry_case {
    int attempts;
    long age;                   /* now - arrival */
    int ok;
    long next_in;               /* next - now, when ok */
};

static const struct retry_case cases[] = {
    { 1, 0, 1, 60 },
    { 2, 100, 1, 300 },
    { 3, 500, 1, 900 },
    { 4, 1500, 1, 900 },        /* the last interval repeats */
    { 9, 2000, 1, 900 },
    { 5, 3000, 1, 600 },        /* clipped to the max_age deadline */
    { 6, 3600, 0, 0 },          /* at max_age: fail */
    { 6, 9999, 0, 0 },
    { 0, 0, 1, 60 },            /* nonsense attempts count treated as the first */
};

static void test_schedule(void **state)
{
    const time_t arrival = 1700000000;

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        time_t next = 0;
        time_t now = arrival + cases[i].age;
        bool ok = retry_next_attempt(&retry, cases[i].attempts, arrival, now, &next);

        if (ok != (bool)cases[i].ok || (ok && next - now != cases[i].next_in))
            fail_msg("case %zu: ok=%d next_in=%ld, want ok=%d next_in=%ld", i, ok,
                     (long)(next - now), cases[i].ok, cases[i].next_in);
    }
}

static void test_failed_retention(void **state)
{
    assert_false(retry_failed_expired(&retry, 1000, 1000 + 604799));
    assert_true(retry_failed_expired(&retry, 1000, 1000 + 604800));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schedule),
        cmocka_unit_test(test_failed_retention),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
