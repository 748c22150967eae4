/*
 * tenant_int.h - internals shared by the tenant store's own files.
 */
#ifndef TENANTRELAY_TENANT_INT_H
#define TENANTRELAY_TENANT_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "tenantrelay/tenant.h"

/* Where the fast reader puts each record it accepts (it takes t's fields). */
struct tenant_fast_out {
    void *ctx;
    void (*add)(void *ctx, struct tenant *t, const char *file, unsigned line);
};

static inline void tenant_fast_add(struct tenant_fast_out *out, struct tenant *t, const char *file,
                                   unsigned line)
{
    out->add(out->ctx, t, file, line);
}

/* Read buf (a whole store file) if it has the canonical layout: 0, with
 * every record handed to out; -1 to decline (records already handed over
 * must then be dropped by the caller, who reads the file with libconfig). */
int tenant_fast_parse(const char *buf, size_t len, const char *file, struct tenant_fast_out *out);

/* Off: every file goes through libconfig (tests compare the two). */
extern bool tenant_fast_enabled;

struct conf_error;
/* The shard list of a directory store (tenant_manifest.c).  write: list
 * the *.conf files now in dir, but dropped (a path or a name; NULL: none),
 * into dir/.manifest, atomically.  check: every shard the manifest lists is
 * among files (full paths); no manifest passes.  present: dir has one.
 * 0, or -1 with err. */
int tenant_manifest_write(const char *dir, const char *dropped, struct conf_error *err);
int tenant_manifest_check(const char *dir, char *const *files, size_t nfiles,
                          struct conf_error *err);
bool tenant_manifest_present(const char *dir);

#endif
