/*
 * route_policy.h - where a tenant's route may lead (SPEC §3, "Tenant route
 * policy").
 *
 * Tenants type their own host names, so a tenant route must not become a
 * way into the platform's own network: every address a tenant host
 * resolves to is checked right before each connection (probe and delivery,
 * after DNS, so rebinding does not help).  Only public unicast addresses
 * pass, unless they fall in tenant_route_policy.extra_networks; the port
 * must be in tenant_route_policy.ports (empty list: any).  The default
 * route, which the operator configures, is exempt (callers pass no policy).
 *
 * route_addr_classify() is the pure classification (IPv4, IPv6, mapped,
 * NAT64, 6to4, Teredo ...); the rest is the configured policy.
 */
#ifndef TENANTRELAY_ROUTE_POLICY_H
#define TENANTRELAY_ROUTE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "tenantrelay/netaddr.h"

/* A refused class of address: its name and the range it covers. */
struct route_addr_class {
    const char *name;           /* "loopback", "private", "link-local", ... */
    const char *range;          /* "127.0.0.0/8" */
};

/* NULL when sa is public unicast; else the (static) class that refuses it.
 * IPv4-mapped, NAT64 (64:ff9b::/96) and 6to4 (2002::/16) addresses are
 * judged by the IPv4 address they carry. */
const struct route_addr_class *route_addr_classify(const struct sockaddr *sa);

#define ROUTE_POLICY_DEFAULT_PORTS { 25, 465, 587, 2525 }

struct route_policy {
    struct netaddr_cidr *extra; /* networks allowed although not public */
    int nextra;
    int *ports;                 /* allowed ports; nports == 0: any */
    int nports;
};

/* The defaults: no extra network, ports 25, 465, 587, 2525. */
void route_policy_init(struct route_policy *p);
void route_policy_copy(struct route_policy *dst, const struct route_policy *src);
void route_policy_free(struct route_policy *p);

/* 0 when the port is allowed; else -1 with why ("port 6379 is not in
 * tenant_route_policy.ports (25, 465, 587, 2525)"). */
int route_policy_check_port(const struct route_policy *p, int port, char *why, size_t len);
/* 0 when the address may be connected to; else -1 with why naming the
 * address, the rule and the fix. */
int route_policy_check_addr(const struct route_policy *p, const struct sockaddr *sa, char *why,
                            size_t len);
/* For tools that save a route: the port, then every address host resolves
 * to.  1 allowed, 0 host does not resolve (nothing to judge yet: the check
 * runs again at each connection), -1 refused (why set). */
int route_policy_check_host(const struct route_policy *p, const char *host, int port, char *why,
                            size_t len);

#endif
