/*
 * test_oauth.c - the pure parts of OAuth2: JWT signing (RS256 and PS256,
 * checked with OpenSSL's verifier), the SASL XOAUTH2 / OAUTHBEARER
 * messages, the 334 challenge decoder, the token answer parser and the
 * mapping of provider and SMTP errors to codes and hints.
 */
#include "config.h"

#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "unit.h"
#include "tenantrelay/oauth.h"
#include "tenantrelay/smtpc.h"

static EVP_PKEY *key;
static char *pem;
static size_t pem_len;

static int setup(void **state)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p;

    (void)state;
    if (sodium_init() < 0 || (key = EVP_RSA_gen(2048)) == NULL
        || PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) != 1)
        return -1;
    pem_len = (size_t)BIO_get_mem_data(b, &p);
    pem = malloc(pem_len);
    memcpy(pem, p, pem_len);
    BIO_free(b);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(key);
    free(pem);
    return 0;
}

static size_t b64url_dec(const char *in, size_t len, unsigned char *out, size_t outlen)
{
    size_t n = 0;

    assert_int_equal(sodium_base642bin(out, outlen, in, len, NULL, &n, NULL,
                                       sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
    return n;
}

/* Split, decode and verify a JWT with the test key. */
static void check_jwt(const char *jwt, bool pss, const char *want_header, const char *want_claims)
{
    const char *d1 = strchr(jwt, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    unsigned char buf[2048], sig[1024];
    size_t n, siglen;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;

    assert_non_null(d2);
    n = b64url_dec(jwt, (size_t)(d1 - jwt), buf, sizeof(buf));
    assert_memory_equal(buf, want_header, strlen(want_header));
    assert_int_equal(n, strlen(want_header));
    n = b64url_dec(d1 + 1, (size_t)(d2 - d1 - 1), buf, sizeof(buf));
    assert_int_equal(n, strlen(want_claims));
    assert_memory_equal(buf, want_claims, n);
    siglen = b64url_dec(d2 + 1, strlen(d2 + 1), sig, sizeof(sig));
    assert_int_equal(siglen, 256);
    assert_int_equal(EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, key), 1);
    if (pss) {
        assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32), 1);
    }
    assert_int_equal(EVP_DigestVerify(md, sig, siglen, (const unsigned char *)jwt, (size_t)(d2 - jwt)), 1);
    EVP_MD_CTX_free(md);
}

static void test_jwt_sign(void **state)
{
    const char *hdr = "{\"alg\":\"PS256\",\"typ\":\"JWT\",\"x5t#S256\":\"abc\"}";
    const char *claims = "{\"aud\":\"https://login.example/token\",\"iss\":\"c\",\"sub\":\"c\",\"exp\":2}";
    char *jwt = NULL, err[256] = "";
    size_t alloc = 0;

    (void)state;
    assert_int_equal(oauth_jwt_sign("PS256", hdr, claims, (unsigned char *)pem, pem_len, &jwt, &alloc,
                                    err, sizeof(err)), 0);
    check_jwt(jwt, true, hdr, claims);
    oauth_secret_free(jwt, alloc);

    hdr = "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";
    assert_int_equal(oauth_jwt_sign("RS256", hdr, claims, (unsigned char *)pem, pem_len, &jwt, &alloc,
                                    err, sizeof(err)), 0);
    check_jwt(jwt, false, hdr, claims);
    oauth_secret_free(jwt, alloc);

    /* Not a key, and an algorithm we do not speak. */
    assert_int_equal(oauth_jwt_sign("RS256", hdr, claims, (const unsigned char *)"nope", 4, &jwt, &alloc,
                                    err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a PEM private key"));
    assert_int_equal(oauth_jwt_sign("HS256", hdr, claims, (unsigned char *)pem, pem_len, &jwt, &alloc,
                                    err, sizeof(err)), -1);
}

static void test_b64url(void **state)
{
    char out[16];

    (void)state;
    oauth_b64url((const unsigned char *)"\xfb\xff", 2, out, sizeof(out));
    assert_string_equal(out, "-_8");
}

static void test_sasl_xoauth2(void **state)
{
    static const char want[] = "user=box@acme.test\001auth=Bearer tok.en-1\001\001";
    unsigned char *out;
    size_t len, alloc;

    (void)state;
    assert_int_equal(smtpc_sasl_xoauth2("box@acme.test", (const unsigned char *)"tok.en-1", 8, &out, &len,
                                        &alloc), 0);
    assert_int_equal(len, sizeof(want) - 1);
    assert_memory_equal(out, want, len);
    sodium_free(out);
    /* A control character in the user name would break the framing. */
    assert_int_equal(smtpc_sasl_xoauth2("a\001b", (const unsigned char *)"t", 1, &out, &len, &alloc), -1);
}

static void test_sasl_oauthbearer(void **state)
{
    static const char want[] = "n,a=a=2Cb=3Dc@x.test,\001host=smtp.x.test\001port=587\001auth=Bearer T\001\001";
    unsigned char *out;
    size_t len, alloc;

    (void)state;
    assert_int_equal(smtpc_sasl_oauthbearer("a,b=c@x.test", "smtp.x.test", 587, (const unsigned char *)"T", 1,
                                            &out, &len, &alloc), 0);
    assert_int_equal(len, sizeof(want) - 1);
    assert_memory_equal(out, want, len);
    sodium_free(out);
}

static void test_challenge_decode(void **state)
{
    char out[256];

    (void)state;
    /* Google's: base64 of {"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"} */
    assert_int_equal(smtpc_sasl_challenge_decode(
        "334 eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==",
        out, sizeof(out)), 0);
    assert_string_equal(out, "{\"status\":\"400\",\"schemes\":\"Bearer\",\"scope\":\"https://mail.google.com/\"}");
    assert_int_equal(smtpc_sasl_challenge_decode("334 ", out, sizeof(out)), -1);
    assert_int_equal(smtpc_sasl_challenge_decode("334 !!!notbase64", out, sizeof(out)), -1);
    /* Binary bytes come out as '?'. */
    assert_int_equal(smtpc_sasl_challenge_decode("334 AQJB", out, sizeof(out)), 0);
    assert_string_equal(out, "??A");
}

static void test_response_parse(void **state)
{
    static const char ok[] = "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":\"eyJ0.abc_-\"}";
    static const char quoted[] = "{\"access_token\":\"abc\",\"expires_in\":\"120\"}";
    static const char bad_type[] = "{\"token_type\":\"mac\",\"access_token\":\"abc\"}";
    static const char spaced[] = "{\"access_token\":\"a b\"}";
    static const char aad[] = "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: Invalid client "
                              "secret provided.\"}";
    struct oauth_token t;
    struct oauth_error e;

    (void)state;
    assert_int_equal(oauth_response_parse(200, ok, sizeof(ok) - 1, &t, &e), 0);
    assert_string_equal((char *)t.data, "eyJ0.abc_-");
    assert_int_equal(t.lifetime, 3599);
    oauth_token_free(&t);
    assert_int_equal(oauth_response_parse(200, quoted, sizeof(quoted) - 1, &t, &e), 0);
    assert_int_equal(t.lifetime, 120);
    oauth_token_free(&t);
    assert_int_equal(oauth_response_parse(200, bad_type, sizeof(bad_type) - 1, &t, &e), -1);
    assert_string_equal(e.code, "oauth_token_failed");
    assert_int_equal(oauth_response_parse(200, spaced, sizeof(spaced) - 1, &t, &e), -1);
    assert_int_equal(oauth_response_parse(401, aad, sizeof(aad) - 1, &t, &e), -1);
    assert_string_equal(e.code, "oauth_invalid_client");
    assert_true(e.breaker);
    assert_non_null(strstr(e.detail, "AADSTS7000215"));
    assert_non_null(strstr(e.hint, "Certificates & secrets"));
    assert_int_equal(oauth_response_parse(502, "<html>bad gateway</html>", 24, &t, &e), -1);
    assert_string_equal(e.code, "oauth_token_failed");
    assert_false(e.breaker);
    assert_non_null(strstr(e.detail, "bad gateway"));
    assert_int_equal(oauth_response_parse(200, "not json", 8, &t, &e), -1);
}

static void test_error_mapping(void **state)
{
    static const struct {
        int status;
        const char *error, *desc, *code;
        bool breaker;
        const char *hint_word;
    } cases[] = {
        { 401, "invalid_client", "AADSTS7000215: Invalid client secret provided.", "oauth_invalid_client", true,
          "client secret" },
        { 400, "unauthorized_client", "AADSTS700016: Application with identifier 'x' was not found in the "
          "directory 'y'.", "oauth_app_not_found", true, "--oauth-client-id" },
        { 400, "invalid_grant", "AADSTS65001: The user or administrator has not consented to use the application",
          "oauth_consent_missing", true, "admin-consent URL" },
        { 400, "consent_required", NULL, "oauth_consent_missing", true, "Global Administrator" },
        { 400, "unauthorized_client", "Client is unauthorized to retrieve access tokens using this method",
          "oauth_unauthorized_client", true, "Domain-wide delegation" },
        { 400, "invalid_grant", "Invalid email or User ID", "oauth_invalid_grant", true, "mailbox" },
        { 400, "invalid_scope", "AADSTS70011", "oauth_invalid_scope", true, "scope" },
        { 429, "temporarily_unavailable", NULL, "oauth_rate_limited", false, "Retry-After" },
        { 503, "server_error", NULL, "oauth_token_failed", false, "temporary" },
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct oauth_error e;

        memset(&e, 0, sizeof(e));
        oauth_error_classify(&e, cases[i].status, cases[i].error, cases[i].desc);
        assert_string_equal(e.code, cases[i].code);
        assert_int_equal(e.breaker, cases[i].breaker);
        assert_non_null(strstr(e.hint, cases[i].hint_word));
    }
}

static void test_smtp_mapping(void **state)
{
    char hint[1024];

    (void)state;
    assert_string_equal(oauth_smtp_classify(535, "5.7.3", "535 5.7.3 Authentication unsuccessful", true,
                                            hint, sizeof(hint)), "oauth_mailbox_permission");
    assert_non_null(strstr(hint, "New-ServicePrincipal"));
    assert_string_equal(oauth_smtp_classify(535, "5.7.139", "535 5.7.139 Authentication unsuccessful, "
                                            "SmtpClientAuthentication is disabled for the Tenant.", true,
                                            hint, sizeof(hint)), "smtp_auth_disabled");
    assert_non_null(strstr(hint, "Set-CASMailbox"));
    assert_string_equal(oauth_smtp_classify(430, "4.2.0", "430 4.2.0 STOREDRV.Submission.Exception:"
                                            "SendAsDeniedException", false, hint, sizeof(hint)),
                        "oauth_mailbox_permission");
    assert_non_null(strstr(hint, "Add-MailboxPermission"));
    assert_string_equal(oauth_smtp_classify(550, "5.2.252", "550 5.2.252 SendAsDenied; x not allowed to send "
                                            "as y", false, hint, sizeof(hint)), "send_as_denied");
    assert_string_equal(oauth_smtp_classify(535, "5.7.8", "535 5.7.8 Username and Password not accepted", true,
                                            hint, sizeof(hint)), "oauth_token_refused");
    assert_null(oauth_smtp_classify(550, "5.1.1", "550 5.1.1 no such user", false, hint, sizeof(hint)));
    /* 535 5.7.3 before any token was used is not the service principal's fault. */
    assert_null(oauth_smtp_classify(535, "5.7.3", "535 5.7.3 x", false, hint, sizeof(hint)));
}

static void test_route_defaults(void **state)
{
    struct route_oauth o;
    char buf[256];

    (void)state;
    memset(&o, 0, sizeof(o));
    o.provider = ROUTE_OAUTH_MICROSOFT;
    o.directory = (char *)"contoso.onmicrosoft.com";
    assert_string_equal(route_oauth_token_url(&o, buf, sizeof(buf)),
                        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
    assert_string_equal(route_oauth_scope(&o), "https://outlook.office365.com/.default");
    o.provider = ROUTE_OAUTH_GOOGLE;
    assert_string_equal(route_oauth_token_url(&o, buf, sizeof(buf)), "https://oauth2.googleapis.com/token");
    assert_string_equal(route_oauth_scope(&o), "https://mail.google.com/");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jwt_sign),
        cmocka_unit_test(test_b64url),
        cmocka_unit_test(test_sasl_xoauth2),
        cmocka_unit_test(test_sasl_oauthbearer),
        cmocka_unit_test(test_challenge_decode),
        cmocka_unit_test(test_response_parse),
        cmocka_unit_test(test_error_mapping),
        cmocka_unit_test(test_smtp_mapping),
        cmocka_unit_test(test_route_defaults),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
