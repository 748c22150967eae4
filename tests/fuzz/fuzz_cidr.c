/*
 * fuzz_cidr.c - libFuzzer harness for network and address parsing (the
 * allowed_networks and listen values of the configuration).
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "tenantrelay/mailaddr.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/netaddr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = mystrndup((const char *)data, size);
    struct netaddr_cidr net;
    struct sockaddr_storage sa;
    socklen_t len;

    if (netaddr_parse_cidr(text, &net) == 0 && netaddr_parse_ip("192.0.2.1", 25, &sa, &len) == 0)
        (void)netaddr_cidr_match(&net, (struct sockaddr *)&sa);
    (void)mailaddr_is_valid(text, true);
    (void)mailaddr_is_valid(text, false);
    myfree(text);
    return 0;
}
