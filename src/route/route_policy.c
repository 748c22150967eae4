/*
 * route_policy.c - the configured tenant route policy (see route_policy.h):
 * the tenant_route_policy group, and the port, address and host checks
 * the probe, delivery and tenantrelayctl run before connecting.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "tenantrelay/mymalloc.h"
#include "tenantrelay/route_parse.h"
#include "tenantrelay/route_policy.h"

static const char *const policy_keys[] = { "extra_networks", "ports", NULL };

void route_policy_init(struct route_policy *p)
{
    static const int defaults[] = ROUTE_POLICY_DEFAULT_PORTS;

    memset(p, 0, sizeof(*p));
    p->nports = (int)(sizeof(defaults) / sizeof(defaults[0]));
    p->ports = mymalloc(sizeof(defaults));
    memcpy(p->ports, defaults, sizeof(defaults));
}

static int parse_ports(const config_setting_t *g, struct route_policy *p, struct conf_error *err)
{
    config_setting_t *s = config_setting_get_member(g, "ports");
    int n;

    if (s == NULL)
        return 0;
    if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
        conf_errorf(err, s, "key 'ports' must be an array of port numbers ([] allows any)");
        return -1;
    }
    n = config_setting_length(s);
    myfree(p->ports);
    p->ports = n ? mycalloc((size_t)n, sizeof(*p->ports)) : NULL;
    p->nports = n;
    for (int i = 0; i < n; i++) {
        config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        long long v;

        if (config_setting_type(e) != CONFIG_TYPE_INT && config_setting_type(e) != CONFIG_TYPE_INT64) {
            conf_errorf(err, e, "key 'ports': element %d must be an integer", i);
            return -1;
        }
        v = config_setting_type(e) == CONFIG_TYPE_INT ? config_setting_get_int(e)
                                                      : config_setting_get_int64(e);
        if (v < 1 || v > 65535) {
            conf_errorf(err, e, "key 'ports': %lld is out of range 1..65535", v);
            return -1;
        }
        p->ports[i] = (int)v;
    }
    return 0;
}

static int parse_extra(const config_setting_t *g, struct route_policy *p, struct conf_error *err)
{
    char **v = NULL;
    int n = 0;
    int rc = conf_get_strings(g, "extra_networks", &v, &n, err);

    if (rc != 0)
        return rc < 0 ? -1 : 0;
    myfree(p->extra);
    p->extra = n ? mycalloc((size_t)n, sizeof(*p->extra)) : NULL;
    p->nextra = n;
    for (int i = 0; i < n; i++) {
        if (netaddr_parse_cidr(v[i], &p->extra[i]) < 0) {
            conf_errorf(err, config_setting_get_elem(config_setting_get_member(g, "extra_networks"),
                                                     (unsigned)i),
                        "key 'extra_networks': \"%s\" is not an address or network", v[i]);
            conf_free_strings(v);
            return -1;
        }
    }
    conf_free_strings(v);
    return 0;
}

int route_policy_parse(const config_setting_t *root, struct route_policy *p, struct conf_error *err)
{
    config_setting_t *g;

    if (conf_get_group(root, "tenant_route_policy", &g, err) < 0)
        return -1;
    if (g == NULL)
        return 0;
    if (conf_check_keys(g, policy_keys, NULL, err) < 0 || parse_extra(g, p, err) < 0
        || parse_ports(g, p, err) < 0)
        return -1;
    return 0;
}

void route_policy_copy(struct route_policy *dst, const struct route_policy *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->nextra = src->nextra;
    dst->nports = src->nports;
    if (src->nextra) {
        dst->extra = mycalloc((size_t)src->nextra, sizeof(*dst->extra));
        memcpy(dst->extra, src->extra, sizeof(*dst->extra) * (size_t)src->nextra);
    }
    if (src->nports) {
        dst->ports = mycalloc((size_t)src->nports, sizeof(*dst->ports));
        memcpy(dst->ports, src->ports, sizeof(*dst->ports) * (size_t)src->nports);
    }
}

void route_policy_free(struct route_policy *p)
{
    if (p == NULL)
        return;
    myfree(p->extra);
    myfree(p->ports);
    memset(p, 0, sizeof(*p));
}

int route_policy_check_port(const struct route_policy *p, int port, char *why, size_t len)
{
    size_t used;

    if (p->nports == 0)
        return 0;
    for (int i = 0; i < p->nports; i++)
        if (p->ports[i] == port)
            return 0;
    used = (size_t)snprintf(why, len, "port %d is not in tenant_route_policy.ports (", port);
    for (int i = 0; i < p->nports && used < len; i++)
        used += (size_t)snprintf(why + used, len - used, "%s%d", i ? ", " : "", p->ports[i]);
    if (used < len)
        snprintf(why + used, len - used, ")");
    return -1;
}

int route_policy_check_addr(const struct route_policy *p, const struct sockaddr *sa, char *why, size_t len)
{
    const struct route_addr_class *c = route_addr_classify(sa);
    char addr[64];

    if (c == NULL || netaddr_cidr_list_match(p->extra, p->nextra, sa))
        return 0;
    /* netaddr_format unmaps ::ffff:a.b.c.d; name the address as resolved. */
    if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, addr, sizeof(addr));
    else
        netaddr_format(sa, addr, sizeof(addr));
    snprintf(why, len, "%s is %s (%s): tenant routes reach only public unicast addresses "
             "(tenant_route_policy.extra_networks allows others)", addr, c->name, c->range);
    return -1;
}

int route_policy_check_host(const struct route_policy *p, const char *host, int port, char *why, size_t len)
{
    struct addrinfo hints, *res = NULL;
    char portstr[8];
    int rc;

    if (route_policy_check_port(p, port, why, len) < 0)
        return -1;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(portstr, sizeof(portstr), "%d", port);
    if ((rc = getaddrinfo(host, portstr, &hints, &res)) != 0)
        return 0;
    rc = 1;
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next)
        if (route_policy_check_addr(p, ai->ai_addr, why, len) < 0) {
            rc = -1;
            break;
        }
    freeaddrinfo(res);
    return rc;
}
