/*
 * tenantrelayd.c - the relay daemon: configuration, listeners, privilege
 * drop, signals, the control socket.  SMTP sessions live in src/smtpd, the
 * spool in src/spool, delivery in src/delivery; this file wires them.
 *
 * Signals: SIGTERM/SIGINT stop cleanly; SIGHUP rereads the configuration and
 * the tenant store and keeps the old ones when the new ones are broken (the
 * reason is logged).  `tenantrelayctl reload` does the same over the control
 * socket and waits for the outcome.
 */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <unistd.h>

#include "tenantrelay/clock.h"
#include "tenantrelay/conf.h"
#include "tenantrelay/control.h"
#include "tenantrelay/daemon.h"
#include "tenantrelay/delivery.h"
#include "tenantrelay/http.h"
#include "tenantrelay/metrics.h"
#include "tenantrelay/msg.h"
#include "tenantrelay/oauth.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/server.h"
#include "tenantrelay/spool.h"
#include "tenantrelay/store.h"
#include "tenantrelay/webhook.h"
#include "tenantrelay/store_live.h"
#include "tenantrelay/tenant.h"

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

/* Reloads requested over the control socket wait here for the main loop. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t done;
    unsigned generation;        /* reloads completed */
    bool ok;
    char error[600];
} reload_state = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, false, "" };

static void reload_finished(bool ok, const char *error)
{
    pthread_mutex_lock(&reload_state.lock);
    reload_state.generation++;
    reload_state.ok = ok;
    snprintf(reload_state.error, sizeof(reload_state.error), "%s", error);
    pthread_cond_broadcast(&reload_state.done);
    pthread_mutex_unlock(&reload_state.lock);
}

/* The tenant store of conf, read whole, or NULL (logged with FILE:LINE). */
static struct tenant_store *load_store(const struct conf *conf, const char *when,
                                       char *err, size_t errlen)
{
    struct conf_error cerr = { "" };
    struct tenant_store *store = store_load_whole(conf, NULL, &cerr);
    char name[512];

    if (store == NULL) {
        snprintf(err, errlen, "tenant store: %s", cerr.text);
        msg_error("-", "%s: %s", when, err);
        return NULL;
    }
    /* A PostgreSQL URI may hold a password: logged without it. */
    msg_info("-", "tenant store loaded path=%s tenants=%zu",
             store_display_name(conf->tenant_store, name, sizeof(name)),
             tenant_store_count(store));
    return store;
}

/* Reread the configuration and tenant store; on failure keep the old ones.
 * Both sides are prepared before either is switched, so the listener and
 * delivery use the same snapshot: the reload applies to both or neither. */
static void reload(const char *path, struct conf **conf, struct delivery *delivery)
{
    struct conf_error err = { "" };
    struct conf *fresh = conf_load(path, &err);
    struct tenant_store *store = NULL;
    struct server_snap *snext = NULL;
    struct delivery_next *dnext = NULL;
    char derr[600];

    if (fresh && conf_check_files(fresh, &err) < 0) {
        conf_unref(fresh);
        fresh = NULL;
    }
    if (fresh == NULL) {
        msg_error("-", "reload refused, keeping the running configuration: %s", err.text);
        reload_finished(false, err.text);
        return;
    }
    if ((store = load_store(fresh, "reload refused, keeping the running configuration and store",
                            derr, sizeof(derr))) == NULL)
        goto refused;
    if ((snext = server_prepare(fresh, store)) == NULL) {
        snprintf(derr, sizeof(derr), "the listener refused the new configuration (see the log)");
        goto refused;
    }
    if ((dnext = delivery_prepare(delivery, fresh, store, derr, sizeof(derr))) == NULL) {
        msg_error("-", "reload refused by delivery, keeping the running configuration: %s", derr);
        goto refused;
    }
    server_commit(snext);
    delivery_commit(delivery, dnext);
    tenant_store_free(store);
    http_reload(fresh);
    conf_unref(*conf);
    *conf = fresh;
    msg_info("-", "reloaded configuration from %s", path);
    reload_finished(true, "");
    return;
refused:
    if (snext)
        server_discard(snext);
    tenant_store_free(store);
    conf_unref(fresh);
    reload_finished(false, derr);
}

/* Control requests: reload is the main loop's (via SIGHUP, waited for);
 * everything else is delivery's (arg: the engine). */
static json_t *on_control(const json_t *request, void *arg)
{
    const char *cmd = json_string_value(json_object_get(request, "cmd"));
    struct timespec until;
    unsigned gen;
    json_t *resp;

    if (cmd == NULL || strcmp(cmd, "reload") != 0)
        return delivery_control(arg, request);
    pthread_mutex_lock(&reload_state.lock);
    gen = reload_state.generation;
    kill(getpid(), SIGHUP);
    clock_real_deadline(&until, 30 * 1000);
    while (reload_state.generation == gen)
        if (pthread_cond_timedwait(&reload_state.done, &reload_state.lock, &until) != 0)
            break;
    if (reload_state.generation == gen)
        resp = json_pack("{s:b, s:s}", "ok", 0, "error", "reload did not finish in time");
    else if (reload_state.ok)
        resp = json_pack("{s:b}", "ok", 1);
    else
        resp = json_pack("{s:b, s:s}", "ok", 0, "error", reload_state.error);
    pthread_mutex_unlock(&reload_state.lock);
    return resp;
}

/* `status` goes out as delivery keeps it serialised (a copy per tenant,
 * not an object per tenant); every other request as an object. */
static char *on_control_text(const json_t *request, size_t *len, void *arg)
{
    const char *cmd = json_string_value(json_object_get(request, "cmd"));

    if (cmd == NULL || strcmp(cmd, "status") != 0)
        return NULL;
    return delivery_status_dumps(arg, len);
}

/* A message is on stable storage: count it, then schedule it (arg: the engine). */
static void on_queued(const struct spool_envelope *env, void *arg)
{
    metrics_count_received();
    delivery_enqueue(arg, env);
}

/* A new snapshot from the live tenant store: to the engine (arg). */
static void on_snapshot(struct tenant_store *snap, void *arg)
{
    delivery_store_install(arg, snap);
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
    struct control_server *control;
    struct spool *spool;
    struct tenant_store *store;
    struct delivery *delivery;
    char **ids = NULL;
    size_t nids = 0;
    bool server_idle, delivery_idle;

    if ((rc = daemon_parse_args(argc, argv, "tenantrelayd", &args)) != 0)
        return rc < 0 ? 0 : rc;
    if ((conf = load_or_report(args.config_path, true)) == NULL)
        return EX_CONFIG;
    if (args.check_only) {
        conf_unref(conf);
        return 0;
    }
    daemon_disable_core_dumps();
    /* One thread per session and per upstream connection: glibc's default
     * of an arena per thread multiplies idle heap; two arenas suffice. */
    mallopt(M_ARENA_MAX, 2);
    msg_open("tenantrelayd", args.foreground);
    fds = mycalloc((size_t)conf->listen_count, sizeof(*fds));
    if (daemon_listen_all(conf, fds, err, sizeof(err)) < 0)
        msg_fatal(EX_OSERR, "-", "%s", err);
    if (http_prepare(conf, err, sizeof(err)) < 0)
        msg_fatal(EX_CONFIG, "-", "http: %s", err);
    if (daemon_drop_privileges(conf->user, err, sizeof(err)) < 0)
        msg_fatal(EX_NOPERM, "-", "%s", err);
    if (!args.foreground && daemon(0, 0) < 0)
        msg_fatal(EX_OSERR, "-", "cannot detach: %s", strerror(errno));
    if ((sigfd = daemon_signal_pipe()) < 0)
        msg_fatal(EX_OSERR, "-", "signal pipe: %s", strerror(errno));
    /* curl_global_init is not thread-safe: before the first thread. */
    if (oauth_global_init() < 0)
        msg_fatal(EX_SOFTWARE, "-", "cannot initialise libcurl for OAuth2 token requests");
    /* The daemon owns the spool; the listener and delivery borrow it, and
     * it is closed only once neither uses it (see the end of main). */
    if ((spool = spool_open(conf->spool_directory, true, err, sizeof(err))) == NULL)
        msg_fatal(EX_OSERR, "-", "spool: %s", err);
    if (spool_recover(spool, &ids, &nids, err, sizeof(err)) < 0)
        msg_fatal(EX_OSERR, "-", "spool recovery: %s", err);
    msg_info("-", "spool recovered directory=%s queued=%zu", conf->spool_directory, nids);
    spool_ids_free(ids);
    /* A PostgreSQL tenant store: loaded (or its snapshot in the spool
     * directory) and watched by a thread, so after the fork; load_store()
     * then takes its snapshot. */
    if (store_live_start(conf, "tenantrelayd", err, sizeof(err)) < 0)
        msg_fatal(EX_CONFIG, "-", "cannot start: %s", err);
    if ((store = load_store(conf, "cannot start", err, sizeof(err))) == NULL)
        msg_fatal(EX_CONFIG, "-", "%s", err);
    if (server_start(conf, spool, store) < 0)
        msg_fatal(EX_SOFTWARE, "-", "cannot start; see the errors above");
    delivery = delivery_new();
    if (delivery_start(delivery, conf, spool, store, err, sizeof(err)) < 0)
        msg_fatal(EX_SOFTWARE, "-", "cannot start delivery: %s", err);
    tenant_store_free(store);   /* the listener and delivery hold theirs */
    server_set_queued_hook(on_queued, delivery);
    store_live_subscribe(on_snapshot, delivery);
    if (http_start(conf, delivery, err, sizeof(err)) < 0)
        msg_fatal(EX_OSERR, "-", "%s", err);
    {
        /* The webhook opens its secret once, here. */
        const struct vault *vault;
        struct delivery_pin *pin = delivery_vault_pin(delivery, &vault);

        rc = webhook_start(conf, vault, err, sizeof(err));
        delivery_vault_unpin(delivery, pin);
        if (rc < 0)
            msg_fatal(EX_CONFIG, "-", "webhook: %s", err);
    }
    if ((control = control_server_start(conf->control_socket, on_control, on_control_text, delivery,
                                        err, sizeof(err))) == NULL)
        msg_fatal(EX_OSERR, "-", "%s", err);
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
                    reload(args.config_path, &conf, delivery);
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
                cfd = accept4(fds[i], (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC | SOCK_NONBLOCK);
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
    /* Stop order: the listener first (no new message reaches delivery),
     * then the HTTP API and the webhook (they use delivery's keyring and
     * figures), then delivery (its workers and scheduler use the spool),
     * then the live store's watcher (it hands snapshots to delivery), then
     * the spool, and only when both said nothing of theirs still runs;
     * libcurl last (delivery's token requests and the webhook use it). */
    server_idle = server_stop();
    http_stop();
    webhook_stop();
    delivery_idle = delivery_stop(delivery);
    store_live_stop();
    if (server_idle && delivery_idle)
        spool_close(spool);
    else
        msg_warn("-", "spool left open: %s still running at exit",
                 server_idle ? "delivery attempts" : "sessions");
    oauth_global_cleanup();
    control_server_stop(control);
    /* The engine last: the control socket answered with it until now, and
     * sessions or workers still running (logged above) may use it. */
    if (server_idle && delivery_idle)
        delivery_free(delivery);
    myfree(fds);
    conf_unref(conf);
    msg_info("-", "daemon stopped");
    return 0;
}
