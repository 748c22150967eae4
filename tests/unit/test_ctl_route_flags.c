/*
 * test_ctl_route_flags.c - the route flags `tenant set` and `test --host`
 * share (src/ctl/ctl_route_flags.c): every flag, missing values, bad ports,
 * bad TLS modes, both password sources, the --password refusal, flags only
 * some commands take, and the order in which a command's own flags meet
 * the shared ones.  Each line runs through the loop both commands use;
 * ctl_fail() is replaced here to keep the exact message.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "unit.h"
#include "tenantrelay/ctl.h"
#include "tenantrelay/route.h"
#include "ctl_route_flags.h"

#define USAGE "usage: cmd [flags]"
#define MAXARGS 20

static char failed[1024];       /* the last message ctl_fail() was given */

int ctl_fail(int status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(failed, sizeof(failed), fmt, ap);
    va_end(ap);
    return status;
}

/* What a line should give; NULL strings and 0 / -1 numbers: not given. */
struct want {
    const char *host, *tls, *username, *password_file, *sender, *to, *ca_file;
    bool password_stdin, insecure_plaintext;
    int tls_verify;
    long port;
    bool own_flag;              /* the command's own flag without a value */
    const char *own_opt;        /* the command's own flag with a value */
};

struct line_case {
    const char *name;
    unsigned accept;
    const char *argv[MAXARGS];  /* NULL-terminated */
    int status;
    const char *message;        /* exact; NULL: none */
    struct want want;           /* checked when status is 0 */
};

/* Defaults of struct want for a line that parsed: nothing given. */
#define NONE .tls_verify = -1, .port = -1
#define TV CTL_ROUTE_FLAG_TLS_VERIFY

static const struct line_case lines[] = {
    { "nothing", 0, { NULL }, 0, NULL, { NONE } },
    { "every flag with a value", 0,
      { "--host", "smtp.example", "--port", "587", "--tls", "starttls", "--username", "u@example",
        "--password-file", "/run/pw", "--sender", "s@example", "--to", "t@example", "--ca-file", "/ca.pem", NULL },
      0, NULL, { .host = "smtp.example", .port = 587, .tls = "starttls", .username = "u@example",
                 .password_file = "/run/pw", .sender = "s@example", .to = "t@example", .ca_file = "/ca.pem",
                 .tls_verify = -1 } },
    { "every flag without a value", TV, { "--password-stdin", "--insecure-plaintext", "--no-tls-verify", NULL },
      0, NULL, { .password_stdin = true, .insecure_plaintext = true, .tls_verify = 0, .port = -1 } },
    { "--tls-verify where taken", TV, { "--tls-verify", NULL }, 0, NULL, { .tls_verify = 1, .port = -1 } },
    { "--no-tls-verify then --tls-verify: the last", TV, { "--no-tls-verify", "--tls-verify", NULL }, 0, NULL,
      { .tls_verify = 1, .port = -1 } },
    { "--tls-verify then --no-tls-verify: the last", TV, { "--tls-verify", "--no-tls-verify", NULL }, 0, NULL,
      { .tls_verify = 0, .port = -1 } },
    { "--tls-verify where not taken, last", 0, { "--tls-verify", NULL }, EX_USAGE,
      "--tls-verify needs a value\n" USAGE, { NONE } },
    { "--tls-verify where not taken, with more", 0, { "--tls-verify", "--host", "h", NULL }, EX_USAGE,
      "unknown option \"--tls-verify\"", { NONE } },
    { "a flag given twice: the last", 0, { "--host", "a.example", "--host", "b.example", NULL }, 0, NULL,
      { .host = "b.example", NONE } },
    { "a value that looks like a flag is a value", 0, { "--host", "--port", NULL }, 0, NULL,
      { .host = "--port", NONE } },
    { "an empty value (clears --username in tenant set)", 0, { "--username", "", NULL }, 0, NULL,
      { .username = "", NONE } },
    { "the command's own flags mixed in", 0,
      { "--own-flag", "--host", "h", "--own-opt", "v", "--password-stdin", NULL }, 0, NULL,
      { .host = "h", .password_stdin = true, .own_flag = true, .own_opt = "v", NONE } },
    { "the command's own flag without a value, last", 0, { "--host", "h", "--own-flag", NULL }, 0, NULL,
      { .host = "h", .own_flag = true, NONE } },

    /* Missing values: every flag that takes one, the command's own and unknown ones too. */
    { "--host without a value", 0, { "--host", NULL }, EX_USAGE, "--host needs a value\n" USAGE, { NONE } },
    { "--port without a value", 0, { "--port", NULL }, EX_USAGE, "--port needs a value\n" USAGE, { NONE } },
    { "--tls without a value", 0, { "--tls", NULL }, EX_USAGE, "--tls needs a value\n" USAGE, { NONE } },
    { "--username without a value", 0, { "--username", NULL }, EX_USAGE, "--username needs a value\n" USAGE,
      { NONE } },
    { "--password-file without a value", 0, { "--password-file", NULL }, EX_USAGE,
      "--password-file needs a value\n" USAGE, { NONE } },
    { "--sender without a value", 0, { "--sender", NULL }, EX_USAGE, "--sender needs a value\n" USAGE,
      { NONE } },
    { "--to without a value", 0, { "--to", NULL }, EX_USAGE, "--to needs a value\n" USAGE, { NONE } },
    { "--ca-file without a value", 0, { "--ca-file", NULL }, EX_USAGE, "--ca-file needs a value\n" USAGE,
      { NONE } },
    { "the command's own flag without its value", 0, { "--host", "h", "--own-opt", NULL }, EX_USAGE,
      "--own-opt needs a value\n" USAGE, { NONE } },
    { "an unknown flag, last: needs a value", 0, { "--frob", NULL }, EX_USAGE, "--frob needs a value\n" USAGE,
      { NONE } },
    { "an unknown flag with more", 0, { "--frob", "x", NULL }, EX_USAGE, "unknown option \"--frob\"",
      { NONE } },

    /* Ports. */
    { "port 1", 0, { "--port", "1", NULL }, 0, NULL, { .port = 1, .tls_verify = -1 } },
    { "port 65535", 0, { "--port", "65535", NULL }, 0, NULL, { .port = 65535, .tls_verify = -1 } },
    { "port 0", 0, { "--port", "0", NULL }, EX_USAGE, "--port: \"0\" is not a port (1..65535)", { NONE } },
    { "port 65536", 0, { "--port", "65536", NULL }, EX_USAGE, "--port: \"65536\" is not a port (1..65535)",
      { NONE } },
    { "port -1", 0, { "--port", "-1", NULL }, EX_USAGE, "--port: \"-1\" is not a port (1..65535)", { NONE } },
    { "port abc", 0, { "--port", "abc", NULL }, EX_USAGE, "--port: \"abc\" is not a port (1..65535)",
      { NONE } },
    { "port 25x", 0, { "--port", "25x", NULL }, EX_USAGE, "--port: \"25x\" is not a port (1..65535)",
      { NONE } },
    { "port empty", 0, { "--port", "", NULL }, EX_USAGE, "--port: \"\" is not a port (1..65535)", { NONE } },
    { "port out of long's range", 0, { "--port", "99999999999999999999", NULL }, EX_USAGE,
      "--port: \"99999999999999999999\" is not a port (1..65535)", { NONE } },
    { "a bad port stops the line", 0, { "--port", "0", "--frob", NULL }, EX_USAGE,
      "--port: \"0\" is not a port (1..65535)", { NONE } },

    /* Passwords: never on argv; one source. */
    { "--password", 0, { "--password", NULL }, EX_USAGE,
      "a password is never taken from the command line (it would show in the process list and shell "
      "history): use --password-stdin or --password-file", { NONE } },
    { "--password VALUE", 0, { "--password", "secret", NULL }, EX_USAGE,
      "a password is never taken from the command line (it would show in the process list and shell "
      "history): use --password-stdin or --password-file", { NONE } },
    { "--password=VALUE", 0, { "--password-stdin", "--password=secret", NULL }, EX_USAGE,
      "a password is never taken from the command line (it would show in the process list and shell "
      "history): use --password-stdin or --password-file", { NONE } },
    { "both password sources", 0, { "--password-stdin", "--password-file", "/run/pw", NULL }, EX_USAGE,
      "--password-stdin and --password-file are exclusive", { NONE } },
    { "both password sources, other order", 0, { "--password-file", "/run/pw", "--password-stdin", NULL },
      EX_USAGE, "--password-stdin and --password-file are exclusive", { NONE } },
    { "--oauth-secret VALUE", 0, { "--oauth-secret", "s3cret", NULL }, EX_USAGE,
      "a client secret is never taken from the command line (it would show in the process list and shell "
      "history): use --oauth-secret-stdin or --oauth-secret-file", { NONE } },
    { "--oauth-secret=VALUE", 0, { "--oauth-secret=s3cret", NULL }, EX_USAGE,
      "a client secret is never taken from the command line (it would show in the process list and shell "
      "history): use --oauth-secret-stdin or --oauth-secret-file", { NONE } },
    { "--oauth-client-id without a value", 0, { "--oauth-client-id", NULL }, EX_USAGE,
      "--oauth-client-id needs a value\n" USAGE, { NONE } },
};

static bool str_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* The option loop of tenant set and test, with one own flag of each kind. */
static int run_line(const struct line_case *c, char **argv, int argc, struct ctl_route_flags *f,
                    struct want *own)
{
    ctl_route_flags_init(f);
    for (int i = 0; i < argc; i++) {
        int status = 0;

        if (strcmp(argv[i], "--own-flag") == 0) {
            own->own_flag = true;
            continue;
        }
        switch (ctl_route_flags_parse(f, c->accept, argc, argv, &i, USAGE, &status)) {
        case CTL_ROUTE_FLAG_TAKEN:
            continue;
        case CTL_ROUTE_FLAG_ERROR:
            return status;
        case CTL_ROUTE_FLAG_OTHER:
            break;
        }
        assert_true(i + 1 < argc);      /* OTHER: its value is there */
        if (strcmp(argv[i], "--own-opt") == 0) {
            own->own_opt = argv[++i];
            continue;
        }
        return ctl_fail(EX_USAGE, "unknown option \"%s\"", argv[i]);
    }
    return ctl_route_flags_check_password(f);
}

static void test_lines(void **state)
{
    (void)state;
    for (size_t k = 0; k < ARRAY_LEN(lines); k++) {
        const struct line_case *c = &lines[k];
        const struct want *w = &c->want;
        char *argv[MAXARGS];
        int argc = 0, status;
        struct ctl_route_flags f;
        struct want own = { .tls_verify = -1 };

        while (c->argv[argc]) {
            argv[argc] = (char *)c->argv[argc];
            argc++;
        }
        failed[0] = 0;
        status = run_line(c, argv, argc, &f, &own);
        print_message("case %zu: %s\n", k, c->name);
        assert_int_equal(status, c->status);
        assert_string_equal(failed, c->message ? c->message : "");
        if (status != 0)
            continue;
        assert_true(str_eq(f.host, w->host));
        assert_true(str_eq(f.tls, w->tls));
        assert_true(str_eq(f.username, w->username));
        assert_true(str_eq(f.password_file, w->password_file));
        assert_true(str_eq(f.sender, w->sender));
        assert_true(str_eq(f.to, w->to));
        assert_true(str_eq(f.ca_file, w->ca_file));
        assert_int_equal(f.password_stdin, w->password_stdin);
        assert_int_equal(f.insecure_plaintext, w->insecure_plaintext);
        assert_int_equal(f.tls_verify, w->tls_verify);
        assert_int_equal(f.port, w->port);
        assert_int_equal(own.own_flag, w->own_flag);
        assert_true(str_eq(own.own_opt, w->own_opt));
    }
}

/* Every OAuth2 flag lands in its own field. */
static void test_oauth_flags(void **state)
{
    char *argv[] = { "--auth", "xoauth2", "--oauth-provider", "microsoft", "--oauth-directory", "d.example",
                     "--oauth-token-url", "https://t.example/token", "--oauth-client-id", "cid",
                     "--oauth-secret-file", "/run/s", "--oauth-key-file", "/k.pem", "--oauth-cert-file", "/c.pem",
                     "--oauth-scope", "sc", "--oauth-secret-stdin" };
    int argc = (int)ARRAY_LEN(argv), status = 0;
    struct ctl_route_flags f;

    (void)state;
    ctl_route_flags_init(&f);
    for (int i = 0; i < argc; i++)
        assert_int_equal(ctl_route_flags_parse(&f, 0, argc, argv, &i, USAGE, &status), CTL_ROUTE_FLAG_TAKEN);
    assert_string_equal(f.auth, "xoauth2");
    assert_string_equal(f.oauth_provider, "microsoft");
    assert_string_equal(f.oauth_directory, "d.example");
    assert_string_equal(f.oauth_token_url, "https://t.example/token");
    assert_string_equal(f.oauth_client_id, "cid");
    assert_string_equal(f.oauth_secret_file, "/run/s");
    assert_string_equal(f.oauth_key_file, "/k.pem");
    assert_string_equal(f.oauth_cert_file, "/c.pem");
    assert_string_equal(f.oauth_scope, "sc");
    assert_true(f.oauth_secret_stdin);
}

/* The values point into argv: nothing is copied, nothing to free. */
static void test_values_are_argv(void **state)
{
    char *argv[] = { "--host", "h.example", "--sender", "s@example" };
    struct ctl_route_flags f;
    int i = 0, status = 0;

    (void)state;
    ctl_route_flags_init(&f);
    assert_int_equal(ctl_route_flags_parse(&f, 0, 4, argv, &i, USAGE, &status), CTL_ROUTE_FLAG_TAKEN);
    assert_int_equal(i, 1);
    assert_ptr_equal(f.host, argv[1]);
    i = 2;
    assert_int_equal(ctl_route_flags_parse(&f, 0, 4, argv, &i, USAGE, &status), CTL_ROUTE_FLAG_TAKEN);
    assert_int_equal(i, 3);
    assert_ptr_equal(f.sender, argv[3]);
}

struct tls_case {
    const char *value;
    bool allow_auto;
    int status;
    int mode;
    const char *message;
};

static const struct tls_case tls_cases[] = {
    { "implicit", false, 0, ROUTE_TLS_IMPLICIT, NULL },
    { "starttls", false, 0, ROUTE_TLS_STARTTLS, NULL },
    { "none", false, 0, ROUTE_TLS_NONE, NULL },
    { "auto", false, EX_USAGE, -1, "--tls must be implicit, starttls or none" },
    { "implicit", true, 0, ROUTE_TLS_IMPLICIT, NULL },
    { "starttls", true, 0, ROUTE_TLS_STARTTLS, NULL },
    { "none", true, 0, ROUTE_TLS_NONE, NULL },
    { "auto", true, 0, CTL_ROUTE_TLS_AUTO, NULL },
    { "IMPLICIT", false, EX_USAGE, -1, "--tls must be implicit, starttls or none" },
    { "ssl", true, EX_USAGE, -1, "--tls must be implicit, starttls, auto or none" },
    { "", true, EX_USAGE, -1, "--tls must be implicit, starttls, auto or none" },
    { "starttls ", false, EX_USAGE, -1, "--tls must be implicit, starttls or none" },
};

static void test_tls(void **state)
{
    (void)state;
    for (size_t k = 0; k < ARRAY_LEN(tls_cases); k++) {
        const struct tls_case *c = &tls_cases[k];
        int mode = -1;

        failed[0] = 0;
        print_message("tls case %zu: \"%s\" auto=%d\n", k, c->value, c->allow_auto);
        assert_int_equal(ctl_route_flags_tls(c->value, c->allow_auto, &mode), c->status);
        assert_int_equal(mode, c->mode);
        assert_string_equal(failed, c->message ? c->message : "");
    }
}

struct long_case {
    const char *s;
    long min, max;
    int rc;
    long v;
};

static const struct long_case long_cases[] = {
    { "0", 0, 10, 0, 0 },
    { "10", 0, 10, 0, 10 },
    { "11", 0, 10, -1, 0 },
    { "-1", 0, 10, -1, 0 },
    { "-1", -5, 10, 0, -1 },
    { "", 0, 10, -1, 0 },
    { "1x", 0, 10, -1, 0 },
    { "x1", 0, 10, -1, 0 },
    { "3600", 1, 3600, 0, 3600 },
    { "1000001", 0, 1000000, -1, 0 },
    { "99999999999999999999", 0, 65535, -1, 0 },
};

static void test_parse_long(void **state)
{
    (void)state;
    for (size_t k = 0; k < ARRAY_LEN(long_cases); k++) {
        const struct long_case *c = &long_cases[k];
        long v = 0;

        print_message("long case %zu: \"%s\"\n", k, c->s);
        assert_int_equal(ctl_parse_long(c->s, c->min, c->max, &v), c->rc);
        assert_int_equal(v, c->v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_oauth_flags),
        cmocka_unit_test(test_values_are_argv),
        cmocka_unit_test(test_tls),
        cmocka_unit_test(test_parse_long),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
