/*
 * store_snapshot.c - the last good copy of a PostgreSQL tenant store, kept
 * in the spool directory so that a node starts while the database is down.
 *
 * Layout: <spool>/store/v<VERSION>/shard-XX.conf, in the file store's own
 * syntax (so its fast parallel loader reads it, and an operator can read
 * it).  A new snapshot is written to a ".tmp" directory, every file
 * fsynced, then renamed into place and the parent fsynced: a reader finds
 * whole snapshots only.  The highest version present wins; older ones go.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tenantrelay/mymalloc.h"
#include "tenantrelay/store_live.h"
#include "tenantrelay/tenant_write.h"

struct placed {
    char *file;
    const struct tenant *t;
};

static int cmp_placed(const void *a, const void *b)
{
    return strcmp(((const struct placed *)a)->file, ((const struct placed *)b)->file);
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4096];

    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

static int fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

/* Every "v<N>" directory under base, highest first is *best. */
static uint64_t best_version(const char *base, bool *found)
{
    DIR *d = opendir(base);
    struct dirent *e;
    uint64_t best = 0;

    *found = false;
    while (d && (e = readdir(d)) != NULL) {
        char *end;
        uint64_t v;

        if (e->d_name[0] != 'v')
            continue;
        v = strtoull(e->d_name + 1, &end, 10);
        if (*end || end == e->d_name + 1)
            continue;
        if (!*found || v > best)
            best = v;
        *found = true;
    }
    if (d)
        closedir(d);
    return best;
}

int store_snapshot_write(const char *spool_dir, const struct tenant_store *s, uint64_t version,
                         struct conf_error *err)
{
    char base[4096], tmp[4200], final[4200], old[4400];
    size_t n = tenant_store_count(s), i = 0;
    struct placed *pl = mycalloc(n + 1, sizeof(*pl));
    DIR *d;
    struct dirent *e;
    int rc = -1;

    snprintf(base, sizeof(base), "%s/store", spool_dir);
    snprintf(tmp, sizeof(tmp), "%s/.v%" PRIu64 ".tmp.%ld", base, version, (long)getpid());
    snprintf(final, sizeof(final), "%s/v%" PRIu64, base, version);
    /* chmod too: the milter runs with a umask made for its socket. */
    if ((mkdir(base, 0750) < 0 && errno != EEXIST) || chmod(base, 0750) < 0) {
        tenant_errorf(err, "%s: cannot create: %s", base, strerror(errno));
        goto out;
    }
    remove_tree(tmp);
    if (mkdir(tmp, 0750) < 0 || chmod(tmp, 0750) < 0) {
        tenant_errorf(err, "%s: cannot create: %s", tmp, strerror(errno));
        goto out;
    }
    /* The file store's sharding, so the loader reads it in parallel. */
    for (i = 0; i < n; i++) {
        pl[i].t = tenant_store_at(s, i);
        pl[i].file = tenant_store_file_for(tmp, pl[i].t->id);
    }
    qsort(pl, n, sizeof(*pl), cmp_placed);
    for (size_t a = 0; a < n;) {
        size_t b = a;
        const struct tenant **list;

        while (b < n && strcmp(pl[b].file, pl[a].file) == 0)
            b++;
        list = mycalloc(b - a + 1, sizeof(*list));
        for (size_t k = a; k < b; k++)
            list[k - a] = pl[k].t;
        rc = tenant_store_write_file(pl[a].file, list, b - a, err);
        myfree(list);
        if (rc < 0)
            goto out;
        a = b;
    }
    rc = -1;
    /* The same version already there (another process of this host, the
     * milter or a restart): it holds the same records. */
    if (rename(tmp, final) < 0) {
        if (errno != ENOTEMPTY && errno != EEXIST) {
            tenant_errorf(err, "%s: rename: %s", final, strerror(errno));
            goto out;
        }
        remove_tree(tmp);
    }
    if (fsync_path(base) < 0) {
        tenant_errorf(err, "%s: fsync: %s", base, strerror(errno));
        goto out;
    }
    /* Older snapshots go, and temp directories of processes that died
     * (another process of this host may be writing a newer one). */
    if ((d = opendir(base)) != NULL) {
        while ((e = readdir(d)) != NULL) {
            char *end;
            uint64_t v;
            long pid;

            if (e->d_name[0] == 'v') {
                v = strtoull(e->d_name + 1, &end, 10);
                if (*end || v >= version)
                    continue;
            } else if (e->d_name[0] == '.' && e->d_name[1] == 'v'
                       && (end = strstr(e->d_name, ".tmp.")) != NULL) {
                pid = strtol(end + 5, NULL, 10);
                if (pid <= 0 || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
                    continue;
            } else {
                continue;
            }
            snprintf(old, sizeof(old), "%s/%s", base, e->d_name);
            remove_tree(old);
        }
        closedir(d);
    }
    rc = 0;
out:
    if (rc < 0)
        remove_tree(tmp);
    for (size_t k = 0; k < n; k++)
        myfree(pl[k].file);
    myfree(pl);
    return rc;
}

struct tenant_store *store_snapshot_read(const char *spool_dir, uint64_t *version, time_t *written,
                                         struct conf_error *err)
{
    char base[4096], dir[4200];
    struct stat st;
    bool found;
    uint64_t v;

    snprintf(base, sizeof(base), "%s/store", spool_dir);
    v = best_version(base, &found);
    if (!found) {
        tenant_errorf(err, "%s: no snapshot of the tenant store", base);
        return NULL;
    }
    snprintf(dir, sizeof(dir), "%s/v%" PRIu64, base, v);
    if (stat(dir, &st) < 0) {
        tenant_errorf(err, "%s: %s", dir, strerror(errno));
        return NULL;
    }
    *version = v;
    *written = st.st_mtime;
    return tenant_store_load(dir, err);
}
