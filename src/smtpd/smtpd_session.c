/*
 * smtpd_session.c - the SMTP server session: an explicit state machine
 * driven by a verb table (model: OpenSMTPD's smtp_session.c), fed from a
 * byte buffer and answering into one (see smtpd.h).
 *
 * Each verb names the longest line it accepts and the states it is valid
 * in; the table is the one place that says what the protocol allows.
 * Every state change goes through set_state(), which logs it.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "tenantrelay/metrics.h"
#include "tenantrelay/msg.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/rewrite.h"
#include "tenantrelay/smtpd.h"
#include "tenantrelay/timefmt.h"
#include "smtpd_params.h"

#define MAX_TENANT_VALUES 64

struct smtpd_session {
    struct smtpd_params p;
    const struct smtpd_ops *ops;
    void *ctx;
    enum smtpd_state state;
    struct dbuf in;
    struct dbuf out;
    bool discard_line;          /* skipping the rest of an overlong line */
    int errors;
    unsigned long progress;
    bool esmtp;
    bool tls;
    char helo[256];
    /* transaction */
    char *sender;
    char **rcpts;
    int nrcpt;
    unsigned flags;
    /* message in flight */
    struct smtpd_data data;
    struct dbuf content;        /* the reader's output, drained at once */
    bool msg_open;
    char qid[SPOOL_QID_LEN + 1];
    bool in_headers;
    struct dbuf hdr;
    size_t hdr_scan;
    size_t size;
    bool too_big, hdr_too_big, write_failed;
    char **tvals;
    int ntvals;
    int from_count;
    char *message_id;
};

#define ST(x) (1u << (x))

struct smtpd_verb {
    const char *verb;
    size_t max_line;            /* with CRLF */
    unsigned states;            /* ST() of the states it is valid in */
    const char *sequence_reply; /* otherwise */
    enum smtpd_action (*proceed)(struct smtpd_session *s, char *args);
};

static const char *const state_names[] = {
    "connected", "greeted", "mail", "rcpt", "data", "closed",
};

const char *smtpd_state_name(enum smtpd_state st)
{
    return (unsigned)st <= SMTPD_S_CLOSED ? state_names[st] : "?";
}

static void set_state(struct smtpd_session *s, enum smtpd_state st)
{
    if (s->state != st)
        msg_debug(s->p.id, "state %s -> %s", state_names[s->state], state_names[st]);
    s->state = st;
}

static void reply(struct smtpd_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(struct smtpd_session *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    dbuf_vprintf(&s->out, fmt, ap);
    va_end(ap);
    dbuf_append(&s->out, "\r\n", 2);
}

/* A refusal that counts towards SMTPD_MAX_ERRORS. */
#define REFUSE(s, ...) do { (s)->errors++; reply((s), __VA_ARGS__); } while (0)

static void free_vec(char **v, int n)
{
    for (int i = 0; i < n; i++)
        myfree(v[i]);
    myfree(v);
}

static void message_reset(struct smtpd_session *s)
{
    if (s->msg_open && s->ops->abort)
        s->ops->abort(s->ctx);
    s->msg_open = false;
    s->qid[0] = 0;
    dbuf_free(&s->hdr);
    dbuf_free(&s->content);
    s->hdr_scan = 0;
    s->size = 0;
    s->too_big = s->hdr_too_big = s->write_failed = false;
    free_vec(s->tvals, s->ntvals);
    s->tvals = NULL;
    s->ntvals = 0;
    s->from_count = 0;
    myfree(s->message_id);
    s->message_id = NULL;
}

static void transaction_reset(struct smtpd_session *s)
{
    message_reset(s);
    myfree(s->sender);
    s->sender = NULL;
    free_vec(s->rcpts, s->nrcpt);
    s->rcpts = NULL;
    s->nrcpt = 0;
    s->flags = 0;
    if (s->state == SMTPD_S_MAIL || s->state == SMTPD_S_RCPT || s->state == SMTPD_S_DATA)
        set_state(s, SMTPD_S_GREETED);
}

struct smtpd_session *smtpd_session_new(const struct smtpd_params *params,
                                        const struct smtpd_ops *ops, void *ctx)
{
    struct smtpd_session *s = mycalloc(1, sizeof(*s));

    s->p = *params;
    s->ops = ops;
    s->ctx = ctx;
    s->state = SMTPD_S_CONNECTED;
    reply(s, "220 %s ESMTP tenantrelay", s->p.hostname);
    return s;
}

void smtpd_session_free(struct smtpd_session *s)
{
    if (s == NULL)
        return;
    transaction_reset(s);
    dbuf_free(&s->in);
    dbuf_free(&s->out);
    myfree(s);
}

size_t smtpd_session_room(const struct smtpd_session *s)
{
    return s->in.len >= SMTPD_INBUF ? 0 : SMTPD_INBUF - s->in.len;
}

struct dbuf *smtpd_session_output(struct smtpd_session *s)
{
    return &s->out;
}

enum smtpd_state smtpd_session_state(const struct smtpd_session *s)
{
    return s->state;
}

unsigned long smtpd_session_progress(const struct smtpd_session *s)
{
    return s->progress;
}

void smtpd_session_close(struct smtpd_session *s, const char *last)
{
    transaction_reset(s);
    if (last)
        reply(s, "%s", last);
    set_state(s, SMTPD_S_CLOSED);
}

void smtpd_session_tls_started(struct smtpd_session *s)
{
    transaction_reset(s);
    dbuf_reset(&s->in);
    s->discard_line = false;
    s->tls = true;
    s->esmtp = false;
    s->helo[0] = 0;
    set_state(s, SMTPD_S_CONNECTED);
}

/* ---- verbs ---- */

static bool valid_helo(const char *arg)
{
    size_t n = strlen(arg);

    if (n == 0 || n > 255)
        return false;
    for (const char *p = arg; *p; p++)
        if (*p <= ' ' || *p >= 127)
            return false;
    return true;
}

static enum smtpd_action do_ehlo_helo(struct smtpd_session *s, char *args, bool esmtp)
{
    args = smtpd_skip_sp(args);
    if (!valid_helo(args)) {
        REFUSE(s, "501 5.5.4 Syntax: %s hostname", esmtp ? "EHLO" : "HELO");
        return SMTPD_ACT_NONE;
    }
    transaction_reset(s);
    snprintf(s->helo, sizeof(s->helo), "%s", args);
    s->esmtp = esmtp;
    set_state(s, SMTPD_S_GREETED);
    if (!esmtp) {
        reply(s, "250 %s", s->p.hostname);
        return SMTPD_ACT_NONE;
    }
    reply(s, "250-%s Hello %s [%s]", s->p.hostname, s->helo, s->p.client_addr);
    reply(s, "250-PIPELINING");
    reply(s, "250-SIZE %zu", s->p.max_message_size);
    if (s->p.tls_available && !s->tls)
        reply(s, "250-STARTTLS");
    reply(s, "250-8BITMIME");
    reply(s, "250-SMTPUTF8");
    reply(s, "250 ENHANCEDSTATUSCODES");
    return SMTPD_ACT_NONE;
}

static enum smtpd_action do_ehlo(struct smtpd_session *s, char *args)
{
    return do_ehlo_helo(s, args, true);
}

static enum smtpd_action do_helo(struct smtpd_session *s, char *args)
{
    return do_ehlo_helo(s, args, false);
}

static enum smtpd_action do_mail(struct smtpd_session *s, char *args)
{
    char addr[SMTPD_PARAMS_ADDR], err[SMTPD_PARAMS_ERRLEN];
    unsigned flags;

    if (smtpd_params_mail(args, s->esmtp, s->p.max_message_size, addr, &flags, err, sizeof(err)) < 0) {
        REFUSE(s, "%s", err);
        return SMTPD_ACT_NONE;
    }
    s->sender = mystrdup(addr);
    s->flags = flags;
    set_state(s, SMTPD_S_MAIL);
    reply(s, "250 2.1.0 Ok");
    return SMTPD_ACT_NONE;
}

static enum smtpd_action do_rcpt(struct smtpd_session *s, char *args)
{
    char addr[SMTPD_PARAMS_ADDR], err[SMTPD_PARAMS_ERRLEN];

    if (smtpd_params_rcpt(args, s->flags, addr, err, sizeof(err)) < 0) {
        REFUSE(s, "%s", err);
        return SMTPD_ACT_NONE;
    }
    if (s->nrcpt >= s->p.max_recipients) {
        REFUSE(s, "452 4.5.3 Too many recipients");
        return SMTPD_ACT_NONE;
    }
    s->rcpts = myrealloc(s->rcpts, sizeof(*s->rcpts) * (size_t)(s->nrcpt + 2));
    s->rcpts[s->nrcpt++] = mystrdup(addr);
    s->rcpts[s->nrcpt] = NULL;
    set_state(s, SMTPD_S_RCPT);
    reply(s, "250 2.1.5 Ok");
    return SMTPD_ACT_NONE;
}

static enum smtpd_action do_data(struct smtpd_session *s, char *args)
{
    if (*smtpd_skip_sp(args)) {
        REFUSE(s, "501 5.5.4 Syntax: DATA");
        return SMTPD_ACT_NONE;
    }
    if (s->ops->begin(s->ctx, s->qid) < 0) {
        REFUSE(s, "452 4.3.1 Insufficient system storage");
        return SMTPD_ACT_NONE;
    }
    s->msg_open = true;
    s->in_headers = true;
    smtpd_data_init(&s->data, s->p.max_line_length);
    set_state(s, SMTPD_S_DATA);
    reply(s, "354 End data with <CR><LF>.<CR><LF>");
    return SMTPD_ACT_NONE;
}

static enum smtpd_action do_rset(struct smtpd_session *s, char *args)
{
    transaction_reset(s);
    reply(s, "250 2.0.0 Ok");
    return SMTPD_ACT_NONE;
}

static enum smtpd_action do_noop(struct smtpd_session *s, char *args)
{
    reply(s, "250 2.0.0 Ok");
    return SMTPD_ACT_NONE;
}

static enum smtpd_action do_quit(struct smtpd_session *s, char *args)
{
    reply(s, "221 2.0.0 Bye");
    return SMTPD_ACT_CLOSE;
}

static enum smtpd_action do_help(struct smtpd_session *s, char *args)
{
    reply(s, "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT HELP%s",
          s->p.tls_available && !s->tls ? " STARTTLS" : "");
    return SMTPD_ACT_NONE;
}

static enum smtpd_action do_vrfy(struct smtpd_session *s, char *args)
{
    REFUSE(s, "502 5.5.1 VRFY command is disabled");
    return SMTPD_ACT_NONE;
}

static enum smtpd_action do_expn(struct smtpd_session *s, char *args)
{
    REFUSE(s, "502 5.5.1 EXPN command is disabled");
    return SMTPD_ACT_NONE;
}

static enum smtpd_action do_auth(struct smtpd_session *s, char *args)
{
    REFUSE(s, "502 5.5.1 AUTH is not available");
    return SMTPD_ACT_NONE;
}

static enum smtpd_action do_bdat(struct smtpd_session *s, char *args)
{
    /* Not advertised; a client that sends it anyway gets no data phase. */
    REFUSE(s, "502 5.5.1 BDAT is not supported");
    return SMTPD_ACT_CLOSE;
}

static enum smtpd_action do_starttls(struct smtpd_session *s, char *args)
{
    if (*smtpd_skip_sp(args)) {
        REFUSE(s, "501 5.5.4 Syntax: STARTTLS");
        return SMTPD_ACT_NONE;
    }
    if (s->tls) {
        REFUSE(s, "503 5.5.1 TLS already active");
        return SMTPD_ACT_NONE;
    }
    if (!s->p.tls_available) {
        REFUSE(s, "502 5.5.1 STARTTLS is not available");
        return SMTPD_ACT_NONE;
    }
    reply(s, "220 2.0.0 Ready to start TLS");
    return SMTPD_ACT_STARTTLS;
}

#define ANY (ST(SMTPD_S_CONNECTED) | ST(SMTPD_S_GREETED) | ST(SMTPD_S_MAIL) | ST(SMTPD_S_RCPT))

static const struct smtpd_verb verbs[] = {
    { "EHLO", SMTPD_LINE_CMD, ANY, NULL, do_ehlo },
    { "HELO", SMTPD_LINE_CMD, ANY, NULL, do_helo },
    { "MAIL", SMTPD_LINE_MAIL, ST(SMTPD_S_GREETED),
      NULL, do_mail },
    { "RCPT", SMTPD_LINE_MAIL, ST(SMTPD_S_MAIL) | ST(SMTPD_S_RCPT),
      "503 5.5.1 Error: need MAIL command", do_rcpt },
    { "DATA", SMTPD_LINE_CMD, ST(SMTPD_S_RCPT), NULL, do_data },
    { "RSET", SMTPD_LINE_CMD, ANY, NULL, do_rset },
    { "NOOP", SMTPD_LINE_CMD, ANY, NULL, do_noop },
    { "QUIT", SMTPD_LINE_CMD, ANY, NULL, do_quit },
    { "HELP", SMTPD_LINE_CMD, ANY, NULL, do_help },
    { "VRFY", SMTPD_LINE_CMD, ANY, NULL, do_vrfy },
    { "EXPN", SMTPD_LINE_CMD, ANY, NULL, do_expn },
    { "AUTH", SMTPD_LINE_AUTH, ANY, NULL, do_auth },
    { "BDAT", SMTPD_LINE_CMD, ANY, NULL, do_bdat },
    { "STARTTLS", SMTPD_LINE_CMD, ST(SMTPD_S_CONNECTED) | ST(SMTPD_S_GREETED),
      "503 5.5.1 Error: STARTTLS inside a mail transaction", do_starttls },
    { NULL, 0, 0, NULL, NULL },
};

/* The reply for a verb used in the wrong state. */
static const char *sequence_reply(const struct smtpd_session *s, const struct smtpd_verb *v)
{
    if (v->sequence_reply)
        return v->sequence_reply;
    if (s->state == SMTPD_S_CONNECTED)
        return "503 5.5.1 Error: send EHLO/HELO first";
    if (strcmp(v->verb, "MAIL") == 0)
        return "503 5.5.1 Error: nested MAIL command";
    return "503 5.5.1 Error: need RCPT command";
}

/* One command line of rawlen bytes (with its line end) at line. */
static enum smtpd_action command(struct smtpd_session *s, const char *line, size_t rawlen)
{
    char *buf;
    size_t len = rawlen;
    const struct smtpd_verb *v;
    size_t vlen;
    enum smtpd_action act = SMTPD_ACT_NONE;

    s->progress++;
    if (len < 2 || line[len - 2] != '\r') {
        REFUSE(s, "500 5.5.2 Error: command line not ended by <CR><LF>");
        return SMTPD_ACT_NONE;
    }
    len -= 2;
    /* Not strndup: a NUL inside the line must not shorten the copy. */
    buf = mymalloc(len + 1);
    memcpy(buf, line, len);
    buf[len] = 0;
    for (vlen = 0; vlen < len && buf[vlen] != ' '; vlen++)
        ;
    for (v = verbs; v->verb; v++)
        if (strlen(v->verb) == vlen && strncasecmp(v->verb, buf, vlen) == 0)
            break;
    if (v->verb == NULL) {
        REFUSE(s, "500 5.5.2 Error: command not recognized");
    } else if (rawlen > v->max_line) {
        REFUSE(s, "500 5.5.2 Error: line too long");
    } else if (memchr(line, 0, len) || memchr(line, '\r', len) || memchr(line, '\n', len)) {
        REFUSE(s, "501 5.5.2 Error: NUL or bare <CR> in command");
    } else if (!(v->states & ST(s->state))) {
        REFUSE(s, "%s", sequence_reply(s, v));
    } else {
        act = v->proceed(s, buf + vlen + (vlen < len ? 1 : 0));
    }
    myfree(buf);
    return act;
}

/* ---- the message ---- */

static void store(struct smtpd_session *s, const void *data, size_t len)
{
    if (len == 0 || s->write_failed || s->too_big || s->hdr_too_big)
        return;
    if (s->ops->write(s->ctx, data, len) < 0)
        s->write_failed = true;
}

/* "name:" at line?  The length of the name, or 0.  The one header grammar
 * (rewrite_field_name): "X-Tenant-ID : acme" is a tenant header here
 * exactly as it is for delivery and the milter. */
static size_t field_name(const char *line, size_t len, size_t *value_at)
{
    return rewrite_field_name(line, len, value_at);
}

/* Unfold and trim a header value (CRLF removed, outer blanks dropped). */
static char *field_value(const char *v, size_t len)
{
    struct dbuf b = DBUF_INIT;

    for (size_t i = 0; i < len; i++)
        if (v[i] != '\r' && v[i] != '\n')
            dbuf_append_char(&b, (unsigned char)v[i] < 32 && v[i] != '\t' ? ' ' : v[i]);
    dbuf_append_char(&b, 0);
    b.len--;
    char *start = b.data, *end = b.data + b.len;

    while (*start == ' ' || *start == '\t')
        start++;
    while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    char *out = mystrndup(start, (size_t)(end - start));
    dbuf_free(&b);
    return out;
}

static void add_received(struct smtpd_session *s)
{
    struct dbuf r = DBUF_INIT;
    char date[64];
    time_t now = time(NULL);
    const char *proto;
    bool v6 = strchr(s->p.client_addr, ':') != NULL;

    timefmt_rfc5322(now, date, sizeof(date));
    if (s->flags & SPOOL_FLAG_SMTPUTF8)
        proto = s->tls ? "UTF8SMTPS" : "UTF8SMTP";
    else if (s->esmtp)
        proto = s->tls ? "ESMTPS" : "ESMTP";
    else
        proto = s->tls ? "SMTPS" : "SMTP";
    dbuf_printf(&r, "Received: from %s ([%s%s])\r\n\tby %s (tenantrelay) with %s id %s",
                s->helo, v6 ? "IPv6:" : "", s->p.client_addr, s->p.hostname, proto, s->qid);
    if (s->nrcpt == 1)
        dbuf_printf(&r, "\r\n\tfor <%s>", s->rcpts[0]);
    dbuf_printf(&r, "; %s\r\n", date);
    store(s, r.data, r.len);
    dbuf_free(&r);
}

/* The header section is hdr[0, end): write Received:, every field but the
 * tenant headers, and note what resolution and the checks need. */
static void emit_headers(struct smtpd_session *s, size_t end)
{
    const char *h = s->hdr.data;
    size_t i = 0;

    add_received(s);
    while (i < end) {
        size_t j = i, n, v = 0;

        /* A field is its line plus the continuation lines after it. */
        do {
            const char *eol = memmem(h + j, end - j, "\r\n", 2);
            j = eol ? (size_t)(eol - h) + 2 : end;
        } while (j < end && (h[j] == ' ' || h[j] == '\t'));
        n = field_name(h + i, j - i, &v);
        if (n && strlen(s->p.tenant_header) == n
            && strncasecmp(h + i, s->p.tenant_header, n) == 0) {
            if (s->ntvals < MAX_TENANT_VALUES) {
                s->tvals = myrealloc(s->tvals, sizeof(*s->tvals) * (size_t)(s->ntvals + 2));
                s->tvals[s->ntvals++] = field_value(h + i + v, j - i - v);
                s->tvals[s->ntvals] = NULL;
            }
            i = j;
            continue;           /* always removed */
        }
        if (n == 4 && strncasecmp(h + i, "From", 4) == 0)
            s->from_count++;
        if (n == 10 && strncasecmp(h + i, "Message-ID", 10) == 0 && s->message_id == NULL)
            s->message_id = field_value(h + i + v, j - i - v > 998 ? 998 : j - i - v);
        store(s, h + i, j - i);
        i = j;
    }
    s->in_headers = false;
}

/* Find where the header section ends in the bytes collected so far. */
static void scan_headers(struct smtpd_session *s, bool final)
{
    const char *h = s->hdr.data;

    while (s->in_headers) {
        const char *eol = s->hdr_scan < s->hdr.len
                              ? memmem(h + s->hdr_scan, s->hdr.len - s->hdr_scan, "\r\n", 2)
                              : NULL;
        size_t at = s->hdr_scan, len;

        if (eol == NULL) {
            if (!final)
                return;
            emit_headers(s, at);    /* the rest (an unterminated line) is body */
            break;
        }
        len = (size_t)(eol - (h + at));
        if (len == 0) {
            emit_headers(s, at);    /* the empty line goes out as body */
            break;
        }
        if ((h[at] == ' ' || h[at] == '\t') ? at == 0 : field_name(h + at, len, NULL) == 0) {
            emit_headers(s, at);    /* not a header field: the body starts here */
            break;
        }
        s->hdr_scan = at + len + 2;
    }
    if (!s->in_headers) {
        store(s, h + s->hdr_scan, s->hdr.len - s->hdr_scan);
        dbuf_free(&s->hdr);
        s->hdr_scan = 0;
    }
}

static void content(struct smtpd_session *s, const char *data, size_t len)
{
    s->size += len;
    if (s->size > s->p.max_message_size)
        s->too_big = true;
    if (s->too_big || s->hdr_too_big || s->write_failed)
        return;
    if (!s->in_headers) {
        store(s, data, len);
        return;
    }
    dbuf_append(&s->hdr, data, len);
    scan_headers(s, false);
    if (s->in_headers && s->hdr.len > SMTPD_MAX_HEADER) {
        s->hdr_too_big = true;
        dbuf_free(&s->hdr);
    }
}

static void finish_message(struct smtpd_session *s)
{
    unsigned f = s->data.flags;
    size_t before = s->out.len;

    if (s->in_headers && !s->too_big && !s->hdr_too_big && !s->write_failed)
        scan_headers(s, true);
    if (s->too_big)
        reply(s, "552 5.3.4 Error: message exceeds the size limit of %zu bytes", s->p.max_message_size);
    else if (s->hdr_too_big)
        reply(s, "552 5.3.4 Error: header section exceeds %d bytes", SMTPD_MAX_HEADER);
    else if (s->write_failed)
        reply(s, "452 4.3.1 Insufficient system storage");
    else if (f & (SMTPD_DATA_BARE_CR | SMTPD_DATA_NUL))
        reply(s, "550 5.6.0 Error: message contains a bare <CR> or a NUL character");
    else if ((f & SMTPD_DATA_BARE_LF) && s->p.bare_lf_reject)
        reply(s, "550 5.6.0 Error: bare <LF> received");
    else if (f & SMTPD_DATA_LONGLINE)
        reply(s, "552 5.3.4 Error: a line exceeds %zu bytes", s->p.max_line_length);
    else if (s->from_count > 1)
        reply(s, "550 5.6.0 Error: more than one From: header");
    else {
        struct smtpd_message m = {
            s->qid, s->sender, s->rcpts, s->nrcpt, s->flags,
            s->tvals, s->ntvals, s->message_id, s->helo, s->size,
        };
        static char *const none[] = { NULL };

        if (m.tenant_values == NULL)
            m.tenant_values = none;
        s->msg_open = false;    /* finish commits or aborts */
        s->ops->finish(s->ctx, &m, &s->out);
    }
    /* A refusal now (a reply the spool may give later is counted there). */
    if (s->out.len > before && (s->out.data[before] == '4' || s->out.data[before] == '5'))
        metrics_count_rejected();
    s->progress++;
    transaction_reset(s);
}

/* ---- input ---- */

enum smtpd_action smtpd_session_input(struct smtpd_session *s, const char *data, size_t len)
{
    if (s->state == SMTPD_S_CLOSED)
        return SMTPD_ACT_CLOSE;
    dbuf_append(&s->in, data, len);
    for (;;) {
        const char *nl;
        enum smtpd_action act;

        if (s->state == SMTPD_S_DATA) {
            bool done;
            size_t used;

            if (s->in.len == 0)
                return SMTPD_ACT_NONE;
            used = smtpd_data_feed(&s->data, s->in.data, s->in.len, &s->content, &done);
            content(s, s->content.data, s->content.len);
            dbuf_reset(&s->content);
            dbuf_consume(&s->in, used);
            if (done)
                finish_message(s);
            continue;
        }
        if (s->in.len == 0)
            return SMTPD_ACT_NONE;
        nl = memchr(s->in.data, '\n', s->in.len);
        if (s->discard_line) {
            if (nl == NULL) {
                dbuf_reset(&s->in);
                return SMTPD_ACT_NONE;
            }
            dbuf_consume(&s->in, (size_t)(nl - s->in.data) + 1);
            s->discard_line = false;
            continue;
        }
        if (nl == NULL) {
            if (s->in.len <= SMTPD_LINE_AUTH)
                return SMTPD_ACT_NONE;
            /* Overlong: refuse now and never read the rest as a command. */
            REFUSE(s, "500 5.5.2 Error: line too long");
            s->progress++;
            s->discard_line = true;
            dbuf_reset(&s->in);
            act = SMTPD_ACT_NONE;
        } else {
            size_t raw = (size_t)(nl - s->in.data) + 1;

            act = command(s, s->in.data, raw);
            dbuf_consume(&s->in, raw);
        }
        if (act == SMTPD_ACT_NONE && s->errors >= SMTPD_MAX_ERRORS) {
            reply(s, "421 4.7.0 %s Error: too many errors", s->p.hostname);
            act = SMTPD_ACT_CLOSE;
        }
        if (act == SMTPD_ACT_STARTTLS) {
            /* Whatever was pipelined behind STARTTLS is plaintext an
             * attacker could have injected: discard it (RFC 3207 §4.2). */
            dbuf_reset(&s->in);
            return act;
        }
        if (act == SMTPD_ACT_CLOSE) {
            transaction_reset(s);
            set_state(s, SMTPD_S_CLOSED);
            return act;
        }
    }
}
