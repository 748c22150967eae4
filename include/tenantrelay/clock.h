/*
 * clock.h - the one monotonic clock: timeouts, deadlines, rate windows and
 * durations are measured on it, so a wall-clock step (NTP, the admin) never
 * stretches or cuts one.
 */
#ifndef TENANTRELAY_CLOCK_H
#define TENANTRELAY_CLOCK_H

#include <time.h>

/* Milliseconds of CLOCK_MONOTONIC (an arbitrary origin: compare, subtract). */
long long clock_mono_ms(void);

/* Whole seconds of CLOCK_MONOTONIC. */
long long clock_mono_s(void);

/* Nanoseconds of CLOCK_MONOTONIC, for durations finer than a millisecond. */
long long clock_mono_ns(void);

/* The CLOCK_REALTIME moment ms milliseconds from now, for
 * pthread_cond_timedwait() (our condition variables keep its default
 * clock).  A bounded wait only: a wall-clock step shortens or stretches it. */
void clock_real_deadline(struct timespec *ts, long long ms);

#endif
