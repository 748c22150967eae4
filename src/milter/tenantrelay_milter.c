/*
 * tenantrelay_milter.c - the libmilter filter's process: arguments,
 * configuration, socket, privilege drop and reload on SIGUSR1 (libmilter
 * itself treats SIGHUP, SIGTERM and SIGINT as "stop").
 *
 * Tenant resolution and rewriting inside the milter are not built yet: until
 * they are, every message is answered 451 (tempfail) so that mail waits in
 * the MTA's queue instead of leaving unrewritten.
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

static pthread_mutex_t milter_conf_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conf *milter_conf;
static const char *milter_conf_path;

static sfsistat on_envfrom(SMFICTX *ctx, char **argv)
{
    smfi_setreply(ctx, "451", "4.3.0", "tenantrelay-milter: tenant resolution is not built yet");
    return SMFIS_TEMPFAIL;
}

static struct smfiDesc milter_desc = {
    .xxfi_name = "tenantrelay",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_CHGFROM | SMFIF_CHGHDRS | SMFIF_ADDHDRS,
    .xxfi_envfrom = on_envfrom,
};

/* SIGUSR1 is blocked in every thread and taken here synchronously. */
static void *reload_thread(void *arg)
{
    sigset_t set;
    int sig;

    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    for (;;) {
        struct conf_error err = { "" };
        struct conf *fresh;

        if (sigwait(&set, &sig) != 0)
            continue;
        fresh = conf_load(milter_conf_path, &err);
        if (fresh == NULL) {
            msg_error("-", "reload refused, keeping the running configuration: %s", err.text);
            continue;
        }
        pthread_mutex_lock(&milter_conf_lock);
        conf_unref(milter_conf);
        milter_conf = fresh;
        pthread_mutex_unlock(&milter_conf_lock);
        msg_info("-", "reloaded configuration from %s", milter_conf_path);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    struct daemon_args args;
    struct conf_error err = { "" };
    char errbuf[512];
    sigset_t set;
    pthread_t tid;
    int rc;

    if ((rc = daemon_parse_args(argc, argv, "tenantrelay-milter", &args)) != 0)
        return rc < 0 ? 0 : rc;
    if ((milter_conf = conf_load(args.config_path, &err)) == NULL
        || conf_check_files(milter_conf, &err) < 0) {
        fprintf(stderr, "%s\n", err.text);
        return EX_CONFIG;
    }
    if (args.check_only)
        return 0;
    milter_conf_path = args.config_path;
    daemon_disable_core_dumps();
    msg_open("tenantrelay-milter", args.foreground);
    if (smfi_setconn(milter_conf->milter.socket) == MI_FAILURE
        || smfi_register(milter_desc) == MI_FAILURE)
        msg_fatal(EX_SOFTWARE, "-", "cannot set up milter socket %s", milter_conf->milter.socket);
    /* Create the socket as root (it may live under Postfix's spool), then drop. */
    umask((mode_t)(0777 & ~milter_conf->milter.socket_mode));
    if (smfi_opensocket(true) == MI_FAILURE)
        msg_fatal(EX_OSERR, "-", "cannot open milter socket %s", milter_conf->milter.socket);
    if (daemon_drop_privileges(milter_conf->user, errbuf, sizeof(errbuf)) < 0)
        msg_fatal(EX_NOPERM, "-", "%s", errbuf);
    if (!args.foreground && daemon(0, 0) < 0)
        msg_fatal(EX_OSERR, "-", "cannot detach: %s", strerror(errno));
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (pthread_create(&tid, NULL, reload_thread, NULL) != 0)
        msg_fatal(EX_OSERR, "-", "cannot start the reload thread");
    pthread_detach(tid);
    msg_info("-", "milter started version=%s socket=%s", PACKAGE_VERSION, milter_conf->milter.socket);
    rc = smfi_main();
    msg_info("-", "milter stopped");
    return rc == MI_SUCCESS ? 0 : EX_SOFTWARE;
}
