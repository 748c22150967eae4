/*
 * msg.h - logging in Postfix's manner.
 *
 * Every line is "program[pid]: ID: text", where ID is a session or queue id
 * (or "-" for process-wide events) and text uses key=value fields.  Output
 * goes to syslog(3), or to stderr when msg_open() was asked for it (-f).
 * Callers must never pass a secret: there is no redaction layer on purpose,
 * so that the rule stays simple and testable.
 */
#ifndef TENANTRELAY_MSG_H
#define TENANTRELAY_MSG_H

#include <stdarg.h>
#include <stdbool.h>

enum msg_level { MSG_DEBUG, MSG_INFO, MSG_WARN, MSG_ERROR, MSG_FATAL };

/* Open the log.  ident is the program name; to_stderr selects stderr. */
void msg_open(const char *ident, bool to_stderr);
/* Log verbosity: messages below this level are dropped (default MSG_INFO). */
void msg_set_level(enum msg_level level);

void msg_debug(const char *id, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void msg_info(const char *id, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void msg_warn(const char *id, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void msg_error(const char *id, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Log and exit(status). */
void msg_fatal(int status, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));
void msg_vlog(enum msg_level level, const char *id, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#endif
