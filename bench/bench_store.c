/*
 * bench_store.c - load a tenant store and time it, then time lookups by id
 * and by sender (used by bench/bench_store.sh; not installed).
 *   bench_store STORE_PATH [LOOKUPS [libconfig]]
 * "libconfig" turns the fast canonical reader off, to compare.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <string.h>

#include "tenantrelay/tenant.h"
#include "tenantrelay/tenant_write.h"

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    struct conf_error err = { "" };
    struct tenant_store *s;
    long lookups = argc > 2 ? atol(argv[2]) : 2000000, hits = 0;
    double t0, t1, t2, t3;
    char key[128];

    if (argc < 2) {
        fprintf(stderr, "usage: bench_store STORE [LOOKUPS]\n");
        return 64;
    }
    if (argc > 3 && strcmp(argv[3], "libconfig") == 0)
        tenant_store_fast_reader(false);
    t0 = now();
    if ((s = tenant_store_load(argv[1], &err)) == NULL) {
        fprintf(stderr, "%s\n", err.text);
        return 65;
    }
    t1 = now();
    for (long i = 0; i < lookups; i++) {
        snprintf(key, sizeof(key), "t%06ld", (i * 7919) % 100000);
        hits += tenant_store_find(s, key) != NULL;
    }
    t2 = now();
    for (long i = 0; i < lookups; i++) {
        snprintf(key, sizeof(key), "someone@t%06ld.example.com", (i * 7919) % 100000);
        hits += tenant_store_find_by_sender(s, key) != NULL;
    }
    t3 = now();
    printf("%s tenants=%zu load_s=%.3f id_lookups_per_s=%.0f sender_lookups_per_s=%.0f hits=%ld\n",
           argc > 3 ? "libconfig  " : "fast reader", tenant_store_count(s), t1 - t0, lookups / (t2 - t1), lookups / (t3 - t2), hits);
    tenant_store_free(s);
    return 0;
}
