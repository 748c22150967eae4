/*
 * test_delivery_sched.c - the scheduler's timer heap and status counts
 * (delivery_sched.c): messages come out in due order whatever order they
 * went in and however their times change; held, in-flight and routed
 * messages are never due; removing from the middle keeps the order; the
 * per-tenant counts follow every state change and removal; the /metrics
 * gauges (counts by state, oldest arrival) follow them without a walk; the
 * cached `status` entries change when the figures change (never stale),
 * and the text is what json_dumps gives for the same object.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "unit.h"
#include "tenantrelay/delivery.h"
#include "tenantrelay/mymalloc.h"
#include "../../src/delivery/delivery_int.h"

#define N 2000

static int schedule_s[] = { 60 };
static struct conf test_conf;
/* One engine for every test, never started: the tests drive its parts. */
static struct delivery *d;

static void setup_conf(void)
{
    test_conf.retry.schedule = schedule_s;
    test_conf.retry.schedule_len = 1;
    test_conf.retry.failed_retention = 1000;
    if (d == NULL)
        d = delivery_new();
    d->conf = &test_conf;
}

static struct dmsg *add(int i, time_t due)
{
    char qid[SPOOL_QID_LEN + 1];
    struct dmsg *m;

    snprintf(qid, sizeof(qid), "Q%015d", i);
    m = dindex_add(d, qid, 0);
    m->tenant = i % 3 ? strdup(i % 3 == 1 ? "acme" : "beta") : NULL;
    m->state = SPOOL_QUEUED;
    m->next_attempt = due;
    dsched_update(d, m);
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
        dsched_update(d, ms[i]);
    }
    for (int i = 3; i < N; i += 11) {
        dmsg_set_state(d, ms[i], SPOOL_HELD);
        dsched_update(d, ms[i]);
    }
    for (int i = 5; i < N; i += 13) {
        ms[i]->in_flight = true;
        dsched_update(d, ms[i]);
    }
    while ((m = dsched_pop_due(d, 100000)) != NULL) {
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
    while (d->first)
        dindex_remove(d, d->first);
}

static void test_due_only(void **state)
{
    struct dmsg *a, *b;
    time_t when;

    (void)state;
    setup_conf();
    a = add(1, 50);
    b = add(2, 10);
    assert_true(dsched_next(d, &when));
    assert_int_equal(when, 10);
    assert_null(dsched_pop_due(d, 9));
    assert_ptr_equal(dsched_pop_due(d, 10), b);
    assert_null(dsched_pop_due(d, 49));
    /* A failed message is due at the end of failed_retention. */
    dmsg_set_state(d, a, SPOOL_FAILED);
    a->last_attempt = 100;
    dsched_update(d, a);
    assert_true(dsched_next(d, &when));
    assert_int_equal(when, 1100);
    dindex_remove(d, a);
    assert_false(dsched_next(d, &when));
    dindex_remove(d, b);
}

static void test_counts(void **state)
{
    struct dmsg *m[6];
    struct dstats *acme, *def;

    (void)state;
    setup_conf();
    for (int i = 0; i < 6; i++)
        m[i] = add(i, 0);          /* i % 3: 0 default, 1 acme, 2 beta */
    acme = dstats_get(d, "acme");
    def = dstats_get(d, DELIVERY_DEFAULT_KEY);
    dmsg_set_state(d, m[1], SPOOL_DEFERRED);
    dmsg_set_state(d, m[4], SPOOL_FAILED);
    dmsg_set_state(d, m[0], SPOOL_HELD);
    dmsg_set_state(d, m[3], SPOOL_DEFERRED);
    assert_int_equal(acme->deferred, 1);
    assert_int_equal(acme->failed, 1);
    assert_int_equal(def->held, 1);
    assert_int_equal(def->deferred, 1);
    dmsg_set_state(d, m[4], SPOOL_DEFERRED);
    assert_int_equal(acme->failed, 0);
    assert_int_equal(acme->deferred, 2);
    dindex_remove(d, m[1]);
    dindex_remove(d, m[0]);
    assert_int_equal(acme->deferred, 1);
    assert_int_equal(def->held, 0);
    while (d->first)
        dindex_remove(d, d->first);
    assert_int_equal(acme->deferred, 0);
    assert_int_equal(def->deferred, 0);
}

static void test_gauges(void **state)
{
    struct dmsg *m[5];
    long counts[4], gen;
    double age, store_age;
    /* Indexed out of arrival order, as recovery does. */
    static const time_t arrival[5] = { 500, 200, 900, 100, 300 };

    (void)state;
    setup_conf();
    for (int i = 0; i < 5; i++) {
        char qid[SPOOL_QID_LEN + 1];

        snprintf(qid, sizeof(qid), "G%015d", i);
        m[i] = dindex_add(d, qid, arrival[i]);
        m[i]->state = SPOOL_QUEUED;
    }
    assert_int_equal(dindex_oldest(d), 100);
    dmsg_set_state(d, m[0], SPOOL_DEFERRED);
    dmsg_set_state(d, m[1], SPOOL_DEFERRED);
    dmsg_set_state(d, m[2], SPOOL_HELD);
    dmsg_set_state(d, m[4], SPOOL_FAILED);
    delivery_gauges(d, counts, &age, &gen, &store_age);
    assert_int_equal(counts[SPOOL_QUEUED], 1);
    assert_int_equal(counts[SPOOL_DEFERRED], 2);
    assert_int_equal(counts[SPOOL_HELD], 1);
    assert_int_equal(counts[SPOOL_FAILED], 1);
    assert_true(age >= (double)(time(NULL) - 100) - 1);
    dindex_remove(d, m[3]);
    assert_int_equal(dindex_oldest(d), 200);
    dindex_remove(d, m[1]);
    assert_int_equal(dindex_oldest(d), 300);
    delivery_gauges(d, counts, &age, &gen, &store_age);
    assert_int_equal(counts[SPOOL_QUEUED], 0);
    assert_int_equal(counts[SPOOL_DEFERRED], 1);
    while (d->first)
        dindex_remove(d, d->first);
    assert_int_equal(dindex_oldest(d), 0);
    delivery_gauges(d, counts, &age, &gen, &store_age);
    for (int i = 0; i < 4; i++)
        assert_int_equal(counts[i], 0);
    assert_true(age == 0);
}

/* The entry of id in a status text, parsed. */
static json_t *status_of(const char *id, json_t **whole)
{
    size_t len = 0;
    char *text = delivery_status_dumps(d, &len);
    json_t *o, *t;
    char *again;

    assert_non_null(text);
    o = json_loadb(text, len, 0, NULL);
    assert_non_null(o);
    /* Byte-compatible with what json_dumps gave for the object. */
    again = json_dumps(o, JSON_COMPACT);
    assert_non_null(again);
    assert_int_equal(strlen(again), len);
    assert_memory_equal(again, text, len);
    free(again);
    myfree(text);
    *whole = o;
    for (size_t i = 0; i < json_array_size(json_object_get(o, "tenants")); i++) {
        t = json_array_get(json_object_get(o, "tenants"), i);
        if (strcmp(json_string_value(json_object_get(t, "id")), id) == 0)
            return t;
    }
    fail_msg("no status entry for %s", id);
    return NULL;
}

static void test_status_cache(void **state)
{
    struct dmsg *m[3];
    struct dstats *acme;
    json_t *o, *e;

    (void)state;
    setup_conf();
    d->running = true;
    for (int i = 0; i < 3; i++)
        m[i] = add(i, 0);          /* i % 3: 0 default, 1 acme, 2 beta */
    e = status_of("acme", &o);
    assert_int_equal(json_integer_value(json_object_get(e, "deferred")), 0);
    assert_true(json_is_null(json_object_get(e, "last_error")));
    assert_int_equal(json_integer_value(json_object_get(o, "queued")), 3);
    assert_true(json_is_true(json_object_get(o, "ok")));
    assert_non_null(json_object_get(o, "store"));
    json_decref(o);
    /* A change of count shows at once: the cached entry is rebuilt. */
    dmsg_set_state(d, m[1], SPOOL_DEFERRED);
    e = status_of("acme", &o);
    assert_int_equal(json_integer_value(json_object_get(e, "deferred")), 1);
    json_decref(o);
    dmsg_set_state(d, m[1], SPOOL_HELD);
    e = status_of("acme", &o);
    assert_int_equal(json_integer_value(json_object_get(e, "deferred")), 0);
    assert_int_equal(json_integer_value(json_object_get(e, "held")), 1);
    json_decref(o);
    /* An outcome (delivery_route.c's apply_outcome) touches the figures;
     * invalid UTF-8 in the reply still gives valid JSON. */
    acme = dstats_get(d, "acme");
    acme->sent++;
    acme->last_success = 86400;
    acme->last_error = mystrdup("451 caf\xe9 down");
    dstats_touch(acme);
    e = status_of("acme", &o);
    assert_int_equal(json_integer_value(json_object_get(e, "sent")), 1);
    assert_string_equal(json_string_value(json_object_get(e, "last_success")), "1970-01-02T00:00:00Z");
    assert_non_null(strstr(json_string_value(json_object_get(e, "last_error")), "451 caf"));
    json_decref(o);
    /* Unchanged figures: the same bytes, from the cache. */
    {
        size_t l1, l2;
        char *t1 = delivery_status_dumps(d, &l1), *t2 = delivery_status_dumps(d, &l2);

        assert_int_equal(l1, l2);
        assert_memory_equal(t1, t2, l1);
        myfree(t1);
        myfree(t2);
    }
    while (d->first)
        dindex_remove(d, d->first);
    e = status_of("acme", &o);
    assert_int_equal(json_integer_value(json_object_get(e, "held")), 0);
    assert_int_equal(json_integer_value(json_object_get(o, "queued")), 0);
    json_decref(o);
    d->running = false;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heap_order),
        cmocka_unit_test(test_due_only),
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_gauges),
        cmocka_unit_test(test_status_cache),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
