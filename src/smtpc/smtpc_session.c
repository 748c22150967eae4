/*
 * smtpc_session.c - the SMTP client's session: options, name resolution,
 * TCP connection (each address in turn, bounded), the byte I/O under
 * the protocol (plain or TLS, every wait bounded by poll), and what every
 * step of smtpc_proto.c and smtpc_auth.c shares (a command and its reply,
 * the opening of a step).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "tenantrelay/errstr.h"
#include "tenantrelay/mymalloc.h"
#include "smtpc_int.h"

#define DEFAULT_CONNECT_MS 30000
#define DEFAULT_COMMAND_MS 300000
#define DEFAULT_DATA_MS 600000

void smtpc_step_begin(struct smtpc_result *res, const char *stage)
{
    res->err = SMTPC_OK;
    res->stage = stage;
    memset(&res->reply, 0, sizeof(res->reply));
    res->ms = 0;
}

void smtpc_step_end(struct smtpc_result *res, long t0)
{
    res->ms = clock_mono_ms() - t0;
}

int smtpc_fail(struct smtpc_result *res, enum smtpc_err err, const char *fmt, ...)
{
    va_list ap;

    res->err = err;
    va_start(ap, fmt);
    errstr_vset(res->errstr, sizeof(res->errstr), fmt, ap);
    va_end(ap);
    return -1;
}

void smtpc_options_from_route(struct smtpc_options *o, const struct route *r)
{
    memset(o, 0, sizeof(*o));
    o->host = r->host;
    o->port = r->port;
    o->tls = r->tls;
    o->insecure_plaintext = r->insecure_plaintext;
    o->ca_file = r->ca_file;
    o->tls_verify = r->tls_verify;
    o->bind_address = r->bind_address;
}

struct smtpc_session *smtpc_session_new(const struct smtpc_options *opts, struct smtpc_result *res)
{
    struct smtpc_session *s;
    struct tls_error terr = { TLS_OK, "" };

    smtpc_step_begin(res, "connect");
    if (opts->host == NULL || *opts->host == 0 || opts->port <= 0 || opts->port > 65535) {
        smtpc_fail(res, SMTPC_ERR_LOCAL, "no upstream host or bad port");
        return NULL;
    }
    if (opts->tls == ROUTE_TLS_NONE && !opts->insecure_plaintext) {
        smtpc_fail(res, SMTPC_ERR_LOCAL, "tls = none requires insecure_plaintext = true");
        return NULL;
    }
    /* sodium_malloc for AUTH buffers; idempotent and thread-safe. */
    if (sodium_init() < 0) {
        smtpc_fail(res, SMTPC_ERR_LOCAL, "libsodium initialisation failed");
        return NULL;
    }
    s = mycalloc(1, sizeof(*s));
    s->o = *opts;
    s->host = mystrdup(opts->host);
    s->ca_file = mystrdup_or_null(opts->ca_file && *opts->ca_file ? opts->ca_file : NULL);
    s->bind_address = mystrdup_or_null(opts->bind_address && *opts->bind_address ? opts->bind_address : NULL);
    s->helo_name = mystrdup(opts->helo_name && *opts->helo_name ? opts->helo_name : "localhost");
    s->o.host = s->host;
    s->o.ca_file = s->ca_file;
    s->o.bind_address = s->bind_address;
    s->o.helo_name = s->helo_name;
    if (opts->policy) {
        route_policy_copy(&s->policy, opts->policy);
        s->has_policy = true;
    }
    s->o.policy = NULL;
    if (s->o.connect_timeout_ms <= 0)
        s->o.connect_timeout_ms = DEFAULT_CONNECT_MS;
    if (s->o.command_timeout_ms <= 0)
        s->o.command_timeout_ms = DEFAULT_COMMAND_MS;
    if (s->o.data_timeout_ms <= 0)
        s->o.data_timeout_ms = DEFAULT_DATA_MS;
    s->fd = -1;
    dbuf_init(&s->in);
    dbuf_init(&s->out);
    if (opts->tls != ROUTE_TLS_NONE) {
        if (opts->tls_ctx) {
            s->tls_ctx = opts->tls_ctx;
        } else {
            s->tls_ctx = tls_client_ctx_new(s->ca_file, opts->tls_verify, &terr);
            if (s->tls_ctx == NULL) {
                smtpc_fail(res, SMTPC_ERR_LOCAL, "%s", terr.errstr);
                smtpc_session_free(s);
                return NULL;
            }
            s->own_tls_ctx = true;
        }
    }
    s->o.tls_ctx = NULL;
    return s;
}

void smtpc_io_close(struct smtpc_session *s, bool polite)
{
    if (s->tls) {
        tls_conn_free(s->tls, polite);
        s->tls = NULL;
    }
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
    dbuf_reset(&s->in);
    s->broken = true;
}

void smtpc_session_free(struct smtpc_session *s)
{
    if (s == NULL)
        return;
    smtpc_io_close(s, false);
    if (s->ai)
        freeaddrinfo(s->ai);
    if (s->own_tls_ctx)
        tls_client_ctx_free(s->tls_ctx);
    dbuf_free(&s->in);
    dbuf_free(&s->out);
    myfree(s->host);
    myfree(s->ca_file);
    myfree(s->bind_address);
    myfree(s->helo_name);
    route_policy_free(&s->policy);
    myfree(s);
}

int smtpc_resolve(struct smtpc_session *s, struct smtpc_result *res)
{
    struct addrinfo hints;
    char port[8];
    long t0 = clock_mono_ms();
    int rc;

    smtpc_step_begin(res, "dns");
    if (s->ai) {
        freeaddrinfo(s->ai);
        s->ai = NULL;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    snprintf(port, sizeof(port), "%d", s->o.port);
    rc = getaddrinfo(s->host, port, &hints, &s->ai);
    smtpc_step_end(res, t0);
    if (rc != 0) {
        s->ai = NULL;
        return smtpc_fail(res, SMTPC_ERR_DNS, "cannot resolve %s: %s", s->host,
                          rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
    }
    return 0;
}

static void format_peer(const struct sockaddr *sa, char *out, size_t len)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;

    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        port = ntohs(in->sin_port);
        snprintf(out, len, "%s:%d", host, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        port = ntohs(in6->sin6_port);
        snprintf(out, len, "[%s]:%d", host, port);
    } else {
        snprintf(out, len, "?");
    }
}

/* One address: 0 connected (fd in *fdp), else the errno (ETIMEDOUT for ours). */
static int connect_one(struct smtpc_session *s, const struct addrinfo *ai, int *fdp,
                       char *why, size_t whylen)
{
    int fd, err = 0;
    socklen_t elen = sizeof(err);
    struct pollfd p;
    long deadline = clock_mono_ms() + s->o.connect_timeout_ms;

    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0)
        return errno;
    if (s->bind_address) {
        struct addrinfo hints, *b = NULL;
        int rc;

        memset(&hints, 0, sizeof(hints));
        hints.ai_family = ai->ai_family;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
        rc = getaddrinfo(s->bind_address, NULL, &hints, &b);
        if (rc != 0) {
            /* Not of this address family: this address cannot be used. */
            snprintf(why, whylen, "bind_address %s is not usable for this address family", s->bind_address);
            close(fd);
            return EAFNOSUPPORT;
        }
        rc = bind(fd, b->ai_addr, b->ai_addrlen);
        err = errno;
        freeaddrinfo(b);
        if (rc < 0) {
            snprintf(why, whylen, "cannot bind to %s: %s", s->bind_address, strerror(err));
            close(fd);
            return err;
        }
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        goto done;
    if (errno != EINPROGRESS) {
        err = errno;
        close(fd);
        return err;
    }
    for (;;) {
        long left = deadline - clock_mono_ms();
        int n;

        if (left < 0)
            left = 0;
        p.fd = fd;
        p.events = POLLOUT;
        p.revents = 0;
        n = poll(&p, 1, (int)left);
        if (n > 0)
            break;
        if (n == 0 || errno != EINTR) {
            err = n == 0 ? ETIMEDOUT : errno;
            close(fd);
            return err;
        }
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
        err = errno;
    if (err != 0) {
        close(fd);
        return err;
    }
done:
    *fdp = fd;
    return 0;
}

int smtpc_connect(struct smtpc_session *s, struct smtpc_result *res)
{
    long t0 = clock_mono_ms();
    const struct addrinfo *ai;
    bool refused = false, timedout = false;
    char why[220] = "", peer[80];
    int tried = 0, refused_by_policy = 0;
    char policy_why[SMTPC_ERRSTR_MAX] = "";

    if (s->ai == NULL && smtpc_resolve(s, res) < 0)
        return -1;
    smtpc_step_begin(res, "connect");
    if (s->has_policy && route_policy_check_port(&s->policy, s->o.port, policy_why, sizeof(policy_why)) < 0) {
        s->broken = true;
        return smtpc_fail(res, SMTPC_ERR_ROUTE_POLICY, "%s", policy_why);
    }
    if (s->fd >= 0)
        smtpc_io_close(s, false);
    s->broken = false;
    s->greeted = s->ehlo_done = s->tls_tried = false;
    s->auth_used = NULL;
    for (ai = s->ai; ai; ai = ai->ai_next) {
        char one[160] = "";
        int fd = -1, e;

        /* Right before connecting, on every connection: the addresses of
         * this resolution, so DNS rebinding gains nothing. */
        if (s->has_policy) {
            char later[SMTPC_ERRSTR_MAX];

            /* The first refusal is the one reported. */
            if (route_policy_check_addr(&s->policy, ai->ai_addr, refused_by_policy ? later : policy_why,
                                        SMTPC_ERRSTR_MAX) < 0) {
                refused_by_policy++;
                continue;
            }
        }
        tried++;
        e = connect_one(s, ai, &fd, one, sizeof(one));
        if (e == 0) {
            int one_flag = 1;

            /* Commands, the header section and the body go out as separate
             * writes before a reply is read: Nagle would hold the later ones. */
            (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one_flag, sizeof(one_flag));
            s->fd = fd;
            format_peer(ai->ai_addr, s->peer, sizeof(s->peer));
            smtpc_step_end(res, t0);
            return 0;
        }
        format_peer(ai->ai_addr, peer, sizeof(peer));
        if (e == ECONNREFUSED)
            refused = true;
        else if (e == ETIMEDOUT)
            timedout = true;
        /* The reason for the last address tried, bind problems named. */
        if (one[0])
            snprintf(why, sizeof(why), "%s: %s", peer, one);
        else
            snprintf(why, sizeof(why), "%s: %s", peer, e == ETIMEDOUT ? "connection timed out" : strerror(e));
    }
    smtpc_step_end(res, t0);
    s->broken = true;
    if (tried == 0 && refused_by_policy)
        return smtpc_fail(res, SMTPC_ERR_ROUTE_POLICY, "%s", policy_why);
    if (timedout)
        return smtpc_fail(res, SMTPC_ERR_CONNECT_TIMEOUT, "cannot connect to %s port %d (%d address%s): %s",
                          s->host, s->o.port, tried, tried == 1 ? "" : "es", why);
    if (refused)
        return smtpc_fail(res, SMTPC_ERR_CONNECT_REFUSED, "cannot connect to %s port %d (%d address%s): %s",
                          s->host, s->o.port, tried, tried == 1 ? "" : "es", why);
    return smtpc_fail(res, SMTPC_ERR_CONNECT, "cannot connect to %s port %d: %s", s->host, s->o.port,
                      why[0] ? why : "no address");
}

/* Map a TLS I/O failure onto the client's classes. */
static int tls_io_fail(struct smtpc_session *s, const struct tls_error *terr, struct smtpc_result *res)
{
    s->broken = true;
    switch (terr->status) {
    case TLS_ERR_TIMEOUT:
        return smtpc_fail(res, SMTPC_ERR_TIMEOUT, "%s", terr->errstr);
    case TLS_ERR_CLOSED:
        return smtpc_fail(res, SMTPC_ERR_CONNECTION_LOST, "%s", terr->errstr);
    default:
        return smtpc_fail(res, SMTPC_ERR_CONNECTION_LOST, "TLS: %s", terr->errstr);
    }
}

int smtpc_io_write(struct smtpc_session *s, const void *buf, size_t len, int timeout_ms,
                   struct smtpc_result *res)
{
    const char *p = buf;

    if (s->fd < 0 || s->broken)
        return smtpc_fail(res, SMTPC_ERR_LOCAL, "not connected");
    if (s->tls) {
        struct tls_error terr = { TLS_OK, "" };

        if (tls_conn_write(s->tls, buf, len, timeout_ms, &terr) < 0)
            return tls_io_fail(s, &terr, res);
        return 0;
    }
    while (len > 0) {
        ssize_t n = send(s->fd, p, len, MSG_NOSIGNAL);

        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pf = { s->fd, POLLOUT, 0 };
            int r = poll(&pf, 1, timeout_ms);

            if (r > 0 || (r < 0 && errno == EINTR))
                continue;
            s->broken = true;
            if (r == 0)
                return smtpc_fail(res, SMTPC_ERR_TIMEOUT, "write timed out after %d ms", timeout_ms);
            return smtpc_fail(res, SMTPC_ERR_CONNECTION_LOST, "poll: %s", strerror(errno));
        }
        s->broken = true;
        return smtpc_fail(res, SMTPC_ERR_CONNECTION_LOST, "write: %s",
                          n < 0 ? strerror(errno) : "nothing written");
    }
    return 0;
}

/* Read more bytes into s->in.  >0 read, -1 failed (res set). */
static int io_fill(struct smtpc_session *s, long deadline, struct smtpc_result *res)
{
    /* Replies are short: a small buffer (every worker thread has one on
     * its stack, resident for the thread's life). */
    char buf[2048];
    long left = deadline - clock_mono_ms();
    ssize_t n;

    if (left < 0)
        left = 0;
    if (s->tls) {
        struct tls_error terr = { TLS_OK, "" };

        n = tls_conn_read(s->tls, buf, sizeof(buf), (int)left, &terr);
        if (n > 0) {
            dbuf_append(&s->in, buf, (size_t)n);
            return 1;
        }
        return tls_io_fail(s, &terr, res);
    }
    for (;;) {
        n = recv(s->fd, buf, sizeof(buf), 0);
        if (n > 0) {
            dbuf_append(&s->in, buf, (size_t)n);
            return 1;
        }
        if (n == 0) {
            s->broken = true;
            return smtpc_fail(res, SMTPC_ERR_CONNECTION_LOST, "the server closed the connection");
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            struct pollfd pf = { s->fd, POLLIN, 0 };
            int r;

            left = deadline - clock_mono_ms();
            if (left < 0)
                left = 0;
            r = poll(&pf, 1, (int)left);
            if (r > 0 || (r < 0 && errno == EINTR))
                continue;
            s->broken = true;
            if (r == 0)
                return smtpc_fail(res, SMTPC_ERR_TIMEOUT, "timed out waiting for the server");
            return smtpc_fail(res, SMTPC_ERR_CONNECTION_LOST, "poll: %s", strerror(errno));
        }
        s->broken = true;
        return smtpc_fail(res, SMTPC_ERR_CONNECTION_LOST, "read: %s", strerror(errno));
    }
}

int smtpc_io_reply(struct smtpc_session *s, int timeout_ms, struct smtpc_result *res)
{
    long deadline = clock_mono_ms() + timeout_ms;
    char why[160];
    size_t used;
    int r;

    if (s->fd < 0 || s->broken)
        return smtpc_fail(res, SMTPC_ERR_LOCAL, "not connected");
    for (;;) {
        r = smtpc_reply_parse(s->in.data ? s->in.data : "", s->in.len, &res->reply, &used, why, sizeof(why));
        if (r > 0) {
            dbuf_consume(&s->in, used);
            return 0;
        }
        if (r < 0) {
            s->broken = true;
            memset(&res->reply, 0, sizeof(res->reply));
            return smtpc_fail(res, SMTPC_ERR_PROTOCOL, "%s", why);
        }
        if (s->in.len > SMTPC_IN_MAX) {
            s->broken = true;
            return smtpc_fail(res, SMTPC_ERR_PROTOCOL, "reply too long");
        }
        if (io_fill(s, deadline, res) < 0) {
            if (res->err == SMTPC_ERR_TIMEOUT)
                snprintf(res->errstr, sizeof(res->errstr), "no reply within %.1f s (stage %s)",
                         timeout_ms / 1000.0, res->stage);
            memset(&res->reply, 0, sizeof(res->reply));
            return -1;
        }
    }
}

bool smtpc_io_has_input(struct smtpc_session *s)
{
    struct pollfd pf;
    char c;

    if (s->in.len > 0)
        return true;
    if (s->tls && tls_conn_pending(s->tls) > 0)
        return true;
    if (s->fd < 0)
        return false;
    pf.fd = s->fd;
    pf.events = POLLIN;
    pf.revents = 0;
    if (poll(&pf, 1, 0) > 0 && (pf.revents & POLLIN))
        return recv(s->fd, &c, 1, MSG_PEEK) > 0;
    return false;
}

const struct smtpc_caps *smtpc_caps(const struct smtpc_session *s)
{
    return &s->caps;
}

const struct tls_info *smtpc_tls_info(const struct smtpc_session *s)
{
    return s->tls_tried ? &s->tls_info : NULL;
}

bool smtpc_tls_active(const struct smtpc_session *s)
{
    return s->tls != NULL;
}

const char *smtpc_peer(const struct smtpc_session *s)
{
    return s->peer;
}

const char *smtpc_auth_challenge(const struct smtpc_session *s)
{
    return s->auth_challenge[0] ? s->auth_challenge : NULL;
}

const char *smtpc_auth_used(const struct smtpc_session *s)
{
    return s->auth_used;
}

bool smtpc_usable(const struct smtpc_session *s)
{
    return s->fd >= 0 && !s->broken && !s->in_data;
}

/*
 * What every step shares, here below them: smtpc_proto.c (the dialogue)
 * calls smtpc_auth.c (AUTH within smtpc_open), and both call these.
 */

/* Send the command in s->out (CRLF added here) and read the reply. */
int smtpc_command(struct smtpc_session *s, int timeout_ms, struct smtpc_result *res)
{
    dbuf_append(&s->out, "\r\n", 2);
    if (smtpc_io_write(s, s->out.data, s->out.len, timeout_ms, res) < 0)
        return -1;
    dbuf_reset(&s->out);
    return smtpc_io_reply(s, timeout_ms, res);
}

/* A socket that has not failed (it may be inside DATA). */
bool smtpc_connected(const struct smtpc_session *s)
{
    return s->fd >= 0 && !s->broken;
}

/* The opening every step shares: res reset for stage and, unless the
 * session is ready for it, the step refused (SMTPC_ERR_LOCAL with refusal)
 * before a byte is sent.  0, or -1. */
int smtpc_step_open(struct smtpc_result *res, const char *stage, bool ready, const char *refusal)
{
    smtpc_step_begin(res, stage);
    if (!ready)
        return smtpc_fail(res, SMTPC_ERR_LOCAL, "%s", refusal);
    return 0;
}
