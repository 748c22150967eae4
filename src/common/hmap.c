/*
 * hmap.c - the one hash table (see hmap.h).  FNV-1a over the key (folded
 * to lower case for a nocase table), separate chaining.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "tenantrelay/hmap.h"
#include "tenantrelay/mymalloc.h"

#define HMAP_MIN_BUCKETS 64

struct hmap_entry {
    const char *key;
    void *value;
    struct hmap_entry *next;
};

static size_t hash(const struct hmap *m, const char *key)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *key; key++) {
        unsigned char c = (unsigned char)*key;

        if (m->nocase && c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        h ^= c;
        h *= 1099511628211ULL;
    }
    return (size_t)(h ^ (h >> 32));
}

static bool same(const struct hmap *m, const char *a, const char *b)
{
    return (m->nocase ? strcasecmp(a, b) : strcmp(a, b)) == 0;
}

static void rehash(struct hmap *m, size_t n)
{
    struct hmap_entry **b = mycalloc(n, sizeof(*b));

    for (size_t i = 0; i < m->nbuckets; i++) {
        struct hmap_entry *e = m->buckets[i];

        while (e) {
            struct hmap_entry *next = e->next;
            size_t j = hash(m, e->key) % n;

            e->next = b[j];
            b[j] = e;
            e = next;
        }
    }
    myfree(m->buckets);
    m->buckets = b;
    m->nbuckets = n;
}

void *hmap_find(const struct hmap *m, const char *key)
{
    if (m->nbuckets == 0 || key == NULL)
        return NULL;
    for (struct hmap_entry *e = m->buckets[hash(m, key) % m->nbuckets]; e; e = e->next)
        if (same(m, e->key, key))
            return e->value;
    return NULL;
}

void *hmap_put(struct hmap *m, const char *key, void *value)
{
    struct hmap_entry *e;
    void *old;
    size_t i;

    if ((old = hmap_find(m, key)) != NULL)
        return old;
    if (m->count + 1 > m->nbuckets * 2)
        rehash(m, m->nbuckets ? m->nbuckets * 4 : HMAP_MIN_BUCKETS);
    e = mymalloc(sizeof(*e));
    i = hash(m, key) % m->nbuckets;
    e->key = key;
    e->value = value;
    e->next = m->buckets[i];
    m->buckets[i] = e;
    m->count++;
    return NULL;
}

void hmap_remove(struct hmap *m, const char *key, const void *value)
{
    struct hmap_entry **pp;

    if (m->nbuckets == 0)
        return;
    for (pp = &m->buckets[hash(m, key) % m->nbuckets]; *pp; pp = &(*pp)->next) {
        if ((*pp)->value == value) {
            struct hmap_entry *e = *pp;

            *pp = e->next;
            myfree(e);
            m->count--;
            return;
        }
    }
}

void hmap_reserve(struct hmap *m, size_t n)
{
    size_t want = HMAP_MIN_BUCKETS;

    while (want * 2 < n)
        want *= 4;
    if (want > m->nbuckets)
        rehash(m, want);
}

void hmap_free(struct hmap *m)
{
    bool nocase = m->nocase;

    for (size_t i = 0; i < m->nbuckets; i++) {
        struct hmap_entry *e = m->buckets[i];

        while (e) {
            struct hmap_entry *next = e->next;

            myfree(e);
            e = next;
        }
    }
    myfree(m->buckets);
    memset(m, 0, sizeof(*m));
    m->nocase = nocase;
}
