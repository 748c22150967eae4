/*
 * route_check.c - the rules of a valid route, once (see route.h).  The
 * config loader (route_parse()), the store's fast reader (tenant_fast.c),
 * the PostgreSQL row reader (store_pg_load.c) and `tenant set`
 * (tenant_update.c) all call route_check(); each words the problem its own
 * way from the key, class and rule it reports.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include "tenantrelay/errstr.h"
#include "tenantrelay/mailaddr.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/route.h"

void route_normalize(struct route *r, int tls)
{
    char **const optional[] = { &r->username, &r->password, &r->bind_address };

    /* Empty optional strings mean "not set". */
    for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++) {
        if (*optional[i] && !**optional[i]) {
            myfree(*optional[i]);
            *optional[i] = NULL;
        }
    }
    r->tls = tls >= 0 ? (enum route_tls)tls : route_tls_for_port(r->port);
}

/* Fill p: reason from fmt; msg "key 'KEY'" + sep + reason, or whole when
 * given (the rules whose config wording names no single key).  -1. */
static int problem(struct route_problem *p, const char *key, enum route_problem_class cls,
                   enum route_rule rule, const char *sep, const char *whole, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

static int problem(struct route_problem *p, const char *key, enum route_problem_class cls,
                   enum route_rule rule, const char *sep, const char *whole, const char *fmt, ...)
{
    va_list ap;

    if (p == NULL)
        return -1;
    p->key = key;
    p->cls = cls;
    p->rule = rule;
    va_start(ap, fmt);
    errstr_vset(p->reason, sizeof(p->reason), fmt, ap);
    va_end(ap);
    if (whole)
        errstr_set(p->msg, sizeof(p->msg), "%s", whole);
    else
        errstr_set(p->msg, sizeof(p->msg), "key '%s'%s%s", key, sep, p->reason);
    return -1;
}

static int range(struct route_problem *p, const char *key, int v, int min, int max)
{
    if (v >= min && v <= max)
        return 0;
    return problem(p, key, ROUTE_INVALID, ROUTE_RULE_RANGE, ": ", NULL, "%d is out of range %d..%d", v, min, max);
}

static int empty(struct route_problem *p, const char *key, const char *v)
{
    if (v == NULL || *v)
        return 0;
    return problem(p, key, ROUTE_INVALID, ROUTE_RULE_EMPTY, " ", NULL, "must not be empty");
}

/* The keys that must not be empty when given, and the numbers' ranges,
 * in the order the config loader reads them. */
static int check_values(const struct route *r, struct route_problem *p)
{
    if (empty(p, "host", r->host) < 0
        || range(p, "port", r->port, 1, 65535) < 0
        || empty(p, "ca_file", r->ca_file) < 0
        || range(p, "max_connections", r->max_connections, 1, 1000) < 0
        || range(p, "rate_limit", r->rate_limit, 0, 1000000) < 0)
        return -1;
    return 0;
}

int route_check(const struct route *r, bool require_host, struct route_problem *p)
{
    char msg[512];

    if (check_values(r, p) < 0)
        return -1;
    if (require_host && r->host == NULL)
        return problem(p, "host", ROUTE_MISSING, ROUTE_RULE_REQUIRED, " ", NULL, "is required");
    if (require_host && (r->sender == NULL || !*r->sender))
        return problem(p, "sender", ROUTE_MISSING, ROUTE_RULE_REQUIRED, " ", NULL, "is required");
    /* A host name, or an IPv6 literal (the resolver judges it). */
    if (r->host && !mailaddr_is_hostname(r->host) && strchr(r->host, ':') == NULL)
        return problem(p, "host", ROUTE_INVALID, ROUTE_RULE_HOST_NAME, ": ", NULL,
                       "\"%s\" is not a host name", r->host);
    if (r->sender && !mailaddr_is_valid(r->sender, false))
        return problem(p, "sender", ROUTE_INVALID, ROUTE_RULE_SENDER_ADDRESS, ": ", NULL,
                       "\"%s\" is not a valid address", r->sender);
    /* xoauth2: the oauth group's rules, a username and no password. */
    if (route_oauth_validate(r, msg, sizeof(msg)) < 0)
        return problem(p, "oauth", ROUTE_INVALID, ROUTE_RULE_OAUTH, "", msg, "%s", msg);
    if (r->auth == ROUTE_AUTH_PASSWORD && (r->username == NULL) != (r->password == NULL))
        return problem(p, r->username ? "password" : "username", ROUTE_MISSING, ROUTE_RULE_LOGIN_PAIR, "",
                       "keys 'username' and 'password' go together", "%s",
                       r->username ? "a username needs a password" : "a password needs a username");
    if (r->tls == ROUTE_TLS_NONE && !r->insecure_plaintext)
        return problem(p, "tls", ROUTE_INVALID, ROUTE_RULE_TLS_NONE_INSECURE, ": ", NULL,
                       "\"none\" requires insecure_plaintext = true");
    if (r->tls == ROUTE_TLS_NONE && r->username)
        return problem(p, "tls", ROUTE_INVALID, ROUTE_RULE_TLS_NONE_LOGIN, ": ", NULL,
                       "\"none\" cannot carry a username and password (AUTH is never sent in plaintext)");
    for (const char *s = r->username; s && *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return problem(p, "username", ROUTE_INVALID, ROUTE_RULE_USERNAME_CONTROL, ": ", NULL,
                           "control characters are not allowed");
    return 0;
}
