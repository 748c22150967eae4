/*
 * delivery_keymap.c - a hash from a string key to a pointer, for the
 * scheduler's per-tenant records (routes, status figures): they used to be
 * found by walking a list, one strcmp per tenant for every message, under
 * the delivery lock; with thousands of tenants that walk was the cost of
 * scheduling a message.  Callers hold the delivery lock.
 */
#include "config.h"

#include <string.h>

#include "delivery_int.h"
#include "tenantrelay/mymalloc.h"

struct keymap_entry {
    const char *key;            /* borrowed from the value */
    void *value;
    struct keymap_entry *next;
};

size_t keymap_hash(const char *key)
{
    size_t h = 5381;

    for (; *key; key++)
        h = h * 33 + (unsigned char)*key;
    return h;
}

void *keymap_find(const struct keymap *km, const char *key)
{
    if (km->nbuckets == 0)
        return NULL;
    for (struct keymap_entry *e = km->buckets[keymap_hash(key) % km->nbuckets]; e; e = e->next)
        if (strcmp(e->key, key) == 0)
            return e->value;
    return NULL;
}

static void grow(struct keymap *km)
{
    size_t n = km->nbuckets ? km->nbuckets * 4 : 64;
    struct keymap_entry **b = mycalloc(n, sizeof(*b));

    for (size_t i = 0; i < km->nbuckets; i++) {
        struct keymap_entry *e = km->buckets[i];

        while (e) {
            struct keymap_entry *next = e->next;
            size_t j = keymap_hash(e->key) % n;

            e->next = b[j];
            b[j] = e;
            e = next;
        }
    }
    myfree(km->buckets);
    km->buckets = b;
    km->nbuckets = n;
}

void keymap_put(struct keymap *km, const char *key, void *value)
{
    struct keymap_entry *e = mycalloc(1, sizeof(*e));
    size_t i;

    if (km->count + 1 > km->nbuckets * 2)
        grow(km);
    i = keymap_hash(key) % km->nbuckets;
    e->key = key;
    e->value = value;
    e->next = km->buckets[i];
    km->buckets[i] = e;
    km->count++;
}

void keymap_remove(struct keymap *km, const char *key, const void *value)
{
    struct keymap_entry **pp;

    if (km->nbuckets == 0)
        return;
    for (pp = &km->buckets[keymap_hash(key) % km->nbuckets]; *pp; pp = &(*pp)->next) {
        if ((*pp)->value == value) {
            struct keymap_entry *e = *pp;

            *pp = e->next;
            myfree(e);
            km->count--;
            return;
        }
    }
}

void keymap_free(struct keymap *km)
{
    for (size_t i = 0; i < km->nbuckets; i++) {
        struct keymap_entry *e = km->buckets[i];

        while (e) {
            struct keymap_entry *next = e->next;

            myfree(e);
            e = next;
        }
    }
    myfree(km->buckets);
    memset(km, 0, sizeof(*km));
}
