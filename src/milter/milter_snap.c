/*
 * milter_snap.c - the milter's current configuration and tenant store, as
 * one reference-counted snapshot swapped atomically on reload.
 *
 * Loading happens outside the lock (it reads files); only the pointer swap
 * and the reference counts are under it.  The last reference frees.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "tenantrelay/msg.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/store.h"
#include "milter_int.h"

static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;
static struct milter_snap *snap_current;

static void snap_free(struct milter_snap *s)
{
    tenant_store_free(s->store);
    conf_unref(s->conf);
    myfree(s);
}

int milter_snap_install(struct conf *conf, char *err, size_t errlen)
{
    struct conf_error cerr = { "" };
    char name[512];
    struct milter_snap *s, *old;

    s = mycalloc(1, sizeof(*s));
    s->refs = 1;
    s->conf = conf_ref(conf);
    if ((s->store = store_load(conf, NULL, &cerr)) == NULL) {
        snprintf(err, errlen, "tenant store: %s", cerr.text);
        snap_free(s);
        return -1;
    }
    msg_info("-", "tenant store loaded path=%s tenants=%zu",
             store_display_name(conf->tenant_store, name, sizeof(name)),
             tenant_store_count(s->store));
    pthread_mutex_lock(&snap_lock);
    old = snap_current;
    snap_current = s;
    pthread_mutex_unlock(&snap_lock);
    milter_snap_put(old);
    return 0;
}

int milter_snap_reload(const char *path, char *err, size_t errlen)
{
    struct conf_error cerr = { "" };
    struct milter_snap *cur;
    struct conf *fresh;
    int rc;

    if ((fresh = conf_load(path, &cerr)) == NULL) {
        snprintf(err, errlen, "%s", cerr.text);
        return -1;
    }
    cur = milter_snap_get();
    /* The socket is bound once, before the privileges go. */
    if (cur && strcmp(cur->conf->milter.socket, fresh->milter.socket) != 0)
        msg_warn("-", "milter socket changed to %s: takes effect after a restart (still %s)",
                 fresh->milter.socket, cur->conf->milter.socket);
    milter_snap_put(cur);
    rc = milter_snap_install(fresh, err, errlen);
    conf_unref(fresh);
    return rc;
}

struct milter_snap *milter_snap_get(void)
{
    struct milter_snap *s;

    pthread_mutex_lock(&snap_lock);
    s = snap_current;
    if (s)
        s->refs++;
    pthread_mutex_unlock(&snap_lock);
    return s;
}

void milter_snap_put(struct milter_snap *s)
{
    bool last;

    if (s == NULL)
        return;
    pthread_mutex_lock(&snap_lock);
    last = --s->refs == 0;
    pthread_mutex_unlock(&snap_lock);
    if (last)
        snap_free(s);
}

void milter_snap_shutdown(void)
{
    struct milter_snap *s;

    pthread_mutex_lock(&snap_lock);
    s = snap_current;
    snap_current = NULL;
    pthread_mutex_unlock(&snap_lock);
    milter_snap_put(s);
}
