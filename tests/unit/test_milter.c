/*
 * test_milter.c - the milter's decision per message (milter_plan_build):
 * verdicts and replies, and the exact list of milter edits, table-driven
 * against a real configuration and tenant store loaded from files.  Every
 * accepted case is also replayed the way an MTA applies the edits and
 * compared with what tenantrelayd's delivery writes for the same header
 * section (rewrite_headers with delivery's options): the same result.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "unit.h"
#include "milter_fixture.h"
#include "tenantrelay/dbuf.h"
#include "tenantrelay/milter.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/rewrite.h"

static int setup(void **state)
{
    (void)state;
    milter_fixture_load("/tmp/tr-milter.XXXXXX",
                        "tenants = (\n"
                        "  { id = \"acme\"; host = \"smtp.acme.example\"; sender = \"mailer@acme.test\";\n"
                        "    domains = [ \"acme.test\" ]; },\n"
                        "  { id = \"beta\"; host = \"smtp.beta.example\"; sender = \"n@beta.test\"; enabled = false;\n"
                        "    domains = [ \"beta.test\" ]; },\n"
                        "  { id = \"keep\"; host = \"smtp.keep.example\"; sender = \"out@keep.test\";\n"
                        "    rewrite_from = false; rewrite_sender = false; domains = [ \"keep.test\" ]; },\n"
                        "  { id = \"zed\"; host = \"smtp.zed.example\"; sender = \"n@zed.test\"; }\n"
                        ");\n",
                        "tenant_resolution = [ \"header\", \"sender\", \"auth\" ];\n");
    return 0;
}

#define MAXH 8
#define MAXE 10

struct plan_case {
    const char *name;
    enum conf_unknown_tenant unknown;
    const char *client;         /* "trusted", "untrusted" */
    const char *auth;
    const char *sender;         /* as the MTA passes it, with brackets */
    const char *headers[MAXH];  /* "Name: value" (value as the MTA passes it) */
    enum milter_verdict verdict;
    const char *reply;          /* "550 5.7.1 text prefix" when refused */
    const char *tenant;         /* "" for the default route */
    const char *edits[MAXE];    /* milter_edit_format() of each edit, in order */
};

static const struct plan_case cases[] = {
    { "default route: From rewritten, Reply-To after it, envelope sender", CONF_UNKNOWN_DEFAULT, "trusted",
      NULL, "<app@platform.test>", { "To: u@example.test", "From: \"Ops, Team\" <ops@platform.test>", "Subject: hi" },
      MILTER_ACCEPT, NULL, "",
      { "insert 3 Reply-To \"Ops, Team\" <ops@platform.test>",
        "change From 1 \"Ops, Team\" <notifications@platform.test>",
        "chgfrom <notifications@platform.test>" } },
    { "tenant by header: every copy deleted last to first, stamp added", CONF_UNKNOWN_DEFAULT, "trusted",
      NULL, "<app@platform.test>",
      { "X-Tenant-ID: acme", "From: =?UTF-8?Q?Ren=C3=A9e?= <renee@platform.test>", "x-tenant-id: ACME ",
        "Subject: s" },
      MILTER_ACCEPT, NULL, "acme",
      { "insert 3 Reply-To =?UTF-8?Q?Ren=C3=A9e?= <renee@platform.test>", "delete X-Tenant-ID 2",
        "delete X-Tenant-ID 1", "change From 1 =?UTF-8?Q?Ren=C3=A9e?= <mailer@acme.test>",
        "chgfrom <mailer@acme.test>", "add X-Tenant-ID acme" } },
    { "tenant by sender domain", CONF_UNKNOWN_DEFAULT, "untrusted", NULL, "<app@acme.test>",
      { "From: App <app@acme.test>", "Reply-To: desk@acme.test" }, MILTER_ACCEPT, NULL, "acme",
      { "change From 1 App <mailer@acme.test>", "chgfrom <mailer@acme.test>", "add X-Tenant-ID acme" } },
    { "untrusted header removed and ignored", CONF_UNKNOWN_REJECT, "untrusted", NULL, "<app@platform.test>",
      { "From: notifications@platform.test", "X-Tenant-ID: acme" }, MILTER_ACCEPT, NULL, "",
      { "delete X-Tenant-ID 1", "chgfrom <notifications@platform.test>" } },
    { "authenticated client: header trusted", CONF_UNKNOWN_DEFAULT, "untrusted", "someone",
      "<app@platform.test>", { "X-Tenant-ID: zed", "From: n@zed.test" }, MILTER_ACCEPT, NULL, "zed",
      { "delete X-Tenant-ID 1", "chgfrom <n@zed.test>", "add X-Tenant-ID zed" } },
    { "auth identity names the tenant", CONF_UNKNOWN_DEFAULT, "untrusted", "zed", "<>",
      { "Subject: no from" }, MILTER_ACCEPT, NULL, "zed",
      { "add From n@zed.test", "chgfrom <n@zed.test>", "add X-Tenant-ID zed" } },
    { "conflicting headers: 5.7.1", CONF_UNKNOWN_DEFAULT, "trusted", NULL, "<app@platform.test>",
      { "X-Tenant-ID: acme", "From: a@platform.test", "X-Tenant-ID: zed" }, MILTER_REJECT,
      "550 5.7.1 Error: conflicting X-Tenant-ID headers", "", { NULL } },
    { "unknown tenant, default route", CONF_UNKNOWN_DEFAULT, "trusted", NULL, "<app@platform.test>",
      { "X-Tenant-ID: nope", "From: a@platform.test" }, MILTER_ACCEPT, NULL, "",
      { "insert 3 Reply-To a@platform.test", "delete X-Tenant-ID 1",
        "change From 1 notifications@platform.test", "chgfrom <notifications@platform.test>" } },
    { "unknown tenant, reject", CONF_UNKNOWN_REJECT, "trusted", NULL, "<app@platform.test>",
      { "X-Tenant-ID: nope" }, MILTER_REJECT, "550 5.7.1 Error: tenant 'nope' is unknown", "", { NULL } },
    { "unknown tenant, tempfail", CONF_UNKNOWN_TEMPFAIL, "trusted", NULL, "<app@platform.test>",
      { "X-Tenant-ID: nope" }, MILTER_TEMPFAIL, "451 4.7.1 Error: tenant 'nope' is unknown", "", { NULL } },
    { "disabled tenant by sender, reject", CONF_UNKNOWN_REJECT, "untrusted", NULL, "<x@beta.test>",
      { "From: x@beta.test" }, MILTER_REJECT, "550 5.7.1 Error: tenant 'beta' is disabled", "", { NULL } },
    { "a '%' in a reply is neutralised", CONF_UNKNOWN_REJECT, "trusted", NULL, "<app@platform.test>",
      { "X-Tenant-ID: 100%s" }, MILTER_REJECT, "550 5.7.1 Error: tenant '100?s' is unknown", "", { NULL } },
    { "two From: headers: 5.6.0", CONF_UNKNOWN_DEFAULT, "trusted", NULL, "<app@platform.test>",
      { "From: a@platform.test", "From: b@platform.test" }, MILTER_REJECT,
      "550 5.6.0 Error: message has more than one From:", "", { NULL } },
    { "a bare CR in a header: 5.6.0", CONF_UNKNOWN_DEFAULT, "trusted", NULL, "<app@platform.test>",
      { "Subject: a\rb" }, MILTER_REJECT, "550 5.6.0 Error: malformed header section", "", { NULL } },
    { "a line end in a value that starts no fold: 5.6.0", CONF_UNKNOWN_DEFAULT, "trusted", NULL,
      "<app@platform.test>", { "Subject: a\nX-Tenant-ID: zed", "From: a@platform.test" }, MILTER_REJECT,
      "550 5.6.0 Error: malformed header section", "", { NULL } },
    { "a value ending in a line end: 5.6.0 (it would end the section early)", CONF_UNKNOWN_DEFAULT, "trusted",
      NULL, "<app@platform.test>", { "Subject: a\r\n", "From: a@platform.test" }, MILTER_REJECT,
      "550 5.6.0 Error: malformed header section", "", { NULL } },
    { "a name that is no field name: 5.6.0", CONF_UNKNOWN_DEFAULT, "trusted", NULL, "<app@platform.test>",
      { "From: a@platform.test", " Bad Name: x" }, MILTER_REJECT, "550 5.6.0 Error: malformed header section", "",
      { NULL } },
    { "From: already the route's sender, envelope too: nothing to do", CONF_UNKNOWN_DEFAULT, "trusted", NULL,
      "<notifications@platform.test>", { "From: Platform <notifications@platform.test>" }, MILTER_ACCEPT,
      NULL, "", { NULL } },
    { "route with both rewrites off: only the header work", CONF_UNKNOWN_DEFAULT, "untrusted", NULL,
      "<app@keep.test>", { "From: app@keep.test", "X-Tenant-ID: zed" }, MILTER_ACCEPT, NULL, "keep",
      { "delete X-Tenant-ID 1", "add X-Tenant-ID keep" } },
    { "folded From: value (LF folds, as Postfix passes them)", CONF_UNKNOWN_DEFAULT, "trusted", NULL,
      "<a@acme.test>", { "Subject: x", "From: \"A very long display name\"\n\t<a@acme.test>" }, MILTER_ACCEPT,
      NULL, "acme",
      { "insert 3 Reply-To \"A very long display name\"\n\t<a@acme.test>",
        "change From 1 \"A very long display name\" <mailer@acme.test>", "chgfrom <mailer@acme.test>",
        "add X-Tenant-ID acme" } },
};

static void load_message(const struct plan_case *c, struct milter_message *m)
{
    milter_message_init(m);
    m->sender = milter_envelope_address(c->sender);
    m->auth_id = c->auth ? mystrdup(c->auth) : NULL;
    m->client_trusted = strcmp(c->client, "trusted") == 0 || c->auth != NULL;
    for (size_t i = 0; i < MAXH && c->headers[i]; i++) {
        const char *colon = strchr(c->headers[i], ':');
        char *name = mystrndup(c->headers[i], (size_t)(colon - c->headers[i]));

        milter_message_add_header(m, name, colon + 2);
        myfree(name);
    }
}

/* The MTA's side: apply the edits to the header list, as Postfix and
 * Sendmail do (per-name indexes over the current fields, insert at a
 * position, add at the end), and write the section in delivery's form. */
struct hlist {
    char *name[32];
    char *value[32];
    int n;
};

static int nth(struct hlist *h, const char *name, int index)
{
    for (int i = 0; i < h->n; i++)
        if (strcasecmp(h->name[i], name) == 0 && --index == 0)
            return i;
    return -1;
}

static void replay(const struct milter_message *m, const struct milter_plan *p, struct dbuf *out)
{
    struct hlist h = { { NULL }, { NULL }, 0 };

    /* The MTA's own Received:, counted in positions but never shown. */
    for (int i = 0; i < MILTER_HIDDEN_HEADERS; i++) {
        h.name[h.n] = mystrdup("Received");
        h.value[h.n++] = mystrdup("from hidden");
    }
    for (size_t i = 0; i < m->nheaders; i++) {
        h.name[h.n] = mystrdup(m->headers[i].name);
        h.value[h.n++] = mystrdup(m->headers[i].value);
    }
    for (size_t k = 0; k < p->nedits; k++) {
        const struct milter_edit *e = &p->edits[k];
        int at;

        switch (e->op) {
        case MILTER_EDIT_INSERT:
            memmove(&h.name[e->index + 1], &h.name[e->index], (size_t)(h.n - e->index) * sizeof(char *));
            memmove(&h.value[e->index + 1], &h.value[e->index], (size_t)(h.n - e->index) * sizeof(char *));
            h.name[e->index] = mystrdup(e->name);
            h.value[e->index] = mystrdup(e->value);
            h.n++;
            break;
        case MILTER_EDIT_DELETE:
            at = nth(&h, e->name, e->index);
            assert_true(at >= 0);
            myfree(h.name[at]);
            myfree(h.value[at]);
            memmove(&h.name[at], &h.name[at + 1], (size_t)(h.n - at - 1) * sizeof(char *));
            memmove(&h.value[at], &h.value[at + 1], (size_t)(h.n - at - 1) * sizeof(char *));
            h.n--;
            break;
        case MILTER_EDIT_CHANGE:
            at = nth(&h, e->name, e->index);
            assert_true(at >= 0);
            /* Postfix writes the field anew, with the name given. */
            myfree(h.name[at]);
            h.name[at] = mystrdup(e->name);
            myfree(h.value[at]);
            h.value[at] = mystrdup(e->value);
            break;
        case MILTER_EDIT_ADD:
            /* The stamp is for tenantrelayd's listener, which removes it. */
            if (strcasecmp(e->name, conf->tenant_header) == 0)
                break;
            h.name[h.n] = mystrdup(e->name);
            h.value[h.n++] = mystrdup(e->value);
            break;
        case MILTER_EDIT_CHGFROM:
            break;
        }
    }
    for (int i = 0; i < h.n; i++) {
        if (i < MILTER_HIDDEN_HEADERS) {
            assert_string_equal(h.name[i], "Received");
            myfree(h.name[i]);
            myfree(h.value[i]);
            continue;
        }
        dbuf_printf(out, "%s: ", h.name[i]);
        for (const char *v = h.value[i]; *v; v++) {
            if (*v == '\n')
                dbuf_append_char(out, '\r');
            dbuf_append_char(out, *v);
        }
        dbuf_append_str(out, "\r\n");
        myfree(h.name[i]);
        myfree(h.value[i]);
    }
    dbuf_append_str(out, "\r\n");
}

/* What delivery writes for the same header section. */
static void delivered(const struct milter_message *m, const char *tenant, struct dbuf *out)
{
    const struct tenant *t = tenant[0] ? tenant_store_find(store, tenant) : NULL;
    const struct route *r = t ? &t->route : &conf->default_route;
    const char *remove[] = { conf->tenant_header, NULL };
    struct rewrite_opts ro = { remove, r->rewrite_from ? r->sender : NULL, true, NULL };
    struct dbuf sec = DBUF_INIT;

    for (size_t i = 0; i < m->nheaders; i++) {
        dbuf_printf(&sec, "%s: ", m->headers[i].name);
        for (const char *v = m->headers[i].value; *v; v++) {
            if (*v == '\n')
                dbuf_append_char(&sec, '\r');
            dbuf_append_char(&sec, *v);
        }
        dbuf_append_str(&sec, "\r\n");
    }
    dbuf_append_str(&sec, "\r\n");
    assert_int_equal(rewrite_headers(sec.data, sec.len, &ro, out, NULL), REWRITE_OK);
    dbuf_free(&sec);
}

static void test_plans(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct plan_case *c = &cases[i];
        struct milter_message m;
        struct milter_plan p;
        char buf[512];
        size_t nexp = 0;

        conf->unknown_tenant = c->unknown;
        load_message(c, &m);
        assert_int_equal(milter_plan_build(conf, store, &m, &p), 0);
        while (nexp < MAXE && c->edits[nexp])
            nexp++;
        if (p.verdict != c->verdict || strcmp(p.tenant, c->tenant) != 0)
            fail_msg("case \"%s\": verdict %d tenant '%s' reason \"%s\"", c->name, p.verdict, p.tenant,
                     p.reason);
        if (c->reply) {
            snprintf(buf, sizeof(buf), "%s %s %s", p.rcode, p.xcode, p.text);
            if (strncmp(buf, c->reply, strlen(c->reply)) != 0)
                fail_msg("case \"%s\": reply \"%s\"", c->name, buf);
        }
        for (size_t k = 0; k < p.nedits || k < nexp; k++) {
            const char *got = k < p.nedits ? milter_edit_format(&p.edits[k], buf, sizeof(buf)) : "(none)";

            if (k >= nexp || strcmp(got, c->edits[k]) != 0)
                fail_msg("case \"%s\": edit %zu is \"%s\", expected \"%s\"", c->name, k, got,
                         k < nexp ? c->edits[k] : "(none)");
        }
        if (p.verdict == MILTER_ACCEPT) {
            struct dbuf a = DBUF_INIT, b = DBUF_INIT;

            replay(&m, &p, &a);
            delivered(&m, p.tenant, &b);
            if (strcmp(dbuf_str(&a), dbuf_str(&b)) != 0)
                fail_msg("case \"%s\": the milter's result\n%s\ndiffers from delivery's\n%s", c->name,
                         dbuf_str(&a), dbuf_str(&b));
            dbuf_free(&a);
            dbuf_free(&b);
        }
        milter_plan_free(&p);
        milter_message_reset(&m);
    }
}

static void test_envelope_address(void **state)
{
    static const struct {
        const char *in;
        const char *out;
    } t[] = {
        { "<a@b.test>", "a@b.test" }, { "a@b.test", "a@b.test" }, { "<>", "" }, { " <a@b> ", "a@b" },
        { "", "" }, { NULL, "" }, { "<", "<" },
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(t); i++) {
        char *got = milter_envelope_address(t[i].in);

        assert_string_equal(got, t[i].out);
        myfree(got);
    }
}

static void test_header_bytes(void **state)
{
    struct milter_message m;

    (void)state;
    milter_message_init(&m);
    milter_message_add_header(&m, "Subject", "abc");
    milter_message_add_header(&m, "X", NULL);
    assert_int_equal(m.nheaders, 2);
    assert_true(m.header_bytes >= 11);
    assert_string_equal(m.headers[1].value, "");
    milter_message_reset(&m);
    assert_int_equal(m.nheaders, 0);
    assert_null(m.headers);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plans),
        cmocka_unit_test(test_envelope_address),
        cmocka_unit_test(test_header_bytes),
    };

    return cmocka_run_group_tests(tests, setup, milter_fixture_teardown);
}
