/*
 * delivery.h - tenantrelayd's delivery side: the queue scheduler, one set
 * of worker threads per route, the outcome of every attempt, the circuit
 * breaker, and the control requests about the queue.
 *
 * Route choice happens at delivery time from the current tenant record: a
 * tenant with an enabled record goes only by its own route (when that fails
 * the message is deferred, held or failed — never sent by the default
 * route); no tenant, or one that is removed or disabled, goes by the
 * default route.  A corrected password or sender applies to queued mail.
 *
 * Threads: one scheduler thread moves due messages to their route's queue;
 * each route runs up to max_connections workers, each holding one upstream
 * session that it reuses (RSET between messages) until idle, so a slow or
 * dead route never delays another.  One mutex guards the index and routes.
 */
#ifndef TENANTRELAY_DELIVERY_H
#define TENANTRELAY_DELIVERY_H

#include <jansson.h>

#include "tenantrelay/conf.h"
#include "tenantrelay/spool.h"
#include "tenantrelay/vault.h"
#include "tenantrelay/tenant.h"

/* Start with conf (a reference is taken) and the spool the listener writes
 * (not owned): loads the tenant store and keyring, indexes the queue, and
 * starts the scheduler.  0, or -1 with err set. */
int delivery_start(struct conf *conf, struct spool *spool, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* A message was committed to the spool (env as committed): schedule it now. */
void delivery_enqueue(const struct spool_envelope *env);
/* New configuration: tenant store and keyring reread; routes whose
 * settings changed drop their sessions and leave the circuit breaker.
 * 0, or -1 with err set (the old state is kept). */
int delivery_reload(struct conf *conf, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* A new tenant-store snapshot from the live PostgreSQL store (store_live.h;
 * a reference is taken): routes follow it as on reload, without one. */
void delivery_store_install(struct tenant_store *store);
/* A control request ("status", "queue"); a new response object. */
json_t *delivery_control(const json_t *request);
/* For /metrics: messages by enum spool_state_kind, the oldest one's age,
 * the tenant store's load count and age (seconds). */
void delivery_gauges(long counts[4], double *oldest_age, long *store_generation, double *store_age);
/* The keyring delivery holds (valid until delivery_stop: replaced ones are
 * kept alive); NULL before start.  The HTTP API seals with it. */
const struct vault *delivery_vault(void);
/* Stop: workers finish their current message, sessions are closed. */
void delivery_stop(void);

#endif
