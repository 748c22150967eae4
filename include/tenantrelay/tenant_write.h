/*
 * tenant_write.h - the tenant store, write side: records as values, the
 * store's files rewritten atomically under a lock file, and the change log.
 *
 * Layout (chosen by measurement, see bench/bench_store.sh): the store is a
 * directory of libconfig files "*.conf", each holding a list
 * `tenants = ( { id = "..."; ... }, ... );`.  New tenants go to one of
 * TENANT_SHARDS shard files chosen by a hash of the id, so that one update
 * rewrites about 1/256 of the store and no file comes near libconfig 1.5's
 * 65,535-line limit.  A store that is a single regular file in the same
 * syntax is read and written too.  Dot files and files not ending in ".conf"
 * (our temporary files) are never read.
 *
 * Writers: tenant_store_lock() (flock on "<store>.lock", a sibling of the
 * store), tenant_store_load(), change copies, tenant_store_write_file() for
 * each file that changed, tenant_changelog_append(), tenant_store_unlock().
 * Each file is replaced by rename(2) after fsync, then the directory is
 * fsynced: a reader sees the old file or the new one, never a mix.
 */
#ifndef TENANTRELAY_TENANT_WRITE_H
#define TENANTRELAY_TENANT_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "tenantrelay/conf_get.h"
#include "tenantrelay/tenant.h"

#define TENANT_SHARDS 256

/* Keys of a tenant record besides the route keys (NULL-terminated). */
extern const char *const tenant_keys[];

/* Format a message without a setting (no FILE:LINE prefix added). */
void tenant_errorf(struct conf_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Parse one record group into t (zeroed first).  0, or -1 with
 * "FILE:LINE: ..." naming the field in err.  The caller frees with
 * tenant_free_fields(). */
int tenant_parse(const config_setting_t *group, struct tenant *t, struct conf_error *err)
    __attribute__((warn_unused_result));
/* Deep copy; free with tenant_free_fields(). */
void tenant_copy(struct tenant *dst, const struct tenant *src);
void tenant_free_fields(struct tenant *t);

/* RFC 3339 UTC ("2026-11-25T03:00:00Z") to and from time_t.  Parse: 0 or -1. */
void tenant_time_format(time_t t, char *buf, size_t len);
int tenant_time_parse(const char *s, time_t *out);

/* Exact claims (case-insensitive): the tenant declaring this domain, or
 * this address; NULL when none.  (tenant_store_find_by_sender() is the
 * routing lookup: address first, then the address's domain.) */
const struct tenant *tenant_store_find_by_domain(const struct tenant_store *store,
                                                 const char *domain);
const struct tenant *tenant_store_find_by_address(const struct tenant_store *store,
                                                  const char *address);

/* The part of the store a writer of tenant id needs, without parsing all
 * of it: the file the id belongs in, plus every file whose text mentions
 * the id or one of the domains/addresses as a string (or that the quick
 * scan cannot vouch for).  Any record holding that id or one of those
 * claims is therefore in the result, so claims and the old record are
 * checked exactly.  A partial view: use it only under the lock, to update
 * that one tenant.  NULL with err on error. */
struct tenant_store *tenant_store_load_for_update(const char *path, const char *id,
                                                  char *const *domains, char *const *addresses,
                                                  struct conf_error *err);

/* Loading reads files in the canonical layout (what tenant_store_write_file
 * produces) with a strict fast reader, and everything else with libconfig;
 * both give the same records.  Off: libconfig only (for tests and fuzzing,
 * which compare the two).  Not thread-safe: set it before loading. */
void tenant_store_fast_reader(bool on);

/* The file a loaded tenant came from (owned by the store). */
const char *tenant_store_file_of(const struct tenant_store *store, const struct tenant *t);
/* True when path names a directory store, or does not exist yet and does
 * not end in ".conf" (a new store is a directory unless named like a file). */
bool tenant_store_is_dir(const char *path);
/* The file a new tenant with this id goes to (caller frees with myfree):
 * "<dir>/shard-XX.conf" for a directory store, the path itself for a file. */
char *tenant_store_file_for(const char *store_path, const char *id);

/* Take the store's write lock (blocking flock on "<store>.lock"); creates
 * the store directory when absent.  Returns the lock fd, or -1 with err. */
int tenant_store_lock(const char *store_path, struct conf_error *err);
void tenant_store_unlock(int fd);

/* Replace file with exactly these n records (n = 0 removes the file).
 * Atomic: temp file in the same directory, fsync, rename, directory fsync.
 * 0, or -1 with err.  Call only under the lock. */
int tenant_store_write_file(const char *file, const struct tenant *const *records, size_t n,
                            struct conf_error *err) __attribute__((warn_unused_result));

/* Write the store's new state: repl[i] is the new value of the store's
 * i-th record (the same pointer: unchanged; NULL: removed), added an extra
 * record (or NULL) that goes to tenant_store_file_for().  Rewrites only
 * the files that change.  0, or -1 with err.  Call only under the lock. */
int tenant_store_rewrite(const char *store_path, const struct tenant_store *store,
                         const struct tenant *const *repl, const struct tenant *added,
                         struct conf_error *err) __attribute__((warn_unused_result));

/* Append one line to the change log: time, user, action, tenant, the
 * NAMES of the fields changed (never a value).  0, or -1 with err. */
int tenant_changelog_append(const char *log_path, const char *action, const char *tenant,
                            const char *fields, struct conf_error *err);
/* Who is making the change: the user set by tenant_changelog_set_user()
 * on this thread, else $SUDO_USER when root ran through sudo, else the
 * login name of the real uid (a per-thread buffer). */
const char *tenant_changelog_user(void);
/* Name the user of this thread's changes (NULL: back to the login user). */
void tenant_changelog_set_user(const char *user);

#endif
