/*
 * smtpd_server.c - what tenantrelayd runs behind its listening sockets
 * (server.h): one thread per SMTP session with blocking-style I/O over
 * non-blocking sockets and poll() deadlines, the session caps, STARTTLS,
 * and the glue from the pure session (smtpd_session.c) to the spool.
 *
 * A session pins the configuration snapshot it started with (conf, TLS
 * contexts), so a reload never changes the rules under a message in flight.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "smtpd_fair.h"
#include "smtpd_pool.h"
#include "tenantrelay/clock.h"
#include "tenantrelay/msg.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/netaddr.h"
#include "tenantrelay/resolve.h"
#include "tenantrelay/server.h"
#include "tenantrelay/smtpd.h"
#include "tenantrelay/tls.h"
#include "tenantrelay/spool.h"
#include "tenantrelay/store.h"
#include "tenantrelay/store_live.h"
#include "tenantrelay/tenant.h"

#define SERVER_STOP_WAIT 15         /* seconds server_stop() waits for sessions */
#define SERVER_THREAD_STACK (512 * 1024)

struct server_snap {
    int refs;                   /* under srv.lock */
    struct conf *conf;
    SSL_CTX **tls;              /* per listen entry; NULL: no STARTTLS */
    int ntls;
    struct tenant_store *store; /* the tenant store as loaded with conf */
};

struct client_slot {
    char addr[64];
    int count;
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t idle;
    struct server_snap *snap;
    struct spool *spool;
    int sessions;
    bool stressed;              /* nearly full (smtpd_fair.h): shorter timeouts */
    struct client_slot *clients;
    int nclients;
    unsigned long next_id;
    bool stopping;
} srv = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, 0, false, NULL, 0, 0, false };

/* Stress mode follows the session count (under srv.lock); its changes are logged. */
static void stress_update_locked(void)
{
    int max = srv.snap ? srv.snap->conf->limits.max_sessions : 0;
    bool now = smtpd_fair_stressed(srv.sessions, max);

    if (now != srv.stressed) {
        srv.stressed = now;
        msg_warn("-", "stress=%s sessions=%d max_sessions=%d%s", now ? "on" : "off", srv.sessions, max,
                 now ? ": command timeouts shortened to stress_command_timeout" : "");
    }
}

struct session_ctx {
    int fd;
    SSL *ssl;
    char id[32];
    char addr[64];
    char client_key[64];        /* what the per-client cap counts (smtpd_fair.h) */
    struct sockaddr_storage peer;
    int listen_index;
    struct server_snap *snap;
    struct spool_msg *msg;
    unsigned long messages;
};

/* ---- snapshots ---- */

static void snap_unref_locked(struct server_snap *s)
{
    if (s == NULL || --s->refs > 0)
        return;
    for (int i = 0; i < s->ntls; i++)
        SSL_CTX_free(s->tls[i]);
    myfree(s->tls);
    tenant_store_free(s->store);
    conf_unref(s->conf);
    myfree(s);
}

static struct server_snap *snap_new(struct conf *conf, struct tenant_store *store)
{
    struct server_snap *s = mycalloc(1, sizeof(*s));
    char err[512];

    s->refs = 1;
    s->conf = conf_ref(conf);
    s->store = tenant_store_ref(store);
    s->ntls = conf->listen_count;
    s->tls = mycalloc((size_t)s->ntls, sizeof(*s->tls));
    for (int i = 0; i < s->ntls; i++) {
        const struct conf_listen *l = &conf->listen[i];

        if (l->tls_cert == NULL)
            continue;
        if ((s->tls[i] = tls_server_context(l->tls_cert, l->tls_key, err, sizeof(err))) == NULL) {
            msg_error("-", "listen address=%s port=%d: %s", l->address, l->port, err);
            snap_unref_locked(s);    /* not shared yet: no lock needed */
            return NULL;
        }
    }
    return s;
}

/* ---- I/O ---- */

/* Wait for events on fd for at most ms.  >0 ready, 0 timeout, -1 error. */
static int wait_fd(int fd, short events, int ms)
{
    struct pollfd p = { fd, events, 0 };
    int n;

    do
        n = poll(&p, 1, ms);
    while (n < 0 && errno == EINTR);
    if (n > 0 && (p.revents & (POLLERR | POLLNVAL)) && !(p.revents & events))
        return -1;
    return n;
}

/* Read what is there within ms: >0 bytes, 0 end of stream, -1 error, -2 nothing yet. */
static ssize_t io_read(struct session_ctx *c, char *buf, size_t len, int ms)
{
    if (c->ssl) {
        int n, e;

        if (SSL_pending(c->ssl) == 0) {
            int w = wait_fd(c->fd, POLLIN, ms);
            if (w <= 0)
                return w == 0 ? -2 : -1;
        }
        n = SSL_read(c->ssl, buf, (int)len);
        if (n > 0)
            return n;
        e = SSL_get_error(c->ssl, n);
        ERR_clear_error();
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return -2;
        return e == SSL_ERROR_ZERO_RETURN ? 0 : -1;
    }
    int w = wait_fd(c->fd, POLLIN, ms);
    if (w <= 0)
        return w == 0 ? -2 : -1;
    ssize_t n = read(c->fd, buf, len);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? -2 : -1;
    return n;
}

/* Write all of buf before the deadline (monotonic seconds).  0 or -1. */
static int io_write(struct session_ctx *c, const char *buf, size_t len, time_t deadline)
{
    while (len > 0) {
        time_t left = deadline - clock_mono_s();
        short want = POLLOUT;

        if (left <= 0)
            return -1;
        if (c->ssl) {
            int n = SSL_write(c->ssl, buf, (int)(len > 65536 ? 65536 : len));
            if (n > 0) {
                buf += n;
                len -= (size_t)n;
                continue;
            }
            int e = SSL_get_error(c->ssl, n);
            ERR_clear_error();
            if (e == SSL_ERROR_WANT_READ)
                want = POLLIN;
            else if (e != SSL_ERROR_WANT_WRITE)
                return -1;
        } else {
            ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
            if (n > 0) {
                buf += n;
                len -= (size_t)n;
                continue;
            }
            if (n < 0 && errno != EAGAIN && errno != EINTR)
                return -1;
        }
        if (wait_fd(c->fd, want, (int)(left > 1 ? 1000 : left * 1000)) < 0)
            return -1;
    }
    return 0;
}

static int tls_handshake(struct session_ctx *c, SSL_CTX *ctx, time_t deadline)
{
    c->ssl = SSL_new(ctx);
    if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
        return -1;
    for (;;) {
        int n = SSL_accept(c->ssl);
        int e;
        time_t left;

        if (n == 1)
            return 0;
        e = SSL_get_error(c->ssl, n);
        ERR_clear_error();
        left = deadline - clock_mono_s();
        if (left <= 0 || (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE))
            return -1;
        if (wait_fd(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, 1000) < 0)
            return -1;
    }
}

/* ---- the spool side of a session (struct smtpd_ops) ---- */

static int op_begin(void *ctx, char qid[SPOOL_QID_LEN + 1])
{
    struct session_ctx *c = ctx;
    char err[256];

    if ((c->msg = spool_msg_begin(srv.spool, err, sizeof(err))) == NULL) {
        msg_error(c->id, "cannot start a message: %s", err);
        return -1;
    }
    memcpy(qid, spool_msg_id(c->msg), SPOOL_QID_LEN + 1);
    return 0;
}

static int op_write(void *ctx, const void *data, size_t len)
{
    struct session_ctx *c = ctx;

    if (c->msg == NULL || spool_msg_write(c->msg, data, len) < 0) {
        if (c->msg)
            msg_error(spool_msg_id(c->msg), "cannot write the message: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static void op_abort(void *ctx)
{
    struct session_ctx *c = ctx;

    spool_msg_abort(c->msg);
    c->msg = NULL;
}

/* Tenant resolution for a message (resolve.h); fills env->tenant(_source).
 * 0 to accept, -1 after appending a refusal to reply. */
static int resolve_message(struct session_ctx *c, const struct smtpd_message *m,
                           struct spool_envelope *env, struct dbuf *reply)
{
    const struct conf *conf = c->snap->conf;
    struct resolve_result r;
    bool stale = false;
    /* A live PostgreSQL store: its newest snapshot, not the one loaded
     * with the configuration. */
    struct tenant_store *live = store_live_acquire(conf->tenant_store, NULL, &stale);
    struct resolve_input in = {
        conf, live ? live : c->snap->store, (const char *const *)m->tenant_values,
        (size_t)m->tenant_value_count,
        /* The header is trusted only from the allowed networks. */
        netaddr_cidr_list_match(conf->allowed_networks, conf->allowed_count,
                                (const struct sockaddr *)&c->peer),
        m->sender, NULL, stale,
    };

    resolve_tenant(&in, &r);
    if (r.verdict != RESOLVE_ACCEPT) {
        msg_info(m->qid, "refused client=[%s] from=<%s> reason=\"%s\"", c->addr, m->sender, r.reason);
        dbuf_printf(reply, "%s\r\n", r.reply);
        tenant_store_free(live);
        return -1;
    }
    msg_debug(m->qid, "resolution: %s", r.reason);
    env->tenant = r.tenant ? mystrdup(r.tenant->id) : NULL;
    tenant_store_free(live);    /* r.tenant is not used past here */
    switch (r.source) {
    case RESOLVE_SOURCE_HEADER:
        env->tenant_source = SPOOL_TENANT_HEADER;
        break;
    case RESOLVE_SOURCE_SENDER:
        env->tenant_source = SPOOL_TENANT_SENDER;
        break;
    case RESOLVE_SOURCE_AUTH:
        env->tenant_source = SPOOL_TENANT_AUTH;
        break;
    default:
        env->tenant_source = SPOOL_TENANT_NONE;
        break;
    }
    return 0;
}

static void (*queued_hook)(const struct spool_envelope *env);

static void op_finish(void *ctx, const struct smtpd_message *m, struct dbuf *reply)
{
    struct session_ctx *c = ctx;
    struct spool_envelope env;
    char err[256];

    memset(&env, 0, sizeof(env));
    if (resolve_message(c, m, &env, reply) < 0) {
        op_abort(c);
        goto cleanup;
    }
    env.sender = (char *)m->sender;
    env.recipients = (char **)m->recipients;
    env.recipient_count = m->recipient_count;
    env.arrival = time(NULL);
    env.flags = m->flags;
    env.client_addr = c->addr;
    env.helo = (char *)m->helo;
    env.message_id = (char *)m->message_id;
    if (spool_msg_commit(c->msg, &env, err, sizeof(err)) < 0) {
        c->msg = NULL;
        msg_error(m->qid, "not queued: %s", err);
        dbuf_append_str(reply, "452 4.3.1 Insufficient system storage\r\n");
        goto cleanup;
    }
    c->msg = NULL;
    c->messages++;
    msg_info(env.id, "queued client=[%s] from=<%s> nrcpt=%d size=%zu tenant=%s source=%s message-id=%s",
             c->addr, m->sender, m->recipient_count, env.size, env.tenant ? env.tenant : "-",
             spool_tenant_source_name(env.tenant_source), m->message_id ? m->message_id : "-");
    if (queued_hook)
        queued_hook(&env);
    dbuf_printf(reply, "250 2.0.0 Ok: queued as %s\r\n", env.id);
cleanup:
    myfree(env.tenant);
}

void server_set_queued_hook(void (*hook)(const struct spool_envelope *env))
{
    queued_hook = hook;
}

static const struct smtpd_ops server_ops = { op_begin, op_write, op_finish, op_abort };

/* ---- the session thread ---- */

static int flush_output(struct session_ctx *c, struct smtpd_session *sess, int timeout)
{
    struct dbuf *out = smtpd_session_output(sess);
    int rc = 0;

    if (out->len)
        rc = io_write(c, out->data, out->len, clock_mono_s() + timeout);
    dbuf_reset(out);
    return rc;
}

static void session_end(struct session_ctx *c)
{
    pthread_mutex_lock(&srv.lock);
    srv.sessions--;
    for (int i = 0; i < srv.nclients; i++) {
        if (strcmp(srv.clients[i].addr, c->client_key) == 0) {
            if (--srv.clients[i].count == 0)
                srv.clients[i] = srv.clients[--srv.nclients];
            break;
        }
    }
    snap_unref_locked(c->snap);
    stress_update_locked();
    pthread_cond_broadcast(&srv.idle);
    pthread_mutex_unlock(&srv.lock);
}

static void session_main(void *arg)
{
    struct session_ctx *c = arg;
    const struct conf *conf = c->snap->conf;
    const struct conf_limits *lim = &conf->limits;
    /* A reload may list fewer listen entries than the sockets bound at start. */
    SSL_CTX *tls = c->listen_index < c->snap->ntls ? c->snap->tls[c->listen_index] : NULL;
    struct smtpd_params params = {
        c->id, conf->hostname, c->addr, (size_t)lim->max_message_size, lim->max_recipients,
        (size_t)lim->max_line_length, conf->bare_lf == CONF_BARE_LF_REJECT, tls != NULL,
        conf->tenant_header,
    };
    struct smtpd_session *sess;
    enum smtpd_action act = SMTPD_ACT_NONE;
    char *buf = mymalloc(SMTPD_INBUF);
    struct smtpd_clock clock;
    unsigned long progress = 0;
    const char *why = "disconnect";

    msg_info(c->id, "connect from [%s]", c->addr);
    smtpd_clock_start(&clock, clock_mono_s());
    sess = smtpd_session_new(&params, &server_ops, c);
    for (;;) {
        struct smtpd_cut cut;
        bool pstop, stressed, expired;
        time_t now;
        ssize_t n;

        if (flush_output(c, sess, lim->command_timeout) < 0) {
            why = "lost connection writing";
            break;
        }
        if (act == SMTPD_ACT_CLOSE || smtpd_session_state(sess) == SMTPD_S_CLOSED)
            break;
        if (act == SMTPD_ACT_STARTTLS) {
            if (tls_handshake(c, tls, clock_mono_s() + lim->command_timeout) < 0) {
                why = "TLS handshake failed";
                break;
            }
            msg_info(c->id, "TLS established protocol=%s cipher=%s", SSL_get_version(c->ssl),
                     SSL_get_cipher_name(c->ssl));
            smtpd_session_tls_started(sess);
            smtpd_clock_progress(&clock, clock_mono_s());
            act = SMTPD_ACT_NONE;
            continue;
        }
        now = clock_mono_s();
        if (smtpd_session_progress(sess) != progress) {
            progress = smtpd_session_progress(sess);
            smtpd_clock_progress(&clock, now);
        }
        smtpd_clock_phase(&clock, smtpd_session_state(sess) == SMTPD_S_DATA, now);
        pthread_mutex_lock(&srv.lock);
        pstop = srv.stopping;
        stressed = srv.stressed;
        pthread_mutex_unlock(&srv.lock);
        expired = !pstop && smtpd_clock_expired(&clock, lim, stressed, now, &cut);
        if (pstop || expired) {
            const char *reply = pstop ? "421 4.3.2 Service shutting down" : cut.reply;
            char line[256];

            if (pstop) {
                why = "shutdown";
            } else {
                why = cut.why;
                msg_info(c->id, "reject=session client=[%s] reason=%s timeout=%ds stress=%s", c->addr,
                         cut.reason, cut.timeout, stressed ? "on" : "off");
            }
            /* "421 4.4.2 host Error: ..." as Postfix words it */
            snprintf(line, sizeof(line), "%.9s %s %s", reply, conf->hostname, reply + 10);
            smtpd_session_close(sess, line);
            flush_output(c, sess, 2);
            break;
        }
        n = io_read(c, buf, smtpd_session_room(sess), 1000);
        if (n == -2)
            continue;
        if (n <= 0) {
            why = n == 0 ? "disconnect" : "lost connection reading";
            break;
        }
        smtpd_clock_bytes(&clock, (size_t)n, clock_mono_s());
        act = smtpd_session_input(sess, buf, (size_t)n);
    }
    msg_info(c->id, "%s from [%s] messages=%lu", why, c->addr, c->messages);
    smtpd_session_free(sess);   /* aborts a message in flight */
    if (c->ssl) {
        SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
    }
    close(c->fd);
    myfree(buf);
    session_end(c);
    myfree(c);
}

/* ---- server.h ---- */

int server_start(struct conf *conf, struct spool *spool, struct tenant_store *store)
{
    struct server_snap *snap;

    SSL_library_init();
    if ((snap = snap_new(conf, store)) == NULL)
        return -1;
    pthread_mutex_lock(&srv.lock);
    srv.spool = spool;
    srv.snap = snap;
    srv.stopping = false;
    pthread_mutex_unlock(&srv.lock);
    return 0;
}

static void refuse(int fd, const char *text, const char *host)
{
    char line[256];
    int len = snprintf(line, sizeof(line), "%.9s %s %s\r\n", text, host, text + 10);

    char drain[4096];

    /* A fresh socket has room for one line: never block the accept loop. */
    if (send(fd, line, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
        /* gone already */
    }
    shutdown(fd, SHUT_WR);
    /* Read what the client already sent: closing with unread input would
     * reset the connection and could destroy the reply before it is read. */
    for (int i = 0; i < 16 && recv(fd, drain, sizeof(drain), MSG_DONTWAIT) > 0; i++)
        ;
    close(fd);
}

void server_accept(int fd, const struct sockaddr_storage *peer, socklen_t peerlen, int listen_index)
{
    struct session_ctx *c;
    struct client_slot *slot = NULL;
    const struct conf *conf;
    char addr[64], key[64];
    int rc;

    netaddr_format((const struct sockaddr *)peer, addr, sizeof(addr));
    smtpd_fair_client_key((const struct sockaddr *)peer, key, sizeof(key));
    pthread_mutex_lock(&srv.lock);
    if (srv.snap == NULL || srv.stopping) {
        pthread_mutex_unlock(&srv.lock);
        close(fd);
        return;
    }
    conf = srv.snap->conf;
    /* Never an open relay: anyone outside allowed_networks is refused. */
    if (!netaddr_cidr_list_match(conf->allowed_networks, conf->allowed_count,
                                 (const struct sockaddr *)peer)) {
        char host[256];

        snprintf(host, sizeof(host), "%s", conf->hostname);
        pthread_mutex_unlock(&srv.lock);
        msg_warn("-", "reject=connect client=[%s] reason=not_in_allowed_networks", addr);
        refuse(fd, "554 5.7.1 Access denied: client address not allowed", host);
        return;
    }
    for (int i = 0; i < srv.nclients; i++)
        if (strcmp(srv.clients[i].addr, key) == 0)
            slot = &srv.clients[i];
    if (srv.sessions >= conf->limits.max_sessions
        || (slot && conf->limits.max_sessions_per_client > 0
            && slot->count >= conf->limits.max_sessions_per_client)) {
        char host[256];
        bool total = srv.sessions >= conf->limits.max_sessions;
        int held = slot ? slot->count : 0, sessions = srv.sessions;

        snprintf(host, sizeof(host), "%s", conf->hostname);
        pthread_mutex_unlock(&srv.lock);
        msg_warn("-", "reject=connect client=[%s] reason=%s sessions=%d client_sessions=%d limit=%d", addr,
                 total ? "max_sessions" : "max_sessions_per_client", sessions, held,
                 total ? conf->limits.max_sessions : conf->limits.max_sessions_per_client);
        refuse(fd, total ? "421 4.7.0 Error: too many sessions, try again later"
                         : "421 4.7.0 Error: too many sessions from your address", host);
        return;
    }
    if (slot == NULL) {
        srv.clients = myrealloc(srv.clients, sizeof(*srv.clients) * (size_t)(srv.nclients + 1));
        slot = &srv.clients[srv.nclients++];
        snprintf(slot->addr, sizeof(slot->addr), "%s", key);
        slot->count = 0;
    }
    slot->count++;
    srv.sessions++;
    stress_update_locked();
    srv.snap->refs++;
    c = mycalloc(1, sizeof(*c));
    c->fd = fd;
    c->snap = srv.snap;
    c->listen_index = listen_index;
    memcpy(&c->peer, peer, peerlen < sizeof(c->peer) ? peerlen : sizeof(c->peer));
    snprintf(c->addr, sizeof(c->addr), "%s", addr);
    snprintf(c->client_key, sizeof(c->client_key), "%s", key);
    snprintf(c->id, sizeof(c->id), "s%06lu", ++srv.next_id);
    pthread_mutex_unlock(&srv.lock);

    {
        int on = 1;

        /* A pipelining client's replies go out as they come: Nagle would
         * hold the 250 after DATA behind an ACK. */
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    }
    rc = smtpd_pool_run(session_main, c, SERVER_THREAD_STACK);
    if (rc != 0) {
        msg_error("-", "cannot start a session thread: %s", strerror(rc));
        char host[256];
        snprintf(host, sizeof(host), "%s", conf->hostname);
        refuse(fd, "421 4.3.2 Error: cannot start a session, try again later", host);
        session_end(c);
        myfree(c);
    }
}

struct server_snap *server_prepare(struct conf *conf, struct tenant_store *store)
{
    struct server_snap *snap = snap_new(conf, store);

    if (snap && strcmp(conf->spool_directory, spool_directory(srv.spool)) != 0)
        msg_warn("-", "spool_directory changed to %s: takes effect after a restart",
                 conf->spool_directory);
    return snap;
}

void server_commit(struct server_snap *snap)
{
    struct server_snap *old;

    pthread_mutex_lock(&srv.lock);
    old = srv.snap;
    srv.snap = snap;
    snap_unref_locked(old);
    pthread_mutex_unlock(&srv.lock);
}

void server_discard(struct server_snap *snap)
{
    pthread_mutex_lock(&srv.lock);
    snap_unref_locked(snap);
    pthread_mutex_unlock(&srv.lock);
}

bool server_stop(void)
{
    struct timespec until;
    bool idle;

    clock_real_deadline(&until, (long long)SERVER_STOP_WAIT * 1000);
    smtpd_pool_stop();
    pthread_mutex_lock(&srv.lock);
    srv.stopping = true;
    while (srv.sessions > 0)
        if (pthread_cond_timedwait(&srv.idle, &srv.lock, &until) == ETIMEDOUT)
            break;
    idle = srv.sessions == 0;
    snap_unref_locked(srv.snap);
    srv.snap = NULL;
    if (idle) {
        myfree(srv.clients);
        srv.clients = NULL;
        srv.nclients = 0;
        srv.spool = NULL;       /* borrowed: the daemon closes it */
    } else {
        /* Sessions still running keep using the spool: the daemon must not
         * close it; the process exits. */
        msg_warn("-", "stopping with sessions still open");
    }
    pthread_mutex_unlock(&srv.lock);
    return idle;
}
