/*
 * netaddr.c - IP address and CIDR parsing and matching (see netaddr.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tenantrelay/netaddr.h"

int netaddr_parse_cidr(const char *text, struct netaddr_cidr *out)
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *slash = strchr(text, '/');
    size_t hlen = slash ? (size_t)(slash - text) : strlen(text);
    int maxbits;

    if (hlen == 0 || hlen >= sizeof(host))
        return -1;
    memcpy(host, text, hlen);
    host[hlen] = 0;
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, host, out->addr) == 1) {
        out->family = AF_INET;
        maxbits = 32;
    } else if (inet_pton(AF_INET6, host, out->addr) == 1) {
        out->family = AF_INET6;
        maxbits = 128;
    } else {
        return -1;
    }
    out->prefix = maxbits;
    if (slash) {
        char *end;
        long n;

        if (slash[1] < '0' || slash[1] > '9')
            return -1;
        n = strtol(slash + 1, &end, 10);
        if (*end || n < 0 || n > maxbits)
            return -1;
        out->prefix = (int)n;
    }
    /* Clear host bits so that matching is a plain prefix compare. */
    for (int bit = out->prefix; bit < maxbits; bit++)
        out->addr[bit / 8] &= (unsigned char)~(0x80 >> (bit % 8));
    return 0;
}

int netaddr_parse_ip(const char *text, int port, struct sockaddr_storage *out, socklen_t *outlen)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)out;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;

    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((unsigned short)port);
        *outlen = sizeof(*sin);
        return 0;
    }
    if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((unsigned short)port);
        *outlen = sizeof(*sin6);
        return 0;
    }
    return -1;
}

/* The address bytes of sa, unmapping ::ffff:a.b.c.d to IPv4. */
static const unsigned char *addr_bytes(const struct sockaddr *sa, int *family)
{
    if (sa->sa_family == AF_INET) {
        *family = AF_INET;
        return (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

        if (IN6_IS_ADDR_V4MAPPED(a)) {
            *family = AF_INET;
            return a->s6_addr + 12;
        }
        *family = AF_INET6;
        return a->s6_addr;
    }
    *family = AF_UNSPEC;
    return NULL;
}

bool netaddr_cidr_match(const struct netaddr_cidr *net, const struct sockaddr *sa)
{
    int family;
    const unsigned char *a = addr_bytes(sa, &family);
    int full, rest;

    if (a == NULL || family != net->family)
        return false;
    full = net->prefix / 8;
    rest = net->prefix % 8;
    if (memcmp(a, net->addr, (size_t)full) != 0)
        return false;
    if (rest) {
        unsigned char mask = (unsigned char)(0xff << (8 - rest));
        if ((a[full] & mask) != net->addr[full])
            return false;
    }
    return true;
}

bool netaddr_cidr_list_match(const struct netaddr_cidr *nets, int count, const struct sockaddr *sa)
{
    for (int i = 0; i < count; i++)
        if (netaddr_cidr_match(&nets[i], sa))
            return true;
    return false;
}

bool netaddr_is_loopback(const struct sockaddr *sa)
{
    int family;
    const unsigned char *a = addr_bytes(sa, &family);

    if (a == NULL)
        return false;
    if (family == AF_INET)
        return a[0] == 127;
    return IN6_IS_ADDR_LOOPBACK((const struct in6_addr *)a);
}

const char *netaddr_format(const struct sockaddr *sa, char *buf, size_t len)
{
    int family;
    const unsigned char *a = addr_bytes(sa, &family);

    if (a == NULL || inet_ntop(family, a, buf, (socklen_t)len) == NULL)
        snprintf(buf, len, "unknown");
    return buf;
}
