/*
 * metrics.h - counters and histograms the listener and delivery bump on
 * their hot paths (one relaxed atomic add each, no lock), rendered as
 * OpenMetrics text for GET /metrics (SPEC §9): tenantrelay_ prefix, base
 * units (seconds), counters ending in _total, only bounded labels.
 */
#ifndef TENANTRELAY_METRICS_H
#define TENANTRELAY_METRICS_H

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#include "tenantrelay/dbuf.h"

enum metrics_result { METRICS_SENT, METRICS_DEFERRED, METRICS_FAILED, METRICS_NRESULTS };

/* A message committed to the spool / refused by the listener (any reply
 * other than 250 to DATA, or a rejected recipient set). */
void metrics_count_received(void);
void metrics_count_rejected(void);

/* One delivery attempt: its result, its duration in seconds, and on
 * failure the SMTP client's stage (folded into the probe's step names;
 * anything else counts as "other"). */
void metrics_count_delivery(enum metrics_result result, double seconds, const char *stage);

/* An OAuth2 token fetch (for the OAuth work; nothing calls it yet). */
void metrics_count_oauth_fetch(bool ok);

/* Gauges read at scrape time from their owners. */
struct metrics_gauges {
    long queue[4];              /* by enum spool_state_kind: queued, deferred, held, failed */
    double oldest_age;          /* seconds; 0 with an empty queue */
    long store_version;         /* file store: its load generation */
    double store_age;           /* seconds since the store was loaded */
    bool ready;
    /* metrics_per_tenant: delivery's status entries ({"id", "sent",
     * "deferred", "failed", "held"}), or NULL for no tenant label at all. */
    const json_t *tenants;
};

/* The whole exposition appended to out: OpenMetrics 1.0 (ends with
 * "# EOF") when openmetrics, else Prometheus text 0.0.4 (what promtool
 * checks).  */
void metrics_render(struct dbuf *out, const struct metrics_gauges *g, bool openmetrics);

/* Content type of the exposition. */
#define METRICS_CONTENT_TYPE_OM "application/openmetrics-text; version=1.0.0; charset=utf-8"
#define METRICS_CONTENT_TYPE_TEXT "text/plain; version=0.0.4; charset=utf-8"

#endif
