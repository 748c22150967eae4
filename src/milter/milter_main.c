/*
 * milter_main.c - tenantrelay-milter's process: arguments, configuration,
 * socket, privilege drop, the reload thread (SIGUSR1) and smfi_main().
 *
 * libmilter takes SIGHUP, SIGTERM and SIGINT as "stop", so a reload is
 * SIGUSR1: blocked in every thread and taken synchronously by one thread,
 * which swaps the configuration + tenant store snapshot (milter_snap.c).
 */
#include "config.h"

#include <errno.h>
#include <libmilter/mfapi.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "tenantrelay/conf.h"
#include "tenantrelay/daemon.h"
#include "tenantrelay/msg.h"
#include "tenantrelay/store.h"
#include "tenantrelay/store_live.h"
#include "milter_int.h"

static const char *milter_conf_path;

static void *reload_thread(void *arg)
{
    sigset_t set;
    int sig;

    (void)arg;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    for (;;) {
        char err[1024];

        if (sigwait(&set, &sig) != 0)
            continue;
        if (milter_snap_reload(milter_conf_path, err, sizeof(err)) < 0) {
            msg_error("-", "reload refused, keeping the running configuration: %s", err);
            continue;
        }
        msg_info("-", "reloaded configuration from %s", milter_conf_path);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    struct daemon_args args;
    struct conf_error err = { "" };
    struct conf *conf;
    char errbuf[1024];
    sigset_t set;
    pthread_t tid;
    int rc;

    if ((rc = daemon_parse_args(argc, argv, "tenantrelay-milter", &args)) != 0)
        return rc < 0 ? 0 : rc;
    if ((conf = conf_load(args.config_path, &err)) == NULL || conf_check_files(conf, &err) < 0) {
        fprintf(stderr, "%s\n", err.text);
        return EX_CONFIG;
    }
    if (args.check_only) {
        conf_unref(conf);
        return 0;
    }
    milter_conf_path = args.config_path;
    daemon_disable_core_dumps();
    msg_open("tenantrelay-milter", args.foreground);
    /* The store is read before the privileges go, like every later reload
     * reads it after: both must work for the service user (see the README). */
    if (!store_is_pg(conf->tenant_store) && milter_snap_install(conf, errbuf, sizeof(errbuf)) < 0)
        msg_fatal(EX_CONFIG, "-", "%s", errbuf);
    if (smfi_setconn(conf->milter.socket) == MI_FAILURE || smfi_register(milter_desc) == MI_FAILURE)
        msg_fatal(EX_SOFTWARE, "-", "cannot set up milter socket %s", conf->milter.socket);
    /* Create the socket as root (it may live under Postfix's spool), then drop. */
    umask((mode_t)(0777 & ~conf->milter.socket_mode));
    if (smfi_opensocket(true) == MI_FAILURE)
        msg_fatal(EX_OSERR, "-", "cannot open milter socket %s", conf->milter.socket);
    if (daemon_drop_privileges(conf->user, errbuf, sizeof(errbuf)) < 0)
        msg_fatal(EX_NOPERM, "-", "%s", errbuf);
    if (!args.foreground && daemon(0, 0) < 0)
        msg_fatal(EX_OSERR, "-", "cannot detach: %s", strerror(errno));
    /* The threads started here (reload, the PostgreSQL watcher) must not
     * take libmilter's stop signals either: a SIGTERM the kernel hands to a
     * thread that leaves it unblocked kills the process (exit 143, no clean
     * stop).  smfi_main() blocks these three in this thread and waits for
     * them in its own signal thread. */
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    /* A PostgreSQL store: its watcher thread (after the fork, with SIGUSR1
     * blocked like every thread but the reload one), then the snapshot. */
    if (store_is_pg(conf->tenant_store)
        && (store_live_start(conf, "tenantrelay-milter", errbuf, sizeof(errbuf)) < 0
            || milter_snap_install(conf, errbuf, sizeof(errbuf)) < 0))
        msg_fatal(EX_CONFIG, "-", "%s", errbuf);
    if (pthread_create(&tid, NULL, reload_thread, NULL) != 0)
        msg_fatal(EX_OSERR, "-", "cannot start the reload thread");
    pthread_detach(tid);
    msg_info("-", "milter started version=%s socket=%s", PACKAGE_VERSION, conf->milter.socket);
    rc = smfi_main();
    msg_info("-", "milter stopped");
    milter_snap_shutdown();
    store_live_stop();
    conf_unref(conf);
    return rc == MI_SUCCESS ? 0 : EX_SOFTWARE;
}
