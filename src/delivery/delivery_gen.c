/*
 * delivery_gen.c - generations: what a reload replaces as one piece, the
 * keyring and the TLS client contexts built for it.  Workers pin the
 * generation their session uses (so do the HTTP API and the webhook, by
 * delivery_vault_pin), so a reload frees the old one as soon as its last
 * user lets go, instead of keeping every keyring (locked memory) and
 * context until stop.  Also the identity of the keyring file as last
 * loaded, to see when it changed with a new tenant-store snapshot.
 */
#include "config.h"

#include <string.h>

#include "delivery_int.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/tls.h"
#include "tenantrelay/vault.h"

struct dgen *dgen_new(struct vault *vault)
{
    struct dgen *g = mycalloc(1, sizeof(*g));

    g->refs = 1;
    g->vault = vault;
    return g;
}

void dgen_put(struct dgen *g)
{
    if (g == NULL || --g->refs > 0)
        return;
    tls_cache_free(g->tls);
    if (g->vault_owner)
        dgen_put(g->vault_owner);
    else
        vault_free(g->vault);
    myfree(g);
}

/* The old generation is freed when its last session ends. */
void dgen_replace(struct delivery *d, struct vault *vault)
{
    struct dgen *g = dgen_new(vault);

    if (vault == NULL && d->gen->vault) {
        g->vault = d->gen->vault;
        g->vault_owner = d->gen->vault_owner ? d->gen->vault_owner : d->gen;
        g->vault_owner->refs++;
    }
    dgen_put(d->gen);
    d->gen = g;
}

bool dkeyring_stat(const struct conf *conf, struct stat *st)
{
    char path[4096];

    return stat(vault_path(conf->key_file, conf->key_credential, path, sizeof(path)), st) == 0;
}

void dkeyring_remember(struct delivery *d, const struct stat *st)
{
    pthread_mutex_lock(&d->keyring_lock);
    d->keyring_seen = *st;
    pthread_mutex_unlock(&d->keyring_lock);
}

bool dkeyring_changed(struct delivery *d, const struct conf *conf)
{
    struct stat st;
    const struct stat *seen = &d->keyring_seen;
    bool changed;

    if (!dkeyring_stat(conf, &st))
        return false;
    pthread_mutex_lock(&d->keyring_lock);
    changed = st.st_ino != seen->st_ino || st.st_size != seen->st_size
              || st.st_mtim.tv_sec != seen->st_mtim.tv_sec
              || st.st_mtim.tv_nsec != seen->st_mtim.tv_nsec
              || st.st_ctim.tv_sec != seen->st_ctim.tv_sec      /* chmod, chown */
              || st.st_ctim.tv_nsec != seen->st_ctim.tv_nsec;
    d->keyring_seen = st;
    pthread_mutex_unlock(&d->keyring_lock);
    return changed;
}
