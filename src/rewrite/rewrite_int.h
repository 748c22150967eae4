/*
 * rewrite_int.h - shared by the files of src/rewrite only.
 */
#ifndef TENANTRELAY_REWRITE_INT_H
#define TENANTRELAY_REWRITE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "tenantrelay/dbuf.h"

/* What the From: value holds. */
struct rewrite_mailboxes {
    int count;                  /* mailboxes found at the top level */
    bool group;                 /* group syntax "name: ...;" */
    bool malformed;             /* unbalanced quote, comment or angle bracket */
    struct dbuf display;        /* the first mailbox's display name (raw, unfolded, trimmed) */
    struct dbuf addr;           /* the first mailbox's address, bare */
    bool angle;
};

void rewrite_mailboxes_init(struct rewrite_mailboxes *m);
void rewrite_mailboxes_free(struct rewrite_mailboxes *m);
/* Parse an address-list value (folds allowed). */
void rewrite_mailboxes_parse(const char *value, size_t len, struct rewrite_mailboxes *m);
/* Append "From: DISPLAY <sender>\r\n" (or "From: sender\r\n"), folded at
 * top-level white space when longer than 78 characters. */
void rewrite_from_line(const char *display, size_t dlen, const char *sender, struct dbuf *out);

#endif
