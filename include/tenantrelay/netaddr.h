/*
 * netaddr.h - IP addresses and CIDR networks (IPv4 and IPv6).
 *
 * Used for allowed_networks, milter trusted_networks and listen addresses.
 * An IPv4-mapped IPv6 client (::ffff:a.b.c.d) matches IPv4 networks.
 */
#ifndef TENANTRELAY_NETADDR_H
#define TENANTRELAY_NETADDR_H

#include <stdbool.h>
#include <sys/socket.h>

struct netaddr_cidr {
    int family;                 /* AF_INET or AF_INET6 */
    unsigned char addr[16];     /* network byte order, host bits cleared */
    int prefix;
};

/* Parse "a.b.c.d/n", "x::y/n" or a bare address (full-length prefix). 0 or -1. */
int netaddr_parse_cidr(const char *text, struct netaddr_cidr *out)
    __attribute__((warn_unused_result));
/* Parse a literal IPv4/IPv6 address into a sockaddr with the given port. 0 or -1. */
int netaddr_parse_ip(const char *text, int port, struct sockaddr_storage *out, socklen_t *outlen)
    __attribute__((warn_unused_result));
bool netaddr_cidr_match(const struct netaddr_cidr *net, const struct sockaddr *sa);
/* True when any network in the list matches. */
bool netaddr_cidr_list_match(const struct netaddr_cidr *nets, int count, const struct sockaddr *sa);
bool netaddr_is_loopback(const struct sockaddr *sa);
/* Printable address (no port) of sa into buf; returns buf. */
const char *netaddr_format(const struct sockaddr *sa, char *buf, size_t len);

#endif
