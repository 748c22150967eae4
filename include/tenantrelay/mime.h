/*
 * mime.h - relaying safely what the listener accepted (SPEC §4): no line
 * longer than 998 octets leaves (RFC 5321 §4.5.3.1.6), and 8-bit content
 * goes to an upstream without 8BITMIME as 7-bit (RFC 6152), while the
 * decoded content of every MIME part stays byte for byte the same.
 *
 * The message is walked as a MIME tree (multipart, message/rfc822):
 *  - a part that already fits is copied as it is (signed or encoded
 *    content included), so does the whole message when nothing needs it;
 *  - a 7bit/8bit/binary part (or a message without MIME) that does not fit
 *    is re-encoded quoted-printable, its Content-Transfer-Encoding changed
 *    (MIME-Version added at the top when missing);
 *  - a base64 part with long lines is re-wrapped, a quoted-printable one
 *    gets soft line breaks (and =XX for raw 8-bit bytes);
 *  - header lines longer than 998 octets are folded at white space;
 *  - preamble, epilogue and parts in an unknown encoding, which no reader
 *    decodes, are cut into lines that fit.
 * Everything is pure and works on memory: the caller owns every buffer.
 */
#ifndef TENANTRELAY_MIME_H
#define TENANTRELAY_MIME_H

#include <stdbool.h>
#include <stddef.h>

#include "tenantrelay/dbuf.h"

#define MIME_LINE_MAX 998       /* octets per line, CRLF excluded */
#define MIME_QP_LINE 76         /* quoted-printable output lines (RFC 2045 §6.7) */

enum mime_fix {
    MIME_FIX_LINES = 1,         /* no line over MIME_LINE_MAX */
    MIME_FIX_8BIT = 2,          /* no 8-bit byte in the body (upstream without 8BITMIME) */
};

/* Whether the message (header section hdr, then body) needs mime_convert()
 * for flags: a line over MIME_LINE_MAX anywhere, or (MIME_FIX_8BIT) an
 * 8-bit byte in the body. */
bool mime_needs_fix(const char *hdr, size_t hlen, const char *body, size_t blen, unsigned flags);

/* Append the converted message (headers and body) to out.  Returns how
 * many MIME parts were re-encoded or re-wrapped (0: only folding or
 * cutting was needed). */
int mime_convert(const char *hdr, size_t hlen, const char *body, size_t blen, unsigned flags,
                 struct dbuf *out);

/* Quoted-printable (RFC 2045 §6.7) of in, appended to out: CRLF pairs are
 * hard line breaks, every other byte that is not printable ASCII (and
 * '=', and white space before a line end) is =XX; output lines are at
 * most MIME_QP_LINE characters.  mime_qp_decode() gives in back. */
void mime_qp_encode(const char *in, size_t len, struct dbuf *out);

/* An existing quoted-printable text made to fit: soft line breaks where a
 * line would pass MIME_QP_LINE (never inside an =XX), raw bytes that are
 * not printable ASCII as =XX.  Decodes to what in decodes to. */
void mime_qp_refit(const char *in, size_t len, struct dbuf *out);

/* Decode quoted-printable leniently (as mail readers do): =XX (either
 * case) is the byte, "=" CRLF is nothing, white space before a CRLF is
 * dropped, anything else is itself. */
void mime_qp_decode(const char *in, size_t len, struct dbuf *out);

/* Base64 text re-wrapped into MIME_QP_LINE-character CRLF lines (the
 * characters outside the base64 alphabet, which decoders skip, dropped);
 * a final CRLF when in ended with one. */
void mime_b64_rewrap(const char *in, size_t len, struct dbuf *out);

#endif
