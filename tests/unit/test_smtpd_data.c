/*
 * test_smtpd_data.c - the DATA reader: end marker, dot-unstuffing, bare
 * LF/CR and NUL, fed whole and one byte at a time.
 */
#include "config.h"

#include <string.h>

#include "unit.h"
#include "tenantrelay/smtpd.h"

struct data_case {
    const char *name;
    const char *in;
    size_t inlen;               /* 0: strlen(in) */
    const char *out;            /* stored content up to the end marker */
    unsigned flags;
    bool done;
    size_t rest;                /* bytes left after the end marker */
};

#define S(x) x, sizeof(x) - 1

static const struct data_case cases[] = {
    { "empty message", S(".\r\n"), "", 0, true, 0 },
    { "plain lines", S("a\r\nb\r\n.\r\n"), "a\r\nb\r\n", 0, true, 0 },
    { "dot lines unstuffed exactly", S("..\r\n...\r\n..x\r\n.\r\n"), ".\r\n..\r\n.x\r\n", 0, true, 0 },
    { "dot inside a line kept", S("a.b\r\n a\r\n.\r\n"), "a.b\r\n a\r\n", 0, true, 0 },
    { "bytes after the end stay", S("x\r\n.\r\nQUIT\r\n"), "x\r\n", 0, true, 6 },
    { "no end yet", S("x\r\n."), "x\r\n", 0, false, 0 },
    { "8-bit kept", S("caf\xc3\xa9\r\n.\r\n"), "caf\xc3\xa9\r\n", 0, true, 0 },
    /* the smtpsmug endings: never an end, always flagged */
    { "\\n.\\n", S("a\n.\nb\r\n.\r\n"), "a\r\n.\r\nb\r\n", SMTPD_DATA_BARE_LF, true, 0 },
    { "\\r.\\r", S("a\r.\rb\r\n.\r\n"), "a\r.\rb\r\n", SMTPD_DATA_BARE_CR, true, 0 },
    { "\\r.\\n", S("a\r.\nb\r\n.\r\n"), "a\r.\r\nb\r\n", SMTPD_DATA_BARE_CR | SMTPD_DATA_BARE_LF, true, 0 },
    { "\\n.\\r", S("a\n.\rb\r\n.\r\n"), "a\r\n.\rb\r\n", SMTPD_DATA_BARE_CR | SMTPD_DATA_BARE_LF, true, 0 },
    { "\\n.\\r\\n", S("a\n.\r\nb\r\n.\r\n"), "a\r\n.\r\nb\r\n", SMTPD_DATA_BARE_LF, true, 0 },
    { "\\r\\n.\\n", S("a\r\n.\nb\r\n.\r\n"), "a\r\n\r\nb\r\n", SMTPD_DATA_BARE_LF, true, 0 },
    { "\\r.\\r\\n", S("a\r.\r\nb\r\n.\r\n"), "a\r.\r\nb\r\n", SMTPD_DATA_BARE_CR, true, 0 },
    { "\\r\\n.\\r", S("a\r\n.\rb\r\n.\r\n"), "a\r\n\rb\r\n", SMTPD_DATA_BARE_CR, true, 0 },
    { "\\r\\n\\0.\\r\\n", S("a\r\n\0.\r\nb\r\n.\r\n"), NULL, SMTPD_DATA_NUL, true, 0 },
    { "bare LF normalised", S("a\nb\r\n.\r\n"), "a\r\nb\r\n", SMTPD_DATA_BARE_LF, true, 0 },
    { "line too long", S("0123456789012\r\n.\r\n"), "0123456789012\r\n", SMTPD_DATA_LONGLINE, true, 0 },
    { "line at the limit", S("012345678901\r\n.\r\n"), "012345678901\r\n", 0, true, 0 },
};

static void check(const struct data_case *c, size_t chunk)
{
    struct smtpd_data d;
    struct dbuf out = DBUF_INIT;
    size_t used = 0;
    bool done = false;

    smtpd_data_init(&d, 12);
    while (used < c->inlen && !done) {
        size_t n = c->inlen - used < chunk ? c->inlen - used : chunk;
        used += smtpd_data_feed(&d, c->in + used, n, &out, &done);
    }
    dbuf_append(&out, "", 0);
    if (c->out)
        assert_memory_equal(out.data, c->out, strlen(c->out) + 1);
    assert_int_equal(d.flags, c->flags);
    assert_int_equal(done, c->done);
    assert_int_equal(c->inlen - used, c->rest);
    dbuf_free(&out);
}

static void test_table(void **state)
{
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        check(&cases[i], cases[i].inlen);
        check(&cases[i], 1);
        check(&cases[i], 3);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
