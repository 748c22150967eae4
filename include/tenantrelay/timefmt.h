/*
 * timefmt.h - the one formatter and parser of times as text: RFC 3339 UTC
 * ("2026-01-02T03:04:05Z") for stores, keyrings, events, JSON and logs, and
 * the RFC 5322 Date: form for messages.  All UTC: no time zone of the
 * machine ever shows in a file or a reply.
 */
#ifndef TENANTRELAY_TIMEFMT_H
#define TENANTRELAY_TIMEFMT_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

/* Room for every form below with its NUL. */
#define TIMEFMT_LEN 40

/* t as "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes); a time gmtime
 * cannot break down becomes "1970-01-01T00:00:00Z".  Returns buf. */
const char *timefmt_rfc3339(time_t t, char *buf, size_t len);

/* t for a JSON document: its RFC 3339 string, or null when t is 0 (never
 * happened).  A new reference. */
json_t *timefmt_json(time_t t);

/* ts with milliseconds, "YYYY-MM-DDTHH:MM:SS.mmmZ" (log lines).  Returns buf. */
const char *timefmt_rfc3339_ms(const struct timespec *ts, char *buf, size_t len);

/* An already broken-down UTC time (an X.509 validity date) in the same
 * form; "" if it does not fit.  Returns buf. */
const char *timefmt_rfc3339_tm(const struct tm *tm, char *buf, size_t len);

/* t as an RFC 5322 date, "Sun, 06 Dec 2026 20:00:00 +0000".  Returns buf. */
const char *timefmt_rfc5322(time_t t, char *buf, size_t len);

/* Parse RFC 3339 UTC: "YYYY-MM-DDTHH:MM:SS", optional fraction (dropped),
 * then "Z", "z" or "+00:00".  0 with *out set, or -1 (*out untouched on a
 * syntax error). */
int timefmt_parse_rfc3339(const char *s, time_t *out);

#endif
