/*
 * server.h - the SMTP listener behind tenantrelayd's sockets: it admits
 * accepted connections and runs their sessions (src/smtpd).
 *
 * tenantrelayd.c owns the listening sockets, the accept loop, the signals
 * and the spool (it opens and closes it).  The server only writes each
 * accepted message into the spool it is given, and reports it through the
 * queued hook; the daemon hands it on to delivery, a module of its own.
 */
#ifndef TENANTRELAY_SERVER_H
#define TENANTRELAY_SERVER_H

#include <stdbool.h>
#include <sys/socket.h>

#include "tenantrelay/conf.h"

struct spool;
struct spool_envelope;
struct tenant_store;
struct server_snap;

/* Start with conf and store (the server takes its own references) and the
 * spool it writes, which it borrows: the daemon owns the spool and closes it
 * only after server_stop() said no session uses it.  0 or -1 (logged). */
int server_start(struct conf *conf, struct spool *spool, struct tenant_store *store)
    __attribute__((warn_unused_result));
/* Serve an accepted connection, already non-blocking (accept4 with
 * SOCK_NONBLOCK); the server owns fd from here on. */
void server_accept(int fd, const struct sockaddr_storage *peer, socklen_t peerlen, int listen_index);
/* A reload in two steps, so that the listener and delivery switch together
 * or not at all: prepare builds everything conf needs (TLS contexts;
 * references to conf and store) without touching the running state, NULL
 * when conf cannot be used (logged); then exactly one of commit (cannot
 * fail: new sessions use it, sessions in flight keep the snapshot they
 * started with) or discard. */
struct server_snap *server_prepare(struct conf *conf, struct tenant_store *store)
    __attribute__((warn_unused_result));
void server_commit(struct server_snap *snap);
void server_discard(struct server_snap *snap);
/* Stop: refuse new sessions, wait a bounded time for those in flight.
 * True when every session ended (nothing of the server uses the spool any
 * more); false when some still run (the caller must not free the spool). */
bool server_stop(void);

/* Called with each message's envelope right after it is committed to the
 * spool (and before the client gets its 250), from the session's thread;
 * the daemon's hook hands it to delivery (arg: the engine).  Set once,
 * before the first accept. */
void server_set_queued_hook(void (*hook)(const struct spool_envelope *env, void *arg), void *arg);

#endif
