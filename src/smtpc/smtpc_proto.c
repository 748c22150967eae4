/*
 * smtpc_proto.c - the SMTP client's dialogue: greeting, EHLO, STARTTLS,
 * MAIL/RCPT (pipelined when offered), DATA, RSET, QUIT.
 *
 * Each step fills a struct smtpc_result (see smtpc.h).  AUTH is in
 * smtpc_auth.c; what the steps of both share (sending a command, opening
 * a step) in smtpc_session.c, below them.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tenantrelay/mailaddr.h"
#include "tenantrelay/mymalloc.h"
#include "smtpc_int.h"

#define DATA_CHUNK 65536

/* Map a reply code of an ordinary command onto a class; 0 for 2xx/3xx as wanted. */
static int reply_class(struct smtpc_result *res, int want, const char *what)
{
    int code = res->reply.code;

    if (code / 100 == want)
        return 0;
    if (code / 100 == 4)
        return smtpc_fail(res, SMTPC_ERR_REPLY_4XX, "%s refused (temporary): %s", what, res->reply.text);
    if (code / 100 == 5)
        return smtpc_fail(res, SMTPC_ERR_REPLY_5XX, "%s refused: %s", what, res->reply.text);
    return smtpc_fail(res, SMTPC_ERR_PROTOCOL, "unexpected reply to %s: %s", what, res->reply.text);
}

static int read_greeting(struct smtpc_session *s, struct smtpc_result *res)
{
    if (s->greeted)
        return 0;
    if (smtpc_io_reply(s, s->o.command_timeout_ms, res) < 0) {
        if (res->err == SMTPC_ERR_TIMEOUT && s->o.tls == ROUTE_TLS_STARTTLS && !s->tls)
            snprintf(res->errstr, sizeof(res->errstr),
                     "no greeting within %.1f s (does the port expect implicit TLS?)",
                     s->o.command_timeout_ms / 1000.0);
        /* Another service on the port: say so, never echo what it sent. */
        if (res->err == SMTPC_ERR_PROTOCOL)
            res->err = SMTPC_ERR_NOT_SMTP;
        return -1;
    }
    if (reply_class(res, 2, "the connection") < 0) {
        s->broken = true;
        return -1;
    }
    if (res->reply.code != 220) {
        s->broken = true;
        return smtpc_fail(res, SMTPC_ERR_PROTOCOL, "unexpected greeting: %s", res->reply.text);
    }
    s->greeted = true;
    return 0;
}

/* EHLO (HELO when EHLO is not understood); capabilities into s->caps. */
static int do_ehlo(struct smtpc_session *s, struct smtpc_result *res)
{
    memset(&s->caps, 0, sizeof(s->caps));
    s->ehlo_done = false;
    dbuf_reset(&s->out);
    dbuf_printf(&s->out, "EHLO %s", s->helo_name);
    if (smtpc_command(s, s->o.command_timeout_ms, res) < 0)
        return -1;
    if (res->reply.code == 250) {
        smtpc_caps_parse(res->reply.text, &s->caps);
        s->ehlo_done = true;
        return 0;
    }
    if (res->reply.code == 500 || res->reply.code == 502) {
        dbuf_reset(&s->out);
        dbuf_printf(&s->out, "HELO %s", s->helo_name);
        if (smtpc_command(s, s->o.command_timeout_ms, res) < 0)
            return -1;
        if (res->reply.code == 250) {
            s->ehlo_done = true;
            return 0;
        }
    }
    return reply_class(res, 2, "EHLO");
}

static enum smtpc_err tls_err_class(enum tls_status st)
{
    switch (st) {
    case TLS_ERR_UNTRUSTED:
        return SMTPC_ERR_CERT_UNTRUSTED;
    case TLS_ERR_NAME_MISMATCH:
        return SMTPC_ERR_CERT_NAME_MISMATCH;
    case TLS_ERR_EXPIRED:
        return SMTPC_ERR_CERT_EXPIRED;
    case TLS_ERR_CERT_OTHER:
        return SMTPC_ERR_CERT_INVALID;
    case TLS_ERR_MODE_MISMATCH:
        return SMTPC_ERR_TLS_MODE_MISMATCH;
    case TLS_ERR_TIMEOUT:
        return SMTPC_ERR_TIMEOUT;
    case TLS_ERR_CONFIG:
        return SMTPC_ERR_LOCAL;
    default:
        return SMTPC_ERR_TLS_HANDSHAKE;
    }
}

static int handshake(struct smtpc_session *s, struct smtpc_result *res)
{
    struct tls_error terr = { TLS_OK, "" };

    res->stage = "tls";
    s->tls_tried = true;
    s->tls = tls_client_start(s->tls_ctx, s->fd, s->host, s->o.command_timeout_ms, &s->tls_info, &terr);
    if (s->tls == NULL) {
        s->broken = true;
        smtpc_io_close(s, false);
        /* Plaintext where the TLS handshake should be, after a 220 to
         * STARTTLS: the injection case again, arriving a little later. */
        if (terr.status == TLS_ERR_MODE_MISMATCH && s->o.tls == ROUTE_TLS_STARTTLS)
            return smtpc_fail(res, SMTPC_ERR_PROTOCOL,
                              "the server sent plaintext after its 220 to STARTTLS (session aborted)");
        return smtpc_fail(res, tls_err_class(terr.status), "%s", terr.errstr);
    }
    /* Nothing from before the handshake survives it. */
    dbuf_reset(&s->in);
    memset(&s->caps, 0, sizeof(s->caps));
    s->ehlo_done = false;
    return 0;
}

int smtpc_tls(struct smtpc_session *s, struct smtpc_result *res)
{
    long t0 = clock_mono_ms();
    int rc = -1;

    if (smtpc_step_open(res, "tls", smtpc_connected(s), "not connected") < 0)
        goto done;
    switch (s->o.tls) {
    case ROUTE_TLS_NONE:
        rc = 0;
        break;
    case ROUTE_TLS_IMPLICIT:
        if (s->tls) {
            rc = 0;
            break;
        }
        rc = handshake(s, res);
        break;
    case ROUTE_TLS_STARTTLS:
        if (s->tls) {
            rc = 0;
            break;
        }
        res->stage = "greeting";
        if (read_greeting(s, res) < 0)
            break;
        res->stage = "ehlo";
        if (do_ehlo(s, res) < 0)
            break;
        res->stage = "starttls";
        if (!s->caps.starttls) {
            /* Mandatory TLS: never go on in plaintext, never offer AUTH. */
            struct smtpc_result q;

            smtpc_step_begin(&q, "quit");
            dbuf_reset(&s->out);
            dbuf_append_str(&s->out, "QUIT");
            (void)smtpc_command(s, 2000, &q);
            smtpc_io_close(s, false);
            rc = smtpc_fail(res, SMTPC_ERR_STARTTLS_NOT_OFFERED,
                            "%s does not offer STARTTLS (plaintext refused)", s->host);
            break;
        }
        dbuf_reset(&s->out);
        dbuf_append_str(&s->out, "STARTTLS");
        if (smtpc_command(s, s->o.command_timeout_ms, res) < 0)
            break;
        if (res->reply.code != 220) {
            rc = smtpc_fail(res, res->reply.code / 100 == 4 ? SMTPC_ERR_REPLY_4XX : SMTPC_ERR_STARTTLS_NOT_OFFERED,
                            "the server refused STARTTLS: %s", res->reply.text);
            smtpc_io_close(s, false);
            break;
        }
        /* CVE-2021-38371 class: whatever follows the 220 was sent before
         * any TLS and must not be read as coming from inside it. */
        if (smtpc_io_has_input(s)) {
            rc = smtpc_fail(res, SMTPC_ERR_PROTOCOL,
                            "the server sent data after its 220 to STARTTLS (session aborted)");
            smtpc_io_close(s, false);
            break;
        }
        rc = handshake(s, res);
        break;
    }
done:
    smtpc_step_end(res, t0);
    return rc;
}

int smtpc_ehlo(struct smtpc_session *s, struct smtpc_result *res)
{
    long t0 = clock_mono_ms();
    int rc = -1;

    if (smtpc_step_open(res, "ehlo", smtpc_connected(s), "not connected") < 0)
        goto done;
    if (s->o.tls != ROUTE_TLS_NONE && s->tls == NULL) {
        rc = smtpc_fail(res, SMTPC_ERR_LOCAL, "TLS is not up: call smtpc_tls() first");
        goto done;
    }
    res->stage = "greeting";
    if (read_greeting(s, res) < 0)
        goto done;
    res->stage = "ehlo";
    rc = do_ehlo(s, res);
done:
    smtpc_step_end(res, t0);
    return rc;
}

static bool has_8bit(const char *p)
{
    for (; *p; p++)
        if ((unsigned char)*p >= 0x80)
            return true;
    return false;
}

/* An address we may put between angle brackets on a command line: the
 * listener's own rule (mailaddr_is_valid, UTF-8 allowed; SMTPUTF8 is
 * asked for separately), so that whatever it accepted can be sent,
 * quoted local parts with '<', '>' or spaces included.  Nothing it allows
 * can end the line (no CR, LF, NUL or other control character). */
static bool addr_is_safe(const char *p, bool may_be_empty)
{
    if (*p == 0)
        return may_be_empty;
    return mailaddr_is_valid(p, true);
}

/* A recipient we cannot send refused here, alone: the others still go. */
static void rcpt_refuse_local(struct smtpc_rcpt_result *rr)
{
    memset(rr, 0, sizeof(*rr));
    rr->err = SMTPC_ERR_REPLY_5XX;
    rr->reply.code = 553;
    snprintf(rr->reply.enhanced, sizeof(rr->reply.enhanced), "5.1.3");
    snprintf(rr->reply.text, sizeof(rr->reply.text), "553 5.1.3 bad recipient address syntax (not sent)");
}

static void rcpt_fill(struct smtpc_rcpt_result *rr, const struct smtpc_result *r)
{
    rr->reply = r->reply;
    if (r->err != SMTPC_OK)
        rr->err = r->err;
    else if (r->reply.code / 100 == 2)
        rr->err = SMTPC_OK;
    else if (r->reply.code / 100 == 4)
        rr->err = SMTPC_ERR_REPLY_4XX;
    else if (r->reply.code / 100 == 5)
        rr->err = SMTPC_ERR_REPLY_5XX;
    else
        rr->err = SMTPC_ERR_PROTOCOL;
}

/* The reply to a pipelined RSET: anything but 2xx leaves the session in
 * an unknown state (its other replies are dropped with it). */
static int rset_reply(struct smtpc_session *s, struct smtpc_result *res)
{
    smtpc_step_begin(res, "rset");
    if (smtpc_io_reply(s, s->o.command_timeout_ms, res) < 0)
        return -1;
    if (reply_class(res, 2, "RSET") < 0) {
        s->broken = true;
        return -1;
    }
    return 0;
}

/* The reply to a pipelined DATA, read after the RCPTs' replies, of which
 * `accepted` were positive.  With no recipient the server must refuse
 * DATA (RFC 2920 3.1); one that says 354 anyway is not trusted with
 * another message. */
static int data_reply(struct smtpc_session *s, size_t accepted, struct smtpc_result *res)
{
    struct smtpc_result r;

    smtpc_step_begin(&r, "data");
    if (smtpc_io_reply(s, s->o.command_timeout_ms, &r) < 0) {
        *res = r;
        return -1;
    }
    if (accepted == 0) {
        if (r.reply.code == 354)
            s->broken = true;
        return 0;
    }
    if (reply_class(&r, 3, "DATA") < 0 || r.reply.code != 354) {
        if (r.reply.code / 100 == 3 || r.reply.code / 100 == 2) {
            smtpc_fail(&r, SMTPC_ERR_PROTOCOL, "unexpected reply to DATA: %s", r.reply.text);
            s->broken = true;
        }
        *res = r;
        return -1;
    }
    s->data_ready = true;
    return 0;
}

/* MAIL and RCPTs; with_data: DATA too, pipelined (smtpc_send). */
static int envelope_run(struct smtpc_session *s, const struct smtpc_envelope *env,
                        struct smtpc_rcpt_result *rcpt_res, bool with_data, struct smtpc_result *res)
{
    long t0 = clock_mono_ms();
    bool utf8 = env->smtputf8, pipelined;
    struct smtpc_result r;
    size_t i, accepted = 0, sendable = 0;
    int first_refusal = -1, rc = -1;

    s->data_ready = false;
    for (i = 0; i < env->nrcpts; i++) {
        memset(&rcpt_res[i], 0, sizeof(rcpt_res[i]));
        rcpt_res[i].err = SMTPC_ERR_LOCAL;
    }
    if (smtpc_step_open(res, "mail", smtpc_usable(s) && s->ehlo_done, "session not ready for MAIL") < 0)
        goto done;
    if (env->sender == NULL || env->nrcpts == 0 || !addr_is_safe(env->sender, true)) {
        rc = smtpc_fail(res, SMTPC_ERR_LOCAL, "bad envelope (sender or no recipient)");
        goto done;
    }
    utf8 = utf8 || has_8bit(env->sender);
    for (i = 0; i < env->nrcpts; i++) {
        if (env->rcpts[i] == NULL || !addr_is_safe(env->rcpts[i], false)) {
            /* Marked refused (REPLY_5XX before anything is sent): every
             * loop below skips it. */
            rcpt_refuse_local(&rcpt_res[i]);
            continue;
        }
        sendable++;
        utf8 = utf8 || has_8bit(env->rcpts[i]);
    }
    if (sendable == 0) {
        rc = smtpc_fail(res, SMTPC_ERR_LOCAL, "bad recipient address");
        goto done;
    }
    /* Never mangle: a message the upstream cannot carry as it is fails. */
    if (utf8 && !s->caps.smtputf8) {
        rc = smtpc_fail(res, SMTPC_ERR_EXT_UNSUPPORTED,
                        "the message needs SMTPUTF8, which %s does not offer", s->host);
        goto done;
    }
    if (env->body_8bit && !s->caps.eightbitmime) {
        rc = smtpc_fail(res, SMTPC_ERR_EXT_UNSUPPORTED,
                        "the message has an 8-bit body and %s does not offer 8BITMIME", s->host);
        goto done;
    }
    if (env->size && s->caps.size && s->caps.size_max && env->size > s->caps.size_max) {
        rc = smtpc_fail(res, SMTPC_ERR_REPLY_5XX, "the message (%lu bytes) exceeds %s's SIZE %lu",
                        env->size, s->host, s->caps.size_max);
        goto done;
    }
    pipelined = s->caps.pipelining;
    if (env->reset_first && !pipelined) {
        dbuf_reset(&s->out);
        dbuf_append_str(&s->out, "RSET");
        smtpc_step_begin(res, "rset");
        if (smtpc_command(s, s->o.command_timeout_ms, res) < 0)
            goto done;
        if (reply_class(res, 2, "RSET") < 0) {
            s->broken = true;
            goto done;
        }
        smtpc_step_begin(res, "mail");
    }
    dbuf_reset(&s->out);
    if (env->reset_first && pipelined)
        dbuf_append_str(&s->out, "RSET\r\n");
    dbuf_printf(&s->out, "MAIL FROM:<%s>", env->sender);
    if (env->body_8bit)
        dbuf_append_str(&s->out, " BODY=8BITMIME");
    if (utf8)
        dbuf_append_str(&s->out, " SMTPUTF8");
    if (env->size && s->caps.size)
        dbuf_printf(&s->out, " SIZE=%lu", env->size);
    dbuf_append(&s->out, "\r\n", 2);
    if (pipelined) {
        /* RFC 2920: MAIL and every RCPT in one write, replies in order;
         * DATA may close the group. */
        for (i = 0; i < env->nrcpts; i++)
            if (rcpt_res[i].err != SMTPC_ERR_REPLY_5XX)
                dbuf_printf(&s->out, "RCPT TO:<%s>\r\n", env->rcpts[i]);
        if (with_data)
            dbuf_append_str(&s->out, "DATA\r\n");
    }
    if (smtpc_io_write(s, s->out.data, s->out.len, s->o.command_timeout_ms, res) < 0) {
        if (env->reset_first)
            res->stage = "rset";
        goto done;
    }
    dbuf_reset(&s->out);
    if (env->reset_first && pipelined) {
        if (rset_reply(s, res) < 0)
            goto done;
        smtpc_step_begin(res, "mail");
    }
    if (smtpc_io_reply(s, s->o.command_timeout_ms, res) < 0)
        goto done;
    if (reply_class(res, 2, "MAIL FROM") < 0) {
        /* Keep the stream in step: the pipelined RCPTs (and DATA) are
         * answered too. */
        if (pipelined) {
            for (i = 0; i < env->nrcpts; i++) {
                if (rcpt_res[i].err == SMTPC_ERR_REPLY_5XX)
                    continue;   /* never sent */
                smtpc_step_begin(&r, "rcpt");
                if (smtpc_io_reply(s, s->o.command_timeout_ms, &r) < 0)
                    break;
            }
            if (with_data && i == env->nrcpts)
                (void)data_reply(s, 0, &r);
        }
        goto done;
    }
    for (i = 0; i < env->nrcpts; i++) {
        if (rcpt_res[i].err == SMTPC_ERR_REPLY_5XX)
            continue;           /* refused here, never sent */
        smtpc_step_begin(&r, "rcpt");
        if (!pipelined) {
            dbuf_reset(&s->out);
            dbuf_printf(&s->out, "RCPT TO:<%s>", env->rcpts[i]);
            if (smtpc_command(s, s->o.command_timeout_ms, &r) < 0) {
                rcpt_fill(&rcpt_res[i], &r);
                *res = r;
                goto done;
            }
        } else if (smtpc_io_reply(s, s->o.command_timeout_ms, &r) < 0) {
            rcpt_fill(&rcpt_res[i], &r);
            *res = r;
            goto done;
        }
        rcpt_fill(&rcpt_res[i], &r);
        if (rcpt_res[i].err == SMTPC_OK)
            accepted++;
        else if (first_refusal < 0)
            first_refusal = (int)i;
    }
    if (with_data && pipelined && data_reply(s, accepted, res) < 0)
        goto done;
    if (accepted == 0) {
        res->stage = "rcpt";
        res->reply = rcpt_res[first_refusal].reply;
        reply_class(res, 2, "RCPT TO");
        goto done;
    }
    rc = 0;
done:
    smtpc_step_end(res, t0);
    return rc;
}

int smtpc_envelope(struct smtpc_session *s, const struct smtpc_envelope *env,
                   struct smtpc_rcpt_result *rcpt_res, struct smtpc_result *res)
{
    return envelope_run(s, env, rcpt_res, false, res);
}

/* Write what the stuffer produced once enough is pending (or force). */
static int data_flush(struct smtpc_session *s, struct dbuf *wire, bool force, struct smtpc_result *res)
{
    if (wire->len == 0 || (!force && wire->len < DATA_CHUNK))
        return 0;
    if (smtpc_io_write(s, wire->data, wire->len, s->o.data_timeout_ms, res) < 0)
        return -1;
    dbuf_reset(wire);
    return 0;
}

int smtpc_data(struct smtpc_session *s, const struct smtpc_source *src, size_t nsrc,
               struct smtpc_result *res)
{
    long t0 = clock_mono_ms();
    struct smtpc_dotstuff d;
    struct dbuf wire = DBUF_INIT;
    char *chunk = NULL;
    size_t i;
    int rc = -1;

    if (smtpc_step_open(res, "data", smtpc_usable(s), "session not ready for DATA") < 0)
        goto done;
    if (s->data_ready) {
        /* DATA went with the envelope and got its 354. */
        s->data_ready = false;
    } else {
        dbuf_reset(&s->out);
        dbuf_append_str(&s->out, "DATA");
        if (smtpc_command(s, s->o.command_timeout_ms, res) < 0)
            goto done;
        if (reply_class(res, 3, "DATA") < 0)
            goto done;
        if (res->reply.code != 354) {
            rc = smtpc_fail(res, SMTPC_ERR_PROTOCOL, "unexpected reply to DATA: %s", res->reply.text);
            s->broken = true;
            goto done;
        }
    }
    s->in_data = true;
    smtpc_dotstuff_init(&d);
    for (i = 0; i < nsrc; i++) {
        if (src[i].fd < 0) {
            size_t off = 0;

            while (off < src[i].len) {
                size_t n = src[i].len - off < DATA_CHUNK ? src[i].len - off : DATA_CHUNK;

                smtpc_dotstuff_feed(&d, src[i].buf + off, n, &wire);
                off += n;
                if (data_flush(s, &wire, false, res) < 0)
                    goto done;
            }
            continue;
        }
        for (;;) {
            ssize_t n;

            /* Only file sources need it: delivery passes buffers, and 64 KB
             * per worker thread is most of a worker's memory. */
            if (chunk == NULL)
                chunk = mymalloc(DATA_CHUNK);
            n = read(src[i].fd, chunk, DATA_CHUNK);

            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                /* Half a message is out: only closing the connection
                 * makes the server drop it. */
                rc = smtpc_fail(res, SMTPC_ERR_LOCAL, "cannot read the message: %s", strerror(errno));
                smtpc_io_close(s, false);
                goto done;
            }
            if (n == 0)
                break;
            smtpc_dotstuff_feed(&d, chunk, (size_t)n, &wire);
            if (data_flush(s, &wire, false, res) < 0)
                goto done;
        }
    }
    smtpc_dotstuff_finish(&d, &wire);
    if (data_flush(s, &wire, true, res) < 0)
        goto done;
    res->stage = "dot";
    if (smtpc_io_reply(s, s->o.data_timeout_ms, res) < 0)
        goto done;
    s->in_data = false;
    if (reply_class(res, 2, "the message") < 0)
        goto done;
    rc = 0;
done:
    if (rc < 0 && s->in_data) {
        /* The session's state is unknown: it cannot carry another message. */
        s->broken = true;
    }
    myfree(chunk);
    dbuf_free(&wire);
    smtpc_step_end(res, t0);
    return rc;
}

int smtpc_rset(struct smtpc_session *s, struct smtpc_result *res)
{
    long t0 = clock_mono_ms();
    int rc = -1;

    if (smtpc_step_open(res, "rset", smtpc_usable(s), "session not usable") < 0)
        goto done;
    dbuf_reset(&s->out);
    dbuf_append_str(&s->out, "RSET");
    if (smtpc_command(s, s->o.command_timeout_ms, res) < 0)
        goto done;
    rc = reply_class(res, 2, "RSET");
    if (rc < 0)
        s->broken = true;
done:
    smtpc_step_end(res, t0);
    return rc;
}

int smtpc_quit(struct smtpc_session *s, struct smtpc_result *res)
{
    long t0 = clock_mono_ms();
    int rc = -1;

    if (smtpc_step_open(res, "quit", smtpc_connected(s), "not connected") < 0)
        goto done;
    dbuf_reset(&s->out);
    dbuf_append_str(&s->out, "QUIT");
    if (smtpc_command(s, s->o.command_timeout_ms, res) < 0)
        goto done;
    rc = reply_class(res, 2, "QUIT");
done:
    if (s->fd >= 0)
        smtpc_io_close(s, rc == 0);
    smtpc_step_end(res, t0);
    return rc;
}

int smtpc_open(struct smtpc_session *s, const struct smtpc_cred *cred, struct smtpc_result *res)
{
    long t0 = clock_mono_ms();
    int rc = -1;

    if (smtpc_connect(s, res) < 0 || smtpc_tls(s, res) < 0 || smtpc_ehlo(s, res) < 0)
        goto done;
    if (cred && smtpc_auth(s, cred, res) < 0)
        goto done;
    rc = 0;
done:
    smtpc_step_end(res, t0);
    return rc;
}

int smtpc_send(struct smtpc_session *s, const struct smtpc_envelope *env,
               struct smtpc_rcpt_result *rcpt_res, const struct smtpc_source *src, size_t nsrc,
               struct smtpc_result *res)
{
    long t0 = clock_mono_ms();
    int rc = -1;

    if (envelope_run(s, env, rcpt_res, true, res) < 0 || smtpc_data(s, src, nsrc, res) < 0)
        goto done;
    rc = 0;
done:
    smtpc_step_end(res, t0);
    return rc;
}
