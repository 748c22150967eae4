/*
 * store_live.c - the watcher of a PostgreSQL tenant store (store_live.h):
 * one thread, one dedicated connection that LISTENs, a reconcile by
 * version on every reconnect, every notification and every
 * tenant_store_poll seconds; each new version is loaded whole, swapped in,
 * handed to the subscribers and written to the spool as the snapshot.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tenantrelay/msg.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/store_live.h"
#include "store_int.h"

#define MAX_SUBS 4
#define STALE_LOG_EVERY 60      /* seconds between "still stale" log lines */
#define RETRY_MAX 5             /* seconds between reconnect attempts, at most */

static struct {
    pthread_mutex_t lock;
    bool active, started;
    char *uri, *spool, *node;
    int poll_s;
    struct tenant_store *cur;
    uint64_t version;
    bool stale, from_snapshot;
    time_t synced, snapshot_at, stale_since, stale_logged;
    void (*subs[MAX_SUBS])(struct tenant_store *, void *);
    void *sub_args[MAX_SUBS];
    int nsubs;
    pthread_t tid;
    int stop[2];
    PGconn *conn;               /* the watcher's; handed over at start */
    /* The snapshot writer: its own thread, so that writing 100,000
     * records to disk never delays the next change. */
    pthread_t writer;
    pthread_cond_t want_cond;
    bool want_snapshot, writer_stop;
    uint64_t written_version;
} live = { .lock = PTHREAD_MUTEX_INITIALIZER, .stop = { -1, -1 }, .want_cond = PTHREAD_COND_INITIALIZER };

static time_t now_s(void)
{
    return time(NULL);
}

/* Swap s (a new reference) in and tell the subscribers. */
static void install(struct tenant_store *s, uint64_t version)
{
    struct tenant_store *old;
    void (*subs[MAX_SUBS])(struct tenant_store *, void *);
    void *sub_args[MAX_SUBS];
    int nsubs;

    pthread_mutex_lock(&live.lock);
    old = live.cur;
    live.cur = s;
    live.version = version;
    nsubs = live.nsubs;
    memcpy(subs, live.subs, sizeof(subs));
    memcpy(sub_args, live.sub_args, sizeof(sub_args));
    pthread_mutex_unlock(&live.lock);
    tenant_store_free(old);
    for (int i = 0; i < nsubs; i++)
        subs[i](s, sub_args[i]);
}

static void set_stale(const char *why)
{
    time_t now = now_s();

    pthread_mutex_lock(&live.lock);
    if (!live.stale) {
        live.stale = true;
        live.stale_since = live.stale_logged = now;
        pthread_mutex_unlock(&live.lock);
        msg_warn("-", "tenant store stale: PostgreSQL unreachable (%s); serving snapshot version=%" PRIu64
                 ", unknown tenants are tempfailed", why, live.version);
        return;
    }
    if (now - live.stale_logged >= STALE_LOG_EVERY) {
        live.stale_logged = now;
        pthread_mutex_unlock(&live.lock);
        msg_warn("-", "tenant store still stale: PostgreSQL unreachable for %lds (%s); serving version=%"
                 PRIu64 " last_sync_age=%lds", (long)(now - live.stale_since), why, live.version,
                 live.synced ? (long)(now - live.synced) : -1L);
        return;
    }
    pthread_mutex_unlock(&live.lock);
}

static void set_fresh(void)
{
    bool was;

    pthread_mutex_lock(&live.lock);
    was = live.stale;
    live.stale = false;
    live.synced = now_s();
    pthread_mutex_unlock(&live.lock);
    if (was)
        msg_info("-", "tenant store reachable again version=%" PRIu64, live.version);
}

static void report_node(PGconn *c)
{
    char v[32], snap[32];
    const char *p[3] = { live.node, v, snap };
    PGresult *r;

    snprintf(v, sizeof(v), "%" PRIu64, live.version);
    pthread_mutex_lock(&live.lock);
    snprintf(snap, sizeof(snap), "%ld", (long)live.snapshot_at);
    pthread_mutex_unlock(&live.lock);
    r = PQexecParams(c, "INSERT INTO tr_nodes (node, version, snapshot_at, seen_at)"
                        " VALUES ($1, $2, CASE WHEN $3::bigint > 0 THEN to_timestamp($3::bigint) END, now())"
                        " ON CONFLICT (node) DO UPDATE SET version = EXCLUDED.version,"
                        " snapshot_at = EXCLUDED.snapshot_at, seen_at = now()", 3, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        msg_warn("-", "tenant store: cannot report this node: %s", PQerrorMessage(c));
    PQclear(r);
}

/* Write the current snapshot to the spool (the writer thread). */
static void *snapshot_writer(void *arg)
{
    struct conf_error err;
    struct tenant_store *s;
    uint64_t v;

    (void)arg;
    pthread_mutex_lock(&live.lock);
    for (;;) {
        while (!live.want_snapshot && !live.writer_stop)
            pthread_cond_wait(&live.want_cond, &live.lock);
        if (live.writer_stop)
            break;
        live.want_snapshot = false;
        s = tenant_store_ref(live.cur);
        v = live.version;
        if (s == NULL || (v == live.written_version && live.snapshot_at)) {
            tenant_store_free(s);
            continue;
        }
        pthread_mutex_unlock(&live.lock);
        err.text[0] = 0;
        if (store_snapshot_write(live.spool, s, v, &err) < 0)
            msg_warn("-", "tenant store snapshot not written: %s", err.text);
        tenant_store_free(s);
        pthread_mutex_lock(&live.lock);
        if (!err.text[0]) {
            live.written_version = v;
            live.snapshot_at = now_s();
        }
    }
    pthread_mutex_unlock(&live.lock);
    return NULL;
}

static void want_snapshot(void)
{
    pthread_mutex_lock(&live.lock);
    live.want_snapshot = true;
    pthread_cond_signal(&live.want_cond);
    pthread_mutex_unlock(&live.lock);
}

/* Bring the snapshot to the database's version.  -1: the connection (or
 * the data) failed; the caller reconnects and the old snapshot stays. */
static int reconcile(PGconn *c)
{
    struct conf_error err = { "" };
    struct tenant_store *s, *old;
    int64_t v;
    uint64_t got;

    if ((v = store_pg_version(c, &err)) < 0) {
        set_stale(err.text);
        return -1;
    }
    if ((uint64_t)v != live.version || live.from_snapshot) {
        /* From a snapshot file: read everything once (the database may
         * have been restored meanwhile); else only what changed. */
        pthread_mutex_lock(&live.lock);
        old = live.from_snapshot ? NULL : tenant_store_ref(live.cur);
        pthread_mutex_unlock(&live.lock);
        s = store_pg_load_since(c, old, live.version, &got, &err);
        tenant_store_free(old);
        if (s == NULL) {
            msg_error("-", "tenant store: %s (the previous snapshot stays)", err.text);
            set_stale(err.text);
            return -1;
        }
        install(s, got);
        live.from_snapshot = false;
        msg_info("-", "tenant store version=%" PRIu64 " tenants=%zu", got, tenant_store_count(s));
        want_snapshot();
    }
    set_fresh();
    report_node(c);
    return 0;
}

/* The dedicated connection, LISTENing.  NULL with err. */
static PGconn *connect_listen(struct conf_error *err)
{
    PGconn *c = store_pg_connect(live.uri, 3, err);

    if (c != NULL && store_pg_exec(c, "LISTEN " STORE_PG_CHANNEL, err) < 0) {
        PQfinish(c);
        c = NULL;
    }
    return c;
}

/* Sleep up to ms or until stop is asked: true when asked. */
static bool wait_stop(int fd, int ms, bool *readable)
{
    struct pollfd p[2] = { { live.stop[0], POLLIN, 0 }, { fd, POLLIN, 0 } };
    int n;

    *readable = false;
    n = poll(p, fd >= 0 ? 2 : 1, ms);
    if (n > 0 && p[0].revents)
        return true;
    *readable = n > 0 && fd >= 0 && p[1].revents;
    return false;
}

static void *watcher(void *arg)
{
    PGconn *c = live.conn;
    time_t next_poll = now_s() + live.poll_s;
    int retry = 1;
    bool readable;

    (void)arg;
    for (;;) {
        if (c == NULL) {
            struct conf_error err = { "" };

            if ((c = connect_listen(&err)) == NULL)
                set_stale(err.text);
            if (c == NULL || reconcile(c) < 0) {
                PQfinish(c);
                c = NULL;
                if (wait_stop(-1, retry * 1000, &readable))
                    break;
                retry = retry * 2 > RETRY_MAX ? RETRY_MAX : retry * 2;
                continue;
            }
            retry = 1;
            next_poll = now_s() + live.poll_s;
        }
        {
            time_t now = now_s();
            int ms = next_poll > now ? (int)(next_poll - now) * 1000 : 0;
            bool hint = false;
            PGnotify *n;

            /* libpq queues notifications that arrive during our own
             * queries (a reconcile): those count before any wait. */
            while ((n = PQnotifies(c)) != NULL) {
                hint = true;
                PQfreemem(n);
            }
            if (!hint) {
                if (wait_stop(PQsocket(c), ms, &readable))
                    break;
                if (readable && !PQconsumeInput(c)) {
                    set_stale("connection lost");
                    PQfinish(c);
                    c = NULL;
                    continue;
                }
                while ((n = PQnotifies(c)) != NULL) {
                    hint = true;
                    PQfreemem(n);
                }
            }
            if (hint || now_s() >= next_poll || PQstatus(c) != CONNECTION_OK) {
                if (PQstatus(c) != CONNECTION_OK || reconcile(c) < 0) {
                    set_stale("connection lost");
                    PQfinish(c);
                    c = NULL;
                    continue;
                }
                if (!hint)
                    next_poll = now_s() + live.poll_s;
            }
        }
    }
    PQfinish(c);
    return NULL;
}

int store_live_start(const struct conf *conf, const char *program, char *err, size_t errlen)
{
    struct conf_error cerr = { "" }, serr = { "" };
    struct tenant_store *s;
    uint64_t v = 0;
    time_t written = 0;
    PGconn *c;

    if (!store_is_pg(conf->tenant_store) || live.active)
        return 0;
    live.uri = mystrdup(conf->tenant_store);
    live.spool = mystrdup(conf->spool_directory);
    live.node = mymalloc(strlen(conf->hostname) + strlen(program) + 2);
    sprintf(live.node, "%s/%s", conf->hostname, program);
    live.poll_s = conf->tenant_store_poll > 0 ? conf->tenant_store_poll : 30;
    if ((c = connect_listen(&cerr)) != NULL && (s = store_pg_load_all(c, &v, &cerr)) != NULL) {
        install(s, v);
        live.synced = now_s();
        live.stale = false;
        msg_info("-", "tenant store loaded from PostgreSQL version=%" PRIu64 " tenants=%zu", v,
                 tenant_store_count(s));
        live.want_snapshot = true;      /* the writer thread's first job */
        report_node(c);
    } else {
        if (!cerr.text[0])
            snprintf(cerr.text, sizeof(cerr.text), "unreachable");
        PQfinish(c);
        c = NULL;
        /* Only a whole snapshot: never an empty store in its place. */
        if ((s = store_snapshot_read(live.spool, &v, &written, &serr)) == NULL) {
            snprintf(err, errlen, "tenant store: %s; and %s", cerr.text, serr.text);
            goto fail;
        }
        install(s, v);
        live.from_snapshot = true;
        live.snapshot_at = written;
        live.written_version = v;
        live.stale = true;
        live.stale_since = live.stale_logged = now_s();
        msg_warn("-", "tenant store stale: PostgreSQL unreachable (%s); started from the snapshot "
                 "version=%" PRIu64 " tenants=%zu age=%lds; unknown tenants are tempfailed", cerr.text, v,
                 tenant_store_count(s), (long)(now_s() - written));
    }
    if (pipe2(live.stop, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "tenant store: pipe: %s", strerror(errno));
        PQfinish(c);
        goto fail;
    }
    live.conn = c;
    live.active = true;
    live.writer_stop = false;
    if (pthread_create(&live.writer, NULL, snapshot_writer, NULL) != 0) {
        snprintf(err, errlen, "tenant store: cannot start the snapshot thread");
        PQfinish(c);
        live.active = false;
        goto fail;
    }
    if (pthread_create(&live.tid, NULL, watcher, NULL) != 0) {
        snprintf(err, errlen, "tenant store: cannot start the watcher thread");
        PQfinish(c);
        live.active = false;
        pthread_mutex_lock(&live.lock);
        live.writer_stop = true;
        pthread_cond_signal(&live.want_cond);
        pthread_mutex_unlock(&live.lock);
        pthread_join(live.writer, NULL);
        goto fail;
    }
    live.started = true;
    return 0;
fail:
    install(NULL, 0);
    return -1;
}

void store_live_stop(void)
{
    if (!live.started)
        return;
    if (write(live.stop[1], "x", 1) < 0)
        msg_warn("-", "tenant store: cannot stop the watcher: %s", strerror(errno));
    pthread_join(live.tid, NULL);
    pthread_mutex_lock(&live.lock);
    live.writer_stop = true;
    pthread_cond_signal(&live.want_cond);
    pthread_mutex_unlock(&live.lock);
    pthread_join(live.writer, NULL);
    live.started = false;
    pthread_mutex_lock(&live.lock);
    live.active = false;
    live.nsubs = 0;
    pthread_mutex_unlock(&live.lock);
    install(NULL, 0);
    close(live.stop[0]);
    close(live.stop[1]);
    myfree(live.uri);
    myfree(live.spool);
    myfree(live.node);
    live.uri = live.spool = live.node = NULL;
}

struct tenant_store *store_live_acquire(const char *tenant_store, uint64_t *version, bool *stale)
{
    struct tenant_store *s = NULL;

    pthread_mutex_lock(&live.lock);
    if (live.active && live.cur && tenant_store && strcmp(tenant_store, live.uri) == 0) {
        s = tenant_store_ref(live.cur);
        if (version)
            *version = live.version;
        if (stale)
            *stale = live.stale;
    }
    pthread_mutex_unlock(&live.lock);
    return s;
}

void store_live_subscribe(void (*fn)(struct tenant_store *snap, void *arg), void *arg)
{
    pthread_mutex_lock(&live.lock);
    if (live.nsubs < MAX_SUBS) {
        live.subs[live.nsubs] = fn;
        live.sub_args[live.nsubs++] = arg;
    }
    pthread_mutex_unlock(&live.lock);
}

void store_live_get_info(struct store_live_info *info)
{
    pthread_mutex_lock(&live.lock);
    info->active = live.active;
    info->stale = live.stale;
    info->version = live.version;
    info->synced = live.synced;
    info->from_snapshot = live.from_snapshot;
    info->snapshot_at = live.snapshot_at;
    pthread_mutex_unlock(&live.lock);
}
