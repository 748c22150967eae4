/*
 * test_rewrite.c - the header rewriter: From: forms seen in real mail,
 * header removal, prepending, and the guarantees (one From:, CRLF only,
 * body untouched).
 */
#include "config.h"

#include <string.h>

#include "unit.h"
#include "tenantrelay/dbuf.h"
#include "tenantrelay/rewrite.h"

#define SENDER "tenant@acme.example"

struct from_case {
    const char *name;
    const char *in;             /* the From: field(s) as in the message, CRLF */
    const char *out;            /* the expected From: (+ Reply-To:) lines */
    const char *old_from;       /* the address the report names */
};

static const struct from_case from_cases[] = {
    { "Outlook, quoted comma",
      "From: \"Doe, John\" <john.doe@contoso.com>\r\n",
      "From: \"Doe, John\" <" SENDER ">\r\nReply-To: \"Doe, John\" <john.doe@contoso.com>\r\n",
      "john.doe@contoso.com" },
    { "Gmail plain name",
      "From: John Doe <john.doe@gmail.com>\r\n",
      "From: John Doe <" SENDER ">\r\nReply-To: John Doe <john.doe@gmail.com>\r\n",
      "john.doe@gmail.com" },
    { "Apple Mail UTF-8 Q encoded word",
      "From: =?utf-8?Q?J=C3=B6rg_M=C3=BCller?= <joerg@icloud.com>\r\n",
      "From: =?utf-8?Q?J=C3=B6rg_M=C3=BCller?= <" SENDER ">\r\n"
      "Reply-To: =?utf-8?Q?J=C3=B6rg_M=C3=BCller?= <joerg@icloud.com>\r\n",
      "joerg@icloud.com" },
    { "ISO-8859-1 encoded word and a plain word (RFC 2047 example)",
      "From: =?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>\r\n",
      "From: =?ISO-8859-1?Q?Andr=E9?= Pirard <" SENDER ">\r\n"
      "Reply-To: =?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>\r\n",
      "PIRARD@vm1.ulg.ac.be" },
    { "UTF-8 B encoded word",
      "From: =?UTF-8?B?0JjQstCw0L0g0J/QtdGC0YDQvtCy?= <ivan@example.ru>\r\n",
      "From: =?UTF-8?B?0JjQstCw0L0g0J/QtdGC0YDQvtCy?= <" SENDER ">\r\n"
      "Reply-To: =?UTF-8?B?0JjQstCw0L0g0J/QtdGC0YDQvtCy?= <ivan@example.ru>\r\n",
      "ivan@example.ru" },
    { "angle-less address",
      "From: john@example.com\r\n",
      "From: " SENDER "\r\nReply-To: john@example.com\r\n",
      "john@example.com" },
    { "old comment form",
      "From: john@example.com (John Doe)\r\n",
      "From: \"John Doe\" <" SENDER ">\r\nReply-To: john@example.com (John Doe)\r\n",
      "john@example.com" },
    { "quoted name with escapes",
      "From: \"John \\\"JD\\\" Doe\" <jd@example.com>\r\n",
      "From: \"John \\\"JD\\\" Doe\" <" SENDER ">\r\nReply-To: \"John \\\"JD\\\" Doe\" <jd@example.com>\r\n",
      "jd@example.com" },
    { "comment inside the display name",
      "From: John (Sales) Doe <j@example.com>\r\n",
      "From: John (Sales) Doe <" SENDER ">\r\nReply-To: John (Sales) Doe <j@example.com>\r\n",
      "j@example.com" },
    { "folded before the address",
      "From: \"Alice Wonderland-Smith of the Accounts Receivable Team\"\r\n <alice@example.com>\r\n",
      "From: \"Alice Wonderland-Smith of the Accounts Receivable Team\"\r\n <" SENDER ">\r\n"
      "Reply-To: \"Alice Wonderland-Smith of the Accounts Receivable Team\"\r\n <alice@example.com>\r\n",
      "alice@example.com" },
    { "folded inside the display name",
      "From: Alice\r\n\tWonderland <alice@example.com>\r\n",
      "From: Alice Wonderland <" SENDER ">\r\nReply-To: Alice\r\n\tWonderland <alice@example.com>\r\n",
      "alice@example.com" },
    { "mailing list (via)",
      "From: \"Alice Example via dev-list\" <dev-list@lists.example.org>\r\n",
      "From: \"Alice Example via dev-list\" <" SENDER ">\r\n"
      "Reply-To: \"Alice Example via dev-list\" <dev-list@lists.example.org>\r\n",
      "dev-list@lists.example.org" },
    { "mailing list (rewritten, comma and parentheses in quotes)",
      "From: \"Smith, Jane (HR) via users\" <users@lists.example.org>\r\n",
      "From: \"Smith, Jane (HR) via users\" <" SENDER ">\r\n"
      "Reply-To: \"Smith, Jane (HR) via users\" <users@lists.example.org>\r\n",
      "users@lists.example.org" },
    { "raw UTF-8 display name (SMTPUTF8 mail)",
      "From: J\xc3\xb6rg M\xc3\xbcller <j@example.de>\r\n",
      "From: J\xc3\xb6rg M\xc3\xbcller <" SENDER ">\r\nReply-To: J\xc3\xb6rg M\xc3\xbcller <j@example.de>\r\n",
      "j@example.de" },
    { "upper-case field name, no space after the colon",
      "FROM:bob@example.net\r\n",
      "From: " SENDER "\r\nReply-To:bob@example.net\r\n",
      "bob@example.net" },
    { "group syntax, no address",
      "From: Undisclosed senders:;\r\n",
      "From: Undisclosed senders <" SENDER ">\r\n",
      "" },
    { "group syntax with members",
      "From: Team: alice@example.com, bob@example.com;\r\n",
      "From: Team <" SENDER ">\r\nReply-To: Team: alice@example.com, bob@example.com;\r\n",
      "alice@example.com" },
    { "two mailboxes",
      "From: Alice <a@x.example>, b@y.example\r\n",
      "From: Alice <" SENDER ">\r\nReply-To: Alice <a@x.example>, b@y.example\r\n",
      "a@x.example" },
    { "null address",
      "From: <>\r\n",
      "From: " SENDER "\r\n",
      "" },
    { "obsolete route",
      "From: <@relay.example:user@host.example>\r\n",
      "From: " SENDER "\r\nReply-To: <@relay.example:user@host.example>\r\n",
      "user@host.example" },
    { "unterminated quote: replaced whole, no Reply-To",
      "From: \"Broken <a@b.example>\r\n",
      "From: " SENDER "\r\n",
      "" },
    { "already the route's sender: untouched",
      "From: Acme Support <TENANT@acme.example>\r\n",
      "From: Acme Support <TENANT@acme.example>\r\n",
      "TENANT@acme.example" },
    { "an address as the display name is quoted",
      "From: john@example.com <john@example.com>\r\n",
      "From: \"john@example.com\" <" SENDER ">\r\nReply-To: john@example.com <john@example.com>\r\n",
      "john@example.com" },
    { "garbage after the address reads as a group name, kept quoted",
      "From: \"J\" <jd@example.com> x: \r\n",
      "From: \"\\\"J\\\" <jd@example.com> x\" <" SENDER ">\r\n",
      "" },
    { "a long name is folded",
      "From: Dr. Maximilian Alexander von Hohenzollern-Sigmaringen und Weitere <max@example.com>\r\n",
      "From: Dr. Maximilian Alexander von Hohenzollern-Sigmaringen und Weitere\r\n <" SENDER ">\r\n"
      "Reply-To: Dr. Maximilian Alexander von Hohenzollern-Sigmaringen und Weitere <max@example.com>\r\n",
      "max@example.com" },
};

static void test_from_table(void **state)
{
    for (size_t i = 0; i < ARRAY_LEN(from_cases); i++) {
        const struct from_case *c = &from_cases[i];
        struct dbuf in = DBUF_INIT, out = DBUF_INIT, want = DBUF_INIT;
        struct rewrite_report rep;
        struct rewrite_opts o = { NULL, SENDER, true, NULL };

        dbuf_printf(&in, "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n%sSubject: hi\r\n\r\n", c->in);
        dbuf_printf(&want, "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n%sSubject: hi\r\n\r\n", c->out);
        if (rewrite_headers(in.data, in.len, &o, &out, &rep) != REWRITE_OK)
            fail_msg("case %zu (%s): not OK", i, c->name);
        if (strcmp(out.data, want.data) != 0)
            fail_msg("case %zu (%s):\n got: %s\nwant: %s", i, c->name, out.data, want.data);
        if (strcmp(rep.old_from, c->old_from) != 0)
            fail_msg("case %zu (%s): old_from \"%s\", want \"%s\"", i, c->name, rep.old_from, c->old_from);
        dbuf_free(&in);
        dbuf_free(&out);
        dbuf_free(&want);
    }
}

static void test_from_switch_off(void **state)
{
    const char *in = "From: John <j@example.com>\r\nX-Tenant-ID: t1\r\n\r\n";
    const char *remove[] = { "x-tenant-id", NULL };
    struct rewrite_opts o = { remove, NULL, true, NULL };
    struct dbuf out = DBUF_INIT;
    struct rewrite_report rep;

    assert_int_equal(rewrite_headers(in, strlen(in), &o, &out, &rep), REWRITE_OK);
    assert_string_equal(out.data, "From: John <j@example.com>\r\n\r\n");
    assert_false(rep.from_rewritten);
    assert_int_equal(rep.removed, 1);
    dbuf_free(&out);
}

static void test_reply_to_kept(void **state)
{
    const char *in = "From: John <j@example.com>\r\nreply-to: list@example.org\r\n\r\n";
    struct rewrite_opts o = { NULL, SENDER, true, NULL };
    struct dbuf out = DBUF_INIT;
    struct rewrite_report rep;

    assert_int_equal(rewrite_headers(in, strlen(in), &o, &out, &rep), REWRITE_OK);
    assert_string_equal(out.data, "From: John <" SENDER ">\r\nreply-to: list@example.org\r\n\r\n");
    assert_true(rep.from_rewritten);
    assert_false(rep.reply_to_added);
    dbuf_free(&out);

    /* add_reply_to off */
    o.add_reply_to = false;
    in = "From: John <j@example.com>\r\n\r\n";
    assert_int_equal(rewrite_headers(in, strlen(in), &o, &out, &rep), REWRITE_OK);
    assert_string_equal(out.data, "From: John <" SENDER ">\r\n\r\n");
    dbuf_free(&out);
}

static void test_multiple_from(void **state)
{
    static const char *const inputs[] = {
        "From: a@example.com\r\nFrom: b@example.com\r\n\r\n",
        "From: a@example.com\r\nSubject: x\r\nfrom: a@example.com\r\n\r\n",
        "FROM: a@example.com\r\nfrom:b@example.com\r\n\r\n",
    };
    struct rewrite_opts o = { NULL, SENDER, true, NULL };
    struct rewrite_opts off = { NULL, NULL, false, NULL };
    struct dbuf out = DBUF_INIT;

    for (size_t i = 0; i < ARRAY_LEN(inputs); i++) {
        assert_int_equal(rewrite_count_header(inputs[i], strlen(inputs[i]), "From"), 2);
        assert_int_equal(rewrite_headers(inputs[i], strlen(inputs[i]), &o, &out, NULL), REWRITE_MULTIPLE_FROM);
        assert_int_equal(out.len, 0);
        /* Detected even with the From: rewrite switched off. */
        assert_int_equal(rewrite_headers(inputs[i], strlen(inputs[i]), &off, &out, NULL), REWRITE_MULTIPLE_FROM);
    }
    dbuf_free(&out);
}

static void test_no_from_added(void **state)
{
    const char *in = "Subject: no from\r\n\r\n";
    struct rewrite_opts o = { NULL, SENDER, true, NULL };
    struct dbuf out = DBUF_INIT;
    struct rewrite_report rep;

    assert_int_equal(rewrite_headers(in, strlen(in), &o, &out, &rep), REWRITE_OK);
    assert_string_equal(out.data, "Subject: no from\r\nFrom: " SENDER "\r\n\r\n");
    assert_true(rep.from_added);
    assert_false(rep.reply_to_added);
    dbuf_free(&out);
}

struct remove_case {
    const char *in;
    const char *name;
    const char *out;
    int removed;
};

static const struct remove_case remove_cases[] = {
    { "X-Tenant-ID: t1\r\nSubject: s\r\n\r\n", "X-Tenant-ID", "Subject: s\r\n\r\n", 1 },
    { "x-tenant-id: t1\r\nSubject: s\r\nX-TENANT-ID: t2\r\n\r\n", "X-Tenant-ID", "Subject: s\r\n\r\n", 2 },
    { "X-Tenant-ID: t1\r\n\tcontinued\r\n  and more\r\nSubject: s\r\n\r\n", "X-Tenant-ID", "Subject: s\r\n\r\n", 1 },
    { "Subject: s\r\nX-Tenant-ID:t1\r\n\r\nX-Tenant-ID: body\r\n", "X-Tenant-ID",
      "Subject: s\r\n\r\nX-Tenant-ID: body\r\n", 1 },
    /* White space before the colon: the same field (SPEC §4, RFC 5322 §4.5). */
    { "Subject: s\r\nX-Tenant-ID : t1\r\n", "X-Tenant-ID", "Subject: s\r\n", 1 },
    { "Subject: s\r\nX-Tenant-ID\t \t:t1\r\n\r\n", "X-Tenant-ID", "Subject: s\r\n\r\n", 1 },
    /* White space inside the name: not a field. */
    { "Subject: s\r\nX-Tenant ID: t1\r\n", "X-Tenant-ID", "Subject: s\r\nX-Tenant ID: t1\r\n", 0 },
    { "X-Tenant-IDx: t1\r\nX-Tenant: t2\r\n\r\n", "X-Tenant-ID", "X-Tenant-IDx: t1\r\nX-Tenant: t2\r\n\r\n", 0 },
    { "Subject: s\r\nX-Tenant-ID: last", "X-Tenant-ID", "Subject: s\r\n", 1 },
};

static void test_remove_table(void **state)
{
    for (size_t i = 0; i < ARRAY_LEN(remove_cases); i++) {
        const struct remove_case *c = &remove_cases[i];
        struct dbuf out = DBUF_INIT;
        int n = rewrite_remove_header(c->in, strlen(c->in), c->name, &out);

        if (n != c->removed || strcmp(dbuf_str(&out), c->out) != 0)
            fail_msg("remove case %zu: removed %d (want %d), got \"%s\"", i, n, c->removed, dbuf_str(&out));
        dbuf_free(&out);
    }
}

static void test_full_rewrite(void **state)
{
    const char *msg = "Received: from app1 by localhost\r\n"
                      "X-Tenant-ID: acme\r\n"
                      "From: \"Support, Acme\" <noreply@platform.example>\r\n"
                      "To: customer@example.net\r\n"
                      "Subject: New comment\r\n"
                      "\r\n"
                      "From: this line is in the body\r\n"
                      ".and this\r\n";
    const char *remove[] = { "X-Tenant-ID", NULL };
    const char *prepend[] = { "Received: from localhost (localhost [127.0.0.1])\r\n\tby relay.test with ESMTPS id Q1; "
                              "Mon, 1 Jan 2024 00:00:00 +0000", NULL };
    struct rewrite_opts o = { remove, SENDER, true, prepend };
    struct dbuf out = DBUF_INIT;
    struct rewrite_report rep;
    size_t hlen = rewrite_header_length(msg, strlen(msg));

    assert_int_equal(hlen, strstr(msg, "\r\n\r\n") + 4 - msg);
    assert_int_equal(rewrite_headers(msg, hlen, &o, &out, &rep), REWRITE_OK);
    assert_string_equal(out.data,
                        "Received: from localhost (localhost [127.0.0.1])\r\n\tby relay.test with ESMTPS id Q1; "
                        "Mon, 1 Jan 2024 00:00:00 +0000\r\n"
                        "Received: from app1 by localhost\r\n"
                        "From: \"Support, Acme\" <" SENDER ">\r\n"
                        "Reply-To: \"Support, Acme\" <noreply@platform.example>\r\n"
                        "To: customer@example.net\r\n"
                        "Subject: New comment\r\n"
                        "\r\n");
    assert_int_equal(rep.removed, 1);
    assert_true(rep.from_rewritten);
    assert_true(rep.reply_to_added);
    assert_string_equal(rep.old_from, "noreply@platform.example");
    /* The body is not part of what the rewriter sees or returns. */
    assert_string_equal(msg + hlen, "From: this line is in the body\r\n.and this\r\n");
    dbuf_free(&out);
}

static void test_header_length(void **state)
{
    assert_int_equal(rewrite_header_length("A: b\r\n\r\nbody", 13), 8);
    assert_int_equal(rewrite_header_length("A: b\r\n", 6), 6);
    assert_int_equal(rewrite_header_length("\r\nbody", 6), 2);
    assert_int_equal(rewrite_header_length("A: b\n\nbody", 10), 6);
    assert_int_equal(rewrite_header_length("", 0), 0);
    /* Where the listener starts the body without an empty line. */
    static const struct { const char *msg; size_t want; } cases[] = {
        { "A: b\r\nbody line\r\n\r\n", 6 },
        { "A: b\r\nB : c\r\n\r\n", 15 },
        { "A: b\r\nB c: d\r\n\r\n", 6 },
        { " cont\r\nA: b\r\n\r\n", 0 },
        { "A: b\r\n c\r\nD: e\r\n\r\nX", 18 },
        { "A: b\r\nC: unterminated", 6 },
        { "A: b\r\n\tc\r\n", 10 },
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        if (rewrite_header_length(cases[i].msg, strlen(cases[i].msg)) != cases[i].want)
            fail_msg("header length case %zu: %zu", i, rewrite_header_length(cases[i].msg, strlen(cases[i].msg)));
}

static void test_no_empty_line(void **state)
{
    /* A body that starts right after the fields: no empty line is made up. */
    const char *msg = "Subject: a\r\nFrom: x@y.example\r\nthis is body\r\n";
    const char *remove[] = { "X-Tenant-ID", NULL };
    struct rewrite_opts o = { remove, SENDER, true, NULL };
    struct dbuf out = DBUF_INIT;
    size_t hlen = rewrite_header_length(msg, strlen(msg));

    assert_int_equal(hlen, 31);
    assert_int_equal(rewrite_headers(msg, hlen, &o, &out, NULL), REWRITE_OK);
    assert_string_equal(out.data, "Subject: a\r\nFrom: " SENDER "\r\nReply-To: x@y.example\r\n");
    assert_string_equal(msg + hlen, "this is body\r\n");
    dbuf_free(&out);
}

static void test_crlf_and_bad(void **state)
{
    struct rewrite_opts o = { NULL, SENDER, true, NULL };
    struct dbuf out = DBUF_INIT;
    const char *bad_prepend[] = { "X-Bad: a\r\nInjected: b", NULL };
    struct rewrite_opts obad = { NULL, SENDER, true, bad_prepend };
    struct rewrite_opts obad_sender = { NULL, "a@b\r\nBcc: x@y", true, NULL };

    /* A bare LF ends a line and leaves as CRLF. */
    assert_int_equal(rewrite_headers("Subject: a\nFrom: x@y.example\n\n", 31, &o, &out, NULL), REWRITE_OK);
    assert_string_equal(out.data, "Subject: a\r\nFrom: " SENDER "\r\nReply-To: x@y.example\r\n\r\n");
    /* A bare CR, a NUL, a line without a colon, a leading continuation. */
    assert_int_equal(rewrite_headers("Subject: a\rb\r\n\r\n", 16, &o, &out, NULL), REWRITE_BAD_HEADER);
    assert_int_equal(out.len, 0);
    assert_int_equal(rewrite_headers("Subject: a\0b\r\n\r\n", 16, &o, &out, NULL), REWRITE_BAD_HEADER);
    assert_int_equal(rewrite_headers("no colon here\r\n\r\n", 17, &o, &out, NULL), REWRITE_BAD_HEADER);
    assert_int_equal(rewrite_headers(" folded: first\r\n\r\n", 18, &o, &out, NULL), REWRITE_BAD_HEADER);
    assert_int_equal(rewrite_headers("Bad Name: x\r\n\r\n", 15, &o, &out, NULL), REWRITE_BAD_HEADER);
    /* Header injection through the caller's values is refused. */
    assert_int_equal(rewrite_headers("Subject: a\r\n\r\n", 14, &obad, &out, NULL), REWRITE_BAD_HEADER);
    assert_int_equal(rewrite_headers("Subject: a\r\n\r\n", 14, &obad_sender, &out, NULL), REWRITE_BAD_HEADER);
    /* An empty header section still gets its From: and the empty line. */
    assert_int_equal(rewrite_headers("\r\n", 2, &o, &out, NULL), REWRITE_OK);
    assert_string_equal(out.data, "From: " SENDER "\r\n\r\n");
    dbuf_free(&out);
}

static void test_parse_mailbox(void **state)
{
    struct dbuf d = DBUF_INIT, a = DBUF_INIT;
    bool angle;
    const char *v = " \"Doe, John\" <john@example.com>";

    assert_int_equal(rewrite_parse_mailbox(v, strlen(v), &d, &a, &angle), 0);
    assert_string_equal(d.data, "\"Doe, John\"");
    assert_string_equal(a.data, "john@example.com");
    assert_true(angle);
    dbuf_reset(&d);
    dbuf_reset(&a);
    v = " a@example.com, b@example.com";
    assert_int_equal(rewrite_parse_mailbox(v, strlen(v), &d, &a, &angle), -1);
    v = " Group: a@example.com;";
    assert_int_equal(rewrite_parse_mailbox(v, strlen(v), &d, &a, &angle), -1);
    v = " ";
    assert_int_equal(rewrite_parse_mailbox(v, strlen(v), &d, &a, &angle), -1);
    dbuf_free(&d);
    dbuf_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_from_table),
        cmocka_unit_test(test_from_switch_off),
        cmocka_unit_test(test_reply_to_kept),
        cmocka_unit_test(test_multiple_from),
        cmocka_unit_test(test_no_from_added),
        cmocka_unit_test(test_remove_table),
        cmocka_unit_test(test_full_rewrite),
        cmocka_unit_test(test_header_length),
        cmocka_unit_test(test_no_empty_line),
        cmocka_unit_test(test_crlf_and_bad),
        cmocka_unit_test(test_parse_mailbox),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
