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
 *
 * The engine is an object: the daemon creates it (delivery_new), starts
 * it, hands it to whoever needs it (the HTTP server, the control socket's
 * handlers), stops it and frees it.  Nothing of it is global.
 */
#ifndef TENANTRELAY_DELIVERY_H
#define TENANTRELAY_DELIVERY_H

#include <stdbool.h>
#include <jansson.h>

#include "tenantrelay/conf.h"
#include "tenantrelay/spool.h"
#include "tenantrelay/vault.h"
#include "tenantrelay/tenant.h"

struct tenant_store;
struct delivery;
struct delivery_next;
struct delivery_pin;

/* A new engine, not started; free it with delivery_free(). */
struct delivery *delivery_new(void);
/* Start d with conf and store (references are taken) and the spool the
 * listener writes, which delivery borrows (the daemon owns it): loads the
 * keyring, indexes the queue, and starts the scheduler.  0, or -1 with err
 * set. */
int delivery_start(struct delivery *d, struct conf *conf, struct spool *spool, struct tenant_store *store,
                   char *err, size_t errlen) __attribute__((warn_unused_result));
/* A message was committed to the spool (env as committed): schedule it now. */
void delivery_enqueue(struct delivery *d, const struct spool_envelope *env);
/* A reload in two steps (see server_prepare): prepare reads the new keyring
 * and takes references to conf and store without changing the running
 * state; NULL with err when they cannot be used (a keyring that was loaded
 * and no longer loads).  Then exactly one of commit (cannot fail; routes
 * whose settings changed drop their sessions and leave the circuit
 * breaker; the replaced keyring and TLS contexts are freed once no session
 * uses them) or discard. */
struct delivery_next *delivery_prepare(struct delivery *d, struct conf *conf, struct tenant_store *store,
                                       char *err, size_t errlen)
    __attribute__((warn_unused_result));
void delivery_commit(struct delivery *d, struct delivery_next *next);
void delivery_discard(struct delivery *d, struct delivery_next *next);
/* A new tenant-store snapshot from the live PostgreSQL store (store_live.h;
 * a reference is taken): routes follow it as on reload, without one. */
void delivery_store_install(struct delivery *d, struct tenant_store *store);
/* A control request ("status", "queue"); a new response object. */
json_t *delivery_control(struct delivery *d, const json_t *request);
/* The "status" answer already serialised (JSON_COMPACT, no newline; the
 * bytes json_dumps gives for delivery_control's status object): a new
 * string of *len bytes (myfree), or NULL when delivery is not running.
 * Each tenant's entry is kept serialised between changes, so this is a copy
 * per tenant, not a jansson object per tenant. */
char *delivery_status_dumps(struct delivery *d, size_t *len);
/* For /metrics: messages by enum spool_state_kind, the oldest one's age,
 * the tenant store's load count and age (seconds).  O(1): never walks the
 * queue. */
void delivery_gauges(struct delivery *d, long counts[4], double *oldest_age, long *store_generation,
                     double *store_age);
/* The keyring delivery holds now, pinned: a reload frees a replaced keyring
 * only once no session and no pin uses it.  *vault is NULL before start or
 * without a keyring.  Release with delivery_vault_unpin() (NULL: no-op).
 * The HTTP API seals with it, the webhook opens its secret with it. */
struct delivery_pin *delivery_vault_pin(struct delivery *d, const struct vault **vault);
void delivery_vault_unpin(struct delivery *d, struct delivery_pin *pin);
/* Stop: workers finish their current message, sessions are closed.  True
 * when every worker ended (nothing of delivery uses the spool any more);
 * false when some are still stuck (the caller must not free the spool). */
bool delivery_stop(struct delivery *d);
/* Free an engine never started, or stopped with delivery_stop() returning
 * true (NULL: no-op).  After false, workers still use it: never freed. */
void delivery_free(struct delivery *d);

#endif
