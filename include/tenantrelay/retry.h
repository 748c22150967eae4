/*
 * retry.h - when a deferred message is tried next, and when it gives up.
 *
 * The schedule is a list of intervals; attempt n (1-based, counting the one
 * that just failed) waits schedule[min(n, len) - 1] seconds, so the last
 * interval repeats.  A message whose age would pass max_age fails instead.
 */
#ifndef TENANTRELAY_RETRY_H
#define TENANTRELAY_RETRY_H

#include <stdbool.h>
#include <time.h>

#include "tenantrelay/conf.h"

/* After `attempts` failed attempts (>= 1) of a message that arrived at
 * `arrival`, at time `now`: the time of the next attempt in *next, and true;
 * or false when the message has reached max_age and must fail now. */
bool retry_next_attempt(const struct conf_retry *retry, int attempts, time_t arrival,
                        time_t now, time_t *next);

/* True when a failed message kept since failed_at has outlived failed_retention. */
bool retry_failed_expired(const struct conf_retry *retry, time_t failed_at, time_t now);

#endif
