/*
 * smtpd_snapshot.c - the configuration a session runs under (conf, tenant
 * store, STARTTLS contexts), and reloads of it in two steps (server.h).
 * A session pins the snapshot it started with, so a reload never changes
 * the rules under a message in flight; the last reference frees it.
 */
#include "config.h"

#include <pthread.h>
#include <string.h>
#include <openssl/ssl.h>

#include "smtpd_int.h"
#include "tenantrelay/msg.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/server.h"
#include "tenantrelay/tenant.h"
#include "tenantrelay/tls.h"

static struct {
    pthread_mutex_t lock;       /* the current pointer and every refs */
    struct server_snap *cur;    /* what new sessions get; NULL once stopped */
} snaps = { PTHREAD_MUTEX_INITIALIZER, NULL };

static void snap_unref_locked(struct server_snap *s)
{
    if (s == NULL || --s->refs > 0)
        return;
    for (int i = 0; i < s->ntls; i++)
        SSL_CTX_free(s->tls[i]);
    myfree(s->tls);
    tenant_store_free(s->store);
    conf_unref(s->conf);
    myfree(s);
}

static struct server_snap *snap_new(struct conf *conf, struct tenant_store *store)
{
    struct server_snap *s = mycalloc(1, sizeof(*s));
    char err[512];

    s->refs = 1;
    s->conf = conf_ref(conf);
    s->store = tenant_store_ref(store);
    s->ntls = conf->listen_count;
    s->tls = mycalloc((size_t)s->ntls, sizeof(*s->tls));
    for (int i = 0; i < s->ntls; i++) {
        const struct conf_listen *l = &conf->listen[i];

        if (l->tls_cert == NULL)
            continue;
        if ((s->tls[i] = tls_server_context(l->tls_cert, l->tls_key, err, sizeof(err))) == NULL) {
            msg_error("-", "listen address=%s port=%d: %s", l->address, l->port, err);
            snap_unref_locked(s);    /* not shared yet: no lock needed */
            return NULL;
        }
    }
    return s;
}

/* Make s current (NULL: none), dropping the reference to the one it replaces. */
static void snap_install(struct server_snap *s)
{
    struct server_snap *old;

    pthread_mutex_lock(&snaps.lock);
    old = snaps.cur;
    snaps.cur = s;
    snap_unref_locked(old);
    pthread_mutex_unlock(&snaps.lock);
}

int smtpd_snap_start(struct conf *conf, struct tenant_store *store)
{
    struct server_snap *s = snap_new(conf, store);

    if (s == NULL)
        return -1;
    snap_install(s);
    return 0;
}

struct server_snap *smtpd_snap_get(void)
{
    struct server_snap *s;

    pthread_mutex_lock(&snaps.lock);
    if ((s = snaps.cur) != NULL)
        s->refs++;
    pthread_mutex_unlock(&snaps.lock);
    return s;
}

void smtpd_snap_put(struct server_snap *s)
{
    pthread_mutex_lock(&snaps.lock);
    snap_unref_locked(s);
    pthread_mutex_unlock(&snaps.lock);
}

void smtpd_snap_stop(void)
{
    snap_install(NULL);
}

SSL_CTX *smtpd_snap_tls(const struct server_snap *s, int listen_index)
{
    /* A reload may list fewer listen entries than the sockets bound at start. */
    return listen_index < s->ntls ? s->tls[listen_index] : NULL;
}

struct server_snap *server_prepare(struct conf *conf, struct tenant_store *store)
{
    struct server_snap *snap = snap_new(conf, store);

    if (snap && strcmp(conf->spool_directory, smtpd_spool_directory()) != 0)
        msg_warn("-", "spool_directory changed to %s: takes effect after a restart",
                 conf->spool_directory);
    return snap;
}

void server_commit(struct server_snap *snap)
{
    snap_install(snap);
}

void server_discard(struct server_snap *snap)
{
    smtpd_snap_put(snap);
}
