/*
 * test_mime.c - relaying safely (SPEC §4): the quoted-printable encoder
 * and re-fitter give back their input when decoded and never write a line
 * over 76 characters; the MIME walk re-encodes only the parts that do not
 * fit, leaves fitting (encoded, signed) parts byte for byte, folds long
 * header lines, and makes 8-bit bodies 7-bit on request.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "tenantrelay/mime.h"

static size_t longest_line(const char *s, size_t len)
{
    size_t best = 0, cur = 0;

    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n') {
            best = cur > best ? cur : best;
            cur = 0;
            i++;
        } else {
            cur++;
        }
    }
    return cur > best ? cur : best;
}

static bool all_7bit(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80)
            return false;
    return true;
}

static void check_roundtrip(const char *in, size_t len)
{
    struct dbuf enc = DBUF_INIT, dec = DBUF_INIT, ref = DBUF_INIT, d1 = DBUF_INIT, d2 = DBUF_INIT;

    mime_qp_encode(in, len, &enc);
    mime_qp_decode(enc.data ? enc.data : "", enc.len, &dec);
    assert_int_equal(dec.len, len);
    assert_true(len == 0 || memcmp(dec.data, in, len) == 0);
    assert_true(longest_line(enc.data ? enc.data : "", enc.len) <= MIME_QP_LINE);
    assert_true(all_7bit(enc.data ? enc.data : "", enc.len));
    /* The re-fitter on any text decodes as that text does. */
    mime_qp_refit(in, len, &ref);
    mime_qp_decode(in, len, &d1);
    mime_qp_decode(ref.data ? ref.data : "", ref.len, &d2);
    assert_int_equal(d1.len, d2.len);
    assert_true(d1.len == 0 || memcmp(d1.data, d2.data, d1.len) == 0);
    assert_true(longest_line(ref.data ? ref.data : "", ref.len) <= MIME_QP_LINE);
    assert_true(all_7bit(ref.data ? ref.data : "", ref.len));
    dbuf_free(&enc);
    dbuf_free(&dec);
    dbuf_free(&ref);
    dbuf_free(&d1);
    dbuf_free(&d2);
}

static void test_qp_cases(void **state)
{
    static const char *cases[] = {
        "", "a", "a \r\n", "tab\t\r\n", "=", "==\r\n", "caf\xc3\xa9\r\n", "lone\rcr\nlf\r\n",
        "trailing space at end ", ". leading dot\r\n.\r\n", "= \r\nx", "=4G=41=\r\nb", "x\r\n\r\n\r\n",
    };
    struct dbuf enc = DBUF_INIT;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        check_roundtrip(cases[i], strlen(cases[i]));
    mime_qp_encode("a=b \t\r\nc\xe9", 9, &enc);
    dbuf_append(&enc, "", 0);
    assert_string_equal(enc.data, "a=3Db =09\r\nc=E9");
    dbuf_free(&enc);
}

static void test_qp_random(void **state)
{
    unsigned seed = 7;
    static const char alphabet[] = "ab =\t\r\n\xe9.0F";

    (void)state;
    for (int round = 0; round < 3000; round++) {
        char buf[600];
        size_t len = (size_t)(rand_r(&seed) % sizeof(buf));

        for (size_t i = 0; i < len; i++)
            buf[i] = round % 2 ? (char)(rand_r(&seed) % 256)
                               : alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
        check_roundtrip(buf, len);
    }
}

static void test_b64_rewrap(void **state)
{
    char in[400];
    struct dbuf out = DBUF_INIT;

    (void)state;
    memset(in, 'Q', 300);
    memcpy(in + 300, "==\r\n", 4);
    mime_b64_rewrap(in, 304, &out);
    assert_int_equal(out.len, 302 + 3 * 2 + 2);   /* 76 76 76 74 chars */
    assert_true(longest_line(out.data, out.len) == 76);
    assert_memory_equal(out.data + out.len - 4, "==\r\n", 4);
    dbuf_free(&out);
}

#define HDR "From: a@b.test\r\nSubject: s\r\n\r\n"

static void test_convert_fitting_untouched(void **state)
{
    const char *body = "short line\r\nand another \xc3\xa9\r\n";

    (void)state;
    assert_false(mime_needs_fix(HDR, strlen(HDR), body, strlen(body), MIME_FIX_LINES));
    assert_true(mime_needs_fix(HDR, strlen(HDR), body, strlen(body), MIME_FIX_LINES | MIME_FIX_8BIT));
}

static void test_convert_long_line(void **state)
{
    struct dbuf body = DBUF_INIT, out = DBUF_INIT, dec = DBUF_INIT;
    const char *b;

    (void)state;
    for (int i = 0; i < 1550; i++)
        dbuf_append_char(&body, (char)('a' + i % 26));
    dbuf_append_str(&body, "\r\nsecond line\r\n");
    assert_true(mime_needs_fix(HDR, strlen(HDR), body.data, body.len, MIME_FIX_LINES));
    assert_int_equal(mime_convert(HDR, strlen(HDR), body.data, body.len, MIME_FIX_LINES, &out), 1);
    dbuf_append(&out, "", 0);
    assert_true(longest_line(out.data, out.len) <= MIME_LINE_MAX);
    assert_non_null(strstr(out.data, "MIME-Version: 1.0\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"));
    b = strstr(out.data, "\r\n\r\n") + 4;
    mime_qp_decode(b, strlen(b), &dec);
    assert_int_equal(dec.len, body.len);
    assert_memory_equal(dec.data, body.data, body.len);
    dbuf_free(&body);
    dbuf_free(&out);
    dbuf_free(&dec);
}

static void test_convert_multipart(void **state)
{
    struct dbuf msg = DBUF_INIT, out = DBUF_INIT;
    const char *hdr = "From: a@b.test\r\nMIME-Version: 1.0\r\n"
                      "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n";
    const char *fitting = "--b1\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                          "aGVsbG8=\r\n";
    const char *signed_part = "--b1\r\nContent-Type: multipart/signed; boundary=s2; protocol=x\r\n\r\n"
                              "--s2\r\nContent-Type: text/plain\r\n\r\nsigned text\r\n--s2\r\n"
                              "Content-Type: application/x-sig\r\n\r\nSIG\r\n--s2--\r\n";

    (void)state;
    dbuf_append_str(&msg, "preamble\r\n");
    dbuf_append_str(&msg, fitting);
    dbuf_append_str(&msg, signed_part);
    dbuf_append_str(&msg, "--b1\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n<p>");
    for (int i = 0; i < 3000; i++)
        dbuf_append_str(&msg, i % 10 ? "x" : "\xc3\xa9");
    dbuf_append_str(&msg, "</p>\r\n--b1--\r\nepilogue\r\n");
    assert_int_equal(mime_convert(hdr, strlen(hdr), msg.data, msg.len, MIME_FIX_LINES | MIME_FIX_8BIT, &out), 1);
    dbuf_append(&out, "", 0);
    assert_true(longest_line(out.data, out.len) <= MIME_LINE_MAX);
    assert_true(all_7bit(out.data, out.len));
    /* What fitted is there byte for byte. */
    assert_non_null(strstr(out.data, fitting));
    assert_non_null(strstr(out.data, signed_part));
    assert_non_null(strstr(out.data, "Content-Type: text/html; charset=utf-8\r\n"
                                     "Content-Transfer-Encoding: quoted-printable\r\n\r\n<p>=C3=A9x"));
    assert_null(strstr(out.data, "8bit"));
    assert_non_null(strstr(out.data, "</p>\r\n--b1--\r\nepilogue\r\n"));
    dbuf_free(&msg);
    dbuf_free(&out);
}

static void test_convert_header_fold(void **state)
{
    struct dbuf hdr = DBUF_INIT, out = DBUF_INIT;

    (void)state;
    dbuf_append_str(&hdr, "From: a@b.test\r\nX-Long:");
    for (int i = 0; i < 300; i++)
        dbuf_append_str(&hdr, " word");
    dbuf_append_str(&hdr, "\r\nX-Token: ");
    for (int i = 0; i < 2500; i++)
        dbuf_append_char(&hdr, 'z');
    dbuf_append_str(&hdr, "\r\n\r\n");
    assert_true(mime_needs_fix(hdr.data, hdr.len, "b\r\n", 3, MIME_FIX_LINES));
    assert_int_equal(mime_convert(hdr.data, hdr.len, "b\r\n", 3, MIME_FIX_LINES, &out), 0);
    assert_true(longest_line(out.data, out.len) <= MIME_LINE_MAX);
    /* Folded at white space: unfolding gives the field back. */
    dbuf_append(&out, "", 0);
    assert_non_null(strstr(out.data, "\r\n\r\nb\r\n"));
    assert_memory_equal(out.data, "From: a@b.test\r\nX-Long: word", 28);
    dbuf_free(&hdr);
    dbuf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qp_cases),
        cmocka_unit_test(test_qp_random),
        cmocka_unit_test(test_b64_rewrap),
        cmocka_unit_test(test_convert_fitting_untouched),
        cmocka_unit_test(test_convert_long_line),
        cmocka_unit_test(test_convert_multipart),
        cmocka_unit_test(test_convert_header_fold),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
