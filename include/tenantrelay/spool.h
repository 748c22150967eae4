/*
 * spool.h - the durable queue.
 *
 * Layout under spool_directory:
 *   tmp/            files being written (removed at start-up: never acknowledged),
 *                   and delivered messages' files waiting to be reused
 *                   (spool_recycle.c; deleted when unused for 30 to 60 s)
 *   queue/QID.msg   the message as accepted: CRLF lines, dot-unstuffed, tenant
 *                   headers removed, our Received: first (immutable)
 *   queue/QID.env   the envelope written at acceptance (immutable, text)
 *   queue/QID.state the delivery state (absent = never tried); replaced
 *                   atomically by spool_state_save()
 * A message exists once its .env is renamed into queue/ and the directory
 * fsynced: only then does the client get "250 2.0.0 Ok: queued as QID".
 * A .msg without .env is debris of a crash before the 250 and is removed.
 *
 * Queue ids are 16 characters of [0-9A-Z], unique per spool, sortable by
 * arrival.  All text fields are single lines (addresses are validated before
 * they reach the spool).
 */
#ifndef TENANTRELAY_SPOOL_H
#define TENANTRELAY_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define SPOOL_QID_LEN 16

/* The largest .env or .state file read back (and so the largest written):
 * room for limits.max_recipients at its maximum (100,000) recipients of the
 * longest RCPT path the listener takes (a 512-octet line), twice over. */
#define SPOOL_META_MAX (128 * 1024 * 1024)

enum spool_tenant_source {
    SPOOL_TENANT_NONE,          /* no tenant: default route */
    SPOOL_TENANT_HEADER,
    SPOOL_TENANT_SENDER,
    SPOOL_TENANT_AUTH,
    SPOOL_TENANT_MILTER,        /* stamped by tenantrelay-milter */
};

#define SPOOL_FLAG_8BITMIME 0x1
#define SPOOL_FLAG_SMTPUTF8 0x2

struct spool_envelope {
    char id[SPOOL_QID_LEN + 1];
    char *tenant;               /* NULL: none (default route) */
    enum spool_tenant_source tenant_source;
    char *sender;               /* original envelope sender; "" for <> */
    char **recipients;          /* NULL-terminated */
    int recipient_count;
    time_t arrival;
    unsigned flags;             /* SPOOL_FLAG_* */
    size_t size;                /* bytes of QID.msg */
    char *client_addr;
    char *helo;
    char *message_id;           /* Message-ID header value, or NULL */
};

enum spool_state_kind {
    SPOOL_QUEUED,               /* waiting for its next attempt */
    SPOOL_DEFERRED,             /* an attempt failed temporarily */
    SPOOL_HELD,                 /* held by an operator or the circuit breaker */
    SPOOL_FAILED,               /* permanently failed; kept for failed_retention */
};

struct spool_state {
    enum spool_state_kind state;
    int attempts;
    time_t next_attempt;        /* 0 = as soon as possible */
    time_t last_attempt;        /* 0 = never */
    char *last_reply;           /* the upstream's reply or our reason, or NULL */
    char **done_recipients;     /* NULL-terminated: already accepted upstream */
};

/* Queue-id strings and the state names used in JSON ("queued", ...). */
const char *spool_state_name(enum spool_state_kind kind);
/* The kind for a name; -1 when unknown. */
int spool_state_parse(const char *name);
/* "header", "sender", ... as written in the .env ("none" for SPOOL_TENANT_NONE). */
const char *spool_tenant_source_name(enum spool_tenant_source src);
/* True when id has the queue-id form (so it cannot name another path). */
bool spool_qid_is_valid(const char *id);

/*
 * The API.  Every function returning int gives 0 on success, -1 on failure
 * with a one-line reason in err (errlen bytes, may be NULL) and errno set
 * (ENOSPC/EDQUOT/EIO for a full or failing disk, ENOENT for a missing
 * message).  Threads may share one struct spool.
 *
 * Writer (the listener), per message:
 *   m = spool_msg_begin(spool, err)        tmp/QID.msg created; QID chosen
 *   spool_msg_write(m, bytes, n) ...       buffered; errors are sticky
 *   spool_msg_commit(m, &env, err)         the only point where a message
 *                                          enters queue/; on success the
 *                                          caller may answer 250; m is freed
 *   spool_msg_abort(m)                     (instead of commit) temp files
 *                                          removed; m is freed
 * A failed commit has already aborted: nothing of it remains in queue/.
 *
 * Commit sequence: .msg flushed and fsynced; .env written to tmp/ and
 * fsynced; tmp/QID.msg then tmp/QID.env renamed into queue/; queue/ fsynced.
 * The ordering makes the .env the commit record.  spool_msg_commit() is
 * synchronous towards its caller: it returns only once the message is on
 * stable storage.  The files are fsynced by the calling thread (sessions
 * sync in parallel and the file system batches their journal commits); the
 * directory fsync is a group commit: callers arriving while one fsync of
 * queue/ runs are all served by the next one (leader/follower, no timer),
 * so N concurrent commits cost about two directory fsyncs, not N.
 * spool_remove() and spool_state_save() share the same group sync.
 *
 * Reader (delivery, tenantrelayctl):
 *   spool_list()                  queue ids in queue/, sorted = arrival order
 *   spool_envelope_read()         parse QID.env (immutable)
 *   spool_msg_path()              path of QID.msg to open and stream
 *   spool_state_read()/save()     QID.state; save is atomic (tmp, fsync,
 *                                 rename, directory fsync)
 *   spool_remove()                .env first (the message ceases to exist),
 *                                 then .state and .msg
 *
 * spool_recover() is for the daemon at start-up, before any session: it
 * empties tmp/, removes debris (.msg or .state without .env) and returns the
 * ids of the queued messages for the scheduler.
 */
struct spool;
struct spool_msg;

/* Open the spool at dir.  With create, make dir, tmp/ and queue/ (0700) when
 * absent.  NULL on error.  The caller frees with spool_close(). */
struct spool *spool_open(const char *dir, bool create, char *err, size_t errlen);
void spool_close(struct spool *spool);
const char *spool_directory(const struct spool *spool);

/* Start a message: a fresh QID and tmp/QID.msg.  NULL on error. */
struct spool_msg *spool_msg_begin(struct spool *spool, char *err, size_t errlen);
/* The QID of a message being written (valid until commit/abort). */
const char *spool_msg_id(const struct spool_msg *m);
/* Append content.  -1 once anything failed (sticky; reported again by commit). */
int spool_msg_write(struct spool_msg *m, const void *data, size_t len);
/* Bytes written so far. */
size_t spool_msg_size(const struct spool_msg *m);
/* Make the message durable with env (env->id and env->size are filled in
 * here).  Frees m whatever the outcome. */
int spool_msg_commit(struct spool_msg *m, struct spool_envelope *env, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Drop the message: temp files removed, m freed.  NULL is a no-op. */
void spool_msg_abort(struct spool_msg *m);

/* Queue ids of every message in queue/ (those with a .env), sorted.
 * *ids is NULL-terminated; free with spool_ids_free(). */
int spool_list(struct spool *spool, char ***ids, size_t *count, char *err, size_t errlen);
void spool_ids_free(char **ids);
/* Read QID.env into env (the caller frees with spool_envelope_free()). */
int spool_envelope_read(struct spool *spool, const char *qid, struct spool_envelope *env,
                        char *err, size_t errlen);
void spool_envelope_free(struct spool_envelope *env);
/* Read QID.state; an absent file gives the initial state (queued, 0
 * attempts).  The caller frees with spool_state_free(). */
int spool_state_read(struct spool *spool, const char *qid, struct spool_state *st,
                     char *err, size_t errlen);
int spool_state_save(struct spool *spool, const char *qid, const struct spool_state *st,
                     char *err, size_t errlen) __attribute__((warn_unused_result));
void spool_state_free(struct spool_state *st);
/* Path of QID.msg (or .env/.state by suffix) into buf; returns buf. */
const char *spool_path(const struct spool *spool, const char *qid, const char *suffix,
                       char *buf, size_t len);
/* Remove a message and its state (synced: it cannot come back). */
int spool_remove(struct spool *spool, const char *qid, char *err, size_t errlen);
/* Remove a message its caller has just delivered and no one else has open
 * or mapped (the delivery worker): the files are reused for new messages
 * (spool_recycle.c), and the caller does not wait for a sync, so a crash
 * right after may bring the message back: delivered twice, never lost
 * (the at-least-once window). */
int spool_remove_delivered(struct spool *spool, const char *qid, char *err, size_t errlen);
/* Delete the files of delivered messages that waited more than max_idle
 * seconds for reuse (so no delivered content lingers); call it now and
 * then.  Returns how many were deleted. */
size_t spool_expire_free(struct spool *spool, int max_idle);
/* How long a delivered message's file may wait for reuse (seconds). */
#define SPOOL_FREE_IDLE 30
/* Start-up recovery (see above); *ids as for spool_list(). */
int spool_recover(struct spool *spool, char ***ids, size_t *count, char *err, size_t errlen);

#endif
