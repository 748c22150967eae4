/*
 * tenant_write.c - the store's files rewritten atomically under a lock
 * file (see tenant_write.h).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tenantrelay/dbuf.h"
#include "tenantrelay/fdio.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/tenant_write.h"
#include "tenant_int.h"
#include "tenantrelay/timefmt.h"
#include "tenantrelay/tmpfile.h"

/* Temp files of writers killed mid-write (".NAME.tmp.RANDOM"): never read,
 * but not left to pile up either.  Called under the lock, so no live
 * writer owns one. */
static void remove_stale_temps(const char *store_path)
{
    char *copy = mystrdup(store_path), path[4096], prefix[512];
    bool is_dir = tenant_store_is_dir(store_path);
    const char *dir = is_dir ? store_path : dirname(copy);
    const char *base = strrchr(store_path, '/') ? strrchr(store_path, '/') + 1 : store_path;
    DIR *d = opendir(dir);
    struct dirent *e;

    snprintf(prefix, sizeof(prefix), ".%s.tmp.", base);
    while (d && (e = readdir(d)) != NULL) {
        bool stale = is_dir ? e->d_name[0] == '.' && strstr(e->d_name, ".conf.tmp.") != NULL
                            : strncmp(e->d_name, prefix, strlen(prefix)) == 0;

        if (stale) {
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            unlink(path);
        }
    }
    if (d)
        closedir(d);
    myfree(copy);
}

int tenant_store_lock(const char *store_path, struct conf_error *err)
{
    char lock[4096];
    int fd;

    if (tenant_store_is_dir(store_path) && mkdir(store_path, 0750) < 0 && errno != EEXIST) {
        tenant_errorf(err, "%s: cannot create the store directory: %s",
                 store_path, strerror(errno));
        return -1;
    }
    /* A sibling of the store, never inside it: readers never trip on it and
     * it survives the files it guards being replaced. */
    snprintf(lock, sizeof(lock), "%s.lock", store_path);
    if ((fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
        tenant_errorf(err, "%s: cannot open the lock file: %s", lock,
                 strerror(errno));
        return -1;
    }
    while (flock(fd, LOCK_EX) < 0) {
        if (errno != EINTR) {
            tenant_errorf(err, "%s: cannot lock: %s", lock, strerror(errno));
            close(fd);
            return -1;
        }
    }
    remove_stale_temps(store_path);
    return fd;
}

void tenant_store_unlock(int fd)
{
    if (fd >= 0)
        close(fd);              /* releases the flock */
}

/* A libconfig string literal.  Values are validated before they get here;
 * escaping is for the odd username or path. */
static void put_string(struct dbuf *b, const char *s)
{
    dbuf_append_char(b, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\')
            dbuf_printf(b, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            dbuf_printf(b, "\\x%02x", c);
        else
            dbuf_append_char(b, (char)c);
    }
    dbuf_append_char(b, '"');
}

static void put_kv_string(struct dbuf *b, const char *key, const char *value)
{
    if (value == NULL)
        return;
    dbuf_printf(b, "    %s = ", key);
    put_string(b, value);
    dbuf_append_str(b, ";\n");
}

static void put_kv_time(struct dbuf *b, const char *key, time_t t)
{
    char buf[64];

    if (t == 0)
        return;
    timefmt_rfc3339(t, buf, sizeof(buf));
    put_kv_string(b, key, buf);
}

static void put_list(struct dbuf *b, const char *key, char *const *v)
{
    dbuf_printf(b, "    %s = [", key);
    for (size_t i = 0; v && v[i]; i++) {
        dbuf_append_str(b, i ? ", " : " ");
        put_string(b, v[i]);
    }
    dbuf_append_str(b, v && v[0] ? " ];\n" : " ];\n");
}

/* auth and the oauth group, only for an OAuth2 route (password routes keep
 * their layout; tenant_fast.c reads this exact shape too). */
static void put_oauth(struct dbuf *b, const struct route *r)
{
    const struct route_oauth *o = &r->oauth;

    if (r->auth != ROUTE_AUTH_XOAUTH2)
        return;
    put_kv_string(b, "auth", route_auth_names[r->auth]);
    dbuf_append_str(b, "    oauth = {\n");
    dbuf_append_str(b, "  ");
    put_kv_string(b, "provider", route_oauth_provider_names[o->provider]);
    if (o->directory) { dbuf_append_str(b, "  "); put_kv_string(b, "directory", o->directory); }
    if (o->token_url) { dbuf_append_str(b, "  "); put_kv_string(b, "token_url", o->token_url); }
    if (o->client_id) { dbuf_append_str(b, "  "); put_kv_string(b, "client_id", o->client_id); }
    if (o->client_secret) { dbuf_append_str(b, "  "); put_kv_string(b, "client_secret", o->client_secret); }
    if (o->client_cert_file) { dbuf_append_str(b, "  "); put_kv_string(b, "client_cert_file", o->client_cert_file); }
    if (o->client_key) { dbuf_append_str(b, "  "); put_kv_string(b, "client_key", o->client_key); }
    if (o->service_account) { dbuf_append_str(b, "  "); put_kv_string(b, "service_account", o->service_account); }
    if (o->scope) { dbuf_append_str(b, "  "); put_kv_string(b, "scope", o->scope); }
    if (o->assertion_alg) { dbuf_append_str(b, "  "); put_kv_string(b, "assertion_alg", o->assertion_alg); }
    dbuf_append_str(b, "    };\n");
}

static void put_record(struct dbuf *b, const struct tenant *t)
{
    const struct route *r = &t->route;

    dbuf_append_str(b, "  {\n");
    put_kv_string(b, "id", t->id);
    dbuf_printf(b, "    enabled = %s;\n", t->enabled ? "true" : "false");
    put_kv_string(b, "host", r->host);
    dbuf_printf(b, "    port = %d;\n", r->port);
    put_kv_string(b, "tls", route_tls_names[r->tls]);
    put_kv_string(b, "username", r->username);
    put_kv_string(b, "password", r->password);
    put_kv_string(b, "sender", r->sender);
    put_list(b, "domains", t->domains);
    put_list(b, "addresses", t->addresses);
    put_kv_string(b, "ca_file", r->ca_file);
    if (!r->tls_verify)
        dbuf_append_str(b, "    tls_verify = false;\n");
    if (!r->rewrite_sender)
        dbuf_append_str(b, "    rewrite_sender = false;\n");
    if (!r->rewrite_from)
        dbuf_append_str(b, "    rewrite_from = false;\n");
    dbuf_printf(b, "    max_connections = %d;\n", r->max_connections);
    dbuf_printf(b, "    rate_limit = %d;\n", r->rate_limit);
    put_kv_string(b, "bind_address", r->bind_address);
    if (r->insecure_plaintext)
        dbuf_append_str(b, "    insecure_plaintext = true;\n");
    put_oauth(b, r);
    put_kv_time(b, "created", t->created);
    put_kv_time(b, "updated", t->updated);
    put_kv_time(b, "verified", t->verified);
    dbuf_append_str(b, "  }");
}

static int fsync_dir_of(const char *file, struct conf_error *err)
{
    char *copy = mystrdup(file);
    int fd, rc = 0;

    if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(fd) < 0) {
        tenant_errorf(err, "%s: cannot sync the directory: %s", copy,
                 strerror(errno));
        rc = -1;
    }
    if (fd >= 0)
        close(fd);
    myfree(copy);
    return rc;
}

int tenant_store_write_file(const char *file, const struct tenant *const *records, size_t n,
                            struct conf_error *err)
{
    struct dbuf b = DBUF_INIT;
    char *copy = mystrdup(file), *tmp = NULL;
    const char *dir, *base;
    struct stat st;
    mode_t mode = 0640;
    int fd = -1, rc = -1;

    if (n == 0) {
        if (unlink(file) < 0 && errno != ENOENT) {
            tenant_errorf(err, "%s: cannot remove: %s", file, strerror(errno));
            goto out;
        }
        rc = fsync_dir_of(file, err);
        goto out;
    }
    if (stat(file, &st) == 0)
        mode = st.st_mode & 07777;      /* keep the operator's mode */
    dbuf_append_str(&b, "# tenantrelay tenant store (libconfig); written by tenantrelayctl.\n"
                        "# Passwords are sealed tokens (trv1:...), never plaintext.\n"
                        "tenants = (\n");
    for (size_t i = 0; i < n; i++) {
        put_record(&b, records[i]);
        dbuf_append_str(&b, i + 1 < n ? ",\n" : "\n");
    }
    dbuf_append_str(&b, ");\n");

    dir = dirname(copy);
    base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
    /* A dot file not ending in .conf: the loader never reads it, so a
     * crash mid-write leaves only a stray temp file behind. */
    if ((fd = tmpfile_create(dir, base, mode, &tmp)) < 0) {
        tenant_errorf(err, "%s/.%s.tmp.*: cannot create: %s", dir, base, strerror(errno));
        goto out;
    }
    fchmod(fd, mode);
    if (fdio_write_all(fd, b.data, b.len) < 0) {
        tenant_errorf(err, "%s: write: %s", tmp, strerror(errno));
        goto out;
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        fd = -1;
        tenant_errorf(err, "%s: fsync: %s", tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, file) < 0) {
        tenant_errorf(err, "%s: rename to %s: %s", tmp, file, strerror(errno));
        goto out;
    }
    myfree(tmp);
    tmp = NULL;
    rc = fsync_dir_of(file, err);
out:
    if (fd >= 0)
        close(fd);
    if (tmp) {
        unlink(tmp);
        myfree(tmp);
    }
    myfree(copy);
    dbuf_free(&b);
    return rc;
}

/* Records of file in their new state: the changed or unchanged records
 * from it, plus the added one when it belongs there.  In a directory store
 * (dir non-NULL) the shard manifest follows: updated before a file is
 * removed and after one is created, so that it never lists a file that a
 * crash left absent. */
static int rewrite_one(const char *file, const struct tenant_store *store,
                       const struct tenant *const *repl, const struct tenant *added,
                       const char *added_file, const char *dir, struct conf_error *err)
{
    size_t n = tenant_store_count(store), k = 0;
    const struct tenant **list = mycalloc(n + 2, sizeof(*list));
    bool created;
    int rc;

    for (size_t i = 0; i < n; i++) {
        const char *f = tenant_store_file_of(store, tenant_store_at(store, i));

        if (repl[i] && strcmp(f, file) == 0)
            list[k++] = repl[i];
    }
    if (added && strcmp(added_file, file) == 0)
        list[k++] = added;
    if (dir && k == 0 && tenant_manifest_write(dir, file, err) < 0) {
        myfree(list);
        return -1;
    }
    created = k > 0 && access(file, F_OK) != 0;
    rc = tenant_store_write_file(file, list, k, err);
    if (rc == 0 && dir && (created || !tenant_manifest_present(dir)))
        rc = tenant_manifest_write(dir, NULL, err);
    myfree(list);
    return rc;
}

int tenant_store_rewrite(const char *store_path, const struct tenant_store *store,
                         const struct tenant *const *repl, const struct tenant *added,
                         struct conf_error *err)
{
    size_t n = tenant_store_count(store), ndirty = 0;
    const char **dirty = mycalloc(n + 2, sizeof(*dirty));
    char *added_file = added ? tenant_store_file_for(store_path, added->id) : NULL;
    int rc = 0;

    /* Distinct files touched; file names from the store are shared
     * pointers, so comparing pointers finds repeats cheaply. */
    for (size_t i = 0; i < n; i++) {
        const struct tenant *t = tenant_store_at(store, i);
        const char *f = tenant_store_file_of(store, t);
        bool seen = false;

        if (repl[i] == t)
            continue;
        for (size_t j = ndirty; j-- > 0 && !seen;)
            seen = dirty[j] == f;
        if (!seen)
            dirty[ndirty++] = f;
    }
    if (added_file) {
        bool seen = false;

        for (size_t j = 0; j < ndirty && !seen; j++)
            seen = strcmp(dirty[j], added_file) == 0;
        if (!seen)
            dirty[ndirty++] = added_file;
    }
    for (size_t j = 0; j < ndirty && rc == 0; j++)
        rc = rewrite_one(dirty[j], store, repl, added, added_file,
                         tenant_store_is_dir(store_path) ? store_path : NULL, err);
    myfree(dirty);
    myfree(added_file);
    return rc;
}
