/*
 * smtpd_fair.h - fair sessions under load (SPEC §4): the session clock that
 * decides when a slow client is cut off, and the listener's stress mode.
 *
 * A whole command line must arrive within the command timeout, and in DATA
 * every SMTPD_DATA_CHUNK bytes must (besides the whole phase's data_timeout
 * and min_data_rate), so a client trickling a byte at a time is dropped.
 * When the listener is nearly full (SMTPD_STRESS_PERCENT of max_sessions)
 * the command timeout shrinks to stress_command_timeout, as Postfix's stress
 * mode does.  Pure functions over times in seconds: unit-tested.
 */
#ifndef TENANTRELAY_SMTPD_FAIR_H
#define TENANTRELAY_SMTPD_FAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <time.h>

#include "tenantrelay/conf.h"

#define SMTPD_STRESS_PERCENT 80     /* sessions in use, of max_sessions */
#define SMTPD_DATA_CHUNK 4096       /* DATA bytes that must arrive within a command timeout */
#define SMTPD_DATA_GRACE 10         /* seconds of DATA before min_data_rate counts */

struct smtpd_clock {
    time_t mark;                    /* the last complete command (or the start) */
    time_t data_start;              /* 0 outside DATA */
    time_t data_mark;               /* the last DATA chunk completed */
    size_t data_bytes;
    size_t data_mark_bytes;
};

/* Why and how a session is cut. */
struct smtpd_cut {
    const char *reply;              /* "421 4.4.2 Error: ..." (the host name goes in after the codes) */
    const char *reason;             /* greppable: command_timeout, data_timeout, data_stalled, data_rate */
    const char *why;                /* the session's end in words ("command timeout", ...) */
    int timeout;                    /* the limit that applied, in seconds */
};

void smtpd_clock_start(struct smtpd_clock *k, time_t now);
/* A command line (or a message) completed. */
void smtpd_clock_progress(struct smtpd_clock *k, time_t now);
/* Whether the session is inside DATA now (entering it starts the DATA timers). */
void smtpd_clock_phase(struct smtpd_clock *k, bool in_data, time_t now);
/* n bytes arrived. */
void smtpd_clock_bytes(struct smtpd_clock *k, size_t n, time_t now);
/* True (and *cut filled) when the session must end now. */
bool smtpd_clock_expired(const struct smtpd_clock *k, const struct conf_limits *lim, bool stressed,
                         time_t now, struct smtpd_cut *cut);

/* The key a client's sessions are counted under: its IPv4 address (also
 * when mapped), or the /64 of an IPv6 address (one host may hold a whole
 * /64 and would otherwise be as many clients as it likes). */
void smtpd_fair_client_key(const struct sockaddr *sa, char *buf, size_t len);

/* Nearly full: sessions at or above SMTPD_STRESS_PERCENT of max_sessions. */
bool smtpd_fair_stressed(int sessions, int max_sessions);
/* The command timeout in force (seconds). */
int smtpd_fair_command_timeout(const struct conf_limits *lim, bool stressed);

#endif
