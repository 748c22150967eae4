/*
 * smtpd_int.h - private to src/smtpd: what the listener's files share
 * (server.h is the outside view).  From the bottom up, each file calls only
 * the ones listed before it, so none of them call each other in a cycle:
 *
 *   smtpd_io.c        a session's socket: reads, writes, the STARTTLS upgrade
 *   smtpd_tenant.c    the tenant a message belongs to (resolve.h)
 *   smtpd_spool.c     the spool side of a session (struct smtpd_ops)
 *   smtpd_snapshot.c  the configuration a session runs under; reloads
 *   smtpd_admit.c     admission: allowed networks, session caps, stress mode
 *   smtpd_server.c    the session thread; start, accept, stop
 *
 * Under them all, calling none of them: the session (smtpd_session.c,
 * smtpd_params.c, smtpd_data.c), its clock (smtpd_fair.c), the threads
 * (smtpd_pool.c).
 */
#ifndef TENANTRELAY_SMTPD_INT_H
#define TENANTRELAY_SMTPD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <openssl/types.h>

#include "tenantrelay/conf.h"
#include "tenantrelay/dbuf.h"
#include "tenantrelay/smtpd.h"
#include "tenantrelay/spool.h"

struct tenant_store;

/* A session's socket; ssl is set once STARTTLS succeeded. */
struct smtpd_io {
    int fd;
    SSL *ssl;
};

/* What a session runs under from its start to its end, whatever reloads
 * come meanwhile.  Reference-counted (smtpd_snap_get/put). */
struct server_snap {
    int refs;                   /* under the snapshot lock */
    struct conf *conf;
    SSL_CTX **tls;              /* per listen entry; NULL: no STARTTLS */
    int ntls;
    struct tenant_store *store; /* the tenant store as loaded with conf */
};

/* One admitted session: made by smtpd_admit(), the ctx of its smtpd_ops. */
struct smtpd_conn {
    struct smtpd_io io;
    char id[32];
    char addr[64];
    char client_key[64];        /* what the per-client cap counts (smtpd_fair.h) */
    struct sockaddr_storage peer;
    int listen_index;
    struct server_snap *snap;   /* a reference, dropped by smtpd_admit_end() */
    struct spool_msg *msg;
    unsigned long messages;
};

/* ---- smtpd_io.c ---- */

/* Read what is there within ms: >0 bytes, 0 end of stream, -1 error,
 * -2 nothing yet. */
ssize_t smtpd_io_read(struct smtpd_io *io, char *buf, size_t len, int ms);
/* Write all of buf before the deadline (monotonic seconds).  0 or -1. */
int smtpd_io_write(struct smtpd_io *io, const char *buf, size_t len, time_t deadline);
/* The server side of the STARTTLS handshake, done by the deadline.  0 or -1. */
int smtpd_io_starttls(struct smtpd_io *io, SSL_CTX *ctx, time_t deadline);
/* "TLSv1.3", "TLS_AES_256_GCM_SHA384" of an established session. */
const char *smtpd_io_tls_version(const struct smtpd_io *io);
const char *smtpd_io_tls_cipher(const struct smtpd_io *io);
/* End TLS (close_notify, best effort) and close the socket. */
void smtpd_io_close(struct smtpd_io *io);

/* ---- smtpd_tenant.c ---- */

/* Tenant resolution for a message of c; fills env->tenant(_source).
 * 0 to accept, -1 after appending a refusal to reply. */
int smtpd_tenant_resolve(const struct smtpd_conn *c, const struct smtpd_message *m,
                         struct spool_envelope *env, struct dbuf *reply);

/* ---- smtpd_spool.c ---- */

/* The session's side effects, ctx a struct smtpd_conn. */
extern const struct smtpd_ops smtpd_spool_ops;
/* The spool sessions write, borrowed from the daemon until detached. */
void smtpd_spool_attach(struct spool *spool);
void smtpd_spool_detach(void);
const char *smtpd_spool_directory(void);

/* ---- smtpd_snapshot.c (and server_prepare/commit/discard) ---- */

/* The first snapshot (server_start).  0, or -1 when conf's TLS contexts
 * cannot be built (logged). */
int smtpd_snap_start(struct conf *conf, struct tenant_store *store);
/* The current snapshot with a reference, NULL once stopped. */
struct server_snap *smtpd_snap_get(void);
void smtpd_snap_put(struct server_snap *s);
/* Drop the current snapshot (server_stop); sessions keep theirs. */
void smtpd_snap_stop(void);
/* The STARTTLS context for a listen entry, NULL when it has none. */
SSL_CTX *smtpd_snap_tls(const struct server_snap *s, int listen_index);

/* ---- smtpd_admit.c ---- */

/* Admit an accepted connection: a new session holding the current
 * snapshot, or NULL when refused (fd answered, if at all, and closed). */
struct smtpd_conn *smtpd_admit(int fd, const struct sockaddr_storage *peer, socklen_t peerlen,
                               int listen_index);
/* Answer text ("421 4.7.0 ...", host put after the codes) on a fresh
 * socket and close it. */
void smtpd_admit_refuse(int fd, const char *text, const char *host);
/* A session ended (its socket closed): free its place and snapshot. */
void smtpd_admit_end(struct smtpd_conn *c);
/* Whether the listener is stopping, and in stress mode. */
void smtpd_admit_state(bool *stopping, bool *stressed);
/* Admit again (server_start). */
void smtpd_admit_open(void);
/* Admit no more; wait until the sessions end or until (CLOCK_REALTIME).
 * True when none is left. */
bool smtpd_admit_stop(const struct timespec *until);

#endif
