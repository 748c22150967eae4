/*
 * test_smtpd_params.c - the arguments of MAIL FROM and RCPT TO, parsed
 * apart from the session: the address or the exact refusal line, and the
 * flags the ESMTP parameters set.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "../../src/smtpd/smtpd_params.h"

#define LIMIT 2000

struct mail_case {
    const char *args;           /* after "MAIL " */
    int esmtp;
    const char *addr;           /* expected sender, or NULL for a refusal */
    unsigned flags;
    const char *err;            /* expected refusal line */
};

static const struct mail_case mail_cases[] = {
    { "FROM:<a@b.test>", 1, "a@b.test", 0, NULL },
    { "from:<a@b.test>", 0, "a@b.test", 0, NULL },
    { "FROM: <a@b.test>", 1, "a@b.test", 0, NULL },
    { "FROM:<>", 1, "", 0, NULL },
    { "FROM:<a@b.test>  ", 0, "a@b.test", 0, NULL },
    { "FROM:<\"a >b\"@b.test>", 1, "\"a >b\"@b.test", 0, NULL },
    { "FROM:<a@b.test> SIZE=2000", 1, "a@b.test", 0, NULL },
    { "FROM:<a@b.test> size=0", 1, "a@b.test", 0, NULL },
    { "FROM:<a@b.test> BODY=7BIT", 1, "a@b.test", 0, NULL },
    { "FROM:<a@b.test> BODY=8bitmime", 1, "a@b.test", SPOOL_FLAG_8BITMIME, NULL },
    { "FROM:<a@b.test> SMTPUTF8", 1, "a@b.test", SPOOL_FLAG_SMTPUTF8, NULL },
    { "FROM:<a@b.test>  SIZE=1  BODY=8BITMIME  SMTPUTF8", 1, "a@b.test",
      SPOOL_FLAG_8BITMIME | SPOOL_FLAG_SMTPUTF8, NULL },
    { "FROM:<j\xc3\xb6rg@b.test> SMTPUTF8", 1, "j\xc3\xb6rg@b.test", SPOOL_FLAG_SMTPUTF8, NULL },
    { "TO:<a@b.test>", 1, NULL, 0, "501 5.5.4 Syntax: MAIL FROM:<address>" },
    { "FROM:a@b.test", 1, NULL, 0, "501 5.1.7 Bad sender address syntax" },
    { "FROM:<a@b.test", 1, NULL, 0, "501 5.1.7 Bad sender address syntax" },
    { "FROM:<a@b.test> BODY=8BITMIME", 0, NULL, 0, "555 5.5.4 MAIL parameters need EHLO" },
    { "FROM:<a@b.test>SIZE=1", 1, NULL, 0, "501 5.5.4 Syntax error in parameters" },
    { "FROM:<a@b.test> SIZE=abc", 1, NULL, 0, "501 5.5.4 Bad SIZE parameter" },
    { "FROM:<a@b.test> SIZE=", 1, NULL, 0, "501 5.5.4 Bad SIZE parameter" },
    { "FROM:<a@b.test> SIZE=-1", 1, NULL, 0, "501 5.5.4 Bad SIZE parameter" },
    { "FROM:<a@b.test> SIZE=123456789012345678901", 1, NULL, 0, "501 5.5.4 Bad SIZE parameter" },
    { "FROM:<a@b.test> SIZE=2001", 1, NULL, 0, "552 5.3.4 Message size exceeds the limit of 2000 bytes" },
    { "FROM:<a@b.test> SIZE=99999999999999999999", 1, NULL, 0,
      "552 5.3.4 Message size exceeds the limit of 2000 bytes" },
    { "FROM:<a@b.test> BODY=BINARYMIME", 1, NULL, 0, "501 5.5.4 Bad BODY parameter (7BIT or 8BITMIME)" },
    { "FROM:<a@b.test> BODY", 1, NULL, 0, "555 5.5.4 Unsupported MAIL parameter" },
    { "FROM:<a@b.test> SMTPUTF8=yes", 1, NULL, 0, "555 5.5.4 Unsupported MAIL parameter" },
    { "FROM:<a@b.test> RET=FULL", 1, NULL, 0, "555 5.5.4 Unsupported MAIL parameter" },
    { "FROM:<@relay.test:a@b.test>", 1, NULL, 0, "501 5.1.7 Source routes are not accepted" },
    { "FROM:<a@b@c.test>", 1, NULL, 0, "501 5.1.7 Bad sender address syntax" },
    { "FROM:<j\xc3\xb6rg@b.test>", 1, NULL, 0, "553 5.6.7 Non-ASCII address needs SMTPUTF8" },
};

struct rcpt_case {
    const char *args;           /* after "RCPT " */
    unsigned flags;             /* what MAIL set */
    const char *addr;
    const char *err;
};

static const struct rcpt_case rcpt_cases[] = {
    { "TO:<c@d.test>", 0, "c@d.test", NULL },
    { "to: <c@d.test> ", 0, "c@d.test", NULL },
    { "TO:<\"a >b\"@d.test>", 0, "\"a >b\"@d.test", NULL },
    { "TO:<j\xc3\xb6rg@d.test>", SPOOL_FLAG_SMTPUTF8, "j\xc3\xb6rg@d.test", NULL },
    { "FROM:<c@d.test>", 0, NULL, "501 5.5.4 Syntax: RCPT TO:<address>" },
    { "TO:c@d.test", 0, NULL, "501 5.1.3 Bad recipient address syntax" },
    { "TO:<c@d.test> NOTIFY=NEVER", 0, NULL, "555 5.5.4 Unsupported RCPT parameter" },
    { "TO:<>", 0, NULL, "501 5.1.3 Bad recipient address syntax" },
    { "TO:<@relay.test:u@d.test>", 0, NULL, "501 5.1.3 Source routes are not accepted" },
    { "TO:<u@d.test@relay.test>", 0, NULL, "501 5.1.3 Bad recipient address syntax" },
    { "TO:<d.test!u>", 0, NULL, "501 5.1.3 Bad recipient address syntax" },
    { "TO:<j\xc3\xb6rg@d.test>", 0, NULL, "553 5.6.7 Non-ASCII address needs SMTPUTF8" },
    { "TO:<j\xc3\xb6rg@d.test>", SPOOL_FLAG_8BITMIME, NULL, "553 5.6.7 Non-ASCII address needs SMTPUTF8" },
};

static void test_mail(void **state)
{
    for (size_t i = 0; i < ARRAY_LEN(mail_cases); i++) {
        const struct mail_case *c = &mail_cases[i];
        char args[600], addr[SMTPD_PARAMS_ADDR], err[SMTPD_PARAMS_ERRLEN] = "";
        unsigned flags = 0xdead;
        int rc;

        snprintf(args, sizeof(args), "%s", c->args);
        rc = smtpd_params_mail(args, c->esmtp, LIMIT, addr, &flags, err, sizeof(err));
        if (c->addr) {
            if (rc != 0 || strcmp(addr, c->addr) != 0 || flags != c->flags)
                fail_msg("MAIL case %zu \"%s\": rc %d addr \"%s\" flags %#x err \"%s\"", i, c->args, rc,
                         rc == 0 ? addr : "", flags, err);
        } else if (rc != -1 || strcmp(err, c->err) != 0 || flags != 0xdead) {
            fail_msg("MAIL case %zu \"%s\": rc %d err \"%s\", want \"%s\"", i, c->args, rc, err, c->err);
        }
    }
}

static void test_rcpt(void **state)
{
    for (size_t i = 0; i < ARRAY_LEN(rcpt_cases); i++) {
        const struct rcpt_case *c = &rcpt_cases[i];
        char args[600], addr[SMTPD_PARAMS_ADDR], err[SMTPD_PARAMS_ERRLEN] = "";
        int rc;

        snprintf(args, sizeof(args), "%s", c->args);
        rc = smtpd_params_rcpt(args, c->flags, addr, err, sizeof(err));
        if (c->addr) {
            if (rc != 0 || strcmp(addr, c->addr) != 0)
                fail_msg("RCPT case %zu \"%s\": rc %d err \"%s\"", i, c->args, rc, err);
        } else if (rc != -1 || strcmp(err, c->err) != 0) {
            fail_msg("RCPT case %zu \"%s\": rc %d err \"%s\", want \"%s\"", i, c->args, rc, err, c->err);
        }
    }
}

/* Addresses up to 254 bytes (RFC 5321 §4.5.3.1.3 less the brackets) are
 * taken; longer ones, and paths past the SMTPD_MAX_PATH buffer, are not. */
static void test_path_length(void **state)
{
    static const struct { size_t len; int ok; } lens[] = {
        { 254, 1 }, { 255, 0 }, { SMTPD_MAX_PATH, 0 }, { SMTPD_MAX_PATH + 1, 0 }, { 400, 0 },
    };

    for (size_t k = 0; k < ARRAY_LEN(lens); k++) {
        char args[512], addr[SMTPD_PARAMS_ADDR], err[SMTPD_PARAMS_ERRLEN] = "";
        size_t dom = lens[k].len - 2 - 5;   /* "a@" + dom + ".test" */
        char *p = args + sprintf(args, "TO:<a@");
        int rc;

        for (size_t i = 0; i < dom; i++)
            *p++ = (i % 60 == 59) ? '.' : 'x';
        sprintf(p, ".test>");
        rc = smtpd_params_rcpt(args, 0, addr, err, sizeof(err));
        if (lens[k].ok && (rc != 0 || strlen(addr) != lens[k].len))
            fail_msg("length %zu: rc %d err \"%s\"", lens[k].len, rc, err);
        if (!lens[k].ok && (rc != -1 || strcmp(err, "501 5.1.3 Bad recipient address syntax") != 0))
            fail_msg("length %zu: rc %d err \"%s\"", lens[k].len, rc, err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mail),
        cmocka_unit_test(test_rcpt),
        cmocka_unit_test(test_path_length),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
