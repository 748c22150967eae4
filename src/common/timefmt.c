/*
 * timefmt.c - the one time formatter and parser (see timefmt.h).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tenantrelay/timefmt.h"

#define RFC3339 "%Y-%m-%dT%H:%M:%SZ"

const char *timefmt_rfc3339(time_t t, char *buf, size_t len)
{
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, RFC3339, &tm) == 0)
        snprintf(buf, len, "1970-01-01T00:00:00Z");
    return buf;
}

json_t *timefmt_json(time_t t)
{
    char buf[TIMEFMT_LEN];

    return t ? json_string(timefmt_rfc3339(t, buf, sizeof(buf))) : json_null();
}

const char *timefmt_rfc3339_ms(const struct timespec *ts, char *buf, size_t len)
{
    struct tm tm;
    char sec[32];

    if (gmtime_r(&ts->tv_sec, &tm) == NULL || strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        snprintf(sec, sizeof(sec), "1970-01-01T00:00:00");
    snprintf(buf, len, "%s.%03ldZ", sec, ts->tv_nsec / 1000000);
    return buf;
}

const char *timefmt_rfc3339_tm(const struct tm *tm, char *buf, size_t len)
{
    if (len > 0 && strftime(buf, len, RFC3339, tm) == 0)
        buf[0] = 0;
    return buf;
}

const char *timefmt_rfc5322(time_t t, char *buf, size_t len)
{
    struct tm tm;

    /* English day and month names whatever the locale: the C locale's
     * strftime is what RFC 5322 wants, and the daemons never set another. */
    if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
        snprintf(buf, len, "Thu, 01 Jan 1970 00:00:00 +0000");
    return buf;
}

int timefmt_parse_rfc3339(const char *s, time_t *out)
{
    struct tm tm;
    const char *end;
    time_t t;

    memset(&tm, 0, sizeof(tm));
    end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (end == NULL)
        return -1;
    if (*end == '.') {          /* fractions of a second: accepted, dropped */
        end++;
        if (!isdigit((unsigned char)*end))
            return -1;
        while (isdigit((unsigned char)*end))
            end++;
    }
    if (strcmp(end, "Z") != 0 && strcmp(end, "z") != 0 && strcmp(end, "+00:00") != 0)
        return -1;
    t = timegm(&tm);
    *out = t;
    return t == (time_t)-1 ? -1 : 0;
}
