/*
 * route_addrclass.c - is a resolved address public unicast?  The tables of
 * special-purpose ranges (IANA's IPv4 and IPv6 special-purpose registries,
 * RFC 6890 and successors) that a tenant route may never reach.
 *
 * IPv6 is public only inside 2000::/3 (global unicast) and outside the
 * special ranges within it; forms that carry an IPv4 address (mapped,
 * NAT64's well-known prefix, 6to4) are judged by that address, so
 * ::ffff:10.0.0.1 or 2002:7f00:1:: is as private as 10.0.0.1 or 127.0.0.1.
 */
#include "config.h"

#include <netinet/in.h>
#include <string.h>

#include "tenantrelay/route_policy.h"

struct range {
    unsigned char addr[16];
    int bits;
    struct route_addr_class cls;
};

static const struct range v4_ranges[] = {
    { { 0 }, 8, { "this-network", "0.0.0.0/8" } },
    { { 10 }, 8, { "private", "10.0.0.0/8" } },
    { { 100, 64 }, 10, { "shared (CGNAT)", "100.64.0.0/10" } },
    { { 127 }, 8, { "loopback", "127.0.0.0/8" } },
    { { 169, 254 }, 16, { "link-local", "169.254.0.0/16" } },
    { { 172, 16 }, 12, { "private", "172.16.0.0/12" } },
    { { 192, 0, 0 }, 24, { "ietf-protocol", "192.0.0.0/24" } },
    { { 192, 0, 2 }, 24, { "documentation", "192.0.2.0/24" } },
    { { 192, 88, 99 }, 24, { "6to4-relay", "192.88.99.0/24" } },
    { { 192, 168 }, 16, { "private", "192.168.0.0/16" } },
    { { 198, 18 }, 15, { "benchmarking", "198.18.0.0/15" } },
    { { 198, 51, 100 }, 24, { "documentation", "198.51.100.0/24" } },
    { { 203, 0, 113 }, 24, { "documentation", "203.0.113.0/24" } },
    { { 224 }, 4, { "multicast", "224.0.0.0/4" } },
    { { 255, 255, 255, 255 }, 32, { "broadcast", "255.255.255.255/32" } },
    { { 240 }, 4, { "reserved", "240.0.0.0/4" } },
};

/* Inside 2000::/3; the rest of the IPv6 space is refused by the checks below. */
static const struct range v6_ranges[] = {
    { { 0x20, 0x01, 0x00, 0x00 }, 32, { "teredo", "2001::/32" } },
    { { 0x20, 0x01, 0x0d, 0xb8 }, 32, { "documentation", "2001:db8::/32" } },
    { { 0x20, 0x01 }, 23, { "ietf-protocol", "2001::/23" } },
    { { 0x3f, 0xff }, 20, { "documentation", "3fff::/20" } },
};

static const struct route_addr_class v6_loopback = { "loopback", "::1/128" };
static const struct route_addr_class v6_unspecified = { "unspecified", "::/128" };
static const struct route_addr_class v6_compat = { "ipv4-compatible", "::/96" };
static const struct route_addr_class v6_nat64_local = { "nat64-local", "64:ff9b:1::/48" };
static const struct route_addr_class v6_ula = { "unique-local", "fc00::/7" };
static const struct route_addr_class v6_linklocal = { "link-local", "fe80::/10" };
static const struct route_addr_class v6_sitelocal = { "site-local", "fec0::/10" };
static const struct route_addr_class v6_multicast = { "multicast", "ff00::/8" };
static const struct route_addr_class v6_discard = { "discard-only", "100::/64" };
static const struct route_addr_class v6_other = { "not-global-unicast", "outside 2000::/3" };

static bool prefix_match(const unsigned char *a, const unsigned char *net, int bits)
{
    int full = bits / 8, rest = bits % 8;

    if (memcmp(a, net, (size_t)full) != 0)
        return false;
    if (rest) {
        unsigned char mask = (unsigned char)(0xff << (8 - rest));

        return (a[full] & mask) == (net[full] & mask);
    }
    return true;
}

static const struct route_addr_class *classify_v4(const unsigned char *a)
{
    for (size_t i = 0; i < sizeof(v4_ranges) / sizeof(v4_ranges[0]); i++)
        if (prefix_match(a, v4_ranges[i].addr, v4_ranges[i].bits))
            return &v4_ranges[i].cls;
    return NULL;
}

static const struct route_addr_class *classify_v6(const unsigned char *a)
{
    static const unsigned char zero[16] = { 0 };
    static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    static const unsigned char nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
    static const unsigned char nat64_local[6] = { 0x00, 0x64, 0xff, 0x9b, 0x00, 0x01 };
    static const unsigned char discard[8] = { 0x01, 0x00 };

    if (memcmp(a, mapped, 12) == 0)
        return classify_v4(a + 12);
    if (memcmp(a, zero, 15) == 0)
        return a[15] == 1 ? &v6_loopback : &v6_unspecified;
    if (memcmp(a, zero, 12) == 0)
        return &v6_compat;
    /* NAT64's well-known prefix reaches the IPv4 address it carries. */
    if (memcmp(a, nat64, 12) == 0)
        return classify_v4(a + 12);
    if (memcmp(a, nat64_local, 6) == 0)
        return &v6_nat64_local;
    if (memcmp(a, discard, 8) == 0)
        return &v6_discard;
    if ((a[0] & 0xfe) == 0xfc)
        return &v6_ula;
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
        return &v6_linklocal;
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)
        return &v6_sitelocal;
    if (a[0] == 0xff)
        return &v6_multicast;
    if ((a[0] & 0xe0) != 0x20)
        return &v6_other;
    /* 6to4: the tunnel ends at the IPv4 address in bits 16..47. */
    if (a[0] == 0x20 && a[1] == 0x02)
        return classify_v4(a + 2);
    for (size_t i = 0; i < sizeof(v6_ranges) / sizeof(v6_ranges[0]); i++)
        if (prefix_match(a, v6_ranges[i].addr, v6_ranges[i].bits))
            return &v6_ranges[i].cls;
    return NULL;
}

const struct route_addr_class *route_addr_classify(const struct sockaddr *sa)
{
    static const struct route_addr_class unknown = { "not-ip", "-" };

    if (sa->sa_family == AF_INET)
        return classify_v4((const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr);
    if (sa->sa_family == AF_INET6)
        return classify_v6(((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr);
    return &unknown;
}
