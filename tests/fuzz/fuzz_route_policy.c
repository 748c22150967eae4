/*
 * fuzz_route_policy.c - libFuzzer harness for the tenant route policy: the
 * classification of resolved addresses and the tenant_route_policy lists.
 *
 * First byte 'A': the rest is raw address bytes (4: IPv4, 16: IPv6).  The
 * classification must agree across the forms that carry an IPv4 address
 * (plain, ::ffff:a.b.c.d, 64:ff9b::a.b.c.d, 2002:aabb:ccdd::), so a private
 * address can never pass dressed as another.  Anything else: a libconfig
 * document whose tenant_route_policy group is parsed and, when valid,
 * exercised on ports and addresses taken from the input.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tenantrelay/mymalloc.h"
#include "tenantrelay/route_parse.h"
#include "tenantrelay/route_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/* libconfig 1.5 leaks in its scanner on syntax errors (as fuzz_store.c notes):
 * its bug, not ours, and not reachable from a running daemon repeatedly. */
const char *__lsan_default_suppressions(void)
{
    return "leak:strbuf_append\nleak:libconfig_yy\n";
}

static const struct route_addr_class *classify6(const unsigned char a[16])
{
    struct sockaddr_in6 s6;

    memset(&s6, 0, sizeof(s6));
    s6.sin6_family = AF_INET6;
    memcpy(s6.sin6_addr.s6_addr, a, 16);
    return route_addr_classify((struct sockaddr *)&s6);
}

static void check_forms(const unsigned char v4[4])
{
    struct sockaddr_in s4;
    unsigned char m[16] = { 0 };
    const struct route_addr_class *c, *other;

    memset(&s4, 0, sizeof(s4));
    s4.sin_family = AF_INET;
    memcpy(&s4.sin_addr, v4, 4);
    c = route_addr_classify((struct sockaddr *)&s4);
    m[10] = m[11] = 0xff;                       /* ::ffff:a.b.c.d */
    memcpy(m + 12, v4, 4);
    if (classify6(m) != c)
        abort();
    memset(m, 0, sizeof(m));                    /* 64:ff9b::a.b.c.d */
    m[1] = 0x64; m[2] = 0xff; m[3] = 0x9b;
    memcpy(m + 12, v4, 4);
    if (classify6(m) != c)
        abort();
    memset(m, 0, sizeof(m));                    /* 6to4 */
    m[0] = 0x20; m[1] = 0x02;
    memcpy(m + 2, v4, 4);
    other = classify6(m);
    if ((c == NULL) != (other == NULL))
        abort();
}

static void fuzz_address(const uint8_t *data, size_t size)
{
    if (size >= 4)
        check_forms(data);
    if (size >= 16) {
        const struct route_addr_class *c = classify6(data);

        /* Public IPv6 only inside 2000::/3 (or NAT64 of a public IPv4). */
        if (c == NULL && (data[0] & 0xe0) != 0x20
            && !(data[0] == 0 && data[1] == 0x64 && data[2] == 0xff && data[3] == 0x9b)
            && !(memcmp(data, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0))
            abort();
    }
}

static void fuzz_policy(const uint8_t *data, size_t size)
{
    char *text = mystrndup((const char *)data, size);
    struct route_policy p, q;
    struct conf_error err = { "" };
    config_t cfg;
    char why[512];

    config_init(&cfg);
    route_policy_init(&p);
    if (config_read_string(&cfg, text) == CONFIG_TRUE
        && route_policy_parse(config_root_setting(&cfg), &p, &err) == 0) {
        struct sockaddr_in6 s6;

        route_policy_copy(&q, &p);
        for (size_t i = 0; i + 2 <= size && i < 64; i += 2)
            (void)route_policy_check_port(&q, (data[i] << 8) | data[i + 1], why, sizeof(why));
        memset(&s6, 0, sizeof(s6));
        s6.sin6_family = AF_INET6;
        memcpy(s6.sin6_addr.s6_addr, data, size < 16 ? size : 16);
        (void)route_policy_check_addr(&q, (struct sockaddr *)&s6, why, sizeof(why));
        route_policy_free(&q);
    }
    route_policy_free(&p);
    config_destroy(&cfg);
    myfree(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 0 && data[0] == 'A')
        fuzz_address(data + 1, size - 1);
    else
        fuzz_policy(data, size);
    return 0;
}
