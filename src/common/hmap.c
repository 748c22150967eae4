/*
 * hmap.c - the one hash table (see hmap.h).  FNV-1a over the key (folded
 * to lower case for a nocase table); open addressing, linear probing, the
 * hash kept in the slot so a probe compares strings only on a likely hit;
 * removal shifts the following run back, so there are no tombstones.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "tenantrelay/hmap.h"
#include "tenantrelay/mymalloc.h"

#define HMAP_MIN_SLOTS 64

struct hmap_slot {
    const char *key;            /* NULL: empty */
    void *value;
    size_t hash;
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

static int same(const struct hmap *m, const char *a, const char *b)
{
    return (m->nocase ? strcasecmp(a, b) : strcmp(a, b)) == 0;
}

/* The slot holding key, or the empty slot where it would go. */
static struct hmap_slot *probe(const struct hmap *m, const char *key, size_t h)
{
    size_t i = h & m->mask;

    while (m->slots[i].key && !(m->slots[i].hash == h && same(m, m->slots[i].key, key)))
        i = (i + 1) & m->mask;
    return &m->slots[i];
}

static void resize(struct hmap *m, size_t cap)
{
    struct hmap_slot *old = m->slots;
    size_t oldcap = old ? m->mask + 1 : 0;

    m->slots = mycalloc(cap, sizeof(*m->slots));
    m->mask = cap - 1;
    for (size_t i = 0; i < oldcap; i++) {
        if (old[i].key) {
            size_t j = old[i].hash & m->mask;

            while (m->slots[j].key)
                j = (j + 1) & m->mask;
            m->slots[j] = old[i];
        }
    }
    myfree(old);
}

void *hmap_find(const struct hmap *m, const char *key)
{
    if (m->slots == NULL || key == NULL)
        return NULL;
    return probe(m, key, hash(m, key))->value;
}

void *hmap_put(struct hmap *m, const char *key, void *value)
{
    struct hmap_slot *s;
    size_t h = hash(m, key);

    if (m->slots == NULL || (m->count + 1) * 2 > m->mask + 1)
        resize(m, m->slots ? (m->mask + 1) * 2 : HMAP_MIN_SLOTS);
    s = probe(m, key, h);
    if (s->key)
        return s->value;
    s->key = key;
    s->value = value;
    s->hash = h;
    m->count++;
    return NULL;
}

void hmap_remove(struct hmap *m, const char *key, const void *value)
{
    struct hmap_slot *s;
    size_t i, j;

    if (m->slots == NULL || key == NULL)
        return;
    s = probe(m, key, hash(m, key));
    if (s->key == NULL || s->value != value)
        return;
    /* Backward shift: an entry after the hole moves into it when the hole
     * lies on its probe path (between its home slot and where it sits). */
    i = (size_t)(s - m->slots);
    for (j = (i + 1) & m->mask; m->slots[j].key; j = (j + 1) & m->mask) {
        size_t home = m->slots[j].hash & m->mask;

        if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
            m->slots[i] = m->slots[j];
            i = j;
        }
    }
    memset(&m->slots[i], 0, sizeof(m->slots[i]));
    m->count--;
}

void hmap_reserve(struct hmap *m, size_t n)
{
    size_t cap = HMAP_MIN_SLOTS;

    while (cap < n * 2 + 1)
        cap <<= 1;
    if (m->slots == NULL || cap > m->mask + 1)
        resize(m, cap);
}

void hmap_free(struct hmap *m)
{
    bool nocase = m->nocase;

    myfree(m->slots);
    memset(m, 0, sizeof(*m));
    m->nocase = nocase;
}
