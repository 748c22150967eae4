/*
 * milter_plan.c - the milter's decision for one message (see milter.h):
 * resolve the tenant, rewrite the header section the way delivery does, and
 * turn the difference into milter edits.
 *
 * The edits are ordered so that no index depends on an earlier edit:
 * Reply-To: is inserted first (its position counts the fields as the MTA
 * sent them, plus the trace header it hides from milters), then the tenant headers are deleted from the last copy to the
 * first (per-name indexes of the copies still to delete never move), then
 * From: is changed (it is never a tenant header) or added, the envelope
 * sender changed, and the tenant stamp added last, after every copy the
 * client sent is gone.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "tenantrelay/dbuf.h"
#include "tenantrelay/milter.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/resolve.h"
#include "tenantrelay/rewrite.h"

void milter_message_init(struct milter_message *m)
{
    memset(m, 0, sizeof(*m));
}

void milter_message_reset(struct milter_message *m)
{
    for (size_t i = 0; i < m->nheaders; i++) {
        myfree(m->headers[i].name);
        myfree(m->headers[i].value);
    }
    myfree(m->headers);
    myfree(m->sender);
    myfree(m->auth_id);
    milter_message_init(m);
}

void milter_message_add_header(struct milter_message *m, const char *name, const char *value)
{
    if (m->nheaders == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 32;
        m->headers = myrealloc(m->headers, m->cap * sizeof(*m->headers));
    }
    m->headers[m->nheaders].name = mystrdup(name);
    m->headers[m->nheaders].value = mystrdup(value ? value : "");
    m->nheaders++;
    m->header_bytes += strlen(name) + (value ? strlen(value) : 0) + 4;
}

char *milter_envelope_address(const char *arg)
{
    size_t len;

    if (arg == NULL)
        return mystrdup("");
    while (*arg == ' ' || *arg == '\t')
        arg++;
    len = strlen(arg);
    while (len > 0 && (arg[len - 1] == ' ' || arg[len - 1] == '\t'))
        len--;
    if (len >= 2 && arg[0] == '<' && arg[len - 1] == '>') {
        arg++;
        len -= 2;
    }
    return mystrndup(arg, len);
}

static void add_edit(struct milter_plan *p, enum milter_edit_op op, const char *name, int index,
                     const char *value, size_t vlen)
{
    struct milter_edit *e;

    p->edits = myrealloc(p->edits, (p->nedits + 1) * sizeof(*p->edits));
    e = &p->edits[p->nedits++];
    e->op = op;
    e->name = mystrdup_or_null(name);
    e->index = index;
    e->value = value ? mystrndup(value, vlen) : NULL;
}

/* A reply text libmilter and Sendmail pass on as it is: printable ASCII,
 * no '%' (Sendmail expands it). */
static void set_text(char *dst, size_t len, const char *src)
{
    size_t n = 0;

    for (; *src && n + 1 < len; src++)
        dst[n++] = (*src < 0x20 || *src > 0x7e || *src == '%') ? '?' : *src;
    dst[n] = 0;
}

/* "550 5.7.1 text" into the plan's reply fields. */
static void set_reply(struct milter_plan *p, enum milter_verdict v, const char *reply)
{
    const char *sp1 = strchr(reply, ' ');
    const char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;

    p->verdict = v;
    snprintf(p->rcode, sizeof(p->rcode), "%s", v == MILTER_REJECT ? "550" : "451");
    snprintf(p->xcode, sizeof(p->xcode), "%s", v == MILTER_REJECT ? "5.7.1" : "4.7.1");
    if (sp1 && sp2 && sp1 - reply == 3) {
        snprintf(p->rcode, sizeof(p->rcode), "%.3s", reply);
        if ((size_t)(sp2 - sp1 - 1) < sizeof(p->xcode))
            snprintf(p->xcode, sizeof(p->xcode), "%.*s", (int)(sp2 - sp1 - 1), sp1 + 1);
        set_text(p->text, sizeof(p->text), sp2 + 1);
    } else {
        set_text(p->text, sizeof(p->text), reply);
    }
}

/* The length of a field name passed by the MTA, read by the one header
 * grammar (rewrite_field_name): Sendmail may pass the white space before
 * the colon with the name ("X-Tenant-ID "), which names the same field.
 * 0 when it is not a field name. */
static size_t name_len(const char *name)
{
    struct dbuf b = DBUF_INIT;
    size_t n;

    dbuf_append_str(&b, name);
    dbuf_append_char(&b, ':');
    n = rewrite_field_name(b.data, b.len, NULL);
    dbuf_free(&b);
    return n;
}

/* Whether the MTA's field name names the field want (any case). */
static bool name_is(const char *name, const char *want)
{
    size_t n = name_len(name);

    return n > 0 && n == strlen(want) && strncasecmp(name, want, n) == 0;
}

/* The header section as delivery would read it: "Name: value" CRLF lines
 * and the empty line.  A value's folds may come as LF or CRLF; a line end
 * not followed by white space, or a name that is not a field name, cannot
 * come from a real header (it would start or continue another field, or
 * end the section early): -1. */
static int build_section(const struct milter_message *m, struct dbuf *out)
{
    for (size_t i = 0; i < m->nheaders; i++) {
        const char *v = m->headers[i].value;
        const char *n = m->headers[i].name;
        size_t nlen = name_len(n);

        /* A field name by the one grammar (blanks may follow it), and
         * nothing else, or the section would read otherwise. */
        if (nlen == 0 || n[nlen + strspn(n + nlen, " \t")] != 0)
            return -1;
        dbuf_append_str(out, n);
        dbuf_append(out, ": ", 2);
        for (; *v; v++) {
            if (*v == '\r' && v[1] == '\n')
                continue;
            if (*v == '\n') {
                if (v[1] != ' ' && v[1] != '\t')
                    return -1;
                dbuf_append_char(out, '\r');
            }
            dbuf_append_char(out, *v);
        }
        dbuf_append(out, "\r\n", 2);
    }
    dbuf_append(out, "\r\n", 2);
    return 0;
}

/* The value of the first field called name in a rewritten section, the
 * way a milter passes it: one leading space dropped, folds as LF, no final
 * line end.  Into val; -1 when there is no such field. */
static int field_value(const struct dbuf *sec, const char *name, struct dbuf *val)
{
    const char *s = dbuf_str(sec);
    size_t n = strlen(name), i = 0;

    while (i < sec->len) {
        const char *nl = memchr(s + i, '\n', sec->len - i);
        size_t end = nl ? (size_t)(nl - s) + 1 : sec->len;

        size_t at = 0;

        if (rewrite_field_name(s + i, end - i, &at) == n && strncasecmp(s + i, name, n) == 0) {
            size_t j = i + at;

            if (s[j] == ' ')
                j++;
            for (;;) {
                size_t stop = end;

                while (stop > j && (s[stop - 1] == '\n' || s[stop - 1] == '\r'))
                    stop--;
                dbuf_append(val, s + j, stop - j);
                if (end >= sec->len || (s[end] != ' ' && s[end] != '\t'))
                    break;
                dbuf_append_char(val, '\n');
                j = end;
                nl = memchr(s + j, '\n', sec->len - j);
                end = nl ? (size_t)(nl - s) + 1 : sec->len;
            }
            return 0;
        }
        i = end;
    }
    return -1;
}

static void plan_fail(struct milter_plan *p, const char *why)
{
    set_reply(p, MILTER_TEMPFAIL, "451 4.3.0 Error: tenantrelay-milter internal error, try again later");
    snprintf(p->reason, sizeof(p->reason), "internal error: %s", why);
}

int milter_plan_build(const struct conf *conf, const struct tenant_store *store,
                      const struct milter_message *m, struct milter_plan *p)
{
    const char **values = mycalloc(m->nheaders + 1, sizeof(*values));
    const char *remove[] = { conf->tenant_header, NULL };
    struct dbuf sec = DBUF_INIT, out = DBUF_INIT, val = DBUF_INIT;
    struct resolve_input in;
    struct resolve_result r;
    struct rewrite_opts ro;
    struct rewrite_report rep;
    const struct route *route;
    enum rewrite_status rs;
    size_t nvalues = 0, from_pos = 0;
    bool have_from = false;
    int rc = 0;

    memset(p, 0, sizeof(*p));
    p->source = resolve_source_name(RESOLVE_SOURCE_NONE);
    for (size_t i = 0; i < m->nheaders; i++) {
        if (name_is(m->headers[i].name, conf->tenant_header))
            values[nvalues++] = m->headers[i].value;
        else if (!have_from && name_is(m->headers[i].name, "From")) {
            have_from = true;
            from_pos = i;
        }
    }

    memset(&in, 0, sizeof(in));
    in.conf = conf;
    in.store = store;
    in.header_values = values;
    in.header_count = nvalues;
    in.header_trusted = m->client_trusted;
    in.sender = m->sender ? m->sender : "";
    in.auth_id = m->auth_id;
    in.store_stale = m->store_stale;
    resolve_tenant(&in, &r);
    p->source = resolve_source_name(r.source);
    snprintf(p->reason, sizeof(p->reason), "%s", r.reason);
    if (r.verdict != RESOLVE_ACCEPT) {
        set_reply(p, r.verdict == RESOLVE_REJECT ? MILTER_REJECT : MILTER_TEMPFAIL, r.reply);
        goto done;
    }
    route = r.tenant ? &r.tenant->route : &conf->default_route;
    if (r.tenant)
        snprintf(p->tenant, sizeof(p->tenant), "%s", r.tenant->id);
    p->route_sender = route->sender;

    memset(&ro, 0, sizeof(ro));
    ro.remove = remove;
    ro.from_sender = route->rewrite_from ? route->sender : NULL;
    ro.add_reply_to = true;
    rs = build_section(m, &sec) < 0 ? REWRITE_BAD_HEADER : rewrite_headers(sec.data, sec.len, &ro, &out, &rep);
    if (rs != REWRITE_OK) {
        /* The answers delivery would give at the end (delivery_attempt.c). */
        set_reply(p, MILTER_REJECT, rs == REWRITE_MULTIPLE_FROM
                                        ? "550 5.6.0 Error: message has more than one From: header"
                                        : "550 5.6.0 Error: malformed header section");
        snprintf(p->reason, sizeof(p->reason), "%s",
                 rs == REWRITE_MULTIPLE_FROM ? "more than one From: header" : "malformed header section");
        goto done;
    }

    p->verdict = MILTER_ACCEPT;
    if (rep.reply_to_added) {
        if (field_value(&out, "Reply-To", &val) < 0) {
            plan_fail(p, "no Reply-To: in the rewritten header");
            rc = -1;
            goto done;
        }
        /* Right after From:, as delivery writes it. */
        add_edit(p, MILTER_EDIT_INSERT, "Reply-To", MILTER_HIDDEN_HEADERS + (int)from_pos + 1, val.data,
                 val.len);
        p->reply_to_added = true;
    }
    for (size_t k = nvalues; k > 0; k--)
        add_edit(p, MILTER_EDIT_DELETE, conf->tenant_header, (int)k, NULL, 0);
    p->removed = (int)nvalues;
    if (rep.from_rewritten || rep.from_added) {
        dbuf_reset(&val);
        if (field_value(&out, "From", &val) < 0) {
            plan_fail(p, "no From: in the rewritten header");
            rc = -1;
            goto done;
        }
        add_edit(p, rep.from_added ? MILTER_EDIT_ADD : MILTER_EDIT_CHANGE, "From", 1, val.data, val.len);
        p->from_rewritten = rep.from_rewritten;
        p->from_added = rep.from_added;
    }
    if (route->rewrite_sender && strcmp(in.sender, route->sender) != 0) {
        dbuf_reset(&val);
        dbuf_printf(&val, "<%s>", route->sender);
        add_edit(p, MILTER_EDIT_CHGFROM, NULL, 0, val.data, val.len);
        p->sender_rewritten = true;
    }
    if (r.tenant)
        add_edit(p, MILTER_EDIT_ADD, conf->tenant_header, 0, r.tenant->id, strlen(r.tenant->id));

done:
    if (p->verdict != MILTER_ACCEPT)
        milter_plan_free(p);
    dbuf_free(&sec);
    dbuf_free(&out);
    dbuf_free(&val);
    myfree(values);
    return rc;
}

void milter_plan_free(struct milter_plan *p)
{
    for (size_t i = 0; i < p->nedits; i++) {
        myfree(p->edits[i].name);
        myfree(p->edits[i].value);
    }
    myfree(p->edits);
    p->edits = NULL;
    p->nedits = 0;
}

const char *milter_edit_format(const struct milter_edit *e, char *buf, size_t len)
{
    switch (e->op) {
    case MILTER_EDIT_INSERT:
        snprintf(buf, len, "insert %d %s %s", e->index, e->name, e->value);
        break;
    case MILTER_EDIT_DELETE:
        snprintf(buf, len, "delete %s %d", e->name, e->index);
        break;
    case MILTER_EDIT_CHANGE:
        snprintf(buf, len, "change %s %d %s", e->name, e->index, e->value);
        break;
    case MILTER_EDIT_ADD:
        snprintf(buf, len, "add %s %s", e->name, e->value);
        break;
    case MILTER_EDIT_CHGFROM:
        snprintf(buf, len, "chgfrom %s", e->value);
        break;
    }
    return buf;
}
