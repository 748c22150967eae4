/*
 * fuzz_milter_plan.c - libFuzzer harness for the milter's decision
 * (milter_plan_build), differential against delivery's rewrite.
 *
 * Input: one option byte (bit 0 trusted client, bit 1 authenticated as
 * "zed", bits 2-3 unknown_tenant), the envelope sender up to the first
 * '\n', then header fields one per '\n'-separated line as "Name:value"
 * ('\x01' in a value stands for a fold, "\n\t").  Properties: the plan is
 * made; a refusal has no edits and a 4xx/5xx reply of printable text
 * without '%'; an acceptance replayed as an MTA applies the edits (the
 * MTA's hidden Received: counted; names matched by the one header
 * grammar, as Postfix matches them) gives exactly the header section
 * rewrite_headers() writes at delivery, the stamp aside.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "tenantrelay/dbuf.h"
#include "tenantrelay/milter.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/rewrite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct conf *conf;
static struct tenant_store *store;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char dir[] = "/tmp/tr-fuzz-milter.XXXXXX", path[128], cpath[128];
    struct conf_error err = { "" };
    FILE *fp;

    (void)argc;
    (void)argv;
    if (mkdtemp(dir) == NULL)
        abort();
    snprintf(path, sizeof(path), "%s/tenants", dir);
    snprintf(cpath, sizeof(cpath), "%s/relay.conf", dir);
    fp = fopen(path, "w");
    fputs("tenants = (\n"
          "  { id = \"acme\"; host = \"h\"; sender = \"mailer@acme.test\"; domains = [ \"acme.test\" ]; },\n"
          "  { id = \"beta\"; host = \"h\"; sender = \"n@beta.test\"; enabled = false; domains = [ \"beta.test\" ]; },\n"
          "  { id = \"keep\"; host = \"h\"; sender = \"o@keep.test\"; rewrite_from = false; domains = [ \"keep.test\" ]; },\n"
          "  { id = \"zed\"; host = \"h\"; sender = \"n@zed.test\"; }\n);\n", fp);
    fclose(fp);
    fp = fopen(cpath, "w");
    fprintf(fp, "tenant_store = \"%s\";\ntenant_resolution = [ \"header\", \"sender\", \"auth\" ];\n"
                "default_route = { host = \"h\"; sender = \"notifications@platform.test\"; };\n", path);
    fclose(fp);
    if ((conf = conf_load(cpath, &err)) == NULL || (store = tenant_store_load(path, &err)) == NULL) {
        fprintf(stderr, "%s\n", err.text);
        abort();
    }
    unlink(path);
    unlink(cpath);
    rmdir(dir);
    return 0;
}

static char *field_value_copy(const char *s, size_t len)
{
    char *v = mystrndup(s, len);

    for (char *p = v; *p; p++)
        if (*p == '\x01')
            *p = '\n';
    return v;
}

/* A value in delivery's form: LF or CRLF line ends as CRLF, a lone CR kept. */
static void append_value(struct dbuf *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '\r' && v[1] == '\n')
            continue;
        if (*v == '\n')
            dbuf_append_char(out, '\r');
        dbuf_append_char(out, *v);
    }
}

/* Whether the MTA's field name a names field b: by the one header grammar,
 * as Postfix matches names (blanks before the colon do not count). */
static bool same_field(const char *a, const char *b)
{
    struct dbuf x = DBUF_INIT;
    size_t n;

    dbuf_printf(&x, "%s:", a);
    n = rewrite_field_name(x.data, x.len, NULL);
    dbuf_free(&x);
    return n > 0 && n == strlen(b) && strncasecmp(a, b, n) == 0;
}

/* The section an MTA ends up with: hidden Received: first, edits applied. */
static void replay(const struct milter_message *m, const struct milter_plan *p, struct dbuf *out)
{
    size_t n = MILTER_HIDDEN_HEADERS + m->nheaders, cap = n + p->nedits + 1;
    char **name = mycalloc(cap, sizeof(char *)), **value = mycalloc(cap, sizeof(char *));

    for (size_t i = 0; i < MILTER_HIDDEN_HEADERS; i++) {
        name[i] = mystrdup("Received");
        value[i] = mystrdup("hidden");
    }
    for (size_t i = 0; i < m->nheaders; i++) {
        name[MILTER_HIDDEN_HEADERS + i] = mystrdup(m->headers[i].name);
        value[MILTER_HIDDEN_HEADERS + i] = mystrdup(m->headers[i].value);
    }
    for (size_t k = 0; k < p->nedits; k++) {
        const struct milter_edit *e = &p->edits[k];
        size_t at = n;
        int idx = e->index;

        if (e->op == MILTER_EDIT_DELETE || e->op == MILTER_EDIT_CHANGE) {
            for (size_t i = 0; i < n; i++)
                if (same_field(name[i], e->name) && --idx == 0) {
                    at = i;
                    break;
                }
            if (at == n)
                abort();        /* an edit aimed at a field that is not there */
        }
        switch (e->op) {
        case MILTER_EDIT_INSERT:
            if ((size_t)e->index > n)
                abort();
            memmove(&name[e->index + 1], &name[e->index], (n - (size_t)e->index) * sizeof(char *));
            memmove(&value[e->index + 1], &value[e->index], (n - (size_t)e->index) * sizeof(char *));
            name[e->index] = mystrdup(e->name);
            value[e->index] = mystrdup(e->value);
            n++;
            break;
        case MILTER_EDIT_DELETE:
            myfree(name[at]);
            myfree(value[at]);
            memmove(&name[at], &name[at + 1], (n - at - 1) * sizeof(char *));
            memmove(&value[at], &value[at + 1], (n - at - 1) * sizeof(char *));
            n--;
            break;
        case MILTER_EDIT_CHANGE:
            /* Postfix writes the field anew, with the name given. */
            myfree(name[at]);
            name[at] = mystrdup(e->name);
            myfree(value[at]);
            value[at] = mystrdup(e->value);
            break;
        case MILTER_EDIT_ADD:
            if (!same_field(e->name, conf->tenant_header)) {
                name[n] = mystrdup(e->name);
                value[n++] = mystrdup(e->value);
            }
            break;
        case MILTER_EDIT_CHGFROM:
            break;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (i >= MILTER_HIDDEN_HEADERS) {
            dbuf_printf(out, "%s: ", name[i]);
            append_value(out, value[i]);
            dbuf_append_str(out, "\r\n");
        }
        myfree(name[i]);
        myfree(value[i]);
    }
    dbuf_append_str(out, "\r\n");
    myfree(name);
    myfree(value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum conf_unknown_tenant modes[] = { CONF_UNKNOWN_DEFAULT, CONF_UNKNOWN_REJECT,
                                                      CONF_UNKNOWN_TEMPFAIL, CONF_UNKNOWN_DEFAULT };
    const char *s = (const char *)data + 1, *end = (const char *)data + size, *nl;
    struct milter_message m;
    struct milter_plan p;

    if (size < 1 || memchr(data, 0, size) != NULL)
        return 0;           /* C strings, as libmilter hands them over */
    conf->unknown_tenant = modes[(data[0] >> 2) & 3];
    milter_message_init(&m);
    m.client_trusted = (data[0] & 3) != 0;
    m.auth_id = data[0] & 2 ? mystrdup("zed") : NULL;
    nl = memchr(s, '\n', (size_t)(end - s));
    {
        char *arg = mystrndup(s, nl ? (size_t)(nl - s) : (size_t)(end - s));

        m.sender = milter_envelope_address(arg);
        myfree(arg);
    }
    s = nl ? nl + 1 : end;
    while (s < end && m.nheaders < 200) {
        const char *line_end = memchr(s, '\n', (size_t)(end - s));
        size_t len = line_end ? (size_t)(line_end - s) : (size_t)(end - s);
        const char *colon = memchr(s, ':', len);

        if (colon && colon > s) {
            char *name = mystrndup(s, (size_t)(colon - s));
            char *value = field_value_copy(colon + 1, len - (size_t)(colon + 1 - s));

            milter_message_add_header(&m, name, value);
            myfree(name);
            myfree(value);
        }
        s = line_end ? line_end + 1 : end;
    }

    if (milter_plan_build(conf, store, &m, &p) < 0)
        abort();
    if (p.verdict != MILTER_ACCEPT) {
        if (p.nedits != 0 || (p.rcode[0] != '4' && p.rcode[0] != '5') || p.xcode[0] != p.rcode[0])
            abort();
        for (const char *t = p.text; *t; t++)
            if (*t < 0x20 || *t > 0x7e || *t == '%')
                abort();
    } else {
        const struct tenant *t = p.tenant[0] ? tenant_store_find(store, p.tenant) : NULL;
        const struct route *r = t ? &t->route : &conf->default_route;
        const char *remove[] = { conf->tenant_header, NULL };
        struct rewrite_opts ro = { remove, r->rewrite_from ? r->sender : NULL, true, NULL };
        struct dbuf sec = DBUF_INIT, a = DBUF_INIT, b = DBUF_INIT;

        for (size_t i = 0; i < m.nheaders; i++) {
            dbuf_printf(&sec, "%s: ", m.headers[i].name);
            append_value(&sec, m.headers[i].value);
            dbuf_append_str(&sec, "\r\n");
        }
        dbuf_append_str(&sec, "\r\n");
        if (rewrite_headers(sec.data, sec.len, &ro, &b, NULL) != REWRITE_OK)
            abort();        /* the milter accepted what delivery refuses */
        replay(&m, &p, &a);
        if (strcmp(dbuf_str(&a), dbuf_str(&b)) != 0) {
            fprintf(stderr, "milter:\n%s\ndelivery:\n%s\n", dbuf_str(&a), dbuf_str(&b));
            abort();
        }
        dbuf_free(&sec);
        dbuf_free(&a);
        dbuf_free(&b);
    }
    milter_plan_free(&p);
    milter_message_reset(&m);
    return 0;
}
