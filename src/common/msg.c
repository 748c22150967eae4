/*
 * msg.c - Postfix-style logging to syslog or stderr (see msg.h).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "tenantrelay/msg.h"
#include "tenantrelay/timefmt.h"

static const char *msg_ident = "tenantrelay";
static bool msg_to_stderr = true;
static enum msg_level msg_min_level = MSG_INFO;
static pthread_mutex_t msg_lock = PTHREAD_MUTEX_INITIALIZER;
/* getpid() is a system call each time (glibc no longer caches it): read
 * once, and again in a forked child (single-threaded when the handler runs). */
static pid_t msg_pid;
static pthread_once_t msg_pid_once = PTHREAD_ONCE_INIT;

static void msg_child_pid(void)
{
    msg_pid = getpid();
}

static void msg_init_pid(void)
{
    msg_pid = getpid();
    pthread_atfork(NULL, NULL, msg_child_pid);
}

static long msg_getpid(void)
{
    pthread_once(&msg_pid_once, msg_init_pid);
    return (long)msg_pid;
}

void msg_open(const char *ident, bool to_stderr)
{
    msg_ident = ident;
    msg_to_stderr = to_stderr;
    if (!to_stderr)
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void msg_set_level(enum msg_level level)
{
    msg_min_level = level;
}

static const char *level_name(enum msg_level level)
{
    switch (level) {
    case MSG_DEBUG: return "debug: ";
    case MSG_WARN: return "warning: ";
    case MSG_ERROR: return "error: ";
    case MSG_FATAL: return "fatal: ";
    default: return "";
    }
}

static int level_priority(enum msg_level level)
{
    switch (level) {
    case MSG_DEBUG: return LOG_DEBUG;
    case MSG_WARN: return LOG_WARNING;
    case MSG_ERROR: return LOG_ERR;
    case MSG_FATAL: return LOG_CRIT;
    default: return LOG_INFO;
    }
}

void msg_vlog(enum msg_level level, const char *id, const char *fmt, va_list ap)
{
    char text[4096];
    int saved_errno = errno;

    if (level < msg_min_level)
        return;
    vsnprintf(text, sizeof(text), fmt, ap);
    /* One line per event: a newline in a value must not forge a log line. */
    for (char *p = text; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    if (msg_to_stderr) {
        struct timespec ts;
        char when[TIMEFMT_LEN];

        clock_gettime(CLOCK_REALTIME, &ts);
        timefmt_rfc3339_ms(&ts, when, sizeof(when));
        pthread_mutex_lock(&msg_lock);
        fprintf(stderr, "%s %s[%ld]: %s: %s%s\n", when,
                msg_ident, msg_getpid(), id ? id : "-", level_name(level), text);
        fflush(stderr);
        pthread_mutex_unlock(&msg_lock);
    } else {
        syslog(level_priority(level), "%s: %s%s", id ? id : "-", level_name(level), text);
    }
    errno = saved_errno;
}

#define MSG_DEFINE(name, level)                               \
    void name(const char *id, const char *fmt, ...)           \
    {                                                         \
        va_list ap;                                           \
        va_start(ap, fmt);                                    \
        msg_vlog(level, id, fmt, ap);                         \
        va_end(ap);                                           \
    }

MSG_DEFINE(msg_debug, MSG_DEBUG)
MSG_DEFINE(msg_info, MSG_INFO)
MSG_DEFINE(msg_warn, MSG_WARN)
MSG_DEFINE(msg_error, MSG_ERROR)

void msg_fatal(int status, const char *id, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(MSG_FATAL, id, fmt, ap);
    va_end(ap);
    exit(status);
}
