/*
 * test_smtpd_fair.c - the session clock and stress mode: a whole command
 * line and each DATA chunk within the (stress-shortened) command timeout,
 * the DATA phase's own limits.
 */
#include "config.h"

#include <string.h>

#include "unit.h"
#include "tenantrelay/netaddr.h"
#include "../../src/smtpd/smtpd_fair.h"

static struct conf_limits limits(void)
{
    struct conf_limits l;

    memset(&l, 0, sizeof(l));
    l.max_sessions = 100;
    l.command_timeout = 60;
    l.data_timeout = 600;
    l.min_data_rate = 0;
    l.stress_command_timeout = 10;
    return l;
}

static void test_stress(void **state)
{
    struct conf_limits l = limits();

    (void)state;
    assert_false(smtpd_fair_stressed(79, 100));
    assert_true(smtpd_fair_stressed(80, 100));
    assert_true(smtpd_fair_stressed(2, 2));
    assert_false(smtpd_fair_stressed(5, 0));
    assert_int_equal(smtpd_fair_command_timeout(&l, false), 60);
    assert_int_equal(smtpd_fair_command_timeout(&l, true), 10);
    l.stress_command_timeout = 0;
    assert_int_equal(smtpd_fair_command_timeout(&l, true), 60);
    l.stress_command_timeout = 120;
    assert_int_equal(smtpd_fair_command_timeout(&l, true), 60);
}

static void test_command_trickle(void **state)
{
    struct conf_limits l = limits();
    struct smtpd_clock k;
    struct smtpd_cut cut;

    (void)state;
    smtpd_clock_start(&k, 1000);
    /* A byte every 5 s is no progress: only whole lines count. */
    for (time_t t = 1005; t < 1060; t += 5) {
        smtpd_clock_bytes(&k, 1, t);
        assert_false(smtpd_clock_expired(&k, &l, false, t, &cut));
    }
    assert_true(smtpd_clock_expired(&k, &l, false, 1060, &cut));
    assert_string_equal(cut.reason, "command_timeout");
    assert_int_equal(cut.timeout, 60);
    smtpd_clock_progress(&k, 1060);
    assert_false(smtpd_clock_expired(&k, &l, false, 1061, &cut));
    /* Stressed: the shorter timeout. */
    assert_true(smtpd_clock_expired(&k, &l, true, 1070, &cut));
    assert_int_equal(cut.timeout, 10);
}

static void test_data(void **state)
{
    struct conf_limits l = limits();
    struct smtpd_clock k;
    struct smtpd_cut cut;

    (void)state;
    smtpd_clock_start(&k, 0);
    smtpd_clock_phase(&k, true, 100);
    /* Chunks of SMTPD_DATA_CHUNK bytes every 50 s keep it going... */
    for (time_t t = 150; t <= 500; t += 50) {
        smtpd_clock_bytes(&k, SMTPD_DATA_CHUNK, t);
        assert_false(smtpd_clock_expired(&k, &l, false, t + 59, &cut));
    }
    /* ... a byte every 5 s does not. */
    for (time_t t = 505; t < 560; t += 5)
        smtpd_clock_bytes(&k, 1, t);
    assert_true(smtpd_clock_expired(&k, &l, false, 560, &cut));
    assert_string_equal(cut.reason, "data_stalled");
    /* The whole phase is bounded too. */
    smtpd_clock_phase(&k, false, 560);
    smtpd_clock_phase(&k, true, 1000);
    for (time_t t = 1010; t < 1600; t += 10)
        smtpd_clock_bytes(&k, SMTPD_DATA_CHUNK, t);
    assert_true(smtpd_clock_expired(&k, &l, false, 1600, &cut));
    assert_string_equal(cut.reason, "data_timeout");
    /* And the rate, after the grace. */
    l.min_data_rate = 1000;
    smtpd_clock_phase(&k, false, 2000);
    smtpd_clock_phase(&k, true, 2000);
    smtpd_clock_bytes(&k, SMTPD_DATA_CHUNK, 2005);
    assert_false(smtpd_clock_expired(&k, &l, false, 2005, &cut));
    assert_true(smtpd_clock_expired(&k, &l, false, 2000 + SMTPD_DATA_GRACE, &cut));
    assert_string_equal(cut.reason, "data_rate");
}

static void test_client_key(void **state)
{
    static const char *const cases[][2] = {
        { "127.0.0.1", "127.0.0.1" },
        { "::ffff:10.0.0.7", "10.0.0.7" },
        { "2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64" },
        { "2001:db8:1:2::1", "2001:db8:1:2::/64" },
        { "::1", "::/64" },
    };
    char key[64];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct sockaddr_storage sa;
        socklen_t len;

        assert_int_equal(netaddr_parse_ip(cases[i][0], 25, &sa, &len), 0);
        smtpd_fair_client_key((struct sockaddr *)&sa, key, sizeof(key));
        assert_string_equal(key, cases[i][1]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stress),
        cmocka_unit_test(test_command_trickle),
        cmocka_unit_test(test_data),
        cmocka_unit_test(test_client_key),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
