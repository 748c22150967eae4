/*
 * tenantrelayd.c - the relay daemon: configuration, listeners, privilege
 * drop, signals.  SMTP sessions live in src/smtpd, the spool in src/spool,
 * delivery in src/delivery; this file only wires them together.
 *
 * Signals: SIGTERM/SIGINT stop cleanly; SIGHUP rereads the configuration and
 * keeps the old one when the new one is broken (the reason is logged).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <unistd.h>

#include "tenantrelay/conf.h"
#include "tenantrelay/daemon.h"
#include "tenantrelay/msg.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/server.h"

static struct conf *load_or_report(const char *path, bool check_files)
{
    struct conf_error err = { "" };
    struct conf *conf = conf_load(path, &err);

    if (conf && check_files && conf_check_files(conf, &err) < 0) {
        conf_unref(conf);
        conf = NULL;
    }
    if (conf == NULL)
        fprintf(stderr, "%s\n", err.text);
    return conf;
}

/* Reread the configuration; on failure keep running with the old one. */
static void reload(const char *path, struct conf **conf)
{
    struct conf_error err = { "" };
    struct conf *fresh = conf_load(path, &err);

    if (fresh && conf_check_files(fresh, &err) < 0) {
        conf_unref(fresh);
        fresh = NULL;
    }
    if (fresh == NULL) {
        msg_error("-", "reload refused, keeping the running configuration: %s", err.text);
        return;
    }
    if (server_reload(fresh) < 0) {
        conf_unref(fresh);
        return;
    }
    conf_unref(*conf);
    *conf = fresh;
    msg_info("-", "reloaded configuration from %s", path);
}

int main(int argc, char **argv)
{
    struct daemon_args args;
    struct conf *conf;
    int *fds;
    int sigfd;
    char err[512];
    int rc;
    bool running = true;

    if ((rc = daemon_parse_args(argc, argv, "tenantrelayd", &args)) != 0)
        return rc < 0 ? 0 : rc;
    if ((conf = load_or_report(args.config_path, true)) == NULL)
        return EX_CONFIG;
    if (args.check_only) {
        conf_unref(conf);
        return 0;
    }
    daemon_disable_core_dumps();
    msg_open("tenantrelayd", args.foreground);
    fds = mycalloc((size_t)conf->listen_count, sizeof(*fds));
    if (daemon_listen_all(conf, fds, err, sizeof(err)) < 0)
        msg_fatal(EX_OSERR, "-", "%s", err);
    if (daemon_drop_privileges(conf->user, err, sizeof(err)) < 0)
        msg_fatal(EX_NOPERM, "-", "%s", err);
    if (!args.foreground && daemon(0, 0) < 0)
        msg_fatal(EX_OSERR, "-", "cannot detach: %s", strerror(errno));
    if ((sigfd = daemon_signal_pipe()) < 0)
        msg_fatal(EX_OSERR, "-", "signal pipe: %s", strerror(errno));
    if (server_start(conf) < 0)
        msg_fatal(EX_SOFTWARE, "-", "cannot start; see the errors above");
    for (int i = 0; i < conf->listen_count; i++)
        msg_info("-", "listening on address=%s port=%d starttls=%s", conf->listen[i].address,
                 conf->listen[i].port, conf->listen[i].tls_cert ? "yes" : "no");
    msg_info("-", "daemon started version=%s config=%s", PACKAGE_VERSION, args.config_path);

    while (running) {
        int n = conf->listen_count;
        struct pollfd *pfd = mycalloc((size_t)n + 1, sizeof(*pfd));

        for (int i = 0; i < n; i++) {
            pfd[i].fd = fds[i];
            pfd[i].events = POLLIN;
        }
        pfd[n].fd = sigfd;
        pfd[n].events = POLLIN;
        if (poll(pfd, (nfds_t)n + 1, -1) < 0 && errno != EINTR)
            msg_fatal(EX_OSERR, "-", "poll: %s", strerror(errno));
        if (pfd[n].revents & POLLIN) {
            int sig;

            while ((sig = daemon_signal_next(sigfd)) != 0) {
                if (sig == SIGTERM || sig == SIGINT) {
                    msg_info("-", "stopping on signal %d", sig);
                    running = false;
                } else if (sig == SIGHUP) {
                    reload(args.config_path, &conf);
                }
            }
        }
        for (int i = 0; running && i < n; i++) {
            struct sockaddr_storage peer;
            socklen_t plen = sizeof(peer);
            int cfd;

            if (!(pfd[i].revents & POLLIN))
                continue;
            /* Accept a bounded batch so one busy listener cannot starve signals. */
            for (int k = 0; k < 64; k++) {
                plen = sizeof(peer);
                cfd = accept4(fds[i], (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
                if (cfd < 0) {
                    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED)
                        msg_warn("-", "accept: %s", strerror(errno));
                    break;
                }
                server_accept(cfd, &peer, plen, i);
            }
        }
        myfree(pfd);
    }
    for (int i = 0; i < conf->listen_count; i++)
        close(fds[i]);
    server_stop();
    myfree(fds);
    conf_unref(conf);
    msg_info("-", "daemon stopped");
    return 0;
}
