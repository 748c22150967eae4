/*
 * tenant_store.c - load the tenant store into an immutable snapshot with
 * O(1) lookups by id, address and domain (see tenant.h, tenant_write.h).
 *
 * libconfig parses about 35 MB/s here, so a 100,000-tenant store is split
 * into shard files that two threads parse in parallel (the machine has two
 * cores); each shard is a list, which libconfig appends to in O(1), never one
 * big group (linear insertion, O(n^2)).  Cross-record rules (unique ids,
 * domains, addresses) are checked after the merge, naming both records.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tenantrelay/fdio.h"
#include "tenantrelay/hmap.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/tenant_write.h"
#include "tenant_int.h"

#define LOAD_THREADS 2

/* A record and where it came from (the public part first, so that a
 * const struct tenant * from the store converts back). */
struct record {
    struct tenant t;
    const char *file;           /* owned by the store's file table */
    unsigned line;
};

struct tenant_store {
    int refs;                   /* tenant_store_ref(); the last free frees */
    struct record **recs;       /* sorted by id */
    size_t count;
    char **files;
    size_t nfiles;
    struct hmap by_id, by_address, by_domain;  /* case-insensitive */
};

/* What one thread produces from its share of the files. */
struct load_job {
    char **files;
    size_t first, step, nfiles;
    struct record **recs;
    size_t count, cap;
    struct conf_error err;
    int failed;
};

static void job_push(struct load_job *job, struct record *r)
{
    if (job->count == job->cap) {
        job->cap = job->cap ? job->cap * 2 : 256;
        job->recs = myrealloc(job->recs, job->cap * sizeof(*job->recs));
    }
    job->recs[job->count++] = r;
}

static void fast_add(void *ctx, struct tenant *t, const char *file, unsigned line)
{
    struct record *r = mycalloc(1, sizeof(*r));

    r->t = *t;
    r->file = file;
    r->line = line;
    job_push(ctx, r);
}

/* The canonical layout through the fast reader; true when it took it. */
static bool load_fast(struct load_job *job, const char *file)
{
    struct tenant_fast_out out = { job, fast_add };
    size_t before = job->count, len = 0;
    struct stat st;
    char *buf = NULL;
    int fd;
    bool ok = false;

    if (!tenant_fast_enabled || (fd = open(file, O_RDONLY | O_CLOEXEC)) < 0)
        return false;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && st.st_size < (1 << 30)) {
        buf = mymalloc((size_t)st.st_size);
        ssize_t r = fdio_read_all(fd, buf, (size_t)st.st_size);

        len = r > 0 ? (size_t)r : 0;
        ok = len == (size_t)st.st_size && tenant_fast_parse(buf, len, file, &out) == 0;
    }
    close(fd);
    myfree(buf);
    if (!ok) {
        while (job->count > before) {
            struct record *r = job->recs[--job->count];

            tenant_free_fields(&r->t);
            myfree(r);
        }
    }
    return ok;
}

static int load_file(struct load_job *job, const char *file)
{
    config_t cf;
    config_setting_t *list;
    int n, rc = -1;

    if (load_fast(job, file))
        return 0;
    config_init(&cf);
    if (!config_read_file(&cf, file)) {
        if (config_error_type(&cf) == CONFIG_ERR_FILE_IO)
            tenant_errorf(&job->err, "%s: cannot read: %s", file,
                     strerror(errno));
        else
            tenant_errorf(&job->err, "%s:%d: %s", file,
                     config_error_line(&cf), config_error_text(&cf));
        goto out;
    }
    list = config_root_setting(&cf);
    if (conf_check_keys(list, (const char *const[]){ "tenants", NULL }, NULL, &job->err) < 0)
        goto out;
    list = config_lookup(&cf, "tenants");
    if (list == NULL) {         /* an empty file is an empty shard */
        rc = 0;
        goto out;
    }
    if (!config_setting_is_list(list)) {
        conf_errorf(&job->err, list, "key 'tenants' must be a list ( { ... }, ... )");
        goto out;
    }
    n = config_setting_length(list);
    for (int i = 0; i < n; i++) {
        config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        struct record *r = mycalloc(1, sizeof(*r));

        if (tenant_parse(g, &r->t, &job->err) < 0) {
            tenant_free_fields(&r->t);
            myfree(r);
            goto out;
        }
        r->file = file;
        r->line = config_setting_source_line(g);
        job_push(job, r);
    }
    rc = 0;
out:
    config_destroy(&cf);
    return rc;
}

static void *load_thread(void *arg)
{
    struct load_job *job = arg;

    for (size_t i = job->first; i < job->nfiles; i += job->step) {
        if (load_file(job, job->files[i]) < 0) {
            job->failed = 1;
            break;
        }
    }
    return NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_rec(const void *a, const void *b)
{
    return strcmp((*(struct record *const *)a)->t.id, (*(struct record *const *)b)->t.id);
}

/* Store files to read: the path itself, or the *.conf in the directory.
 * An absent path is an empty store only when absent_ok (tenantrelayctl,
 * which creates it); the daemons refuse it (SPEC §5). */
static int list_files(const char *path, char ***files, size_t *nfiles, bool absent_ok,
                      struct conf_error *err)
{
    struct stat st;
    DIR *d;
    struct dirent *e;
    size_t cap = 0;

    *files = NULL;
    *nfiles = 0;
    if (stat(path, &st) < 0) {
        if (errno == ENOENT && absent_ok)
            return 0;           /* absent: an empty store */
        if (errno == ENOENT)
            tenant_errorf(err, "%s: the tenant store does not exist (tenantrelayctl creates it;"
                          " a missing store is never taken for an empty one)", path);
        else
            tenant_errorf(err, "%s: cannot read the tenant store: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        *files = mycalloc(1, sizeof(char *));
        (*files)[0] = mystrdup(path);
        *nfiles = 1;
        return 0;
    }
    if ((d = opendir(path)) == NULL) {
        tenant_errorf(err, "%s: cannot read the tenant store: %s", path, strerror(errno));
        return -1;
    }
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);

        if (e->d_name[0] == '.' || len < 6 || strcmp(e->d_name + len - 5, ".conf") != 0)
            continue;
        if (*nfiles == cap) {
            cap = cap ? cap * 2 : 64;
            *files = myrealloc(*files, cap * sizeof(char *));
        }
        (*files)[*nfiles] = mymalloc(strlen(path) + len + 2);
        sprintf((*files)[*nfiles], "%s/%s", path, e->d_name);
        (*nfiles)++;
        errno = 0;
    }
    if (errno != 0) {
        /* A listing cut short would be a store missing shards. */
        tenant_errorf(err, "%s: cannot list the tenant store: %s", path, strerror(errno));
        closedir(d);
        return -1;
    }
    closedir(d);
    if (*nfiles)
        qsort(*files, *nfiles, sizeof(char *), cmp_str);
    /* The daemons' loads: a shard the manifest lists must be there. */
    if (!absent_ok && tenant_manifest_check(path, *files, *nfiles, err) < 0)
        return -1;
    return 0;
}

static void dup_error(struct conf_error *err, const struct record *r, const char *what,
                      const char *value, const struct record *other)
{
    snprintf(err->text, sizeof(err->text),
             "%s:%u: tenant '%s': %s \"%s\" is already claimed by tenant '%s' (%s:%u)",
             r->file, r->line, r->t.id, what, value, other->t.id, other->file, other->line);
}

/* The cross-record rules, and the indexes that come with them. */
static int index_records(struct tenant_store *s, struct conf_error *err)
{
    size_t ndom = 0, naddr = 0;

    for (size_t i = 0; i < s->count; i++) {
        for (char **p = s->recs[i]->t.domains; *p; p++)
            ndom++;
        for (char **p = s->recs[i]->t.addresses; *p; p++)
            naddr++;
    }
    s->by_id.nocase = s->by_domain.nocase = s->by_address.nocase = true;
    hmap_reserve(&s->by_id, s->count);
    hmap_reserve(&s->by_domain, ndom);
    hmap_reserve(&s->by_address, naddr);
    for (size_t i = 0; i < s->count; i++) {
        struct record *r = s->recs[i], *other;

        if ((other = hmap_put(&s->by_id, r->t.id, r)) != NULL) {
            tenant_errorf(err, "%s:%u: tenant id '%s' is defined twice (also %s:%u)",
                     r->file, r->line, r->t.id, other->file, other->line);
            return -1;
        }
        for (char **p = r->t.domains; *p; p++) {
            if ((other = hmap_put(&s->by_domain, *p, r)) != NULL) {
                dup_error(err, r, "domain", *p, other);
                return -1;
            }
        }
        for (char **p = r->t.addresses; *p; p++) {
            if ((other = hmap_put(&s->by_address, *p, r)) != NULL) {
                dup_error(err, r, "address", *p, other);
                return -1;
            }
        }
    }
    return 0;
}

/* Parse s->files (already listed) into s; on failure s is freed. */
static struct tenant_store *load_listed(struct tenant_store *s, struct conf_error *err)
{
    struct load_job jobs[LOAD_THREADS];
    pthread_t tids[LOAD_THREADS];
    int nthreads, started = 0;
    size_t total = 0;

    memset(jobs, 0, sizeof(jobs));
    nthreads = s->nfiles >= 8 ? LOAD_THREADS : 1;
    for (int i = 0; i < nthreads; i++) {
        jobs[i].files = s->files;
        jobs[i].nfiles = s->nfiles;
        jobs[i].first = (size_t)i;
        jobs[i].step = (size_t)nthreads;
    }
    for (int i = 1; i < nthreads; i++)
        started |= (pthread_create(&tids[i], NULL, load_thread, &jobs[i]) == 0) << i;
    load_thread(&jobs[0]);
    for (int i = 1; i < nthreads; i++) {
        if (started & (1 << i))
            pthread_join(tids[i], NULL);
        else
            load_thread(&jobs[i]);      /* no thread: do its share here */
    }

    for (int i = 0; i < nthreads; i++) {
        if (jobs[i].failed && !err->text[0])
            memcpy(err->text, jobs[i].err.text, sizeof(err->text));
        total += jobs[i].count;
    }
    s->recs = mycalloc(total + 1, sizeof(*s->recs));
    for (int i = 0; i < nthreads; i++) {
        if (jobs[i].count)
            memcpy(s->recs + s->count, jobs[i].recs, jobs[i].count * sizeof(*s->recs));
        s->count += jobs[i].count;
        myfree(jobs[i].recs);
        jobs[i].recs = NULL;
    }
    for (int i = 0; i < nthreads; i++)
        if (jobs[i].failed)
            goto fail;
    if (s->count > 1)
        qsort(s->recs, s->count, sizeof(*s->recs), cmp_rec);
    if (index_records(s, err) < 0)
        goto fail;
    return s;
fail:
    tenant_store_free(s);
    return NULL;
}

static struct tenant_store *load_path(const char *path, bool absent_ok, struct conf_error *err)
{
    struct tenant_store *s = mycalloc(1, sizeof(*s));

    s->refs = 1;
    if (list_files(path, &s->files, &s->nfiles, absent_ok, err) < 0) {
        tenant_store_free(s);
        return NULL;
    }
    return load_listed(s, err);
}

struct tenant_store *tenant_store_load(const char *path, struct conf_error *err)
{
    return load_path(path, true, err);
}

struct tenant_store *tenant_store_load_whole(const char *path, struct conf_error *err)
{
    return load_path(path, false, err);
}

/* Does the file text mention one of names as a whole string literal
 * (case-insensitively)?  Anything this scanner cannot vouch for (escapes,
 * adjacent literals that libconfig concatenates, @include) counts as a
 * mention, so the file is parsed for real: a miss here would let a
 * domain be claimed twice. */
static bool text_mentions(const char *p, const char *end, const char *const *names)
{
    /* p[end - p] is a NUL the caller put there: strcspn stops at it. */
    while (p < end) {
        p += strcspn(p, "\"#/@");
        if (p >= end)
            break;
        if (*p == 0 || *p == '@')
            return true;                        /* a NUL byte, or @include */
        if (*p == '"') {
            const char *q = memchr(p + 1, '"', (size_t)(end - p - 1)), *r;

            if (q == NULL || memchr(p + 1, '\\', (size_t)(q - p - 1)) != NULL)
                return true;                    /* escapes: let libconfig decide */
            for (const char *const *n = names; *n; n++)
                if (strlen(*n) == (size_t)(q - p - 1) && strncasecmp(*n, p + 1, (size_t)(q - p - 1)) == 0)
                    return true;
            for (r = q + 1; r < end && (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r'); r++)
                ;
            if (r < end && (*r == '"' || *r == '/' || *r == '#'))
                return true;                    /* "a" "b" is one string to libconfig */
            p = q + 1;
        } else if (*p == '#' || (p + 1 < end && p[1] == '/')) {
            const char *q = memchr(p, '\n', (size_t)(end - p));

            p = q ? q + 1 : end;
        } else if (p + 1 < end && p[1] == '*') {
            const char *q = memmem(p + 2, (size_t)(end - p - 2), "*/", 2);

            p = q ? q + 2 : end;
        } else {
            p++;                                /* a lone '/' */
        }
    }
    return false;
}

static int file_mentions(const char *file, const char *const *names, bool *yes,
                         struct conf_error *err)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    struct stat st;
    char *buf = NULL;
    size_t len = 0;
    int rc = -1;

    if (fd < 0 || fstat(fd, &st) < 0) {
        tenant_errorf(err, "%s: cannot read: %s", file, strerror(errno));
        goto out;
    }
    buf = mymalloc((size_t)st.st_size + 1);
    {
        ssize_t r = fdio_read_all(fd, buf, (size_t)st.st_size);

        if (r < 0) {
            tenant_errorf(err, "%s: cannot read: %s", file, strerror(errno));
            goto out;
        }
        len = (size_t)r;
    }
    buf[len] = 0;
    *yes = text_mentions(buf, buf + len, names);
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    myfree(buf);
    return rc;
}

struct tenant_store *tenant_store_load_for_update(const char *path, const char *id,
                                                  char *const *domains, char *const *addresses,
                                                  struct conf_error *err)
{
    struct tenant_store *s = mycalloc(1, sizeof(*s));
    char **all = NULL, *home = tenant_store_file_for(path, id);
    const char **names;
    size_t nall = 0, nnames = 0;

    for (size_t i = 0; domains && domains[i]; i++)
        nnames++;
    for (size_t i = 0; addresses && addresses[i]; i++)
        nnames++;
    s->refs = 1;
    names = mycalloc(nnames + 2, sizeof(char *));
    nnames = 0;
    names[nnames++] = id;
    for (size_t i = 0; domains && domains[i]; i++)
        names[nnames++] = domains[i];
    for (size_t i = 0; addresses && addresses[i]; i++)
        names[nnames++] = addresses[i];
    names[nnames] = NULL;

    if (list_files(path, &all, &nall, true, err) < 0)
        goto fail;
    s->files = mycalloc(nall + 1, sizeof(char *));
    for (size_t i = 0; i < nall; i++) {
        bool yes = strcmp(all[i], home) == 0;

        if (!yes && file_mentions(all[i], names, &yes, err) < 0)
            goto fail;
        if (yes) {
            s->files[s->nfiles++] = all[i];
            all[i] = NULL;
        }
    }
    for (size_t i = 0; i < nall; i++)
        myfree(all[i]);
    myfree(all);
    myfree(home);
    myfree(names);
    return load_listed(s, err);
fail:
    for (size_t i = 0; i < nall; i++)
        myfree(all[i]);
    myfree(all);
    myfree(home);
    myfree(names);
    tenant_store_free(s);
    return NULL;
}

struct tenant_store *tenant_store_from_records(struct tenant *recs, size_t n, const char *origin,
                                              struct conf_error *err)
{
    struct tenant_store *s = mycalloc(1, sizeof(*s));

    s->refs = 1;
    s->files = mycalloc(1, sizeof(char *));
    s->files[0] = mystrdup(origin);
    s->nfiles = 1;
    s->recs = mycalloc(n + 1, sizeof(*s->recs));
    for (size_t i = 0; i < n; i++) {
        struct record *r = mycalloc(1, sizeof(*r));

        r->t = recs[i];
        memset(&recs[i], 0, sizeof(recs[i]));
        r->file = s->files[0];
        r->line = (unsigned)(i + 1);
        s->recs[s->count++] = r;
    }
    if (s->count > 1)
        qsort(s->recs, s->count, sizeof(*s->recs), cmp_rec);
    if (index_records(s, err) < 0) {
        tenant_store_free(s);
        return NULL;
    }
    return s;
}

struct tenant_store *tenant_store_ref(struct tenant_store *s)
{
    if (s)
        __atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
    return s;
}

void tenant_store_free(struct tenant_store *s)
{
    /* Snapshots are shared between threads (a live PostgreSQL store hands
     * the same one to the listener, delivery and the milter). */
    if (s == NULL || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    for (size_t i = 0; i < s->count; i++) {
        tenant_free_fields(&s->recs[i]->t);
        myfree(s->recs[i]);
    }
    myfree(s->recs);
    for (size_t i = 0; i < s->nfiles; i++)
        myfree(s->files[i]);
    myfree(s->files);
    hmap_free(&s->by_id);
    hmap_free(&s->by_domain);
    hmap_free(&s->by_address);
    myfree(s);
}

size_t tenant_store_count(const struct tenant_store *s)
{
    return s ? s->count : 0;
}

const struct tenant *tenant_store_at(const struct tenant_store *s, size_t i)
{
    return s && i < s->count ? &s->recs[i]->t : NULL;
}

const struct tenant *tenant_store_find(const struct tenant_store *s, const char *id)
{
    struct record *r = s ? hmap_find(&s->by_id, id) : NULL;

    return r ? &r->t : NULL;
}

const struct tenant *tenant_store_find_by_sender(const struct tenant_store *s,
                                                 const char *address)
{
    struct record *r;
    const char *at;

    if (s == NULL || address == NULL)
        return NULL;
    if ((r = hmap_find(&s->by_address, address)) != NULL)
        return &r->t;
    if ((at = strrchr(address, '@')) == NULL)
        return NULL;
    r = hmap_find(&s->by_domain, at + 1);
    return r ? &r->t : NULL;
}

const char *tenant_store_file_of(const struct tenant_store *s, const struct tenant *t)
{
    (void)s;
    return t ? ((const struct record *)(const void *)t)->file : NULL;
}

const struct tenant *tenant_store_find_by_domain(const struct tenant_store *s, const char *domain)
{
    struct record *r = s ? hmap_find(&s->by_domain, domain) : NULL;

    return r ? &r->t : NULL;
}

const struct tenant *tenant_store_find_by_address(const struct tenant_store *s,
                                                  const char *address)
{
    struct record *r = s ? hmap_find(&s->by_address, address) : NULL;

    return r ? &r->t : NULL;
}
