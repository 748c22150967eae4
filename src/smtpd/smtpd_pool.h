/*
 * smtpd_pool.h - the listener's session threads (private to src/smtpd).
 *
 * A session still has a thread to itself (blocking I/O, simple code), but
 * the thread outlives it: when its session ends it waits for the next one,
 * and leaves only after SMTPD_POOL_IDLE seconds without work.  A burst of a
 * thousand connections a second then neither creates nor destroys a thread
 * per connection (clone, a stack mapped, glibc's stack cache growing with
 * stacks whose threads have not finished exiting).
 */
#ifndef TENANTRELAY_SMTPD_POOL_H
#define TENANTRELAY_SMTPD_POOL_H

#define SMTPD_POOL_IDLE 30

/* Run fn(job) on an idle pool thread, or on a new one (stack_size bytes).
 * 0, or an errno value when no thread could be started (fn not called). */
int smtpd_pool_run(void (*fn)(void *), void *job, size_t stack_size);
/* Wake idle threads so they leave now (the listener is stopping). */
void smtpd_pool_stop(void);

#endif
