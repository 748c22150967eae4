/*
 * test_tls.c - the TLS client layer's offline parts: address literals
 * (no SNI, IP checks), status names, context building and its errors.
 * Handshakes and verification classes are tested against real servers in
 * tests/integration/test_smtpc_tls.sh.
 */
#include "config.h"

#include <string.h>

#include "unit.h"
#include "tenantrelay/tls.h"

static void test_host_is_ip(void **state)
{
    static const struct { const char *host; bool ip; } cases[] = {
        { "127.0.0.1", true }, { "::1", true }, { "2001:db8::25", true },
        { "smtp.example.com", false }, { "localhost", false }, { "1.2.3", false },
        { "[::1]", false }, { "", false }, { "256.1.1.1", false },
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        if (tls_host_is_ip(cases[i].host) != cases[i].ip)
            fail_msg("case %zu: %s", i, cases[i].host);
    assert_false(tls_host_is_ip(NULL));
}

static void test_status_names(void **state)
{
    assert_string_equal(tls_status_name(TLS_OK), "ok");
    assert_string_equal(tls_status_name(TLS_ERR_UNTRUSTED), "untrusted");
    assert_string_equal(tls_status_name(TLS_ERR_NAME_MISMATCH), "name_mismatch");
    assert_string_equal(tls_status_name(TLS_ERR_EXPIRED), "expired");
    assert_string_equal(tls_status_name(TLS_ERR_IO), "io");
    assert_string_equal(tls_status_name((enum tls_status)99), "unknown");
}

static void test_ctx(void **state)
{
    struct tls_error err = { TLS_OK, "" };
    struct tls_client_ctx *ctx;

    ctx = tls_client_ctx_new(NULL, true, &err);
    assert_non_null(ctx);
    assert_string_equal(err.errstr, "");    /* untouched on success */
    tls_client_ctx_free(ctx);
    ctx = tls_client_ctx_new("/etc/ssl/certs/ca-certificates.crt", false, &err);
    assert_non_null(ctx);
    tls_client_ctx_free(ctx);
    ctx = tls_client_ctx_new("/nonexistent/ca.pem", true, &err);
    assert_null(ctx);
    assert_int_equal(err.status, TLS_ERR_CONFIG);
    assert_non_null(strstr(err.errstr, "/nonexistent/ca.pem"));
    ctx = tls_client_ctx_new("/etc/hostname", true, &err);
    assert_null(ctx);
    assert_int_equal(err.status, TLS_ERR_CONFIG);
    tls_client_ctx_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_is_ip),
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_ctx),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
