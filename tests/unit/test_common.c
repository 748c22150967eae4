/*
 * test_common.c - the shared utilities of src/common: the monotonic clock,
 * the time formatter (table-driven), the write-all / read-all, the
 * error-string helper, the hash table and the string helpers.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "tenantrelay/clock.h"
#include "tenantrelay/errstr.h"
#include "tenantrelay/fdio.h"
#include "tenantrelay/hmap.h"
#include "tenantrelay/str.h"
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

static void test_real_deadline(void **state)
{
    struct timespec before, d, after;

    (void)state;
    clock_gettime(CLOCK_REALTIME, &before);
    clock_real_deadline(&d, 2999);
    clock_gettime(CLOCK_REALTIME, &after);
    /* Normalised, and between before+2.999 s and after+2.999 s. */
    assert_true(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
    assert_true((long long)d.tv_sec * 1000000000LL + d.tv_nsec
                >= (long long)before.tv_sec * 1000000000LL + before.tv_nsec + 2999000000LL);
    assert_true((long long)d.tv_sec * 1000000000LL + d.tv_nsec
                <= (long long)after.tv_sec * 1000000000LL + after.tv_nsec + 2999000000LL);
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

static void test_fdio(void **state)
{
    char out[5000], in[6000];
    int p[2];

    (void)state;
    for (size_t i = 0; i < sizeof(out); i++)
        out[i] = (char)('a' + i % 26);
    assert_int_equal(pipe(p), 0);
    assert_int_equal(fdio_write_all(p[1], out, sizeof(out)), 0);
    assert_int_equal(fdio_write_all(p[1], out, 0), 0);
    close(p[1]);
    /* More asked than there is: the count at end of file. */
    assert_int_equal(fdio_read_all(p[0], in, sizeof(in)), (ssize_t)sizeof(out));
    assert_memory_equal(in, out, sizeof(out));
    assert_int_equal(fdio_read_all(p[0], in, sizeof(in)), 0);
    close(p[0]);
    assert_int_equal(fdio_read_all(-1, in, 1), -1);
    assert_int_equal(fdio_write_all(-1, out, 1), -1);
}

static void test_errstr(void **state)
{
    char err[8];

    (void)state;
    errno = ENOENT;
    assert_int_equal(errstr_set(err, sizeof(err), "%s:%d", "file", 12), -1);
    assert_string_equal(err, "file:12");
    assert_int_equal(errno, ENOENT);                /* errno survives */
    errstr_set(err, sizeof(err), "%s", "much longer than eight");
    assert_string_equal(err, "much lo");            /* truncated, terminated */
    assert_int_equal(errstr_set(NULL, 0, "%s", "nowhere"), -1);
    err[0] = 'x';
    errstr_set(err, 0, "%s", "no room");
    assert_int_equal(err[0], 'x');
}

static void test_hmap(void **state)
{
    static char keys[3000][8];
    struct hmap m = HMAP_INIT, ci = HMAP_INIT_NOCASE;
    int a = 1, b = 2;

    (void)state;
    assert_null(hmap_find(&m, "x"));
    hmap_remove(&m, "x", &a);                       /* empty: no-op */
    /* Enough keys to grow it twice; each finds its own value. */
    for (size_t i = 0; i < 3000; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%zu", i);
        assert_null(hmap_put(&m, keys[i], keys[i]));
    }
    assert_int_equal(m.count, 3000);
    for (size_t i = 0; i < 3000; i++)
        assert_ptr_equal(hmap_find(&m, keys[i]), keys[i]);
    assert_null(hmap_find(&m, "K1"));               /* case counts */
    assert_ptr_equal(hmap_put(&m, "k7", &a), keys[7]);  /* taken: the old value */
    hmap_remove(&m, "k7", &a);                      /* not its value: stays */
    assert_ptr_equal(hmap_find(&m, "k7"), keys[7]);
    hmap_remove(&m, "k7", keys[7]);
    assert_null(hmap_find(&m, "k7"));
    assert_int_equal(m.count, 2999);
    assert_null(hmap_find(&m, NULL));
    /* Removals inside probe runs: every other key goes, the rest stay
     * findable; then all go. */
    assert_null(hmap_put(&m, keys[7], keys[7]));
    for (size_t i = 0; i < 3000; i += 2)
        hmap_remove(&m, keys[i], keys[i]);
    for (size_t i = 0; i < 3000; i++)
        if (i % 2)
            assert_ptr_equal(hmap_find(&m, keys[i]), keys[i]);
        else
            assert_null(hmap_find(&m, keys[i]));
    for (size_t i = 1; i < 3000; i += 2)
        hmap_remove(&m, keys[i], keys[i]);
    assert_int_equal(m.count, 0);
    assert_null(hmap_put(&m, keys[5], keys[5]));
    assert_ptr_equal(hmap_find(&m, keys[5]), keys[5]);
    hmap_free(&m);
    assert_int_equal(m.count, 0);
    assert_null(hmap_find(&m, "k1"));

    hmap_reserve(&ci, 500);
    assert_null(hmap_put(&ci, "Example.COM", &a));
    assert_ptr_equal(hmap_find(&ci, "example.com"), &a);
    assert_ptr_equal(hmap_put(&ci, "EXAMPLE.com", &b), &a);
    hmap_free(&ci);
    assert_true(ci.nocase);
}

static void test_str(void **state)
{
    static const char *const names[] = { "implicit", "starttls", "none", NULL };
    static const char *const empty[] = { NULL };

    (void)state;
    assert_int_equal(str_index(names, "implicit"), 0);
    assert_int_equal(str_index(names, "none"), 2);
    assert_int_equal(str_index(names, "NONE"), -1);         /* case counts */
    assert_int_equal(str_index(names, "start"), -1);        /* whole names only */
    assert_int_equal(str_index(names, ""), -1);
    assert_int_equal(str_index(empty, "none"), -1);
    assert_int_equal(str_index(NULL, "none"), -1);
    assert_true(str_same(NULL, NULL));
    assert_true(str_same("a", "a"));
    assert_false(str_same("a", NULL));
    assert_false(str_same("a", "b"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clock),
        cmocka_unit_test(test_real_deadline),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_fdio),
        cmocka_unit_test(test_errstr),
        cmocka_unit_test(test_hmap),
        cmocka_unit_test(test_str),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
