/*
 * tenant_path.c - where a store's records live: whether the store is a
 * directory of shards or one file, and the file a tenant id belongs in
 * (see tenant_write.h).  Below both the loader (tenant_store.c) and the
 * writer (tenant_write.c), which each need it.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "tenantrelay/mymalloc.h"
#include "tenantrelay/tenant_write.h"

bool tenant_store_is_dir(const char *path)
{
    struct stat st;
    size_t len = strlen(path);

    if (stat(path, &st) == 0)
        return S_ISDIR(st.st_mode);
    /* Absent: a directory, unless the name says it is meant to be one
     * file ("tenants.conf"). */
    return errno == ENOENT && !(len > 5 && strcmp(path + len - 5, ".conf") == 0);
}

char *tenant_store_file_for(const char *store_path, const char *id)
{
    uint32_t h = 2166136261u;
    char *file;

    if (!tenant_store_is_dir(store_path))
        return mystrdup(store_path);
    /* FNV-1a: stable across versions and machines, so a tenant stays in
     * its shard for life. */
    for (const char *p = id; *p; p++) {
        h ^= (unsigned char)*p;
        h *= 16777619u;
    }
    file = mymalloc(strlen(store_path) + 32);
    sprintf(file, "%s/shard-%02x.conf", store_path, (unsigned)(h % TENANT_SHARDS));
    return file;
}
