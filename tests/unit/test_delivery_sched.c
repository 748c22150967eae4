/*
 * test_delivery_sched.c - the scheduler's timer heap and status counts
 * (delivery_sched.c): messages come out in due order whatever order they
 * went in and however their times change; held, in-flight and routed
 * messages are never due; removing from the middle keeps the order; the
 * per-tenant counts follow every state change and removal.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "../../src/delivery/delivery_int.h"

#define N 2000

static int schedule_s[] = { 60 };
static struct conf test_conf;

static void setup_conf(void)
{
    test_conf.retry.schedule = schedule_s;
    test_conf.retry.schedule_len = 1;
    test_conf.retry.failed_retention = 1000;
    delivery.conf = &test_conf;
}

static struct dmsg *add(int i, time_t due)
{
    char qid[SPOOL_QID_LEN + 1];
    struct dmsg *m;

    snprintf(qid, sizeof(qid), "Q%015d", i);
    m = dindex_add(qid);
    m->tenant = i % 3 ? strdup(i % 3 == 1 ? "acme" : "beta") : NULL;
    m->state = SPOOL_QUEUED;
    m->next_attempt = due;
    dsched_update(m);
    return m;
}

static void test_heap_order(void **state)
{
    struct dmsg *ms[N], *m;
    time_t last = 0;
    int popped = 0;

    (void)state;
    setup_conf();
    srand(12);
    for (int i = 0; i < N; i++)
        ms[i] = add(i, 1000 + rand() % 5000);
    /* Change some times, hold some, put some in flight or on a route. */
    for (int i = 0; i < N; i += 7) {
        ms[i]->next_attempt = rand() % 9000;
        dsched_update(ms[i]);
    }
    for (int i = 3; i < N; i += 11) {
        dmsg_set_state(ms[i], SPOOL_HELD);
        dsched_update(ms[i]);
    }
    for (int i = 5; i < N; i += 13) {
        ms[i]->in_flight = true;
        dsched_update(ms[i]);
    }
    while ((m = dsched_pop_due(100000)) != NULL) {
        assert_true(m->due >= last);
        assert_int_not_equal(m->state, SPOOL_HELD);
        assert_false(m->in_flight);
        assert_int_equal(m->heap_pos, 0);
        last = m->due;
        popped++;
    }
    {
        int expect = 0;

        for (int i = 0; i < N; i++)
            if (ms[i]->state != SPOOL_HELD && !ms[i]->in_flight)
                expect++;
        assert_int_equal(popped, expect);
    }
    while (delivery.first)
        dindex_remove(delivery.first);
}

static void test_due_only(void **state)
{
    struct dmsg *a, *b;
    time_t when;

    (void)state;
    setup_conf();
    a = add(1, 50);
    b = add(2, 10);
    assert_true(dsched_next(&when));
    assert_int_equal(when, 10);
    assert_null(dsched_pop_due(9));
    assert_ptr_equal(dsched_pop_due(10), b);
    assert_null(dsched_pop_due(49));
    /* A failed message is due at the end of failed_retention. */
    dmsg_set_state(a, SPOOL_FAILED);
    a->last_attempt = 100;
    dsched_update(a);
    assert_true(dsched_next(&when));
    assert_int_equal(when, 1100);
    dindex_remove(a);
    assert_false(dsched_next(&when));
    dindex_remove(b);
}

static void test_counts(void **state)
{
    struct dmsg *m[6];
    struct dstats *acme, *def;

    (void)state;
    setup_conf();
    for (int i = 0; i < 6; i++)
        m[i] = add(i, 0);          /* i % 3: 0 default, 1 acme, 2 beta */
    acme = dstats_get("acme");
    def = dstats_get(DELIVERY_DEFAULT_KEY);
    dmsg_set_state(m[1], SPOOL_DEFERRED);
    dmsg_set_state(m[4], SPOOL_FAILED);
    dmsg_set_state(m[0], SPOOL_HELD);
    dmsg_set_state(m[3], SPOOL_DEFERRED);
    assert_int_equal(acme->deferred, 1);
    assert_int_equal(acme->failed, 1);
    assert_int_equal(def->held, 1);
    assert_int_equal(def->deferred, 1);
    dmsg_set_state(m[4], SPOOL_DEFERRED);
    assert_int_equal(acme->failed, 0);
    assert_int_equal(acme->deferred, 2);
    dindex_remove(m[1]);
    dindex_remove(m[0]);
    assert_int_equal(acme->deferred, 1);
    assert_int_equal(def->held, 0);
    while (delivery.first)
        dindex_remove(delivery.first);
    assert_int_equal(acme->deferred, 0);
    assert_int_equal(def->deferred, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heap_order),
        cmocka_unit_test(test_due_only),
        cmocka_unit_test(test_counts),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
