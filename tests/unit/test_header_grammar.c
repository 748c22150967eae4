/*
 * test_header_grammar.c - one table of header lines, read by the three
 * readers of a header section (SPEC §4 "one header grammar"): the grammar
 * function itself, the listener (smtpd session: tenant header taken and
 * removed, From: counted, where the body starts), the rewriter (delivery's
 * rewrite_headers) and the milter (milter_plan_build, with the name as
 * Postfix passes it and as Sendmail does, blanks before the colon kept).
 * Every row must give the same answer in all of them.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "unit.h"
#include "milter_fixture.h"
#include "smtpd_mem.h"
#include "tenantrelay/conf.h"
#include "tenantrelay/dbuf.h"
#include "tenantrelay/milter.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/rewrite.h"
#include "tenantrelay/smtpd.h"
#include "tenantrelay/tenant.h"

enum kind {
    NOT_FIELD,                  /* the body starts at this line */
    TENANT,                     /* the tenant header, value "acme" */
    FROM,                       /* a second From: (5.6.0) */
    OTHER,                      /* another field, passed on */
};

struct row {
    const char *line;
    enum kind kind;
    size_t name_len;
};

static const struct row rows[] = {
    { "X-Tenant-ID: acme", TENANT, 11 },
    { "X-Tenant-ID : acme", TENANT, 11 },
    { "X-Tenant-ID\t: acme", TENANT, 11 },
    { "x-tenant-id \t :acme", TENANT, 11 },
    { "X-TENANT-ID   :   acme", TENANT, 11 },
    { "From : ceo@bank.example", FROM, 4 },
    { "From\t: ceo@bank.example", FROM, 4 },
    { "FROM:ceo@bank.example", FROM, 4 },
    { "X-Tenant-IDx : acme", OTHER, 12 },
    { "Subject : hello", OTHER, 7 },
    { "X-Tenant ID: acme", NOT_FIELD, 0 },
    { ": acme", NOT_FIELD, 0 },
    { "X-Tenant-ID acme", NOT_FIELD, 0 },
    { "X-Tenant-ID \t", NOT_FIELD, 0 },
};

/* ---- the listener, fed from memory ---- */

static void check_listener(const struct row *r)
{
    struct smtpd_params p = { "test", "relay.test", "127.0.0.1", 200000, 10, 2000, false, false, "X-Tenant-ID" };
    struct mem m;
    struct dbuf in = DBUF_INIT, out = DBUF_INIT;
    struct smtpd_session *s;

    memset(&m, 0, sizeof(m));
    dbuf_printf(&in, "EHLO app.test\r\nMAIL FROM:<app@platform.test>\r\nRCPT TO:<u@example.test>\r\nDATA\r\n"
                     "From: app@platform.test\r\n%s\r\nSubject: s\r\n\r\nbody\r\n.\r\nQUIT\r\n", r->line);
    s = smtpd_session_new(&p, &mem_ops, &m);
    (void)smtpd_session_input(s, in.data, in.len);
    dbuf_append(&out, smtpd_session_output(s)->data, smtpd_session_output(s)->len);
    dbuf_append(&out, "", 0);
    smtpd_session_free(s);
    dbuf_append(&m.last, "", 0);

    if (r->kind == FROM) {
        if (m.committed != 0 || strstr(out.data, "550 5.6.0") == NULL)
            fail_msg("listener, \"%s\": a second From: must be refused 5.6.0:\n%s", r->line, out.data);
    } else if (m.committed != 1) {
        fail_msg("listener, \"%s\": not accepted:\n%s", r->line, out.data);
    } else if (r->kind == TENANT) {
        if (strcmp(m.tenants, "acme|") != 0 || strstr(m.last.data, r->line) != NULL)
            fail_msg("listener, \"%s\": tenant header not taken (\"%s\") or not removed", r->line, m.tenants);
    } else {
        size_t hlen = rewrite_header_length(m.last.data, m.last.len);
        const char *at = strstr(m.last.data, r->line);

        if (m.tenants[0] != 0 || at == NULL)
            fail_msg("listener, \"%s\": changed or taken as a tenant header", r->line);
        /* The rewriter must find the header section ending where the
         * listener decided: before a non-field, after a field. */
        if (r->kind == NOT_FIELD && hlen != (size_t)(at - m.last.data))
            fail_msg("listener, \"%s\": the body does not start at this line", r->line);
        if (r->kind == OTHER && hlen <= (size_t)(at - m.last.data) + strlen(r->line))
            fail_msg("listener, \"%s\": a field taken for the body", r->line);
    }
    dbuf_free(&in);
    dbuf_free(&out);
    dbuf_free(&m.stored);
    dbuf_free(&m.last);
}

/* ---- the rewriter (delivery) ---- */

static void check_rewriter(const struct row *r)
{
    const char *remove[] = { "X-Tenant-ID", NULL };
    struct rewrite_opts o = { remove, "n@platform.test", true, NULL };
    struct rewrite_report rep;
    struct dbuf msg = DBUF_INIT, out = DBUF_INIT;
    enum rewrite_status st;
    size_t hlen;

    dbuf_printf(&msg, "From: app@platform.test\r\n%s\r\nSubject: s\r\n\r\nbody\r\n", r->line);
    hlen = rewrite_header_length(msg.data, msg.len);
    if (r->kind == NOT_FIELD) {
        if (hlen != strlen("From: app@platform.test\r\n"))
            fail_msg("rewriter, \"%s\": the header section does not end before it (%zu)", r->line, hlen);
        goto done;
    }
    st = rewrite_headers(msg.data, hlen, &o, &out, &rep);
    if (r->kind == FROM) {
        if (st != REWRITE_MULTIPLE_FROM)
            fail_msg("rewriter, \"%s\": a second From: not seen (%d)", r->line, st);
    } else if (st != REWRITE_OK) {
        fail_msg("rewriter, \"%s\": status %d", r->line, st);
    } else if (r->kind == TENANT) {
        if (rep.removed != 1 || strstr(dbuf_str(&out), "acme") != NULL)
            fail_msg("rewriter, \"%s\": tenant header not removed", r->line);
        if (rewrite_count_header(msg.data, hlen, "x-tenant-id") != 1)
            fail_msg("rewriter, \"%s\": not counted", r->line);
    } else if (rep.removed != 0 || strstr(dbuf_str(&out), r->line) == NULL) {
        fail_msg("rewriter, \"%s\": changed", r->line);
    }
done:
    dbuf_free(&msg);
    dbuf_free(&out);
}

/* ---- the milter ---- */

static int setup(void **state)
{
    (void)state;
    milter_fixture_load("/tmp/tr-grammar.XXXXXX",
                        "tenants = ( { id = \"acme\"; host = \"smtp.acme.example\"; sender = \"mailer@acme.test\"; } );\n",
                        "");
    return 0;
}

/* The MTA hands over a field as name and value; keep_blanks: the blanks
 * before the colon stay with the name (Sendmail), else not (Postfix). */
static void check_milter(const struct row *r, bool keep_blanks)
{
    struct milter_message m;
    struct milter_plan p;
    const char *colon = strchr(r->line, ':');
    size_t nlen = keep_blanks ? (size_t)(colon - r->line) : r->name_len;
    char *name = mystrndup(r->line, nlen);
    const char *value = colon + 1;
    bool deleted = false;

    while (*value == ' ')
        value++;
    milter_message_init(&m);
    m.sender = mystrdup("app@platform.test");
    m.client_trusted = true;
    milter_message_add_header(&m, "From", "app@platform.test");
    milter_message_add_header(&m, name, value);
    milter_message_add_header(&m, "Subject", "s");
    assert_int_equal(milter_plan_build(conf, store, &m, &p), 0);
    for (size_t i = 0; i < p.nedits; i++)
        if (p.edits[i].op == MILTER_EDIT_DELETE)
            deleted = true;
    if (r->kind == FROM) {
        if (p.verdict != MILTER_REJECT || strcmp(p.xcode, "5.6.0") != 0)
            fail_msg("milter, \"%s\" (name \"%s\"): a second From: not refused 5.6.0", r->line, name);
    } else if (p.verdict != MILTER_ACCEPT) {
        fail_msg("milter, \"%s\" (name \"%s\"): refused: %s", r->line, name, p.text);
    } else if (r->kind == TENANT) {
        if (strcmp(p.tenant, "acme") != 0 || !deleted || p.removed != 1)
            fail_msg("milter, \"%s\" (name \"%s\"): tenant \"%s\", removed %d", r->line, name, p.tenant,
                     p.removed);
    } else if (p.tenant[0] != 0 || deleted) {
        fail_msg("milter, \"%s\" (name \"%s\"): taken as a tenant header", r->line, name);
    }
    milter_plan_free(&p);
    milter_message_reset(&m);
    myfree(name);
}

static void test_grammar(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
        const struct row *r = &rows[i];
        size_t at = 0, n = rewrite_field_name(r->line, strlen(r->line), &at);

        if (n != r->name_len)
            fail_msg("grammar, \"%s\": name length %zu, want %zu", r->line, n, r->name_len);
        if (n > 0 && r->line[at - 1] != ':')
            fail_msg("grammar, \"%s\": value does not follow the colon", r->line);
    }
}

static void test_listener(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(rows); i++)
        check_listener(&rows[i]);
}

static void test_rewriter(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(rows); i++)
        check_rewriter(&rows[i]);
}

static void test_milter(void **state)
{
    (void)state;
    /* A line that is no field never reaches a milter as a header: the MTA
     * takes it for the body. */
    for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
        if (rows[i].kind == NOT_FIELD)
            continue;
        check_milter(&rows[i], false);
        check_milter(&rows[i], true);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grammar),
        cmocka_unit_test(test_listener),
        cmocka_unit_test(test_rewriter),
        cmocka_unit_test_setup_teardown(test_milter, setup, milter_fixture_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
