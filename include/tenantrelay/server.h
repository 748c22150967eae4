/*
 * server.h - what tenantrelayd runs behind its listening sockets: SMTP
 * sessions, the spool and the delivery scheduler.  tenantrelayd.c owns the
 * sockets and signals; the server owns everything that happens after accept.
 */
#ifndef TENANTRELAY_SERVER_H
#define TENANTRELAY_SERVER_H

#include <sys/socket.h>

#include "tenantrelay/conf.h"

/* Start with conf (the server takes its own reference).  0 or -1 (logged). */
int server_start(struct conf *conf) __attribute__((warn_unused_result));
/* Serve an accepted connection, already non-blocking (accept4 with
 * SOCK_NONBLOCK); the server owns fd from here on. */
void server_accept(int fd, const struct sockaddr_storage *peer, socklen_t peerlen, int listen_index);
/* Switch new sessions and deliveries to conf; sessions in flight keep the
 * snapshot they started with.  0, or -1 when conf cannot be used (logged). */
int server_reload(struct conf *conf) __attribute__((warn_unused_result));
/* Stop: finish or abort sessions, release everything. */
void server_stop(void);

struct spool;
struct spool_envelope;
/* The spool the listener writes (valid between server_start and server_stop). */
struct spool *server_spool(void);
/* Called with each message's envelope right after it is committed (and
 * before the client gets its 250): delivery schedules it.  Set once,
 * before the first accept. */
void server_set_queued_hook(void (*hook)(const struct spool_envelope *env));

#endif
