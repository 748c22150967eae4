/*
 * tenant_manifest.c - the list of a directory store's shard files
 * (".manifest" in the store directory), so that a shard deleted or lost is
 * noticed: without it a store missing a shard reads as a smaller store and
 * that shard's tenants would silently go by the default route (SPEC §5: a
 * store that cannot be read whole is never an empty store).
 *
 * Written by tenantrelayctl under the store's lock (tenant_write.c): after
 * a shard file is created, and before one is removed, so that a crash in
 * between leaves a manifest listing only files that exist.  Checked by the
 * daemons' loads (tenant_store_load_whole): every listed shard must exist.
 * A store without a manifest (one written by an older version, or created
 * empty) is not checked until its next write creates one.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tenantrelay/dbuf.h"
#include "tenantrelay/fdio.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/tenant_write.h"
#include "tenant_int.h"

#define MANIFEST_NAME ".manifest"
#define MANIFEST_HEADER "# tenantrelay tenant store shards (written by tenantrelayctl; do not edit)"

static bool is_shard_name(const char *name)
{
    size_t len = strlen(name);

    return name[0] != '.' && len >= 6 && strcmp(name + len - 5, ".conf") == 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int tenant_manifest_write(const char *dir, const char *dropped, struct conf_error *err)
{
    struct dbuf b = DBUF_INIT;
    char path[4096], tmp[4200];
    char **names = NULL;
    size_t n = 0, cap = 0;
    const char *drop = dropped ? (strrchr(dropped, '/') ? strrchr(dropped, '/') + 1 : dropped) : NULL;
    DIR *d = opendir(dir);
    struct dirent *e;
    int fd = -1, rc = -1;

    if (d == NULL) {
        tenant_errorf(err, "%s: cannot list the store: %s", dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (!is_shard_name(e->d_name) || (drop && strcmp(e->d_name, drop) == 0))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = myrealloc(names, cap * sizeof(*names));
        }
        names[n++] = mystrdup(e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), cmp_name);
    dbuf_append_str(&b, MANIFEST_HEADER "\n");
    for (size_t i = 0; i < n; i++)
        dbuf_printf(&b, "%s\n", names[i]);
    snprintf(path, sizeof(path), "%s/" MANIFEST_NAME, dir);
    /* ".manifest.conf.tmp.PID": never read, and removed as a stale temp. */
    snprintf(tmp, sizeof(tmp), "%s/" MANIFEST_NAME ".conf.tmp.%ld", dir, (long)getpid());
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640)) < 0
        || fdio_write_all(fd, b.data, b.len) < 0 || fsync(fd) < 0) {
        tenant_errorf(err, "%s: cannot write: %s", tmp, strerror(errno));
        goto out;
    }
    close(fd);
    fd = -1;
    if (rename(tmp, path) < 0) {
        tenant_errorf(err, "%s: cannot replace: %s", path, strerror(errno));
        goto out;
    }
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(fd) < 0) {
        tenant_errorf(err, "%s: cannot sync the directory: %s", dir, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (rc < 0)
        unlink(tmp);
    for (size_t i = 0; i < n; i++)
        myfree(names[i]);
    myfree(names);
    dbuf_free(&b);
    return rc;
}

bool tenant_manifest_present(const char *dir)
{
    char path[4096];

    snprintf(path, sizeof(path), "%s/" MANIFEST_NAME, dir);
    return access(path, F_OK) == 0;
}

int tenant_manifest_check(const char *dir, char *const *files, size_t nfiles,
                          struct conf_error *err)
{
    char path[4096], line[1024];
    FILE *f;
    unsigned lineno = 0;
    int rc = 0;

    snprintf(path, sizeof(path), "%s/" MANIFEST_NAME, dir);
    if ((f = fopen(path, "re")) == NULL) {
        if (errno == ENOENT)
            return 0;           /* not written yet: nothing to check against */
        tenant_errorf(err, "%s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
        size_t len = strcspn(line, "\n");
        bool found = false;

        lineno++;
        line[len] = 0;
        if (line[0] == '#' || line[0] == 0)
            continue;
        /* files are "dir/name", sorted; few enough to scan. */
        for (size_t i = 0; i < nfiles && !found; i++) {
            const char *base = strrchr(files[i], '/');

            found = base && strcmp(base + 1, line) == 0;
        }
        if (!found) {
            tenant_errorf(err, "%s:%u: shard %s/%s is missing: the store cannot be read whole",
                          path, lineno, dir, line);
            rc = -1;
        }
    }
    if (rc == 0 && ferror(f)) {
        tenant_errorf(err, "%s: cannot read: %s", path, strerror(errno));
        rc = -1;
    }
    fclose(f);
    return rc;
}
