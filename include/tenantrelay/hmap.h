/*
 * hmap.h - the one hash table: a string key to a pointer, open addressing
 * with linear probing (one array, no allocation per entry: lookups touch
 * one cache line in the common case), at most half full.  Keys are
 * borrowed (each must live as long as its entry: usually it is a field of
 * the value itself); values belong to the caller.  Not locked: its owner
 * serialises access (the delivery lock, or an immutable snapshot).
 */
#ifndef TENANTRELAY_HMAP_H
#define TENANTRELAY_HMAP_H

#include <stdbool.h>
#include <stddef.h>

struct hmap_slot;
struct hmap {
    struct hmap_slot *slots;
    size_t mask, count;         /* capacity - 1 (a power of two); entries */
    bool nocase;                /* ASCII case-insensitive keys (addresses, domains) */
};

#define HMAP_INIT { NULL, 0, 0, false }
#define HMAP_INIT_NOCASE { NULL, 0, 0, true }

/* The value under key, or NULL. */
void *hmap_find(const struct hmap *m, const char *key);

/* Insert key -> value (value not NULL): NULL, or, when key is already
 * there, the value it holds (and nothing changes). */
void *hmap_put(struct hmap *m, const char *key, void *value);

/* Remove the entry of key that holds value (no-op when absent). */
void hmap_remove(struct hmap *m, const char *key, const void *value);

/* Room for about n entries without growing (a table filled at once). */
void hmap_reserve(struct hmap *m, size_t n);

/* Free the table (not the values); m is empty again, nocase kept. */
void hmap_free(struct hmap *m);

#endif
