/*
 * test_smtpc_session.c - the SMTP client's dialogue against a scripted
 * server on the loopback (plaintext, tls = none with insecure_plaintext):
 * what it writes and when (PIPELINING: MAIL and every RCPT before any
 * reply), how replies map to results, refusals that keep the stream in
 * step, extensions the message needs, AUTH never in plaintext, malformed
 * replies, and the dot-stuffed DATA on the wire.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unit.h"
#include "tenantrelay/smtpc.h"

/* One exchange: the server reads exactly expect (all of it before it
 * answers), then writes reply.  expect NULL ends the script; reply NULL
 * closes the connection at once (a server that went away). */
struct exchange {
    const char *expect;
    const char *reply;
};

struct server {
    int lfd;
    int port;
    const struct exchange *script;
    char error[512];            /* the first mismatch, "" when none */
    pthread_t thread;
};

static int read_exact(int fd, char *buf, size_t want)
{
    size_t got = 0;

    while (got < want) {
        struct pollfd p = { fd, POLLIN, 0 };
        ssize_t n;

        if (poll(&p, 1, 5000) <= 0)
            return -1;
        n = recv(fd, buf + got, want - got, 0);
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    buf[got] = 0;
    return 0;
}

static void *server_main(void *arg)
{
    struct server *sv = arg;
    char buf[8192];
    int fd = accept(sv->lfd, NULL, NULL);

    if (fd < 0) {
        snprintf(sv->error, sizeof(sv->error), "accept: %s", strerror(errno));
        return NULL;
    }
    for (const struct exchange *e = sv->script; e->expect; e++) {
        size_t n = strlen(e->expect);

        if (n > 0 && (read_exact(fd, buf, n) < 0 || strcmp(buf, e->expect) != 0)) {
            snprintf(sv->error, sizeof(sv->error), "expected \"%.200s\", got \"%.200s\"", e->expect, buf);
            break;
        }
        if (e->reply == NULL) {
            close(fd);
            return NULL;
        }
        if (e->reply[0] && send(fd, e->reply, strlen(e->reply), MSG_NOSIGNAL) < 0)
            break;
    }
    /* Nothing more may arrive than the script says (e.g. no AUTH). */
    {
        struct pollfd p = { fd, POLLIN, 0 };

        if (sv->error[0] == 0 && poll(&p, 1, 200) > 0) {
            ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

            if (n > 0) {
                buf[n] = 0;
                snprintf(sv->error, sizeof(sv->error), "unexpected bytes after the script: \"%.200s\"", buf);
            }
        }
    }
    close(fd);
    return NULL;
}

static void server_start(struct server *sv, const struct exchange *script)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    int one = 1;

    memset(sv, 0, sizeof(*sv));
    sv->script = script;
    sv->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(sv->lfd >= 0);
    setsockopt(sv->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(sv->lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(listen(sv->lfd, 1), 0);
    assert_int_equal(getsockname(sv->lfd, (struct sockaddr *)&sin, &len), 0);
    sv->port = ntohs(sin.sin_port);
    assert_int_equal(pthread_create(&sv->thread, NULL, server_main, sv), 0);
}

static void server_finish(struct server *sv)
{
    pthread_join(sv->thread, NULL);
    close(sv->lfd);
    if (sv->error[0])
        fail_msg("server: %s", sv->error);
}

static struct smtpc_session *open_plain(struct server *sv, struct smtpc_result *res)
{
    struct smtpc_options o;
    struct smtpc_session *s;

    memset(&o, 0, sizeof(o));
    o.host = "127.0.0.1";
    o.port = sv->port;
    o.tls = ROUTE_TLS_NONE;
    o.insecure_plaintext = true;
    o.helo_name = "client.test";
    o.command_timeout_ms = 3000;
    s = smtpc_session_new(&o, res);
    assert_non_null(s);
    if (smtpc_connect(s, res) < 0 || smtpc_tls(s, res) < 0 || smtpc_ehlo(s, res) < 0)
        fail_msg("open: %s: %s", smtpc_err_name(res->err), res->errstr);
    return s;
}

#define GREETING { "", "220-mx.test ESMTP\r\n220 second greeting line\r\n" }
#define EHLO_PIPE { "EHLO client.test\r\n", "250-mx.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 1000\r\n" }
#define EHLO_BARE { "EHLO client.test\r\n", "250 mx.test\r\n" }

static void test_pipelined_envelope(void **state)
{
    static const struct exchange script[] = {
        GREETING,
        EHLO_PIPE,
        /* All three commands must be in before the server says a word. */
        { "MAIL FROM:<s@example.test> BODY=8BITMIME SIZE=10\r\nRCPT TO:<a@example.test>\r\n"
          "RCPT TO:<b@example.test>\r\n",
          "250 2.1.0 ok\r\n250 2.1.5 ok\r\n550 5.1.1 no such user\r\n" },
        { "DATA\r\n", "354 go\r\n" },
        { "Subject: x\r\n\r\n..dot\r\n.\r\n", "250 2.0.0 queued as X\r\n" },
        /* The session carries a second message (reuse): RSET, the
         * envelope and DATA in one write (RFC 2920), then the content. */
        { "RSET\r\nMAIL FROM:<s@example.test> BODY=8BITMIME SIZE=10\r\nRCPT TO:<a@example.test>\r\n"
          "RCPT TO:<b@example.test>\r\nDATA\r\n",
          "250 ok\r\n250 2.1.0 ok\r\n250 2.1.5 ok\r\n250 2.1.5 ok\r\n354 go\r\n" },
        { "Subject: x\r\n\r\n..dot\r\n.\r\n", "250 2.0.0 queued as Y\r\n" },
        { "QUIT\r\n", "221 bye\r\n" },
        { NULL, NULL },
    };
    struct server sv;
    struct smtpc_result res;
    struct smtpc_rcpt_result rr[2];
    const char *rcpts[] = { "a@example.test", "b@example.test" };
    struct smtpc_envelope env = { "s@example.test", rcpts, 2, true, false, 10, false };
    struct smtpc_source src = { "Subject: x\r\n\r\n.dot\r\n", 20, -1 };
    struct smtpc_session *s;

    server_start(&sv, script);
    s = open_plain(&sv, &res);
    assert_true(smtpc_caps(s)->pipelining);
    assert_int_equal(smtpc_caps(s)->size_max, 1000);
    assert_int_equal(smtpc_envelope(s, &env, rr, &res), 0);
    assert_int_equal(rr[0].err, SMTPC_OK);
    assert_int_equal(rr[1].err, SMTPC_ERR_REPLY_5XX);
    assert_int_equal(rr[1].reply.code, 550);
    assert_string_equal(rr[1].reply.enhanced, "5.1.1");
    assert_int_equal(smtpc_data(s, &src, 1, &res), 0);
    assert_string_equal(res.reply.text, "250 2.0.0 queued as X");
    assert_string_equal(res.stage, "dot");
    assert_true(smtpc_usable(s));
    env.reset_first = true;
    assert_int_equal(smtpc_send(s, &env, rr, &src, 1, &res), 0);
    assert_int_equal(rr[1].err, SMTPC_OK);
    assert_string_equal(res.reply.text, "250 2.0.0 queued as Y");
    assert_int_equal(smtpc_quit(s, &res), 0);
    assert_false(smtpc_usable(s));
    smtpc_session_free(s);
    server_finish(&sv);
}

/* Pipelined DATA with every recipient refused: the server refuses DATA
 * (RFC 2920 3.1), the stream stays in step and the session usable. */
static void test_pipelined_data_no_recipient(void **state)
{
    static const struct exchange script[] = {
        GREETING,
        EHLO_PIPE,
        { "MAIL FROM:<s@example.test>\r\nRCPT TO:<a@example.test>\r\nDATA\r\n",
          "250 2.1.0 ok\r\n550 5.1.1 no such user\r\n554 5.5.1 no valid recipients\r\n" },
        { "RSET\r\nMAIL FROM:<s@example.test>\r\nRCPT TO:<a@example.test>\r\nDATA\r\n",
          "250 ok\r\n250 2.1.0 ok\r\n250 2.1.5 ok\r\n451 4.3.0 try later\r\n" },
        { "RSET\r\nMAIL FROM:<s@example.test>\r\nRCPT TO:<a@example.test>\r\nDATA\r\n",
          "250 ok\r\n250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go\r\n" },
        { "x\r\n.\r\n", "250 2.0.0 queued as Z\r\n" },
        { NULL, NULL },
    };
    struct server sv;
    struct smtpc_result res;
    struct smtpc_rcpt_result rr[1];
    const char *rcpts[] = { "a@example.test" };
    struct smtpc_envelope env = { "s@example.test", rcpts, 1, false, false, 0, false };
    struct smtpc_source src = { "x\r\n", 3, -1 };
    struct smtpc_session *s;

    server_start(&sv, script);
    s = open_plain(&sv, &res);
    assert_int_equal(smtpc_send(s, &env, rr, &src, 1, &res), -1);
    assert_string_equal(res.stage, "rcpt");
    assert_int_equal(res.reply.code, 550);
    assert_int_equal(rr[0].err, SMTPC_ERR_REPLY_5XX);
    assert_true(smtpc_usable(s));
    /* DATA refused although a recipient was accepted: its own reply. */
    env.reset_first = true;
    assert_int_equal(smtpc_send(s, &env, rr, &src, 1, &res), -1);
    assert_string_equal(res.stage, "data");
    assert_int_equal(res.err, SMTPC_ERR_REPLY_4XX);
    assert_int_equal(res.reply.code, 451);
    assert_true(smtpc_usable(s));
    assert_int_equal(smtpc_send(s, &env, rr, &src, 1, &res), 0);
    assert_string_equal(res.reply.text, "250 2.0.0 queued as Z");
    smtpc_session_free(s);
    server_finish(&sv);
}

/* A reused session the server has closed fails at "rset": the caller
 * (delivery) starts the message again on a new session. */
static void test_reused_session_gone(void **state)
{
    static const struct exchange script[] = {
        GREETING,
        EHLO_PIPE,
        { "MAIL FROM:<s@example.test>\r\nRCPT TO:<a@example.test>\r\nDATA\r\n",
          "250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go\r\n" },
        { "x\r\n.\r\n", "250 2.0.0 queued as A\r\n" },
        { "", NULL },
    };
    struct server sv;
    struct smtpc_result res;
    struct smtpc_rcpt_result rr[1];
    const char *rcpts[] = { "a@example.test" };
    struct smtpc_envelope env = { "s@example.test", rcpts, 1, false, false, 0, false };
    struct smtpc_source src = { "x\r\n", 3, -1 };
    struct smtpc_session *s;

    server_start(&sv, script);
    s = open_plain(&sv, &res);
    assert_int_equal(smtpc_send(s, &env, rr, &src, 1, &res), 0);
    server_finish(&sv);
    env.reset_first = true;
    assert_int_equal(smtpc_send(s, &env, rr, &src, 1, &res), -1);
    assert_string_equal(res.stage, "rset");
    assert_int_equal(res.err, SMTPC_ERR_CONNECTION_LOST);
    assert_false(smtpc_usable(s));
    smtpc_session_free(s);
}

/* Without PIPELINING the RSET of a reused session is its own command. */
static void test_sequential_reset(void **state)
{
    static const struct exchange script[] = {
        GREETING,
        EHLO_BARE,
        { "RSET\r\n", "250 ok\r\n" },
        { "MAIL FROM:<s@example.test>\r\n", "250 ok\r\n" },
        { "RCPT TO:<a@example.test>\r\n", "250 ok\r\n" },
        { "DATA\r\n", "354 go\r\n" },
        { "x\r\n.\r\n", "250 2.0.0 queued as B\r\n" },
        { "RSET\r\n", "421 4.4.2 closing\r\n" },
        { NULL, NULL },
    };
    struct server sv;
    struct smtpc_result res;
    struct smtpc_rcpt_result rr[1];
    const char *rcpts[] = { "a@example.test" };
    struct smtpc_envelope env = { "s@example.test", rcpts, 1, false, false, 0, true };
    struct smtpc_source src = { "x\r\n", 3, -1 };
    struct smtpc_session *s;

    server_start(&sv, script);
    s = open_plain(&sv, &res);
    assert_int_equal(smtpc_send(s, &env, rr, &src, 1, &res), 0);
    assert_int_equal(smtpc_send(s, &env, rr, &src, 1, &res), -1);
    assert_string_equal(res.stage, "rset");
    assert_false(smtpc_usable(s));
    smtpc_session_free(s);
    server_finish(&sv);
}

static void test_mail_refused_in_step(void **state)
{
    static const struct exchange script[] = {
        GREETING,
        EHLO_PIPE,
        { "MAIL FROM:<s@example.test>\r\nRCPT TO:<a@example.test>\r\n",
          "553 5.7.1 sender not allowed\r\n503 5.5.1 no MAIL\r\n" },
        { "RSET\r\n", "250 ok\r\n" },
        { NULL, NULL },
    };
    struct server sv;
    struct smtpc_result res;
    struct smtpc_rcpt_result rr[1];
    const char *rcpts[] = { "a@example.test" };
    struct smtpc_envelope env = { "s@example.test", rcpts, 1, false, false, 0, false };
    struct smtpc_session *s;

    server_start(&sv, script);
    s = open_plain(&sv, &res);
    assert_int_equal(smtpc_envelope(s, &env, rr, &res), -1);
    assert_int_equal(res.err, SMTPC_ERR_REPLY_5XX);
    assert_string_equal(res.stage, "mail");
    assert_int_equal(res.reply.code, 553);
    assert_string_equal(res.reply.enhanced, "5.7.1");
    /* The 503 to the pipelined RCPT was read: RSET gets its own reply. */
    assert_int_equal(smtpc_rset(s, &res), 0);
    assert_int_equal(res.reply.code, 250);
    smtpc_session_free(s);
    server_finish(&sv);
}

static void test_sequential_envelope(void **state)
{
    static const struct exchange script[] = {
        GREETING,
        EHLO_BARE,
        { "MAIL FROM:<>\r\n", "250 ok\r\n" },
        { "RCPT TO:<a@example.test>\r\n", "451 4.3.0 later\r\n" },
        { "RCPT TO:<b@example.test>\r\n", "550 5.1.1 unknown\r\n" },
        { NULL, NULL },
    };
    struct server sv;
    struct smtpc_result res;
    struct smtpc_rcpt_result rr[2];
    const char *rcpts[] = { "a@example.test", "b@example.test" };
    struct smtpc_envelope env = { "", rcpts, 2, false, false, 0, false };
    struct smtpc_session *s;

    server_start(&sv, script);
    s = open_plain(&sv, &res);
    assert_int_equal(smtpc_envelope(s, &env, rr, &res), -1);
    assert_string_equal(res.stage, "rcpt");
    /* Every recipient refused: the first refusal is the step's. */
    assert_int_equal(res.err, SMTPC_ERR_REPLY_4XX);
    assert_int_equal(res.reply.code, 451);
    assert_int_equal(rr[0].err, SMTPC_ERR_REPLY_4XX);
    assert_int_equal(rr[1].err, SMTPC_ERR_REPLY_5XX);
    smtpc_session_free(s);
    server_finish(&sv);
}

static void test_extensions_needed(void **state)
{
    static const struct exchange script[] = {
        GREETING,
        EHLO_BARE,
        { NULL, NULL },
    };
    struct server sv;
    struct smtpc_result res;
    struct smtpc_rcpt_result rr[1];
    const char *rcpts[] = { "j\xc3\xb6rg@example.test" };
    const char *ascii[] = { "a@example.test" };
    struct smtpc_envelope utf8 = { "s@example.test", rcpts, 1, false, false, 0, false };
    struct smtpc_envelope eight = { "s@example.test", ascii, 1, true, false, 0, false };
    struct smtpc_envelope inject = { "s@example.test>\r\nRCPT TO:<x@evil.test", ascii, 1, false, false, 0, false };
    struct smtpc_session *s;

    server_start(&sv, script);
    s = open_plain(&sv, &res);
    /* Nothing is sent: the server's script has no MAIL in it. */
    assert_int_equal(smtpc_envelope(s, &utf8, rr, &res), -1);
    assert_int_equal(res.err, SMTPC_ERR_EXT_UNSUPPORTED);
    assert_non_null(strstr(res.errstr, "SMTPUTF8"));
    assert_int_equal(smtpc_envelope(s, &eight, rr, &res), -1);
    assert_int_equal(res.err, SMTPC_ERR_EXT_UNSUPPORTED);
    assert_non_null(strstr(res.errstr, "8BITMIME"));
    assert_int_equal(smtpc_envelope(s, &inject, rr, &res), -1);
    assert_int_equal(res.err, SMTPC_ERR_LOCAL);
    smtpc_session_free(s);
    server_finish(&sv);
}

/* What the listener accepts, the client sends (issue 12 item 10): quoted
 * local parts with '<', '>' and spaces go as written; a recipient that
 * cannot go on a command line is refused alone (553 5.1.3, never sent),
 * the others still delivered. */
static void test_quoted_local_parts(void **state)
{
    static const struct exchange script[] = {
        GREETING,
        EHLO_PIPE,
        { "MAIL FROM:<s@example.test>\r\nRCPT TO:<\"a>b\"@example.test>\r\nRCPT TO:<\"x <y\"@example.test>\r\n"
          "RCPT TO:<c@example.test>\r\nDATA\r\n",
          "250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n" },
        { "x\r\n.\r\n", "250 2.0.0 queued\r\n" },
        { NULL, NULL },
    };
    struct server sv;
    struct smtpc_result res;
    struct smtpc_rcpt_result rr[4];
    const char *rcpts[] = { "\"a>b\"@example.test", "bad>\r\nRCPT TO:<x@evil.test", "\"x <y\"@example.test",
                            "c@example.test" };
    struct smtpc_envelope env = { "s@example.test", rcpts, 4, false, false, 0, false };
    struct smtpc_source src = { "x\r\n", 3, -1 };
    struct smtpc_session *s;

    server_start(&sv, script);
    s = open_plain(&sv, &res);
    assert_int_equal(smtpc_send(s, &env, rr, &src, 1, &res), 0);
    assert_int_equal(rr[0].err, SMTPC_OK);
    assert_int_equal(rr[1].err, SMTPC_ERR_REPLY_5XX);
    assert_int_equal(rr[1].reply.code, 553);
    assert_int_equal(rr[2].err, SMTPC_OK);
    assert_int_equal(rr[3].err, SMTPC_OK);
    smtpc_session_free(s);
    server_finish(&sv);
}

static void test_no_auth_in_plaintext(void **state)
{
    static const struct exchange script[] = {
        GREETING,
        { "EHLO client.test\r\n", "250-mx.test\r\n250 AUTH PLAIN LOGIN\r\n" },
        { NULL, NULL },
    };
    static const unsigned char secret[] = "s3cret";
    struct server sv;
    struct smtpc_result res;
    struct smtpc_cred cred = { SMTPC_CRED_PASSWORD, SMTPC_AUTH_AUTO, "user", secret, 6 };
    struct smtpc_session *s;

    server_start(&sv, script);
    s = open_plain(&sv, &res);
    assert_true(smtpc_caps(s)->auth_plain);
    assert_int_equal(smtpc_auth(s, &cred, &res), -1);
    assert_int_equal(res.err, SMTPC_ERR_AUTH_NOT_OFFERED);
    assert_null(strstr(res.errstr, "s3cret"));
    smtpc_session_free(s);
    server_finish(&sv);
}

static void test_helo_fallback_and_data_refused(void **state)
{
    static const struct exchange script[] = {
        { "", "220 old.test\r\n" },
        { "EHLO client.test\r\n", "502 5.5.2 what?\r\n" },
        { "HELO client.test\r\n", "250 old.test\r\n" },
        { "MAIL FROM:<s@example.test>\r\n", "250 ok\r\n" },
        { "RCPT TO:<a@example.test>\r\n", "250 ok\r\n" },
        { "DATA\r\n", "451 4.3.2 not now\r\n" },
        { "QUIT\r\n", "221 bye\r\n" },
        { NULL, NULL },
    };
    struct server sv;
    struct smtpc_result res;
    struct smtpc_rcpt_result rr[1];
    const char *rcpts[] = { "a@example.test" };
    struct smtpc_envelope env = { "s@example.test", rcpts, 1, false, false, 0, false };
    struct smtpc_source src = { "x\r\n", 3, -1 };
    struct smtpc_session *s;

    server_start(&sv, script);
    s = open_plain(&sv, &res);
    assert_false(smtpc_caps(s)->pipelining);
    assert_int_equal(smtpc_envelope(s, &env, rr, &res), 0);
    assert_int_equal(smtpc_data(s, &src, 1, &res), -1);
    assert_int_equal(res.err, SMTPC_ERR_REPLY_4XX);
    assert_string_equal(res.stage, "data");
    assert_string_equal(res.reply.enhanced, "4.3.2");
    /* A refused DATA leaves the session usable. */
    assert_true(smtpc_usable(s));
    assert_int_equal(smtpc_quit(s, &res), 0);
    smtpc_session_free(s);
    server_finish(&sv);
}

static void test_bad_greeting(void **state)
{
    static const struct exchange garbage[] = {
        { "", "HTTP/1.1 400 Bad Request\r\n" },
        { NULL, NULL },
    };
    static const struct exchange busy[] = {
        { "", "421 4.3.2 too busy\r\n" },
        { NULL, NULL },
    };
    struct server sv;
    struct smtpc_options o;
    struct smtpc_result res;
    struct smtpc_session *s;

    for (int k = 0; k < 2; k++) {
        server_start(&sv, k == 0 ? garbage : busy);
        memset(&o, 0, sizeof(o));
        o.host = "127.0.0.1";
        o.port = sv.port;
        o.tls = ROUTE_TLS_NONE;
        o.insecure_plaintext = true;
        o.command_timeout_ms = 3000;
        s = smtpc_session_new(&o, &res);
        assert_int_equal(smtpc_connect(s, &res), 0);
        assert_int_equal(smtpc_tls(s, &res), 0);
        assert_int_equal(smtpc_ehlo(s, &res), -1);
        assert_int_equal(res.err, k == 0 ? SMTPC_ERR_NOT_SMTP : SMTPC_ERR_REPLY_4XX);
        assert_string_equal(res.stage, "greeting");
        assert_false(smtpc_usable(s));
        smtpc_session_free(s);
        server_finish(&sv);
    }
}

static void test_options_refused(void **state)
{
    struct smtpc_options o;
    struct smtpc_result res;

    memset(&o, 0, sizeof(o));
    o.host = "127.0.0.1";
    o.port = 25;
    o.tls = ROUTE_TLS_NONE;
    assert_null(smtpc_session_new(&o, &res));
    assert_int_equal(res.err, SMTPC_ERR_LOCAL);
    o.tls = ROUTE_TLS_IMPLICIT;
    o.ca_file = "/nonexistent/ca.pem";
    o.tls_verify = true;
    assert_null(smtpc_session_new(&o, &res));
    assert_int_equal(res.err, SMTPC_ERR_LOCAL);
    assert_non_null(strstr(res.errstr, "/nonexistent/ca.pem"));
    o.host = "";
    assert_null(smtpc_session_new(&o, &res));
}

/* The route's connection settings, and nothing the caller owns. */
static void test_options_from_route(void **state)
{
    struct route r;
    struct smtpc_options o;

    memset(&r, 0, sizeof(r));
    r.host = "smtp.example.com";
    r.port = 2525;
    r.tls = ROUTE_TLS_NONE;
    r.insecure_plaintext = true;
    r.ca_file = "/etc/ssl/ca.pem";
    r.tls_verify = false;
    r.bind_address = "192.0.2.1";
    r.username = "user";
    memset(&o, 0xff, sizeof(o));
    smtpc_options_from_route(&o, &r);
    assert_string_equal(o.host, "smtp.example.com");
    assert_int_equal(o.port, 2525);
    assert_int_equal(o.tls, ROUTE_TLS_NONE);
    assert_true(o.insecure_plaintext);
    assert_string_equal(o.ca_file, "/etc/ssl/ca.pem");
    assert_false(o.tls_verify);
    assert_string_equal(o.bind_address, "192.0.2.1");
    assert_null(o.helo_name);
    assert_int_equal(o.connect_timeout_ms, 0);
    assert_int_equal(o.command_timeout_ms, 0);
    assert_int_equal(o.data_timeout_ms, 0);
    assert_null(o.tls_ctx);
    assert_null(o.policy);
}

static void test_dns_failure(void **state)
{
    struct smtpc_options o;
    struct smtpc_result res;
    struct smtpc_session *s;

    memset(&o, 0, sizeof(o));
    o.host = "no-such-host.invalid";
    o.port = 25;
    o.tls = ROUTE_TLS_STARTTLS;
    o.tls_verify = true;
    s = smtpc_session_new(&o, &res);
    assert_non_null(s);
    assert_int_equal(smtpc_connect(s, &res), -1);
    assert_int_equal(res.err, SMTPC_ERR_DNS);
    assert_string_equal(res.stage, "dns");
    smtpc_session_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipelined_envelope),
        cmocka_unit_test(test_pipelined_data_no_recipient),
        cmocka_unit_test(test_reused_session_gone),
        cmocka_unit_test(test_sequential_reset),
        cmocka_unit_test(test_mail_refused_in_step),
        cmocka_unit_test(test_sequential_envelope),
        cmocka_unit_test(test_extensions_needed),
        cmocka_unit_test(test_quoted_local_parts),
        cmocka_unit_test(test_no_auth_in_plaintext),
        cmocka_unit_test(test_helo_fallback_and_data_refused),
        cmocka_unit_test(test_bad_greeting),
        cmocka_unit_test(test_options_refused),
        cmocka_unit_test(test_options_from_route),
        cmocka_unit_test(test_dns_failure),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
