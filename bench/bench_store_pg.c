/*
 * bench_store_pg.c - the PostgreSQL tenant store at scale (used by
 * bench/bench_store_pg.sh; not installed):
 *   bench_store_pg URI FILE_STORE SPOOL_DIR [CHANGES]
 * Prints, side by side: whole-store load from the file store (the peer),
 * from PostgreSQL and from the spool snapshot; lookups per second; memory
 * per tenant; and the propagation delay of CHANGES single-tenant writes
 * through the live store's real path (commit, NOTIFY, reconcile, load,
 * install), from the writer's commit to the subscriber's new snapshot.
 */
#include "config.h"

#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tenantrelay/mymalloc.h"
#include "tenantrelay/store.h"
#include "tenantrelay/store_live.h"
#include "tenantrelay/tenant_write.h"
#include "store_int.h"         /* store_pg_load */

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Heap bytes in use (not RSS: glibc keeps freed pages, such as a
 * PGresult's, so RSS would charge them to the snapshot). */
static long heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();

    return (long)mi.uordblks + (long)mi.hblkhd;
}

static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t seen_cond = PTHREAD_COND_INITIALIZER;
static size_t seen_count;
static double seen_at;

static void on_snapshot(struct tenant_store *s, void *arg)
{
    (void)arg;
    pthread_mutex_lock(&seen_lock);
    seen_count++;
    seen_at = now();
    pthread_cond_broadcast(&seen_cond);
    pthread_mutex_unlock(&seen_lock);
    (void)s;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static void lookups(const struct tenant_store *s, const char *label)
{
    long n = 1000000, hits = 0;
    char key[128];
    double t0 = now(), t1, t2;

    for (long i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "t%06ld", (i * 7919) % 100000);
        hits += tenant_store_find(s, key) != NULL;
    }
    t1 = now();
    for (long i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "someone@t%06ld.example.com", (i * 7919) % 100000);
        hits += tenant_store_find_by_sender(s, key) != NULL;
    }
    t2 = now();
    printf("%-28s id_lookups_per_s=%.0f sender_lookups_per_s=%.0f hits=%ld\n", label, n / (t1 - t0),
           n / (t2 - t1), hits);
}

int main(int argc, char **argv)
{
    struct conf_error err = { "" };
    struct tenant_store *s;
    uint64_t v = 0;
    time_t written;
    int changes = argc > 4 ? atoi(argv[4]) : 30;
    double t0, *delays;
    long before;
    struct conf conf;
    char e[512];

    if (argc < 4) {
        fprintf(stderr, "usage: bench_store_pg URI FILE_STORE SPOOL_DIR [CHANGES]\n");
        return 64;
    }
    for (int run = 1; run <= 3; run++) {
        t0 = now();
        before = heap_bytes();
        if ((s = tenant_store_load(argv[2], &err)) == NULL)
            return fprintf(stderr, "%s\n", err.text), 65;
        printf("load from the file store   run %d: %.3f s  tenants=%zu  heap_per_tenant=%ld B\n", run,
               now() - t0, tenant_store_count(s), (heap_bytes() - before) / (long)tenant_store_count(s));
        tenant_store_free(s);
        t0 = now();
        before = heap_bytes();
        if ((s = store_pg_load(argv[1], &v, &err)) == NULL)
            return fprintf(stderr, "%s\n", err.text), 65;
        printf("load from PostgreSQL       run %d: %.3f s  tenants=%zu  heap_per_tenant=%ld B  version=%lu\n",
               run, now() - t0, tenant_store_count(s), (heap_bytes() - before) / (long)tenant_store_count(s),
               (unsigned long)v);
        t0 = now();
        if (store_snapshot_write(argv[3], s, v, &err) < 0)
            return fprintf(stderr, "%s\n", err.text), 74;
        printf("write the spool snapshot   run %d: %.3f s\n", run, now() - t0);
        if (run == 1)
            lookups(s, "lookups (PostgreSQL load)");
        tenant_store_free(s);
        t0 = now();
        if ((s = store_snapshot_read(argv[3], &v, &written, &err)) == NULL)
            return fprintf(stderr, "%s\n", err.text), 65;
        printf("load from the snapshot     run %d: %.3f s  tenants=%zu\n", run, now() - t0, tenant_store_count(s));
        tenant_store_free(s);
    }

    /* Propagation through the live store's own thread. */
    memset(&conf, 0, sizeof(conf));
    conf.hostname = "bench.example";
    conf.spool_directory = argv[3];
    conf.tenant_store = argv[1];
    conf.tenant_store_poll = 30;
    if (store_live_start(&conf, "bench", e, sizeof(e)) < 0)
        return fprintf(stderr, "%s\n", e), 69;
    store_live_subscribe(on_snapshot, NULL);
    delays = mycalloc((size_t)changes, sizeof(double));
    for (int i = 0; i < changes; i++) {
        struct store_txn *txn = NULL;
        const struct tenant_store *view;
        const struct tenant *repl[2];
        struct tenant t;
        char id[32];
        size_t target;
        double done;
        int rc;

        snprintf(id, sizeof(id), "t%06d", (i * 3371) % 100000);
        if ((txn = store_txn_begin(&conf, id, NULL, NULL, &err)) == NULL)
            return fprintf(stderr, "%s\n", err.text), 65;
        view = store_txn_view(txn);
        tenant_copy(&t, tenant_store_at(view, 0));
        t.route.rate_limit = i + 1;
        repl[0] = &t;
        repl[1] = NULL;
        pthread_mutex_lock(&seen_lock);
        target = seen_count + 1;
        pthread_mutex_unlock(&seen_lock);
        rc = store_txn_commit(txn, repl, NULL, "set", id, "rate_limit", &err);
        done = now();
        store_txn_end(txn);
        tenant_free_fields(&t);
        if (rc != STORE_OK)
            return fprintf(stderr, "%s\n", err.text), 65;
        pthread_mutex_lock(&seen_lock);
        while (seen_count < target) {
            struct timespec until;

            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 30;
            if (pthread_cond_timedwait(&seen_cond, &seen_lock, &until) != 0)
                break;
        }
        delays[i] = seen_count >= target ? seen_at - done : 99.0;
        pthread_mutex_unlock(&seen_lock);
        usleep(200000);         /* writes 0.2 s apart, after each was applied */
    }
    qsort(delays, (size_t)changes, sizeof(double), cmp_double);
    printf("propagation (commit -> new snapshot installed), %d changes: p50=%.3f s p99=%.3f s max=%.3f s\n",
           changes, delays[changes / 2], delays[(changes * 99) / 100 >= changes ? changes - 1 : (changes * 99) / 100],
           delays[changes - 1]);
    store_live_stop();
    myfree(delays);
    return 0;
}
