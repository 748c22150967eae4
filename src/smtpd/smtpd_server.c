/*
 * smtpd_server.c - what tenantrelayd runs behind its listening sockets
 * (server.h): one thread per admitted SMTP session (smtpd_pool.h), driving
 * the pure session (smtpd_session.c) over the socket (smtpd_io.c) with the
 * session clock's deadlines (smtpd_fair.h); start and stop.
 *
 * Who gets a session is smtpd_admit.c's, the configuration it runs under
 * smtpd_snapshot.c's, where its messages go smtpd_spool.c's.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <openssl/ssl.h>

#include "smtpd_fair.h"
#include "smtpd_int.h"
#include "smtpd_pool.h"
#include "tenantrelay/clock.h"
#include "tenantrelay/msg.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/server.h"
#include "tenantrelay/smtpd.h"

#define SERVER_STOP_WAIT 15         /* seconds server_stop() waits for sessions */
#define SERVER_THREAD_STACK (512 * 1024)

static int flush_output(struct smtpd_conn *c, struct smtpd_session *sess, int timeout)
{
    struct dbuf *out = smtpd_session_output(sess);
    int rc = 0;

    if (out->len)
        rc = smtpd_io_write(&c->io, out->data, out->len, clock_mono_s() + timeout);
    dbuf_reset(out);
    return rc;
}

static void session_main(void *arg)
{
    struct smtpd_conn *c = arg;
    const struct conf *conf = c->snap->conf;
    const struct conf_limits *lim = &conf->limits;
    SSL_CTX *tls = smtpd_snap_tls(c->snap, c->listen_index);
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
    sess = smtpd_session_new(&params, &smtpd_spool_ops, c);
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
            if (smtpd_io_starttls(&c->io, tls, clock_mono_s() + lim->command_timeout) < 0) {
                why = "TLS handshake failed";
                break;
            }
            msg_info(c->id, "TLS established protocol=%s cipher=%s", smtpd_io_tls_version(&c->io),
                     smtpd_io_tls_cipher(&c->io));
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
        smtpd_admit_state(&pstop, &stressed);
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
        n = smtpd_io_read(&c->io, buf, smtpd_session_room(sess), 1000);
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
    smtpd_io_close(&c->io);
    myfree(buf);
    smtpd_admit_end(c);
    myfree(c);
}

int server_start(struct conf *conf, struct spool *spool, struct tenant_store *store)
{
    SSL_library_init();
    if (smtpd_snap_start(conf, store) < 0)
        return -1;
    smtpd_spool_attach(spool);
    smtpd_admit_open();
    return 0;
}

void server_accept(int fd, const struct sockaddr_storage *peer, socklen_t peerlen, int listen_index)
{
    struct smtpd_conn *c = smtpd_admit(fd, peer, peerlen, listen_index);
    int on = 1;
    int rc;

    if (c == NULL)
        return;
    /* A pipelining client's replies go out as they come: Nagle would hold
     * the 250 after DATA behind an ACK. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    rc = smtpd_pool_run(session_main, c, SERVER_THREAD_STACK);
    if (rc != 0) {
        char host[256];

        msg_error("-", "cannot start a session thread: %s", strerror(rc));
        snprintf(host, sizeof(host), "%s", c->snap->conf->hostname);
        smtpd_admit_refuse(fd, "421 4.3.2 Error: cannot start a session, try again later", host);
        smtpd_admit_end(c);
        myfree(c);
    }
}

bool server_stop(void)
{
    struct timespec until;
    bool idle;

    clock_real_deadline(&until, (long long)SERVER_STOP_WAIT * 1000);
    smtpd_pool_stop();
    idle = smtpd_admit_stop(&until);
    smtpd_snap_stop();
    if (idle) {
        smtpd_spool_detach();   /* borrowed: the daemon closes it */
    } else {
        /* Sessions still running keep using the spool: the daemon must not
         * close it; the process exits. */
        msg_warn("-", "stopping with sessions still open");
    }
    return idle;
}
