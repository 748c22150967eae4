/*
 * test_vault.c - the keyring and sealed tokens: round trip, wrong key,
 * every single-bit flip, tokens moved to another tenant or field,
 * truncated, garbage and unknown-version tokens, keyring files.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/vault.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/tr-vault-XXXXXX");
    return mkdtemp(dir) && vault_init() == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static struct vault *one_key_vault(void)
{
    struct vault *v = vault_new();
    char err[256];

    assert_non_null(v);
    assert_int_equal(vault_key_generate(v, NULL, err, sizeof(err)), 0);
    return v;
}

static int try_open(const struct vault *v, const char *tenant, const char *field, const char *token)
{
    unsigned char *plain = NULL;
    size_t len = 0;
    char err[256] = "";
    int rc = vault_open(v, tenant, field, token, &plain, &len, err, sizeof(err));

    if (rc == VAULT_OK)
        vault_plain_free(plain, len);
    else
        assert_true(err[0] != 0);   /* every failure says why */
    return rc;
}

static void test_round_trip(void **state)
{
    static const char *secrets[] = { "hunter2", "", "p", "a much longer password with spaces \xc3\xa9 and : colons" };
    struct vault *v = one_key_vault();
    char err[256];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(secrets); i++) {
        char *token;
        unsigned char *plain;
        size_t len;

        assert_int_equal(vault_seal(v, "acme", "password", (const unsigned char *)secrets[i],
                                    strlen(secrets[i]), &token, err, sizeof(err)), 0);
        assert_true(vault_token_looks_sealed(token));
        assert_int_equal(strncmp(token, "trv1:", 5), 0);
        if (strlen(secrets[i]) > 3)
            assert_null(strstr(token, secrets[i]));
        assert_int_equal(vault_open(v, "acme", "password", token, &plain, &len, err, sizeof(err)), VAULT_OK);
        assert_int_equal(len, strlen(secrets[i]));
        assert_memory_equal(plain, secrets[i], len);
        assert_int_equal(plain[len], 0);
        vault_plain_free(plain, len);
        myfree(token);
    }
    vault_free(v);
}

static void test_fresh_nonce(void **state)
{
    struct vault *v = one_key_vault();
    char err[256], *a, *b;

    (void)state;
    assert_int_equal(vault_seal(v, "acme", "password", (const unsigned char *)"x", 1, &a, err, sizeof(err)), 0);
    assert_int_equal(vault_seal(v, "acme", "password", (const unsigned char *)"x", 1, &b, err, sizeof(err)), 0);
    assert_string_not_equal(a, b);
    myfree(a);
    myfree(b);
    vault_free(v);
}

static void test_wrong_key(void **state)
{
    struct vault *v = one_key_vault(), *w = one_key_vault();
    char err[256], *token;

    (void)state;
    assert_int_equal(vault_seal(v, "acme", "password", (const unsigned char *)"s3cret", 6, &token, err, sizeof(err)), 0);
    /* Another keyring: the key id is unknown there. */
    assert_int_equal(try_open(w, "acme", "password", token), VAULT_ERR_KEYID);
    /* A token naming w's key id but sealed with v's key: authentication fails. */
    memcpy(token + 5, vault_primary_id(w), VAULT_KEYID_LEN);
    assert_int_equal(try_open(w, "acme", "password", token), VAULT_ERR_AUTH);
    myfree(token);
    vault_free(v);
    vault_free(w);
}

static void test_every_bit_flip(void **state)
{
    struct vault *v = one_key_vault();
    char err[256], *token;
    size_t len, flips = 0;

    (void)state;
    assert_int_equal(vault_seal(v, "acme", "password", (const unsigned char *)"hunter2", 7, &token, err, sizeof(err)), 0);
    assert_int_equal(try_open(v, "acme", "password", token), VAULT_OK);
    len = strlen(token);
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            token[i] ^= (char)(1 << bit);
            if (try_open(v, "acme", "password", token) == VAULT_OK)
                fail_msg("flipping bit %d of byte %zu still opens", bit, i);
            token[i] ^= (char)(1 << bit);
            flips++;
        }
    }
    assert_int_equal(flips, len * 8);
    assert_int_equal(try_open(v, "acme", "password", token), VAULT_OK);
    myfree(token);
    vault_free(v);
}

static void test_moved_token(void **state)
{
    struct vault *v = one_key_vault();
    char err[256], *token;

    (void)state;
    assert_int_equal(vault_seal(v, "acme", "password", (const unsigned char *)"pw", 2, &token, err, sizeof(err)), 0);
    assert_int_equal(try_open(v, "acme", "password", token), VAULT_OK);
    assert_int_equal(try_open(v, "beta", "password", token), VAULT_ERR_AUTH);
    assert_int_equal(try_open(v, "default", "password", token), VAULT_ERR_AUTH);
    assert_int_equal(try_open(v, "acme", "client_secret", token), VAULT_ERR_AUTH);
    assert_int_equal(try_open(v, "acm", "epassword", token), VAULT_ERR_AUTH);
    myfree(token);
    vault_free(v);
}

static void test_bad_tokens(void **state)
{
    struct vault *v = one_key_vault();
    char err[256], *token, buf[512];
    const char *id = vault_primary_id(v);
    struct { const char *fmt; int want; } cases[] = {
        { "", VAULT_ERR_FORMAT },
        { "hunter2", VAULT_ERR_FORMAT },
        { "trv", VAULT_ERR_FORMAT },
        { "trv1", VAULT_ERR_FORMAT },
        { "trv1:", VAULT_ERR_FORMAT },
        { "trv1:%s", VAULT_ERR_FORMAT },
        { "trv1:zzzzzzzzzzzz:AAAA", VAULT_ERR_FORMAT },
        { "trv2:%s:AAAA", VAULT_ERR_VERSION },
        { "trv99:%s:AAAA", VAULT_ERR_VERSION },
        { "trv1:0123456789ab:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", VAULT_ERR_KEYID },
        { "trv1:%s:", VAULT_ERR_TRUNCATED },
        { "trv1:%s:AAAA", VAULT_ERR_TRUNCATED },
        { "trv1:%s:!!!!", VAULT_ERR_BASE64 },
        { "trv1:%s:AAAA=", VAULT_ERR_BASE64 },
        { "trv1:%s:AA AA", VAULT_ERR_BASE64 },
        { "trv1:%s:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", VAULT_ERR_AUTH },
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const char *hole = strstr(cases[i].fmt, "%s");

        if (hole)
            snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(hole - cases[i].fmt), cases[i].fmt, id, hole + 2);
        else
            snprintf(buf, sizeof(buf), "%s", cases[i].fmt);
        if (try_open(v, "acme", "password", buf) != cases[i].want)
            fail_msg("case %zu \"%s\": want %d", i, buf, cases[i].want);
    }
    /* Every truncation of a real token fails. */
    assert_int_equal(vault_seal(v, "acme", "password", (const unsigned char *)"pw", 2, &token, err, sizeof(err)), 0);
    for (size_t n = strlen(token); n-- > 0;) {
        token[n] = 0;
        assert_true(try_open(v, "acme", "password", token) < 0);
    }
    myfree(token);
    /* Seal refuses bad names and oversize secrets. */
    assert_int_equal(vault_seal(v, "Acme/..", "password", (const unsigned char *)"x", 1, &token, err, sizeof(err)), -1);
    assert_int_equal(vault_seal(v, "acme", "", (const unsigned char *)"x", 1, &token, err, sizeof(err)), -1);
    {
        unsigned char big[VAULT_SECRET_MAX + 1] = { 0 };

        assert_int_equal(vault_seal(v, "acme", "password", big, sizeof(big), &token, err, sizeof(err)), -1);
    }
    assert_false(vault_token_looks_sealed("trvx:"));
    assert_false(vault_token_looks_sealed(NULL));
    vault_free(v);
}

static void test_keyring_file(void **state)
{
    struct vault *v = vault_new(), *w;
    char err[512], path[128], first[VAULT_KEYID_LEN + 1], second[VAULT_KEYID_LEN + 1], *token;
    unsigned char *plain;
    size_t len;
    struct stat st;

    (void)state;
    snprintf(path, sizeof(path), "%s/master.key", dir);
    assert_null(vault_primary_id(v));
    assert_int_equal(vault_seal(v, "acme", "password", (const unsigned char *)"x", 1, &token, err, sizeof(err)), -1);
    assert_int_equal(vault_key_generate(v, first, err, sizeof(err)), 0);
    assert_int_equal(vault_save(v, path, true, err, sizeof(err)), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* key init never overwrites. */
    assert_int_equal(vault_save(v, path, true, err, sizeof(err)), -1);
    assert_int_equal(errno, EEXIST);
    assert_non_null(strstr(err, "refusing to overwrite"));
    assert_int_equal(vault_seal(v, "acme", "password", (const unsigned char *)"old", 3, &token, err, sizeof(err)), 0);
    /* Rotate: a second key becomes primary; the first still opens. */
    assert_int_equal(vault_key_generate(v, second, err, sizeof(err)), 0);
    assert_string_not_equal(first, second);
    assert_int_equal(vault_key_retire(v, second, err, sizeof(err)), -1);   /* the primary */
    assert_int_equal(vault_save(v, path, false, err, sizeof(err)), 0);
    vault_free(v);

    w = vault_load_file(path, true, err, sizeof(err));
    if (w == NULL)
        fail_msg("%s", err);
    assert_int_equal(vault_key_count(w), 2);
    assert_string_equal(vault_primary_id(w), second);
    assert_int_equal(vault_key_find(w, first)->state, VAULT_KEY_ACTIVE);
    assert_int_equal(vault_open(w, "acme", "password", token, &plain, &len, err, sizeof(err)), VAULT_OK);
    assert_memory_equal(plain, "old", 3);
    vault_plain_free(plain, len);
    assert_int_equal(vault_key_retire(w, first, err, sizeof(err)), 0);
    assert_int_equal(vault_key_retire(w, "000000000000", err, sizeof(err)), -1);
    /* A retired key opens nothing, and its bytes leave the file. */
    assert_int_equal(vault_open(w, "acme", "password", token, &plain, &len, err, sizeof(err)),
                     VAULT_ERR_RETIRED);
    assert_null(plain);
    assert_non_null(strstr(err, "retired key"));
    assert_int_equal(vault_save(w, path, false, err, sizeof(err)), 0);
    vault_free(w);
    {
        char text[1024] = "";
        FILE *fp = fopen(path, "r");
        size_t n = fread(text, 1, sizeof(text) - 1, fp);
        char line[64];

        fclose(fp);
        text[n] = 0;
        snprintf(line, sizeof(line), "key %s retired ", first);
        assert_non_null(strstr(text, line));
        assert_non_null(strstr(strstr(text, line), " -\n"));
    }
    w = vault_load_file(path, true, err, sizeof(err));
    if (w == NULL)
        fail_msg("%s", err);
    assert_int_equal(vault_key_find(w, first)->state, VAULT_KEY_RETIRED);
    assert_int_equal(vault_open(w, "acme", "password", token, &plain, &len, err, sizeof(err)),
                     VAULT_ERR_RETIRED);
    vault_free(w);
    myfree(token);

    /* Group or other access: refused with the fix in the message, unless
     * it is a systemd credential. */
    chmod(path, 0640);
    assert_null(vault_load_file(path, true, err, sizeof(err)));
    assert_non_null(strstr(err, "chmod 600"));
    w = vault_load_file(path, false, err, sizeof(err));
    assert_non_null(w);
    vault_free(w);
    chmod(path, 0602);
    assert_null(vault_load_file(path, true, err, sizeof(err)));
    chmod(path, 0400);
    w = vault_load_file(path, true, err, sizeof(err));
    assert_non_null(w);
    vault_free(w);
}

static void test_keyring_bad_files(void **state)
{
    static const char *cases[][2] = {
        { "", "holds no key" },
        { "# only a comment\n", "holds no key" },
        { "key abc primary 2026-01-01T00:00:00Z AAAA\n", "is not 32 bytes" },
        { "key abc primary\n", "expected" },
        { "key 000000000000 primary 2026-01-01T00:00:00Z AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "does not match its key" },
        { "key 000000000000 bogus 2026-01-01T00:00:00Z AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "unknown key state" },
        { "key 000000000000 primary yesterday AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "bad creation time" },
        { "key 000000000000 active 2026-01-01T00:00:00Z -\n", "only a retired key may lack its bytes" },
    };
    char path[128], err[512];

    (void)state;
    snprintf(path, sizeof(path), "%s/bad.key", dir);
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        FILE *fp = fopen(path, "w");

        fputs(cases[i][0], fp);
        fclose(fp);
        chmod(path, 0600);
        err[0] = 0;
        assert_null(vault_load_file(path, true, err, sizeof(err)));
        if (strstr(err, cases[i][1]) == NULL)
            fail_msg("case %zu: \"%s\"", i, err);
    }
    snprintf(path, sizeof(path), "%s/absent.key", dir);
    assert_null(vault_load_file(path, true, err, sizeof(err)));
    assert_non_null(strstr(err, "key init"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_fresh_nonce),
        cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_every_bit_flip),
        cmocka_unit_test(test_moved_token),
        cmocka_unit_test(test_bad_tokens),
        cmocka_unit_test(test_keyring_file),
        cmocka_unit_test(test_keyring_bad_files),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
