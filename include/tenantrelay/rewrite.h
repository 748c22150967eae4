/*
 * rewrite.h - message header rewriting at delivery time (SPEC §2).
 *
 * Pure functions over a message's header section held in memory: CRLF
 * lines, folded continuations allowed, ending with (and including) the empty
 * line; or, like the listener decides it, just before the first line that is
 * not a header field (rewrite_field_name() says 0), or at the end of the
 * buffer.  The body is never read or touched: callers split
 * the message with rewrite_header_length() and send the body bytes as they
 * are.
 *
 * All output goes to a caller-owned struct dbuf; nothing is kept here.
 */
#ifndef TENANTRELAY_REWRITE_H
#define TENANTRELAY_REWRITE_H

#include <stdbool.h>
#include <stddef.h>

#include "tenantrelay/dbuf.h"

enum rewrite_status {
    REWRITE_OK = 0,
    REWRITE_MULTIPLE_FROM,      /* more than one From: (the caller answers 5.6.0) */
    REWRITE_BAD_HEADER,         /* the header section is not well-formed (no colon, NUL, ...) */
};

/* The one header grammar (SPEC §4), shared by the listener, the rewriter
 * and the milter: is line (len bytes, no line end needed) the first line of
 * a header field?  A name of printable ASCII but ':' (RFC 5322 ftext), then
 * any spaces or tabs, then ':' (RFC 5322 §4.5, as Postfix reads it).
 * Returns the name's length (the white space before the colon excluded)
 * and, when value_at is not NULL, the offset just after the colon; 0 when
 * the line is not a field (then *value_at is untouched). */
size_t rewrite_field_name(const char *line, size_t len, size_t *value_at);

/* Length of the header section of msg: through the empty line that ends
 * it; or up to the first line that is neither a header field nor a
 * continuation (the body starts there, with no empty line), an
 * unterminated last line counting as body; or len. */
size_t rewrite_header_length(const char *msg, size_t len);

/* How many headers named name (any case) the section holds. */
int rewrite_count_header(const char *hdr, size_t len, const char *name);

/* Copy hdr to out without every header named name (any case), folded
 * continuation lines included.  Returns how many were removed. */
int rewrite_remove_header(const char *hdr, size_t len, const char *name, struct dbuf *out);

/* Parse a From:-style field value (after the colon, unfolded or not) and
 * locate its single mailbox address.  On success the address is copied to
 * addr (bare, without angle brackets) and the display part (everything
 * before the '<', comments included, trimmed) to display; angle is true
 * when the address was in angle brackets.  -1 when the value holds no
 * address, or a group / more than one mailbox (then the rewriter replaces
 * the whole value). */
int rewrite_parse_mailbox(const char *value, size_t len, struct dbuf *display, struct dbuf *addr,
                          bool *angle);

struct rewrite_opts {
    const char *const *remove;  /* header names to remove (tenant header, ...), NULL-ended or NULL */
    const char *from_sender;    /* NULL: leave From: alone (rewrite_from = false) */
    bool add_reply_to;          /* with from_sender: Reply-To: the old address when none exists */
    const char *const *prepend; /* complete header lines to put first (with or without CRLF), NULL-ended or NULL */
};

struct rewrite_report {
    int removed;                /* headers removed by opts->remove */
    bool from_rewritten;
    bool reply_to_added;
    bool from_added;            /* the message had no From: and one was added */
    char old_from[320];         /* the original From: address, "" if none found */
};

/* Rewrite the header section hdr (len bytes, as rewrite_header_length()
 * delimits it) into out: remove, rewrite From:, add Reply-To:, prepend.
 * On REWRITE_MULTIPLE_FROM / REWRITE_BAD_HEADER out is left empty
 * (BAD_HEADER also for a sender or a prepended header that would inject
 * lines).  The output uses CRLF only and ends with the empty line when the
 * input section did (the body then follows unchanged either way); the
 * rewritten From: keeps the display name (plain, quoted with escapes,
 * RFC 2047 encoded words, comments) and holds exactly one address. */
enum rewrite_status rewrite_headers(const char *hdr, size_t len, const struct rewrite_opts *opts,
                                    struct dbuf *out, struct rewrite_report *report);

#endif
