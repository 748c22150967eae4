/*
 * retry.c - the retry schedule and the maximum age (see retry.h).
 */
#include "config.h"

#include "tenantrelay/retry.h"

bool retry_next_attempt(const struct conf_retry *retry, int attempts, time_t arrival,
                        time_t now, time_t *next)
{
    int idx = attempts < 1 ? 0 : attempts - 1;
    time_t when;

    if (idx >= retry->schedule_len)
        idx = retry->schedule_len - 1;
    if (now - arrival >= retry->max_age)
        return false;
    when = now + retry->schedule[idx];
    /* Never sleep past max_age: the last try happens at the deadline, so a
     * message fails at max_age, not at max_age plus an interval. */
    if (when - arrival > retry->max_age)
        when = arrival + retry->max_age;
    *next = when;
    return true;
}

bool retry_failed_expired(const struct conf_retry *retry, time_t failed_at, time_t now)
{
    return now - failed_at >= retry->failed_retention;
}
