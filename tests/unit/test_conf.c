/*
 * test_conf.c - the configuration loader: good files load with the right
 * values; every bad file gives "FILE:LINE: reason" for the right line.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "tenantrelay/conf.h"

static const char minimal[] =
    "default_route = { host = \"smtp.example.net\"; sender = \"n@example.net\"; };\n";

static char *write_temp(const char *text)
{
    static char path[64];
    int fd;

    strcpy(path, "/tmp/tr-conf-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_minimal_defaults(void **state)
{
    struct conf_error err = { "" };
    char *path = write_temp(minimal);
    struct conf *c = conf_load(path, &err);

    assert_non_null(c);
    assert_int_equal(c->listen_count, 1);
    assert_string_equal(c->listen[0].address, "127.0.0.1");
    assert_int_equal(c->listen[0].port, 25);
    assert_int_equal(c->default_route.port, 25);
    assert_int_equal(c->default_route.tls, ROUTE_TLS_STARTTLS);
    assert_true(c->default_route.tls_verify);
    assert_string_equal(c->tenant_header, "X-Tenant-ID");
    assert_int_equal(c->resolution_count, 2);
    assert_int_equal(c->resolution[0], CONF_RESOLVE_HEADER);
    assert_int_equal(c->limits.max_line_length, 65536);
    assert_int_equal(c->retry.schedule_len, 5);
    assert_int_equal(c->retry.schedule[4], 3600);
    assert_int_equal(c->retry.max_age, 432000);
    unlink(path);
    conf_unref(c);
}

static void test_reference_sample(void **state)
{
    struct conf_error err = { "" };
    char path[4096];
    struct conf *c;

    snprintf(path, sizeof(path), "%s/etc/tenantrelay.conf",
             getenv("top_srcdir") ? getenv("top_srcdir") : ".");
    c = conf_load(path, &err);
    if (c == NULL)
        fail_msg("%s", err.text);
    assert_int_equal(c->default_route.port, 465);
    assert_int_equal(c->default_route.tls, ROUTE_TLS_IMPLICIT);
    assert_string_equal(c->milter.socket, "unix:/var/spool/postfix/tenantrelay/milter.sock");
    assert_int_equal(c->milter.socket_mode, 0660);
    conf_unref(c);
}

struct bad_case {
    const char *text;
    const char *expect;         /* substring of the error, after FILE: */
};

/* Each bad configuration and the ":LINE: reason" it must produce. */
static const struct bad_case bad_cases[] = {
    { "bogus = 1;\ndefault_route = { host = \"h.example\"; sender = \"a@b.example\"; };\n",
      ":1: unknown key 'bogus'" },
    { "default_route = { host = \"h.example\"; sender = \"a@b.example\";\n  prot = 25; };\n",
      ":2: unknown key 'prot'" },
    { "listen = ( { address = \"127.0.0.1\";\n port = 70000; } );\n"
      "default_route = { host = \"h.example\"; sender = \"a@b.example\"; };\n",
      ":2: key 'port': 70000 is out of range 1..65535" },
    { "hostname = 5;\ndefault_route = { host = \"h.example\"; sender = \"a@b.example\"; };\n",
      ":1: key 'hostname' must be a string, not an integer" },
    { "limits = { max_recipients = \"100\"; };\n"
      "default_route = { host = \"h.example\"; sender = \"a@b.example\"; };\n",
      ":1: key 'max_recipients' must be an integer, not a string" },
    { "unknown_tenant = \"drop\";\n"
      "default_route = { host = \"h.example\"; sender = \"a@b.example\"; };\n",
      ":1: key 'unknown_tenant': \"drop\" is not one of" },
    { "\n\nlisten = ( { address = \"0.0.0.0\"; port = 2525; } );\n"
      "default_route = { host = \"h.example\"; sender = \"a@b.example\"; };\n",
      ":3: listen address \"0.0.0.0\" is not loopback: set allowed_networks explicitly" },
    { "allowed_networks = [ \"10.0.0.0/33\" ];\n"
      "default_route = { host = \"h.example\"; sender = \"a@b.example\"; };\n",
      ":1: key 'allowed_networks': \"10.0.0.0/33\" is not an address or network" },
    { "default_route = { host = \"h.example\"; sender = \"not-an-address\"; };\n",
      ":1: key 'sender': \"not-an-address\" is not a valid address" },
    { "default_route = { host = \"h.example\"; sender = \"a@b.example\";\n"
      " tls = \"none\"; };\n",
      ":2: key 'tls': \"none\" requires insecure_plaintext = true" },
    { "default_route = { host = \"h.example\"; sender = \"a@b.example\";\n"
      " username = \"u\"; };\n",
      ":1: keys 'username' and 'password' go together" },
    { "hostname = \"relay.example\";\n",
      "key 'default_route' is required" },
    { "default_route = { host = ; };\n",
      ":1: syntax error" },
    { "retry = { schedule = [ ]; };\n"
      "default_route = { host = \"h.example\"; sender = \"a@b.example\"; };\n",
      ":1: key 'schedule' must be a non-empty array of seconds" },
    { "tenant_resolution = [ \"header\", \"header\" ];\n"
      "default_route = { host = \"h.example\"; sender = \"a@b.example\"; };\n",
      ":1: key 'tenant_resolution': \"header\" appears twice" },
    { "milter = { socket = \"/tmp/x.sock\"; };\n"
      "default_route = { host = \"h.example\"; sender = \"a@b.example\"; };\n",
      ":1: key 'socket': \"/tmp/x.sock\" must start with unix:" },
    { "key_credential = \"tenantrelay.key\";\nkey_file = \"/etc/k\";\n"
      "default_route = { host = \"h.example\"; sender = \"a@b.example\"; };\n",
      ":2: keys 'key_file' and 'key_credential' are exclusive" },
};

static void test_bad_files(void **state)
{
    for (size_t i = 0; i < ARRAY_LEN(bad_cases); i++) {
        struct conf_error err = { "" };
        char *path = write_temp(bad_cases[i].text);
        struct conf *c = conf_load(path, &err);

        if (c != NULL)
            fail_msg("case %zu loaded but should fail with %s", i, bad_cases[i].expect);
        if (strncmp(err.text, path, strlen(path)) != 0 || strstr(err.text, bad_cases[i].expect) == NULL)
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, err.text, bad_cases[i].expect);
        unlink(path);
    }
}

static void test_missing_file(void **state)
{
    struct conf_error err = { "" };

    assert_null(conf_load("/nonexistent/tenantrelay.conf", &err));
    assert_non_null(strstr(err.text, "/nonexistent/tenantrelay.conf:0: cannot open"));
}

static void test_unreadable_named_file(void **state)
{
    struct conf_error err = { "" };
    char *path = write_temp("default_route = { host = \"h.example\"; sender = \"a@b.example\";\n"
                            " ca_file = \"/nonexistent/ca.pem\"; };\n");
    struct conf *c = conf_load(path, &err);

    assert_non_null(c);
    assert_int_equal(conf_check_files(c, &err), -1);
    assert_non_null(strstr(err.text, "key 'ca_file': cannot read \"/nonexistent/ca.pem\""));
    conf_unref(c);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_defaults),
        cmocka_unit_test(test_reference_sample),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_unreadable_named_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
