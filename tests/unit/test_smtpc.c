/*
 * test_smtpc.c - the SMTP client's pure parts: reply lines and whole
 * replies (multi-line, enhanced codes, malformed), EHLO capabilities,
 * dot-stuffing, error class names.
 */
#include "config.h"

#include <string.h>

#include "unit.h"
#include "tenantrelay/dbuf.h"
#include "tenantrelay/smtpc.h"

struct reply_case {
    const char *in;
    int result;                 /* 1 complete, 0 need more, -1 malformed */
    int code;
    const char *enhanced;
    const char *text;
    size_t used;                /* 0: the whole input */
};

static const struct reply_case reply_cases[] = {
    { "250 OK\r\n", 1, 250, "", "250 OK", 0 },
    { "250 2.1.0 Ok\r\n", 1, 250, "2.1.0", "250 2.1.0 Ok", 0 },
    { "235 2.7.0 Authentication successful\r\n", 1, 235, "2.7.0", "235 2.7.0 Authentication successful", 0 },
    { "550-5.1.1 The email account that you tried to reach does not exist.\r\n"
      "550 5.1.1 https://support.google.com/mail/?p=NoSuchUser\r\n", 1, 550, "5.1.1",
      "550-5.1.1 The email account that you tried to reach does not exist.\n"
      "550 5.1.1 https://support.google.com/mail/?p=NoSuchUser", 0 },
    { "535 5.7.139 Authentication unsuccessful, basic authentication is disabled.\r\n", 1, 535, "5.7.139",
      "535 5.7.139 Authentication unsuccessful, basic authentication is disabled.", 0 },
    { "554 5.2.252 SendAsDenied; sender not allowed\r\n", 1, 554, "5.2.252",
      "554 5.2.252 SendAsDenied; sender not allowed", 0 },
    { "250\r\n", 1, 250, "", "250", 0 },
    { "220 mx.example ESMTP\n", 1, 220, "", "220 mx.example ESMTP", 0 },
    /* An enhanced code of another class than the reply is not one. */
    { "550 4.1.1 odd\r\n", 1, 550, "", "550 4.1.1 odd", 0 },
    { "250 2.0 short\r\n", 1, 250, "", "250 2.0 short", 0 },
    { "250 2.0.0000 long\r\n", 1, 250, "", "250 2.0.0000 long", 0 },
    { "451 4.3.0\r\n", 1, 451, "4.3.0", "451 4.3.0", 0 },
    /* Two replies in the buffer: only the first is consumed. */
    { "250 first\r\n354 second\r\n", 1, 250, "", "250 first", 11 },
    { "250-a\r\n250 b\r\n", 1, 250, "", "250-a\n250 b", 0 },
    /* Incomplete. */
    { "250-a\r\n", 0, 0, "", "", 0 },
    { "250 OK", 0, 0, "", "", 0 },
    { "", 0, 0, "", "", 0 },
    /* Malformed. */
    { "25O OK\r\n", -1, 0, "", "", 0 },
    { "OK\r\n", -1, 0, "", "", 0 },
    { "250_OK\r\n", -1, 0, "", "", 0 },
    { "250-a\r\n251 b\r\n", -1, 0, "", "", 0 },
    { "650 bad class\r\n", -1, 0, "", "", 0 },
    { "190 bad class\r\n", -1, 0, "", "", 0 },
    { "\r\n", -1, 0, "", "", 0 },
};

static void test_reply_table(void **state)
{
    for (size_t i = 0; i < ARRAY_LEN(reply_cases); i++) {
        const struct reply_case *c = &reply_cases[i];
        struct smtpc_reply r;
        size_t used = 0;
        char err[128] = "";
        int rc = smtpc_reply_parse(c->in, strlen(c->in), &r, &used, err, sizeof(err));

        if (rc != c->result)
            fail_msg("case %zu \"%s\": result %d, want %d (%s)", i, c->in, rc, c->result, err);
        if (rc < 0 && err[0] == 0)
            fail_msg("case %zu: no error text", i);
        if (rc != 1)
            continue;
        if (r.code != c->code || strcmp(r.enhanced, c->enhanced) != 0 || strcmp(r.text, c->text) != 0)
            fail_msg("case %zu: got %d \"%s\" \"%s\"", i, r.code, r.enhanced, r.text);
        if (used != (c->used ? c->used : strlen(c->in)))
            fail_msg("case %zu: used %zu", i, used);
    }
}

static void test_reply_limits(void **state)
{
    struct dbuf b = DBUF_INIT;
    struct smtpc_reply r;
    size_t used;
    char err[128];

    /* A line longer than the limit with no end in sight is refused. */
    dbuf_append_str(&b, "250 ");
    for (int i = 0; i < 5000; i++)
        dbuf_append_char(&b, 'x');
    assert_int_equal(smtpc_reply_parse(b.data, b.len, &r, &used, err, sizeof(err)), -1);
    /* Too many lines. */
    dbuf_reset(&b);
    for (int i = 0; i < 300; i++)
        dbuf_append_str(&b, "250-line\r\n");
    assert_int_equal(smtpc_reply_parse(b.data, b.len, &r, &used, err, sizeof(err)), -1);
    /* A long multi-line reply is kept truncated, never overflowing. */
    dbuf_reset(&b);
    for (int i = 0; i < 100; i++)
        dbuf_append_str(&b, "250-0123456789012345678901234567890123456789\r\n");
    dbuf_append_str(&b, "250 end\r\n");
    assert_int_equal(smtpc_reply_parse(b.data, b.len, &r, &used, err, sizeof(err)), 1);
    assert_true(r.truncated);
    assert_int_equal(strlen(r.text), SMTPC_REPLY_MAX - 1);
    assert_int_equal(used, b.len);
    /* A NUL inside a reply. */
    assert_int_equal(smtpc_reply_parse("250 a\0b\r\n", 9, &r, &used, err, sizeof(err)), -1);
    dbuf_free(&b);
}

static void test_enhanced(void **state)
{
    char out[16];

    assert_int_equal(smtpc_parse_enhanced(550, "550 5.7.1 no", out), 0);
    assert_string_equal(out, "5.7.1");
    assert_int_equal(smtpc_parse_enhanced(550, "5.7.1 no", out), 0);
    assert_int_equal(smtpc_parse_enhanced(535, "535-5.7.139 multi", out), 0);
    assert_string_equal(out, "5.7.139");
    assert_int_equal(smtpc_parse_enhanced(250, "250 2.0.0", out), 0);
    assert_string_equal(out, "2.0.0");
    assert_int_equal(smtpc_parse_enhanced(250, "250 5.0.0 wrong class", out), -1);
    assert_int_equal(smtpc_parse_enhanced(250, "250 2.0.0x", out), -1);
    assert_int_equal(smtpc_parse_enhanced(250, "250 3.0.0", out), -1);
    assert_int_equal(smtpc_parse_enhanced(250, "250 OK", out), -1);
    assert_int_equal(smtpc_parse_enhanced(250, "", out), -1);
}

static void test_reply_line(void **state)
{
    int code;
    bool last;

    assert_int_equal(smtpc_parse_reply_line("250-x", 5, &code, &last), 0);
    assert_int_equal(code, 250);
    assert_false(last);
    assert_int_equal(smtpc_parse_reply_line("221", 3, &code, &last), 0);
    assert_true(last);
    assert_int_equal(smtpc_parse_reply_line("22", 2, &code, &last), -1);
    assert_int_equal(smtpc_parse_reply_line("2a0 x", 5, &code, &last), -1);
    assert_int_equal(smtpc_parse_reply_line("260 x", 5, &code, &last), -1);
}

struct caps_case {
    const char *text;
    struct smtpc_caps want;
};

static void test_caps(void **state)
{
    struct smtpc_caps c;

    smtpc_caps_parse("250-mx.example.com at your service\n250-SIZE 35882577\n250-8BITMIME\n"
                     "250-STARTTLS\n250-ENHANCEDSTATUSCODES\n250-PIPELINING\n250-CHUNKING\n250 SMTPUTF8", &c);
    assert_true(c.esmtp && c.starttls && c.pipelining && c.eightbitmime && c.smtputf8);
    assert_true(c.enhancedstatuscodes && c.size);
    assert_int_equal(c.size_max, 35882577);
    assert_false(c.auth_plain || c.auth_login || c.auth_xoauth2);

    /* Microsoft 365 after STARTTLS. */
    smtpc_caps_parse("250-SN4PR0201CA0049.outlook.office365.com Hello [192.0.2.1]\n250-SIZE 157286400\n"
                     "250-PIPELINING\n250-DSN\n250-ENHANCEDSTATUSCODES\n250-AUTH LOGIN XOAUTH2\n"
                     "250-8BITMIME\n250-BINARYMIME\n250-CHUNKING\n250 SMTPUTF8", &c);
    assert_false(c.starttls);
    assert_false(c.auth_plain);
    assert_true(c.auth_login && c.auth_xoauth2);

    /* Lower case, the old AUTH= form, the greeting line holding keywords. */
    smtpc_caps_parse("250-STARTTLS AUTH PLAIN is my name\n250-auth=plain login\n250 size", &c);
    assert_false(c.starttls);
    assert_true(c.auth_plain && c.auth_login);
    assert_true(c.size);
    assert_int_equal(c.size_max, 0);

    /* A single-line EHLO reply: nothing offered. */
    smtpc_caps_parse("250 mx.example.com", &c);
    assert_true(c.esmtp);
    assert_false(c.starttls || c.pipelining || c.auth_plain || c.size);

    /* Similar names are not the keyword. */
    smtpc_caps_parse("250-x\n250-STARTTLSX\n250-XPIPELINING\n250 AUTH PLAINX", &c);
    assert_false(c.starttls || c.pipelining || c.auth_plain);
}

struct dot_case {
    const char *in;
    const char *out;            /* the wire, final dot included */
};

static const struct dot_case dot_cases[] = {
    { "", ".\r\n" },
    { "a\r\n", "a\r\n.\r\n" },
    { ".\r\n", "..\r\n.\r\n" },
    { "..\r\n", "...\r\n.\r\n" },
    { "a\r\n.b\r\n.\r\nc\r\n", "a\r\n..b\r\n..\r\nc\r\n.\r\n" },
    { "no final newline", "no final newline\r\n.\r\n" },
    { "bare\nlf\n.dot\n", "bare\r\nlf\r\n..dot\r\n.\r\n" },
    { "bare\rcr\r.x", "bare\r\ncr\r\n..x\r\n.\r\n" },
    { "ends with cr\r", "ends with cr\r\n.\r\n" },
    { "a.b\r\n x.\r\n", "a.b\r\n x.\r\n.\r\n" },
    { "\r\n.\r\n\r\n", "\r\n..\r\n\r\n.\r\n" },
    { "smuggle\n.\r\nMAIL FROM:<x>\r\n", "smuggle\r\n..\r\nMAIL FROM:<x>\r\n.\r\n" },
    { "caf\xc3\xa9\r\n", "caf\xc3\xa9\r\n.\r\n" },
};

static void test_dotstuff_table(void **state)
{
    for (size_t i = 0; i < ARRAY_LEN(dot_cases); i++) {
        const struct dot_case *c = &dot_cases[i];
        size_t len = strlen(c->in);

        /* Whole, and fed one byte at a time (chunk boundaries anywhere). */
        for (int mode = 0; mode < 2; mode++) {
            struct smtpc_dotstuff d;
            struct dbuf out = DBUF_INIT;

            smtpc_dotstuff_init(&d);
            if (mode == 0)
                smtpc_dotstuff_feed(&d, c->in, len, &out);
            else
                for (size_t k = 0; k < len; k++)
                    smtpc_dotstuff_feed(&d, c->in + k, 1, &out);
            smtpc_dotstuff_finish(&d, &out);
            if (strcmp(dbuf_str(&out), c->out) != 0)
                fail_msg("case %zu mode %d: got \"%s\"", i, mode, dbuf_str(&out));
            dbuf_free(&out);
        }
    }
}

static void test_names(void **state)
{
    assert_string_equal(smtpc_err_name(SMTPC_OK), "ok");
    assert_string_equal(smtpc_err_name(SMTPC_ERR_CERT_NAME_MISMATCH), "cert_name_mismatch");
    assert_string_equal(smtpc_err_name(SMTPC_ERR_STARTTLS_NOT_OFFERED), "starttls_not_offered");
    assert_string_equal(smtpc_err_name(SMTPC_ERR_LOCAL), "local");
    assert_string_equal(smtpc_err_name((enum smtpc_err)999), "unknown");
    assert_true(smtpc_err_is_transient(SMTPC_ERR_AUTH_FAILED));
    assert_true(smtpc_err_is_transient(SMTPC_ERR_CERT_EXPIRED));
    assert_true(smtpc_err_is_transient(SMTPC_ERR_REPLY_4XX));
    assert_false(smtpc_err_is_transient(SMTPC_ERR_REPLY_5XX));
    assert_false(smtpc_err_is_transient(SMTPC_ERR_EXT_UNSUPPORTED));
    assert_string_equal(smtpc_auth_mech_name(SMTPC_AUTH_LOGIN), "LOGIN");
    assert_string_equal(smtpc_err_name(SMTPC_ERR_ROUTE_POLICY), "route_policy");
    assert_string_equal(smtpc_err_name(SMTPC_ERR_NOT_SMTP), "not_smtp");
    assert_true(smtpc_err_is_transient(SMTPC_ERR_ROUTE_POLICY));
}

/* A non-SMTP far end: at most a short printable excerpt of what it sent. */
static void test_excerpt(void **state)
{
    char out[SMTPC_EXCERPT_MAX + 4], errstr[256];
    struct smtpc_reply r;
    size_t used;
    const char redis[] = "-ERR wrong number of arguments internal-secret\r\n";

    smtpc_excerpt("+PONG", 5, out, sizeof(out));
    assert_string_equal(out, "+PONG");
    smtpc_excerpt("a\0" "b\x1b[2J\"\\\xff", 10, out, sizeof(out));
    assert_string_equal(out, "a.b.[2J...");
    smtpc_excerpt("0123456789012345678901234567890", 31, out, sizeof(out));
    assert_string_equal(out, "012345678901234567890123...");
    smtpc_excerpt("abc", 3, out, 2);
    assert_string_equal(out, "a");
    assert_int_equal(smtpc_reply_parse(redis, sizeof(redis) - 1, &r, &used, errstr, sizeof(errstr)), -1);
    assert_null(strstr(errstr, "internal-secret"));
    assert_non_null(strstr(errstr, "not an SMTP reply"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reply_table),
        cmocka_unit_test(test_reply_limits),
        cmocka_unit_test(test_enhanced),
        cmocka_unit_test(test_reply_line),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_dotstuff_table),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_excerpt),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
