/*
 * smtpd_params.h - private to src/smtpd: the arguments of MAIL FROM and
 * RCPT TO (the <path> and the ESMTP parameters SIZE, BODY, SMTPUTF8),
 * parsed apart from the session so they can be tested as a table.
 *
 * Nothing here allocates: the address goes into the caller's buffer and a
 * refusal into the caller's err buffer.
 */
#ifndef TENANTRELAY_SMTPD_PARAMS_H
#define TENANTRELAY_SMTPD_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

#include "tenantrelay/smtpd.h"

/* Room for a parsed address with its NUL. */
#define SMTPD_PARAMS_ADDR (SMTPD_MAX_PATH + 1)
/* Room for any refusal smtpd_params_*() writes. */
#define SMTPD_PARAMS_ERRLEN 128

/* Shared with the session's own argument checks. */
static inline char *smtpd_skip_sp(char *p)
{
    while (*p == ' ')
        p++;
    return p;
}

/* MAIL: args is what follows "MAIL " ("FROM:<path> [keyword[=value]...]"),
 * and is cut up in place.  esmtp: the client said EHLO (parameters are
 * refused otherwise); max_size: the SIZE limit.  0 with the sender (""
 * for the null path) in addr[SMTPD_PARAMS_ADDR] and SPOOL_FLAG_* in
 * *flags; -1 with the whole reply line (no CRLF) in err. */
int smtpd_params_mail(char *args, bool esmtp, size_t max_size, char *addr, unsigned *flags,
                      char *err, size_t errlen);

/* RCPT: args is what follows "RCPT " ("TO:<path>"); flags: the ones MAIL
 * set (SMTPUTF8 allows a UTF-8 address).  0 with the recipient in
 * addr[SMTPD_PARAMS_ADDR]; -1 with the reply line in err. */
int smtpd_params_rcpt(char *args, unsigned flags, char *addr, char *err, size_t errlen);

#endif
