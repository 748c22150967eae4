/*
 * clock.c - the one monotonic clock (see clock.h).
 */
#include "config.h"

#include <time.h>

#include "tenantrelay/clock.h"

long long clock_mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

long long clock_mono_ms(void)
{
    return clock_mono_ns() / 1000000;
}

void clock_real_deadline(struct timespec *ts, long long ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

long long clock_mono_s(void)
{
    return clock_mono_ns() / 1000000000LL;
}
