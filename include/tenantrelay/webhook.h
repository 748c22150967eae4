/*
 * webhook.h - event webhooks (SPEC §9): a thread of tenantrelayd that
 * follows the events file from a durable cursor and POSTs its lines in
 * batches to webhook.url, signed with HMAC-SHA256 of the body under the
 * webhook secret (sealed for tenant "default", field "webhook_secret"):
 *
 *   POST url   Content-Type: application/json
 *   X-Tenantrelay-Signature: sha256=<hex of HMAC-SHA256(secret, body)>
 *   {"events": [ {...event..., "event_id": "QUEUE_ID.ATTEMPT"}, ... ]}
 *
 * The cursor (byte offset of the first unsent line, plus the events file's
 * inode) is saved atomically after each 2xx, so a restart resends at most
 * the one batch in flight (receivers deduplicate by event_id) and loses
 * nothing.  Failures are retried with exponential backoff up to
 * webhook.max_backoff.  Delivery never waits for it: it only reads the
 * file delivery appends to.
 */
#ifndef TENANTRELAY_WEBHOOK_H
#define TENANTRELAY_WEBHOOK_H

#include <stddef.h>

#include "tenantrelay/conf.h"
#include "tenantrelay/vault.h"

/* Start when conf->webhook.url is set (the secret opened with vault now;
 * a secret that does not open is an error).  0, or -1 with err. */
int webhook_start(const struct conf *conf, const struct vault *vault, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void webhook_stop(void);

/* HMAC-SHA256 of body under key as "sha256=<64 hex>" into out (at least
 * WEBHOOK_SIG_LEN bytes). */
#define WEBHOOK_SIG_LEN 72
void webhook_sign(const unsigned char *key, size_t keylen, const char *body, size_t len, char *out);

#endif
