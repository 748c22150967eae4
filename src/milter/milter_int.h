/*
 * milter_int.h - shared by the files of src/milter only: the configuration
 * snapshot every message pins, and the libmilter description.
 */
#ifndef TENANTRELAY_MILTER_INT_H
#define TENANTRELAY_MILTER_INT_H

#include <libmilter/mfapi.h>

#include "tenantrelay/conf.h"
#include "tenantrelay/tenant.h"

/* The configuration and the tenant store that go together.  A message pins
 * one at MAIL FROM and keeps it until it ends, so a reload never changes
 * the rules (or frees the tenant) under a message in flight. */
struct milter_snap {
    int refs;                   /* under the snapshot lock (milter_snap.c) */
    struct conf *conf;
    struct tenant_store *store;
};

/* Load conf (a reference is taken) with the store it names, and make it
 * the current snapshot.  0, or -1 with err set (the current one stays). */
int milter_snap_install(struct conf *conf, char *err, size_t errlen);
/* Reread path and install it (SIGUSR1).  0, or -1 with err set. */
int milter_snap_reload(const char *path, char *err, size_t errlen);
/* A reference to the current snapshot (never NULL once installed). */
struct milter_snap *milter_snap_get(void);
/* Drop a reference; NULL is a no-op. */
void milter_snap_put(struct milter_snap *snap);
/* Drop the current snapshot at exit. */
void milter_snap_shutdown(void);

/* The filter: callbacks in milter_callbacks.c. */
extern struct smfiDesc milter_desc;

#endif
