/*
 * tenant_fast.c - a strict reader for the canonical store layout that
 * tenantrelayctl writes, about 5x faster than libconfig (whose scanner is
 * most of the cost of loading 100,000 tenants).
 *
 * It accepts only the exact shape of tenant_store_write_file()'s output
 * (password and OAuth2 routes: a PostgreSQL node's spool snapshot is read
 * here too) and applies the same validation as tenant_parse()/route_parse()
 * (route_check(), the one set of route rules).  Anything
 * else -- another layout, an escape, a value it is not sure about, an
 * invalid field -- makes it decline, and the file is read by libconfig,
 * which stays the reference and produces every error message.  The fuzz
 * harness fuzz_store checks that whatever this reader accepts, libconfig
 * accepts with identical records.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "tenantrelay/conf.h"
#include "tenantrelay/mailaddr.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/str.h"
#include "tenantrelay/tenant_write.h"
#include "tenantrelay/timefmt.h"
#include "tenant_int.h"

bool tenant_fast_enabled = true;

void tenant_store_fast_reader(bool on)
{
    tenant_fast_enabled = on;
}

enum kind { K_STR, K_INT, K_BOOL, K_LIST, K_TIME, K_GROUP };

static const struct { const char *name; enum kind kind; } fields[] = {
    { "id", K_STR }, { "enabled", K_BOOL }, { "host", K_STR }, { "port", K_INT },
    { "tls", K_STR }, { "username", K_STR }, { "password", K_STR }, { "sender", K_STR },
    { "domains", K_LIST }, { "addresses", K_LIST }, { "ca_file", K_STR },
    { "tls_verify", K_BOOL }, { "rewrite_sender", K_BOOL }, { "rewrite_from", K_BOOL },
    { "max_connections", K_INT }, { "rate_limit", K_INT }, { "bind_address", K_STR },
    { "insecure_plaintext", K_BOOL }, { "created", K_TIME }, { "updated", K_TIME },
    { "verified", K_TIME }, { "auth", K_STR }, { "oauth", K_GROUP },
};
#define OAUTH_BIT (1u << (NFIELDS - 1))
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

/* One line of the buffer: [p, eol), *next after its '\n'; false at the end. */
static bool next_line(const char **cur, const char *end, const char **p, const char **eol)
{
    const char *nl;

    if (*cur >= end)
        return false;
    nl = memchr(*cur, '\n', (size_t)(end - *cur));
    if (nl == NULL)
        return false;           /* the writer always ends lines with '\n' */
    *p = *cur;
    *eol = nl;
    *cur = nl + 1;
    return true;
}

static bool line_is(const char *p, const char *eol, const char *s)
{
    size_t n = strlen(s);

    return (size_t)(eol - p) == n && memcmp(p, s, n) == 0;
}

/* "text" with printable bytes, no quote, no backslash: a fresh copy. */
static char *quoted(const char **pp, const char *eol)
{
    const char *p = *pp, *q;

    if (p >= eol || *p != '"')
        return NULL;
    for (q = p + 1; q < eol && *q != '"'; q++)
        if ((unsigned char)*q < 0x20 || *q == '\\' || *q == 0x7f)
            return NULL;
    if (q >= eol)
        return NULL;
    *pp = q + 1;
    return mystrndup(p + 1, (size_t)(q - p - 1));
}

/* A small decimal integer, no sign games, no leading zeros. */
static bool integer(const char *p, const char *e, long long *out)
{
    long long v = 0;
    bool neg = false;

    if (p < e && *p == '-') {
        neg = true;
        p++;
    }
    if (p >= e || e - p > 12 || (*p == '0' && e - p > 1))
        return false;
    for (; p < e; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (*p - '0');
    }
    *out = neg ? -v : v;
    return true;
}

static void lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s + 32);
}

/* [ "a", "b" ] or [ ]: a NULL-terminated vector, lower-cased and checked. */
static char **list(const char *p, const char *e, bool addresses)
{
    char **v = mycalloc(1, sizeof(char *));
    size_t n = 0;

    if (e - p == 3 && memcmp(p, "[ ]", 3) == 0)
        return v;
    if (e - p < 2 || memcmp(p, "[ ", 2) != 0)
        goto no;
    p += 2;
    for (;;) {
        char *s = quoted(&p, e);

        if (s == NULL)
            goto no;
        v = myrealloc(v, (n + 2) * sizeof(char *));
        v[n++] = s;
        v[n] = NULL;
        lower(s);
        if (*s == 0 || (addresses ? !mailaddr_is_valid(s, true) : !mailaddr_is_hostname(s)))
            goto no;
        for (size_t j = 0; j + 1 < n; j++)
            if (strcmp(v[j], s) == 0)
                goto no;
        if (e - p == 2 && memcmp(p, " ]", 2) == 0)
            return v;
        if (e - p < 2 || memcmp(p, ", ", 2) != 0)
            goto no;
        p += 2;
    }
no:
    conf_free_strings(v);
    return NULL;
}

/* One "    key = value;" line into t.  false: decline. */
static bool field(const char *p, const char *eol, struct tenant *t, unsigned *seen, int *tls)
{
    const char *eq, *v, *ve;
    size_t klen;
    unsigned i;
    char *s = NULL;
    long long n = 0;
    bool b = false;
    char **vec = NULL;

    if (eol - p < 10 || memcmp(p, "    ", 4) != 0 || eol[-1] != ';')
        return false;
    p += 4;
    if ((eq = memchr(p, ' ', (size_t)(eol - p))) == NULL || eol - eq < 4 || memcmp(eq, " = ", 3) != 0)
        return false;
    klen = (size_t)(eq - p);
    v = eq + 3;
    ve = eol - 1;
    for (i = 0; i < NFIELDS; i++)
        if (strlen(fields[i].name) == klen && memcmp(fields[i].name, p, klen) == 0)
            break;
    if (i == NFIELDS || (*seen & (1u << i)))
        return false;
    *seen |= 1u << i;
    switch (fields[i].kind) {
    case K_STR:
    case K_TIME:
        if (fields[i].kind == K_TIME && integer(v, ve, &n)) {
            if (n < 0 || n > 253402300799LL)
                return false;
            break;
        }
        if ((s = quoted(&v, ve)) == NULL || v != ve)
            goto no;
        if (fields[i].kind == K_TIME) {
            time_t tt;

            if (timefmt_parse_rfc3339(s, &tt) < 0)
                goto no;
            n = tt;
        }
        break;
    case K_INT:                 /* its range is route_check()'s */
        if (!integer(v, ve, &n) || n < INT_MIN || n > INT_MAX)
            return false;
        break;
    case K_BOOL:
        if (ve - v == 4 && memcmp(v, "true", 4) == 0)
            b = true;
        else if (!(ve - v == 5 && memcmp(v, "false", 5) == 0))
            return false;
        break;
    case K_LIST:
        if ((vec = list(v, ve, strcmp(fields[i].name, "addresses") == 0)) == NULL)
            return false;
        break;
    case K_GROUP:               /* only as "    oauth = {" (oauth_group()) */
        return false;
    }

#define IS(k) (strcmp(fields[i].name, k) == 0)
    if (IS("id")) t->id = s;
    else if (IS("host")) t->route.host = s;
    else if (IS("tls")) {
        *tls = str_index(route_tls_names, s);
        myfree(s);
        if (*tls < 0)
            return false;
    }
    else if (IS("username")) t->route.username = s;
    else if (IS("password")) t->route.password = s;
    else if (IS("sender")) t->route.sender = s;
    else if (IS("ca_file")) t->route.ca_file = s;
    else if (IS("bind_address")) t->route.bind_address = s;
    else if (IS("created")) { myfree(s); t->created = (time_t)n; }
    else if (IS("updated")) { myfree(s); t->updated = (time_t)n; }
    else if (IS("verified")) { myfree(s); t->verified = (time_t)n; }
    else if (IS("port")) t->route.port = (int)n;
    else if (IS("max_connections")) t->route.max_connections = (int)n;
    else if (IS("rate_limit")) t->route.rate_limit = (int)n;
    else if (IS("enabled")) t->enabled = b;
    else if (IS("tls_verify")) t->route.tls_verify = b;
    else if (IS("rewrite_sender")) t->route.rewrite_sender = b;
    else if (IS("rewrite_from")) t->route.rewrite_from = b;
    else if (IS("insecure_plaintext")) t->route.insecure_plaintext = b;
    else if (IS("auth")) {
        int a = str_index(route_auth_names, s);

        myfree(s);
        if (a < 0)
            return false;
        t->route.auth = (enum route_auth)a;
    }
    else if (IS("domains")) { conf_free_strings(t->domains); t->domains = vec; }
    else if (IS("addresses")) { conf_free_strings(t->addresses); t->addresses = vec; }
#undef IS
    return true;
no:
    myfree(s);
    return false;
}

/* The lines of an "    oauth = {" group up to "    };", each
 * "      key = "value";" with a key of route_oauth_keys (provider required,
 * no key twice, no empty value: as route_oauth_parse() over libconfig). */
static bool oauth_group(const char **cur, const char *end, unsigned *line, struct tenant *t,
                        unsigned *seen)
{
    struct route_oauth *o = &t->route.oauth;
    /* Indexed like route_oauth_keys; provider (0) is an enum. */
    char **const slots[] = { NULL, &o->directory, &o->token_url, &o->client_id, &o->client_secret,
                             &o->client_cert_file, &o->client_key, &o->service_account, &o->scope,
                             &o->assertion_alg };
    const char *p, *eol, *eq, *v;
    unsigned got = 0;

    if (*seen & OAUTH_BIT)
        return false;
    *seen |= OAUTH_BIT;
    while (next_line(cur, end, &p, &eol)) {
        size_t klen, k;
        char *s;

        (*line)++;
        if (line_is(p, eol, "    };"))
            return (got & 1u) != 0;
        if (eol - p < 13 || memcmp(p, "      ", 6) != 0 || eol[-1] != ';')
            return false;
        p += 6;
        if ((eq = memchr(p, ' ', (size_t)(eol - p))) == NULL || eol - eq < 4 || memcmp(eq, " = ", 3) != 0)
            return false;
        klen = (size_t)(eq - p);
        for (k = 0; route_oauth_keys[k]; k++)
            if (strlen(route_oauth_keys[k]) == klen && memcmp(route_oauth_keys[k], p, klen) == 0)
                break;
        if (route_oauth_keys[k] == NULL || k >= sizeof(slots) / sizeof(slots[0]) || (got & (1u << k)))
            return false;
        got |= 1u << k;
        v = eq + 3;
        if ((s = quoted(&v, eol - 1)) == NULL)
            return false;
        if (v != eol - 1 || *s == 0) {
            myfree(s);
            return false;
        }
        if (k == 0) {
            int pv = str_index(route_oauth_provider_names, s);

            myfree(s);
            if (pv < 0)
                return false;
            o->provider = (enum route_oauth_provider)pv;
        } else {
            *slots[k] = s;
        }
    }
    return false;
}

/* The checks of tenant_parse() and route_parse() on a finished record:
 * the id's, the layout's (the oauth group present exactly with auth =
 * "xoauth2", as route_oauth_parse() requires of a group), then the
 * normalisations and the rules of a route, route_check()'s. */
static bool valid(struct tenant *t, int tls, bool has_oauth)
{
    struct route *r = &t->route;

    if (t->id == NULL || !tenant_id_is_valid(t->id))
        return false;
    if (has_oauth != (r->auth == ROUTE_AUTH_XOAUTH2))
        return false;
    route_normalize(r, tls);
    return route_check(r, true, NULL) == 0;
}

int tenant_fast_parse(const char *buf, size_t len, const char *file, struct tenant_fast_out *out)
{
    const char *cur = buf, *end = buf + len, *p, *eol;
    unsigned line = 0;
    bool last = false;

    if (!tenant_fast_enabled || memchr(buf, 0, len) != NULL)
        return -1;
    /* Leading comment lines, then the list. */
    for (;;) {
        if (!next_line(&cur, end, &p, &eol))
            return -1;
        line++;
        if (eol > p && *p == '#')
            continue;
        if (!line_is(p, eol, "tenants = ("))
            return -1;
        break;
    }
    while (!last) {
        struct tenant t;
        unsigned seen = 0, start;
        int tls = -1;
        bool closed = false;

        if (!next_line(&cur, end, &p, &eol))
            return -1;
        line++;
        if (!line_is(p, eol, "  {"))
            return -1;
        start = line;
        memset(&t, 0, sizeof(t));
        route_init(&t.route);
        t.enabled = true;
        t.domains = mycalloc(1, sizeof(char *));
        t.addresses = mycalloc(1, sizeof(char *));
        while (next_line(&cur, end, &p, &eol)) {
            line++;
            if (line_is(p, eol, "  },") || (last = line_is(p, eol, "  }"))) {
                closed = true;
                break;
            }
            if (line_is(p, eol, "    oauth = {")) {
                if (!oauth_group(&cur, end, &line, &t, &seen))
                    break;
                continue;
            }
            if (!field(p, eol, &t, &seen, &tls))
                break;
        }
        if (!closed || !valid(&t, tls, (seen & OAUTH_BIT) != 0)) {
            tenant_free_fields(&t);
            return -1;
        }
        tenant_fast_add(out, &t, file, start);
    }
    if (!next_line(&cur, end, &p, &eol) || !line_is(p, eol, ");") || cur != end)
        return -1;
    return 0;
}
