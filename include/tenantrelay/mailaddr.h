/*
 * mailaddr.h - RFC 5321 mailbox syntax checks shared by the config, the
 * tenant store, the listener and the rewriter.
 */
#ifndef TENANTRELAY_MAILADDR_H
#define TENANTRELAY_MAILADDR_H

#include <stdbool.h>
#include <stddef.h>

/* local-part "@" domain: dot-atom or quoted local part (RFC 5321 §4.1.2),
 * domain a host name or an address literal.  UTF-8 allowed when utf8. */
bool mailaddr_is_valid(const char *addr, bool utf8);
/* A DNS host name (letters, digits, hyphens, dots; labels 1..63). */
bool mailaddr_is_hostname(const char *name);
/* Pointer to the domain part (after the last '@'), or NULL. */
const char *mailaddr_domain(const char *addr);

#endif
