/*
 * daemon.h - process plumbing shared by tenantrelayd and tenantrelay-milter:
 * listening sockets, privilege drop, signals, core dumps.
 */
#ifndef TENANTRELAY_DAEMON_H
#define TENANTRELAY_DAEMON_H

#include <stdbool.h>

#include "tenantrelay/conf.h"

/* Bind and listen on every address of conf->listen; fds[] gets listen_count
 * descriptors (non-blocking, close-on-exec).  0, or -1 with err set. */
int daemon_listen_all(const struct conf *conf, int *fds, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* When running as root: switch to conf->user (groups, gid, uid) and keep
 * nothing else.  A no-op for other users.  0, or -1 with err set. */
int daemon_drop_privileges(const char *user, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* No core dumps: an opened secret must never land on disk. */
void daemon_disable_core_dumps(void);

/* Signals become bytes on a pipe so the main loop handles them synchronously.
 * Installs handlers for SIGTERM, SIGINT, SIGHUP and SIGUSR1; ignores SIGPIPE.
 * Returns the read end. */
int daemon_signal_pipe(void);
/* The next pending signal number, or 0 when none. */
int daemon_signal_next(int fd);

/* Parse a config file path and the common flags (-c FILE, -f, -t, -h). */
struct daemon_args {
    const char *config_path;
    bool foreground;
    bool check_only;
};
/* Returns 0, or the exit status to use (usage error). */
int daemon_parse_args(int argc, char **argv, const char *program, struct daemon_args *args);

#endif
