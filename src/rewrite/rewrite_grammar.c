/*
 * rewrite_grammar.c - the one header-field grammar of tenantrelay (SPEC §4):
 * the listener (where the body starts, which fields are tenant headers or
 * From:), the rewriter (delivery) and the milter all ask this function, so
 * that no two of them can read one header section differently.
 *
 * The grammar is RFC 5322's field name (printable ASCII but ':') followed
 * by the colon, with the obsolete form of RFC 5322 §4.5 that Postfix also
 * accepts: spaces or tabs between the name and the colon.  Reading
 * "X-Tenant-ID : acme" as anything but the tenant header would let it reach
 * the upstream, and "From : x" would be a second From: nobody counted.
 */
#include "config.h"

#include "tenantrelay/rewrite.h"

size_t rewrite_field_name(const char *line, size_t len, size_t *value_at)
{
    size_t i = 0, name;

    while (i < len && (unsigned char)line[i] >= 33 && (unsigned char)line[i] <= 126 && line[i] != ':')
        i++;
    name = i;
    if (name == 0)
        return 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i >= len || line[i] != ':')
        return 0;
    if (value_at)
        *value_at = i + 1;
    return name;
}
