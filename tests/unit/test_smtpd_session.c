/*
 * test_smtpd_session.c - the SMTP session state machine fed from memory:
 * a transcript in, the replies and the stored message out.  Every case runs
 * with the input whole, in 1-byte and in 7-byte pieces, which must not
 * change anything.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/smtpd.h"
#include "smtpd_mem.h"

struct run {
    struct mem m;
    struct dbuf out;
    enum smtpd_action last;
};

static void run_session(struct run *r, const char *in, size_t len, size_t chunk,
                        const struct smtpd_params *p)
{
    struct smtpd_session *s;
    size_t used = 0;

    memset(r, 0, sizeof(*r));
    s = smtpd_session_new(p, &mem_ops, &r->m);
    r->last = SMTPD_ACT_NONE;
    while (used < len && r->last == SMTPD_ACT_NONE) {
        size_t n = len - used;

        if (n > chunk)
            n = chunk;
        if (n > smtpd_session_room(s))
            n = smtpd_session_room(s);
        r->last = smtpd_session_input(s, in + used, n);
        used += n;
        dbuf_append(&r->out, smtpd_session_output(s)->data, smtpd_session_output(s)->len);
        dbuf_reset(smtpd_session_output(s));
    }
    smtpd_session_free(s);
    dbuf_append(&r->out, "", 0);
}

static void run_free(struct run *r)
{
    dbuf_free(&r->m.stored);
    dbuf_free(&r->m.last);
    dbuf_free(&r->out);
}

static struct smtpd_params params(void)
{
    struct smtpd_params p = {
        "test", "relay.test", "127.0.0.1", 2000, 3, 200, false, false, "X-Tenant-ID",
    };
    return p;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;

    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

#define EHLO "EHLO client.test\r\n"
#define TXN "MAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n"

struct session_case {
    const char *name;
    const char *in;
    size_t len;
    int params_variant;         /* 0 default, 1 bare_lf reject, 2 TLS offered, 3 failing begin, 4 failing write */
    const char *expect[8];      /* substrings of the replies, in order */
    int committed;
    const char *stored;         /* substring of the committed message, or NULL */
    const char *absent;         /* must appear in no reply */
};

#define S(x) x, sizeof(x) - 1

static const struct session_case cases[] = {
    { "ehlo lists the extensions", S(EHLO),
      0, { "220 relay.test ESMTP", "250-relay.test Hello client.test [127.0.0.1]", "250-PIPELINING",
           "250-SIZE 2000", "250-8BITMIME", "250-SMTPUTF8", "250 ENHANCEDSTATUSCODES" }, 0, NULL, "STARTTLS" },
    { "ehlo offers STARTTLS when configured", S(EHLO), 2, { "250-STARTTLS" }, 0, NULL, NULL },
    { "helo is plain SMTP", S("HELO client.test\r\n"), 0, { "250 relay.test\r\n" }, 0, NULL, "PIPELINING" },
    { "MAIL parameters after HELO", S("HELO client.test\r\nMAIL FROM:<a@b.test> BODY=8BITMIME\r\n"), 0, { "555 5.5.4" }, 0, NULL, "250 2.1.0" },
    { "ehlo needs an argument", S("EHLO\r\n"), 0, { "501 5.5.4" }, 0, NULL, NULL },
    { "pipelined transaction, dot lines byte-exact",
      S(EHLO TXN "Subject: x\r\n\r\n..\r\n...\r\n..x\r\n.\r\nQUIT\r\n"),
      0, { "250 2.1.0", "250 2.1.5", "354 ", "250 2.0.0 Ok: queued as TESTQID000000001", "221 2.0.0" },
      1, "Subject: x\r\n\r\n.\r\n..\r\n.x\r\n", NULL },
    { "Received: first with id and for",
      S(EHLO TXN "Subject: x\r\n\r\nbody\r\n.\r\n"),
      0, { "250 2.0.0 Ok" }, 1,
      "Received: from client.test ([127.0.0.1])\r\n\tby relay.test (tenantrelay) with ESMTP id TESTQID000000001\r\n\tfor <c@d.test>; ", NULL },
    { "MAIL before EHLO", S("MAIL FROM:<a@b.test>\r\n"), 0, { "503 5.5.1" }, 0, NULL, NULL },
    { "RCPT before MAIL", S(EHLO "RCPT TO:<a@b.test>\r\n"), 0, { "503 5.5.1 Error: need MAIL" }, 0, NULL, NULL },
    { "DATA before RCPT", S(EHLO "MAIL FROM:<a@b.test>\r\nDATA\r\n"), 0, { "503 5.5.1" }, 0, NULL, NULL },
    { "VRFY and EXPN refused", S(EHLO "VRFY root\r\nEXPN staff\r\n"), 0, { "502 5.5.1 VRFY", "502 5.5.1 EXPN" }, 0, NULL, NULL },
    { "HELP and NOOP", S("HELP\r\nNOOP\r\n"), 0, { "214 2.0.0", "250 2.0.0 Ok" }, 0, NULL, NULL },
    { "unknown command", S("FOO bar\r\n"), 0, { "500 5.5.2" }, 0, NULL, NULL },
    { "NUL inside the verb (a fuzzer finding)", S(EHLO "MAIL\0\0\0\0M:<a@b.test>\r\n"), 0, { "500 5.5.2" }, 0, NULL, "250 2.1.0" },
    { "SIZE=abc", S(EHLO "MAIL FROM:<a@b.test> SIZE=abc\r\n"), 0, { "501 5.5.4 Bad SIZE" }, 0, NULL, NULL },
    { "SIZE over the limit", S(EHLO "MAIL FROM:<a@b.test> SIZE=2001\r\n"), 0, { "552 5.3.4" }, 0, NULL, NULL },
    { "SIZE within, BODY=8BITMIME, SMTPUTF8",
      S(EHLO "MAIL FROM:<a@b.test> SIZE=100 BODY=8BITMIME SMTPUTF8\r\nRCPT TO:<j\xc3\xb6rg@d.test>\r\nDATA\r\n\r\ncaf\xc3\xa9\r\n.\r\n"),
      0, { "250 2.1.0", "250 2.1.5", "250 2.0.0 Ok" }, 1, "with UTF8SMTP id", NULL },
    { "non-ASCII without SMTPUTF8", S(EHLO "MAIL FROM:<a@b.test>\r\nRCPT TO:<j\xc3\xb6rg@d.test>\r\n"), 0, { "553 5.6.7" }, 0, NULL, NULL },
    { "unknown MAIL parameter", S(EHLO "MAIL FROM:<a@b.test> RET=FULL\r\n"), 0, { "555 5.5.4" }, 0, NULL, NULL },
    { "NUL in RCPT", S(EHLO "MAIL FROM:<a@b.test>\r\nRCPT TO:<c\0@d.test>\r\n"), 0, { "250 2.1.0", "501 5.5.2" }, 0, NULL, NULL },
    { "null sender accepted, null recipient not", S(EHLO "MAIL FROM:<>\r\nRCPT TO:<>\r\n"), 0, { "250 2.1.0", "501 5.1.3" }, 0, NULL, NULL },
    { "relay battery: u@dest@relay", S(EHLO "MAIL FROM:<a@b.test>\r\nRCPT TO:<u@dest.test@relay.test>\r\n"), 0, { "501 5.1.3" }, 0, NULL, NULL },
    { "relay battery: source route", S(EHLO "MAIL FROM:<a@b.test>\r\nRCPT TO:<@relay.test:u@dest.test>\r\n"), 0, { "501 5.1.3 Source routes" }, 0, NULL, NULL },
    { "relay battery: bang path", S(EHLO "MAIL FROM:<a@b.test>\r\nRCPT TO:<dest.test!u>\r\n"), 0, { "501 5.1.3" }, 0, NULL, NULL },
    { "relay battery: unbracketed", S(EHLO "MAIL FROM:<a@b.test>\r\nRCPT TO:u@dest.test\r\n"), 0, { "501 5.1.3" }, 0, NULL, NULL },
    { "quoted local part with > and space", S(EHLO "MAIL FROM:<a@b.test>\r\nRCPT TO:<\"a >b\"@d.test>\r\n"), 0, { "250 2.1.5" }, 0, NULL, NULL },
    { "recipient cap: extras get 452, earlier kept",
      S(EHLO "MAIL FROM:<a@b.test>\r\nRCPT TO:<1@d.test>\r\nRCPT TO:<2@d.test>\r\nRCPT TO:<3@d.test>\r\nRCPT TO:<4@d.test>\r\nRCPT TO:<5@d.test>\r\nDATA\r\nx\r\n.\r\n"),
      0, { "250 2.1.5", "250 2.1.5", "250 2.1.5", "452 4.5.3", "452 4.5.3", "250 2.0.0 Ok" }, 1, NULL, NULL },
    { "bare LF ends no command", S("NOOP\nNOOP\r\n"), 0, { "500 5.5.2 Error: command line not ended" }, 0, NULL, NULL },
    { "smuggling: every ending yields one message at most",
      S(EHLO TXN "a\n.\nb\r.\rc\r.\nd\n.\re\n.\r\nf\r\n.\ng\r.\r\nh\r\n.\ri\r\n\0.\r\n"
        "MAIL FROM:<evil@x.test>\r\nRCPT TO:<victim@d.test>\r\nDATA\r\nsmuggled\r\n.\r\nQUIT\r\n"),
      0, { "354 ", "221 2.0.0" }, 0, NULL, "250 2.0.0 Ok" },
    { "smuggling: \\n.\\r\\n with normalised LF is one message",
      S(EHLO TXN "a\n.\r\nMAIL FROM:<evil@x.test>\r\nRCPT TO:<v@d.test>\r\nDATA\r\nsmuggled\r\n.\r\n"),
      0, { "354 ", "250 2.0.0 Ok: queued as TESTQID000000001" }, 1, "a\r\n.\r\nMAIL FROM:<evil@x.test>\r\n", "TESTQID000000002" },
    { "bare CR refused", S(EHLO TXN "a\rb\r\n.\r\n"), 0, { "550 5.6.0" }, 0, NULL, NULL },
    { "NUL in body refused", S(EHLO TXN "a\0b\r\n.\r\n"), 0, { "550 5.6.0" }, 0, NULL, NULL },
    { "bare LF refused under bare_lf = reject", S(EHLO TXN "a\nb\r\n.\r\n"), 1, { "550 5.6.0 Error: bare <LF>" }, 0, NULL, NULL },
    { "bare LF normalised by default", S(EHLO TXN "a\nb\r\n.\r\n"), 0, { "250 2.0.0 Ok" }, 1, "a\r\nb\r\n", NULL },
    { "tenant headers removed in any case and count",
      S(EHLO TXN "X-Tenant-ID: acme\r\nSubject: s\r\nx-tenant-id:  acme \r\nX-TENANT-ID: beta\r\n\tfolded\r\nMessage-ID: <m1@b.test>\r\n\r\nX-Tenant-ID: body\r\n.\r\n"),
      0, { "250 2.0.0 Ok" }, 1, "Subject: s\r\nMessage-ID: <m1@b.test>\r\n\r\nX-Tenant-ID: body\r\n", NULL },
    { "two From: headers refused", S(EHLO TXN "From: a@b.test\r\nfrom: c@d.test\r\n\r\nx\r\n.\r\n"), 0, { "550 5.6.0 Error: more than one From:" }, 0, NULL, NULL },
    { "message over the size limit: 552 after the dot",
      S(EHLO TXN "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\r\n"
        "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\r\n"
        "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\r\n"
        "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\r\n"
        "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\r\n"
        "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\r\n"
        "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\r\n"
        "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\r\n"
        "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\r\n"
        "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\r\n"
        "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\r\n"
        "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\r\n"
        "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\r\n"
        "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\r\n"
        "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\r\n"
        "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\r\n"
        "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\r\n"
        "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\r\n"
        "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\r\n"
        "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\r\n"
        ".\r\nNOOP\r\n"),
      0, { "354 ", "552 5.3.4", "250 2.0.0 Ok\r\n" }, 0, NULL, NULL },
    { "body line over max_line_length", S(EHLO TXN "\r\n"
        "012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
        "012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
        "0123456789012345678901234567890\r\n.\r\n"), 0, { "552 5.3.4 Error: a line" }, 0, NULL, NULL },
    { "RSET clears the transaction", S(EHLO "MAIL FROM:<a@b.test>\r\nRSET\r\nRCPT TO:<c@d.test>\r\n"),
      0, { "250 2.1.0", "250 2.0.0 Ok", "503 5.5.1" }, 0, NULL, NULL },
    { "STARTTLS discards what was pipelined behind it",
      S(EHLO "STARTTLS\r\nMAIL FROM:<a@b.test>\r\n"), 2, { "220 2.0.0 Ready" }, 0, NULL, "250 2.1.0" },
    { "STARTTLS not offered", S(EHLO "STARTTLS\r\n"), 0, { "502 5.5.1" }, 0, NULL, NULL },
    { "spool full at DATA", S(EHLO TXN), 3, { "452 4.3.1" }, 0, NULL, "354" },
    { "write error: 452 after the dot", S(EHLO TXN "x\r\n.\r\n"), 4, { "354 ", "452 4.3.1" }, 0, NULL, NULL },
    { "too many errors", S("X\r\nX\r\nX\r\nX\r\nX\r\nX\r\nX\r\nX\r\nX\r\nX\r\nX\r\nX\r\nX\r\nX\r\nX\r\nX\r\nX\r\nX\r\nX\r\nX\r\nX\r\nX\r\n"),
      0, { "421 4.7.0 relay.test Error: too many errors" }, 0, NULL, NULL },
};

static void check_case(const struct session_case *c, size_t chunk)
{
    struct smtpd_params p = params();
    struct run r;
    const char *at;

    if (c->params_variant == 1)
        p.bare_lf_reject = true;
    if (c->params_variant == 2)
        p.tls_available = true;
    run_session(&r, c->in, c->len, chunk, &p);
    /* fail_begin/fail_write are set before the session starts */
    if (c->params_variant >= 3) {
        struct smtpd_session *s;
        size_t used = 0;

        run_free(&r);
        memset(&r, 0, sizeof(r));
        r.m.fail_begin = c->params_variant == 3;
        r.m.fail_write = c->params_variant == 4;
        s = smtpd_session_new(&p, &mem_ops, &r.m);
        while (used < c->len) {
            size_t n = c->len - used < chunk ? c->len - used : chunk;
            smtpd_session_input(s, c->in + used, n);
            used += n;
        }
        dbuf_append(&r.out, smtpd_session_output(s)->data, smtpd_session_output(s)->len);
        smtpd_session_free(s);
        dbuf_append(&r.out, "", 0);
    }
    at = r.out.data;
    for (int i = 0; i < 8 && c->expect[i]; i++) {
        const char *f = strstr(at, c->expect[i]);
        if (f == NULL)
            fail_msg("case \"%s\" (chunk %zu): \"%s\" missing in:\n%s", c->name, chunk, c->expect[i], r.out.data);
        at = f + 1;
    }
    if (c->absent && strstr(r.out.data, c->absent))
        fail_msg("case \"%s\": \"%s\" present in:\n%s", c->name, c->absent, r.out.data);
    assert_int_equal(r.m.committed, c->committed);
    if (c->stored && (r.m.last.data == NULL || strstr(r.m.last.data, c->stored) == NULL))
        fail_msg("case \"%s\": stored message lacks \"%s\":\n%s", c->name, c->stored, r.m.last.data ? r.m.last.data : "(none)");
    /* every message begun is either committed or aborted */
    assert_int_equal(r.m.begun, r.m.committed + r.m.aborted);
    run_free(&r);
}

static void test_table(void **state)
{
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        check_case(&cases[i], cases[i].len);
        check_case(&cases[i], 1);
        check_case(&cases[i], 7);
    }
}

static void test_tenant_values_and_flags(void **state)
{
    static const char in[] = EHLO "MAIL FROM:<a@b.test> BODY=8BITMIME\r\nRCPT TO:<c@d.test>\r\nDATA\r\n"
        "X-Tenant-ID: acme\r\nx-tenant-id:  acme \r\nX-TENANT-ID: beta\r\n\tfolded\r\nMessage-ID: <m1@b.test>\r\n\r\nx\r\n.\r\n";
    struct smtpd_params p = params();
    struct run r;

    run_session(&r, in, sizeof(in) - 1, sizeof(in), &p);
    assert_int_equal(r.m.committed, 1);
    assert_string_equal(r.m.tenants, "acme|acme|beta\tfolded|");
    assert_string_equal(r.m.message_id, "<m1@b.test>");
    assert_string_equal(r.m.sender, "a@b.test");
    assert_int_equal(r.m.flags, SPOOL_FLAG_8BITMIME);
    assert_null(strcasestr(r.m.last.data, "x-tenant-id"));
    run_free(&r);
}

static void test_overlong_rest_not_a_command(void **state)
{
    struct smtpd_params p = params();
    struct smtpd_session *s = smtpd_session_new(&p, &mem_ops, NULL);
    char junk[4096];
    int i;

    memset(junk, 'A', sizeof(junk));
    smtpd_session_input(s, EHLO, strlen(EHLO));
    /* 20 KB without a line end, whose tail looks like a command */
    for (i = 0; i < 5; i++)
        smtpd_session_input(s, junk, sizeof(junk));
    smtpd_session_input(s, " MAIL FROM:<a@b.test>\r\nNOOP\r\n", 30);
    const char *out = smtpd_session_output(s)->data;
    assert_int_equal(count(out, "500 5.5.2 Error: line too long"), 1);
    assert_null(strstr(out, "250 2.1.0"));
    assert_non_null(strstr(out, "250 2.0.0 Ok"));
    /* memory stays bounded: the input buffer never holds more than its size */
    assert_true(smtpd_session_room(s) <= SMTPD_INBUF);
    smtpd_session_free(s);
}

/* Each verb's own limit: 512 for most, more for MAIL/RCPT, 12,288 for AUTH. */
static void test_line_limits(void **state)
{
    static const struct { const char *prefix; size_t total; const char *expect; } limits[] = {
        { "NOOP ", 512, "250 2.0.0 Ok" },
        { "NOOP ", 513, "500 5.5.2 Error: line too long" },
        { "MAIL FROM:<a@b.test> SIZE=1 ", SMTPD_LINE_MAIL + 1, "500 5.5.2 Error: line too long" },
        { "AUTH PLAIN ", 5000, "502 5.5.1 AUTH" },
        { "AUTH PLAIN ", SMTPD_LINE_AUTH + 1, "500 5.5.2 Error: line too long" },
    };

    for (size_t i = 0; i < ARRAY_LEN(limits); i++) {
        struct smtpd_params p = params();
        struct smtpd_session *s = smtpd_session_new(&p, &mem_ops, NULL);
        struct dbuf in = DBUF_INIT;

        dbuf_append_str(&in, EHLO);
        dbuf_append_str(&in, limits[i].prefix);
        while (in.len < strlen(EHLO) + limits[i].total - 2)
            dbuf_append_char(&in, 'a');
        dbuf_append_str(&in, "\r\n");
        for (size_t used = 0; used < in.len;) {
            size_t n = in.len - used;
            if (n > smtpd_session_room(s))
                n = smtpd_session_room(s);
            smtpd_session_input(s, in.data + used, n);
            used += n;
        }
        if (strstr(smtpd_session_output(s)->data, limits[i].expect) == NULL)
            fail_msg("%s x %zu: wanted %s", limits[i].prefix, limits[i].total, limits[i].expect);
        dbuf_free(&in);
        smtpd_session_free(s);
    }
}

/* A header section without end is cut at SMTPD_MAX_HEADER: 552, nothing kept. */
static void test_header_section_bounded(void **state)
{
    struct smtpd_params p = params();
    struct run r;
    struct dbuf in = DBUF_INIT;

    p.max_message_size = 4 * SMTPD_MAX_HEADER;
    dbuf_append_str(&in, EHLO TXN);
    while (in.len < 2 * SMTPD_MAX_HEADER)
        dbuf_append_str(&in, "X-Filler: 0123456789012345678901234567890123456789\r\n");
    dbuf_append_str(&in, "\r\nbody\r\n.\r\n");
    run_session(&r, in.data, in.len, 4096, &p);
    assert_non_null(strstr(r.out.data, "552 5.3.4 Error: header section exceeds"));
    assert_int_equal(r.m.committed, 0);
    assert_int_equal(r.m.begun, r.m.aborted);
    run_free(&r);
    dbuf_free(&in);
}

static void test_tls_restarts_session(void **state)
{
    struct smtpd_params p = params();
    struct smtpd_session *s;
    enum smtpd_action a;

    p.tls_available = true;
    s = smtpd_session_new(&p, &mem_ops, NULL);
    a = smtpd_session_input(s, EHLO "STARTTLS\r\nMAIL FROM:<a@b.test>\r\n", strlen(EHLO) + 32);
    assert_int_equal(a, SMTPD_ACT_STARTTLS);
    smtpd_session_tls_started(s);
    dbuf_reset(smtpd_session_output(s));
    smtpd_session_input(s, "MAIL FROM:<a@b.test>\r\n", 22);
    assert_non_null(strstr(smtpd_session_output(s)->data, "503 5.5.1 Error: send EHLO"));
    dbuf_reset(smtpd_session_output(s));
    smtpd_session_input(s, EHLO, strlen(EHLO));
    assert_null(strstr(smtpd_session_output(s)->data, "STARTTLS"));
    smtpd_session_free(s);
}

static void test_quit_closes(void **state)
{
    struct smtpd_params p = params();
    struct smtpd_session *s = smtpd_session_new(&p, &mem_ops, NULL);

    assert_int_equal(smtpd_session_input(s, "QUIT\r\nNOOP\r\n", 12), SMTPD_ACT_CLOSE);
    assert_int_equal(smtpd_session_state(s), SMTPD_S_CLOSED);
    assert_null(strstr(smtpd_session_output(s)->data, "250"));
    smtpd_session_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_tenant_values_and_flags),
        cmocka_unit_test(test_overlong_rest_not_a_command),
        cmocka_unit_test(test_line_limits),
        cmocka_unit_test(test_header_section_bounded),
        cmocka_unit_test(test_tls_restarts_session),
        cmocka_unit_test(test_quit_closes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
