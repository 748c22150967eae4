/*
 * milter.h - what tenantrelay-milter decides for one message, as a pure
 * function: the message as the MTA showed it (envelope sender, AUTH
 * identity, trust, header fields) in, the verdict and the list of milter
 * edits out.  The callbacks (src/milter/milter_callbacks.c) only gather the
 * input and replay the edits with smfi_*(); everything that decides is here,
 * where unit tests reach it without an MTA.
 *
 * The header result is tenantrelayd's: tenant resolution is resolve_tenant()
 * and the From:/Reply-To: values come out of rewrite_headers() with the
 * options delivery uses, applied to the header section the MTA passed.
 */
#ifndef TENANTRELAY_MILTER_H
#define TENANTRELAY_MILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "tenantrelay/conf.h"
#include "tenantrelay/tenant.h"

/* A header section larger than this is refused (552 5.3.4): the milter
 * keeps the whole section in memory, and MTAs cap theirs far below it. */
#define MILTER_HEADER_MAX (1024 * 1024)

/* Header fields Postfix puts at the top without showing them to milters,
 * but counts in smfi_insheader() positions: its own Received: (seen in
 * Postfix 3.7).  Sendmail counts its whole internal list instead (default
 * fields of its configuration included), so no position is exact there:
 * milter_callbacks.c adds such a field at the end unless the MTA is
 * Postfix (seen in Sendmail 8.17, test_milter_sendmail.sh). */
#define MILTER_HIDDEN_HEADERS 1

struct milter_header {
    char *name;
    char *value;                /* as the MTA passed it: no leading space, folds as LF or CRLF */
};

/* One message as the callbacks saw it.  Owns every string in it. */
struct milter_message {
    char *sender;               /* envelope sender, bare; "" for <> */
    char *auth_id;              /* {auth_authen}; NULL when not authenticated */
    bool client_trusted;        /* trusted network or authenticated: the tenant header counts */
    struct milter_header *headers;
    size_t nheaders;
    size_t cap;
    size_t header_bytes;        /* names + values, for MILTER_HEADER_MAX */
    bool store_stale;           /* the tenant store's database is unreachable (resolve.h) */
};

void milter_message_init(struct milter_message *m);
/* Free everything and make m empty again (ready for the next message). */
void milter_message_reset(struct milter_message *m);
/* Keep a copy of one header field. */
void milter_message_add_header(struct milter_message *m, const char *name, const char *value);

/* The bare address of an envelope sender argument ("<a@b>", "a@b", "<>").
 * Newly allocated (myfree). */
char *milter_envelope_address(const char *arg);

enum milter_verdict {
    MILTER_ACCEPT,
    MILTER_REJECT,              /* 5xx: rcode/xcode/text hold the reply */
    MILTER_TEMPFAIL,            /* 4xx: likewise */
};

enum milter_edit_op {
    MILTER_EDIT_INSERT,         /* smfi_insheader(index, name, value) */
    MILTER_EDIT_DELETE,         /* smfi_chgheader(name, index, NULL) */
    MILTER_EDIT_CHANGE,         /* smfi_chgheader(name, index, value) */
    MILTER_EDIT_ADD,            /* smfi_addheader(name, value) */
    MILTER_EDIT_CHGFROM,        /* smfi_chgfrom(value, NULL); value is "<addr>" */
};

struct milter_edit {
    enum milter_edit_op op;
    char *name;                 /* NULL for CHGFROM */
    int index;                  /* DELETE/CHANGE: 1-based among fields of that name;
                                 * INSERT: 0-based position among all fields,
                                 * MILTER_HIDDEN_HEADERS included */
    char *value;                /* NULL for DELETE */
};

struct milter_plan {
    enum milter_verdict verdict;
    char rcode[4];              /* "550" */
    char xcode[12];             /* "5.7.1" */
    char text[256];             /* printable, no '%' (libmilter and Sendmail format it) */
    char tenant[TENANT_ID_MAX + 1];     /* "" for the default route */
    const char *source;         /* "header", "sender", "auth" or "none" (static) */
    char reason[192];           /* for the log */
    const char *route_sender;   /* the route's validated sender (borrows from conf/store) */
    /* The edits, in the order they must be applied (see milter_plan.c). */
    struct milter_edit *edits;
    size_t nedits;
    int removed;                /* tenant headers removed */
    bool sender_rewritten;
    bool from_rewritten;
    bool from_added;
    bool reply_to_added;
};

/* Decide for message m under conf and store (NULL: empty).  Always fills
 * plan (free it with milter_plan_free); -1 only when the plan could not be
 * made (then plan->verdict is MILTER_TEMPFAIL with a reply), else 0. */
int milter_plan_build(const struct conf *conf, const struct tenant_store *store,
                      const struct milter_message *m, struct milter_plan *plan);
void milter_plan_free(struct milter_plan *plan);

/* "delete X-Tenant-ID 2", "change From 1 Name <a@b>", ... into buf (for
 * the debug log and the unit tests); returns buf. */
const char *milter_edit_format(const struct milter_edit *e, char *buf, size_t len);

#endif
