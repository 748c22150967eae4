/*
 * events.h - the events file: one JSON object per line for every delivery
 * attempt, appended for the platform to read (it tells a tenant that its
 * server refused our mail).  Never a secret in it.
 *
 * Fields: time (RFC 3339 UTC), queue_id, tenant ("default" for the default
 * route), message_id, sender (as relayed), recipients, relay (host:port),
 * tls (version or null), status (sent|deferred|failed|held), delay (seconds
 * since arrival), attempt, reply (the upstream's reply or our reason),
 * event_id ("QUEUE_ID.ATTEMPT", unique per line: receivers deduplicate on it).
 */
#ifndef TENANTRELAY_EVENTS_H
#define TENANTRELAY_EVENTS_H

#include <jansson.h>

/* Append obj as one line to path (created 0640 if absent).  The write is a
 * single O_APPEND write(2), so concurrent writers never interleave lines.
 * 0, or -1 with errno set. */
int events_append(const char *path, const json_t *obj);

/* RFC 3339 UTC ("2026-11-25T03:14:07Z") of t into buf (at least 21 bytes). */
const char *events_time(time_t t, char *buf, size_t len);

#endif
