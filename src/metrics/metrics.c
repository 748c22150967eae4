/*
 * metrics.c - the process's counters (see metrics.h).  Relaxed atomics:
 * a scrape may see one counter a message ahead of another, never a torn
 * value, and the hot path never waits for a scrape.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "tenantrelay/metrics.h"

/* Upper bounds (seconds) of the delivery duration histogram. */
static const double buckets[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60 };
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

/* The probe's step names (a bounded label set) plus "other". */
static const char *const steps[] = {
    "dns", "connect", "tls", "certificate", "ehlo", "auth", "mail", "rcpt", "data", "message", "quit",
    "other",
};
#define NSTEPS (sizeof(steps) / sizeof(steps[0]))

static const char *const results[METRICS_NRESULTS] = { "sent", "deferred", "failed" };

static struct {
    atomic_ulong received, rejected;
    atomic_ulong attempts[METRICS_NRESULTS];
    atomic_ulong bucket[NBUCKETS];      /* non-cumulative; summed at render */
    atomic_ulong count;
    atomic_ulong sum_us;                /* microseconds: an integer add */
    atomic_ulong failures[NSTEPS];
    atomic_ulong oauth[2];
} m;

void metrics_count_received(void)
{
    atomic_fetch_add_explicit(&m.received, 1, memory_order_relaxed);
}

void metrics_count_rejected(void)
{
    atomic_fetch_add_explicit(&m.rejected, 1, memory_order_relaxed);
}

/* smtpc's stage names to the probe's steps. */
static size_t step_index(const char *stage)
{
    static const struct { const char *stage, *step; } map[] = {
        { "greeting", "connect" }, { "starttls", "tls" }, { "dot", "message" }, { "rset", "mail" },
    };

    if (stage == NULL)
        return NSTEPS - 1;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(stage, map[i].stage) == 0)
            stage = map[i].step;
    for (size_t i = 0; i < NSTEPS - 1; i++)
        if (strcmp(stage, steps[i]) == 0)
            return i;
    return NSTEPS - 1;
}

void metrics_count_delivery(enum metrics_result result, double seconds, const char *stage)
{
    size_t b = 0;

    if ((int)result < 0 || result >= METRICS_NRESULTS)
        return;
    atomic_fetch_add_explicit(&m.attempts[result], 1, memory_order_relaxed);
    while (b < NBUCKETS && seconds > buckets[b])
        b++;
    if (b < NBUCKETS)
        atomic_fetch_add_explicit(&m.bucket[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m.count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m.sum_us, (unsigned long)(seconds > 0 ? seconds * 1e6 : 0), memory_order_relaxed);
    if (result != METRICS_SENT)
        atomic_fetch_add_explicit(&m.failures[step_index(stage)], 1, memory_order_relaxed);
}

void metrics_count_oauth_fetch(bool ok)
{
    atomic_fetch_add_explicit(&m.oauth[ok ? 0 : 1], 1, memory_order_relaxed);
}

static unsigned long get(atomic_ulong *a)
{
    return atomic_load_explicit(a, memory_order_relaxed);
}

/* OpenMetrics names a counter's family without "_total" and knows "info"
 * and "# UNIT"; Prometheus's text format 0.0.4 (promtool, older scrapers)
 * names the sample and has neither. */
static bool om;
static pthread_mutex_t render_lock = PTHREAD_MUTEX_INITIALIZER;   /* guards om */

static void family(struct dbuf *o, const char *name, const char *type, const char *unit, const char *help)
{
    char n[128];

    snprintf(n, sizeof(n), "%s%s", name, om ? "" : strcmp(type, "counter") == 0 ? "_total"
                                               : strcmp(type, "info") == 0 ? "_info" : "");
    dbuf_printf(o, "# HELP %s %s\n", n, help);
    dbuf_printf(o, "# TYPE %s %s\n", n, om || strcmp(type, "info") != 0 ? type : "gauge");
    if (unit && om)
        dbuf_printf(o, "# UNIT %s %s\n", n, unit);
}

void metrics_render(struct dbuf *o, const struct metrics_gauges *g, bool openmetrics)
{
    static const char *const states[4] = { "queued", "deferred", "held", "failed" };
    unsigned long cum = 0;

    pthread_mutex_lock(&render_lock);
    om = openmetrics;

    family(o, "tenantrelay_build", "info", NULL, "Build information.");
    dbuf_printf(o, "tenantrelay_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);

    family(o, "tenantrelay_messages_received", "counter", NULL, "Messages accepted into the spool.");
    dbuf_printf(o, "tenantrelay_messages_received_total %lu\n", get(&m.received));
    family(o, "tenantrelay_messages_rejected", "counter", NULL, "Messages refused by the listener.");
    dbuf_printf(o, "tenantrelay_messages_rejected_total %lu\n", get(&m.rejected));

    family(o, "tenantrelay_delivery_attempts", "counter", NULL, "Delivery attempts by result.");
    for (int i = 0; i < METRICS_NRESULTS; i++)
        dbuf_printf(o, "tenantrelay_delivery_attempts_total{result=\"%s\"} %lu\n", results[i],
                    get(&m.attempts[i]));

    family(o, "tenantrelay_delivery_duration_seconds", "histogram", "seconds",
           "Duration of delivery attempts.");
    for (size_t i = 0; i < NBUCKETS; i++) {
        cum += get(&m.bucket[i]);
        dbuf_printf(o, "tenantrelay_delivery_duration_seconds_bucket{le=\"%g\"} %lu\n", buckets[i], cum);
    }
    /* +Inf is the count itself, read once so the two always agree. */
    cum = get(&m.count);
    dbuf_printf(o, "tenantrelay_delivery_duration_seconds_bucket{le=\"+Inf\"} %lu\n", cum);
    dbuf_printf(o, "tenantrelay_delivery_duration_seconds_count %lu\n", cum);
    dbuf_printf(o, "tenantrelay_delivery_duration_seconds_sum %.6f\n", (double)get(&m.sum_us) / 1e6);

    family(o, "tenantrelay_upstream_failures", "counter", NULL,
           "Failed delivery attempts by the step that failed.");
    for (size_t i = 0; i < NSTEPS; i++)
        dbuf_printf(o, "tenantrelay_upstream_failures_total{step=\"%s\"} %lu\n", steps[i], get(&m.failures[i]));

    family(o, "tenantrelay_oauth_token_fetches", "counter", NULL, "OAuth2 access token requests by result.");
    dbuf_printf(o, "tenantrelay_oauth_token_fetches_total{result=\"ok\"} %lu\n", get(&m.oauth[0]));
    dbuf_printf(o, "tenantrelay_oauth_token_fetches_total{result=\"error\"} %lu\n", get(&m.oauth[1]));

    if (g) {
        family(o, "tenantrelay_queue_messages", "gauge", NULL, "Messages in the queue by state.");
        for (int i = 0; i < 4; i++)
            dbuf_printf(o, "tenantrelay_queue_messages{state=\"%s\"} %ld\n", states[i], g->queue[i]);
        family(o, "tenantrelay_queue_oldest_message_age_seconds", "gauge", "seconds",
               "Age of the oldest message in the queue.");
        dbuf_printf(o, "tenantrelay_queue_oldest_message_age_seconds %.0f\n", g->oldest_age);
        family(o, "tenantrelay_tenant_store_version", "gauge", NULL, "Version of the loaded tenant store.");
        dbuf_printf(o, "tenantrelay_tenant_store_version %ld\n", g->store_version);
        family(o, "tenantrelay_tenant_store_snapshot_age_seconds", "gauge", "seconds",
               "Seconds since the tenant store in use was loaded.");
        dbuf_printf(o, "tenantrelay_tenant_store_snapshot_age_seconds %.0f\n", g->store_age);
        family(o, "tenantrelay_ready", "gauge", NULL, "1 when the spool is writable and the store loaded.");
        dbuf_printf(o, "tenantrelay_ready %d\n", g->ready ? 1 : 0);
    }
    if (g && g->tenants) {
        size_t i;
        const json_t *t;

        /* Tenant ids match [a-z0-9][a-z0-9._-]*: safe as label values. */
        family(o, "tenantrelay_tenant_messages_sent", "counter", NULL, "Messages sent by tenant.");
        json_array_foreach((json_t *)g->tenants, i, t)
            dbuf_printf(o, "tenantrelay_tenant_messages_sent_total{tenant=\"%s\"} %lld\n",
                        json_string_value(json_object_get(t, "id")),
                        (long long)json_integer_value(json_object_get(t, "sent")));
        family(o, "tenantrelay_tenant_queue_messages", "gauge", NULL, "Messages in the queue by tenant and state.");
        json_array_foreach((json_t *)g->tenants, i, t)
            for (int k = 1; k < 4; k++)
                dbuf_printf(o, "tenantrelay_tenant_queue_messages{tenant=\"%s\",state=\"%s\"} %lld\n",
                            json_string_value(json_object_get(t, "id")), states[k],
                            (long long)json_integer_value(json_object_get(t, states[k])));
    }
    if (openmetrics)
        dbuf_append_str(o, "# EOF\n");
    pthread_mutex_unlock(&render_lock);
}
