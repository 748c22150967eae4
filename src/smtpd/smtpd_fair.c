/*
 * smtpd_fair.c - the session clock and stress mode (see smtpd_fair.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "tenantrelay/netaddr.h"
#include "smtpd_fair.h"

static const char TIMEOUT_REPLY[] = "421 4.4.2 Error: timeout exceeded";

void smtpd_clock_start(struct smtpd_clock *k, time_t now)
{
    memset(k, 0, sizeof(*k));
    k->mark = now;
}

void smtpd_clock_progress(struct smtpd_clock *k, time_t now)
{
    k->mark = now;
}

void smtpd_clock_phase(struct smtpd_clock *k, bool in_data, time_t now)
{
    if (in_data && k->data_start == 0) {
        k->data_start = k->data_mark = now;
        k->data_bytes = k->data_mark_bytes = 0;
    } else if (!in_data) {
        k->data_start = 0;
    }
}

void smtpd_clock_bytes(struct smtpd_clock *k, size_t n, time_t now)
{
    if (k->data_start == 0)
        return;
    k->data_bytes += n;
    if (k->data_bytes - k->data_mark_bytes >= SMTPD_DATA_CHUNK) {
        k->data_mark = now;
        k->data_mark_bytes = k->data_bytes - (k->data_bytes - k->data_mark_bytes) % SMTPD_DATA_CHUNK;
    }
}

void smtpd_fair_client_key(const struct sockaddr *sa, char *buf, size_t len)
{
    if (sa->sa_family == AF_INET6
        && !IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)sa)->sin6_addr)) {
        struct in6_addr net = ((const struct sockaddr_in6 *)sa)->sin6_addr;
        char text[INET6_ADDRSTRLEN];

        memset(net.s6_addr + 8, 0, 8);
        inet_ntop(AF_INET6, &net, text, sizeof(text));
        snprintf(buf, len, "%s/64", text);
        return;
    }
    netaddr_format(sa, buf, len);
}

bool smtpd_fair_stressed(int sessions, int max_sessions)
{
    return max_sessions > 0 && (long)sessions * 100 >= (long)max_sessions * SMTPD_STRESS_PERCENT;
}

int smtpd_fair_command_timeout(const struct conf_limits *lim, bool stressed)
{
    if (stressed && lim->stress_command_timeout > 0 && lim->stress_command_timeout < lim->command_timeout)
        return lim->stress_command_timeout;
    return lim->command_timeout;
}

static bool cut_with(struct smtpd_cut *cut, const char *reply, const char *reason, const char *why,
                     int timeout)
{
    cut->reply = reply;
    cut->reason = reason;
    cut->why = why;
    cut->timeout = timeout;
    return true;
}

bool smtpd_clock_expired(const struct smtpd_clock *k, const struct conf_limits *lim, bool stressed,
                         time_t now, struct smtpd_cut *cut)
{
    int tmo = smtpd_fair_command_timeout(lim, stressed);

    if (k->data_start == 0)
        return now - k->mark >= tmo
               && cut_with(cut, TIMEOUT_REPLY, "command_timeout", "command timeout", tmo);
    if (now - k->data_start >= lim->data_timeout)
        return cut_with(cut, TIMEOUT_REPLY, "data_timeout", "data timeout", lim->data_timeout);
    /* Steady progress, not just a byte now and then. */
    if (now - k->data_mark >= tmo)
        return cut_with(cut, TIMEOUT_REPLY, "data_stalled", "data timeout", tmo);
    if (lim->min_data_rate > 0 && now - k->data_start >= SMTPD_DATA_GRACE
        && k->data_bytes < (size_t)lim->min_data_rate * (size_t)(now - k->data_start))
        return cut_with(cut, "421 4.4.2 Error: data rate too low", "data_rate", "data rate too low",
                        lim->data_timeout);
    return false;
}
