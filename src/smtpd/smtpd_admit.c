/*
 * smtpd_admit.c - who gets a session: never anyone outside
 * allowed_networks, never more than max_sessions in all nor
 * max_sessions_per_client per client (smtpd_fair.h says what a client is),
 * and stress mode when nearly full.  A refusal is one reply line on the
 * fresh socket, sent without blocking the daemon's accept loop.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "smtpd_fair.h"
#include "smtpd_int.h"
#include "tenantrelay/msg.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/netaddr.h"

struct client_slot {
    char addr[64];
    int count;
};

static struct {
    pthread_mutex_t lock;       /* taken before the snapshot lock, never after */
    pthread_cond_t idle;        /* a session ended */
    int sessions;
    bool stressed;              /* nearly full (smtpd_fair.h): shorter timeouts */
    struct client_slot *clients;
    int nclients;
    unsigned long next_id;
    bool stopping;
} adm = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, false, NULL, 0, 0, false };

/* Stress mode follows the session count (under adm.lock); its changes are logged. */
static void stress_update_locked(int max)
{
    bool now = smtpd_fair_stressed(adm.sessions, max);

    if (now != adm.stressed) {
        adm.stressed = now;
        msg_warn("-", "stress=%s sessions=%d max_sessions=%d%s", now ? "on" : "off", adm.sessions, max,
                 now ? ": command timeouts shortened to stress_command_timeout" : "");
    }
}

void smtpd_admit_refuse(int fd, const char *text, const char *host)
{
    char line[256], drain[4096];
    int len = snprintf(line, sizeof(line), "%.9s %s %s\r\n", text, host, text + 10);

    /* A fresh socket has room for one line: never block the accept loop. */
    if (send(fd, line, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
        /* gone already */
    }
    shutdown(fd, SHUT_WR);
    /* Read what the client already sent: closing with unread input would
     * reset the connection and could destroy the reply before it is read. */
    for (int i = 0; i < 16 && recv(fd, drain, sizeof(drain), MSG_DONTWAIT) > 0; i++)
        ;
    close(fd);
}

struct smtpd_conn *smtpd_admit(int fd, const struct sockaddr_storage *peer, socklen_t peerlen,
                               int listen_index)
{
    struct smtpd_conn *c;
    struct server_snap *snap;
    struct client_slot *slot = NULL;
    const struct conf *conf;
    char addr[64], key[64];

    netaddr_format((const struct sockaddr *)peer, addr, sizeof(addr));
    smtpd_fair_client_key((const struct sockaddr *)peer, key, sizeof(key));
    pthread_mutex_lock(&adm.lock);
    snap = adm.stopping ? NULL : smtpd_snap_get();
    if (snap == NULL) {
        pthread_mutex_unlock(&adm.lock);
        close(fd);
        return NULL;
    }
    conf = snap->conf;
    /* Never an open relay: anyone outside allowed_networks is refused. */
    if (!netaddr_cidr_list_match(conf->allowed_networks, conf->allowed_count,
                                 (const struct sockaddr *)peer)) {
        char host[256];

        snprintf(host, sizeof(host), "%s", conf->hostname);
        smtpd_snap_put(snap);
        pthread_mutex_unlock(&adm.lock);
        msg_warn("-", "reject=connect client=[%s] reason=not_in_allowed_networks", addr);
        smtpd_admit_refuse(fd, "554 5.7.1 Access denied: client address not allowed", host);
        return NULL;
    }
    for (int i = 0; i < adm.nclients; i++)
        if (strcmp(adm.clients[i].addr, key) == 0)
            slot = &adm.clients[i];
    if (adm.sessions >= conf->limits.max_sessions
        || (slot && conf->limits.max_sessions_per_client > 0
            && slot->count >= conf->limits.max_sessions_per_client)) {
        char host[256];
        bool total = adm.sessions >= conf->limits.max_sessions;
        int held = slot ? slot->count : 0, sessions = adm.sessions;
        int limit = total ? conf->limits.max_sessions : conf->limits.max_sessions_per_client;

        snprintf(host, sizeof(host), "%s", conf->hostname);
        smtpd_snap_put(snap);
        pthread_mutex_unlock(&adm.lock);
        msg_warn("-", "reject=connect client=[%s] reason=%s sessions=%d client_sessions=%d limit=%d", addr,
                 total ? "max_sessions" : "max_sessions_per_client", sessions, held, limit);
        smtpd_admit_refuse(fd, total ? "421 4.7.0 Error: too many sessions, try again later"
                                     : "421 4.7.0 Error: too many sessions from your address", host);
        return NULL;
    }
    if (slot == NULL) {
        adm.clients = myrealloc(adm.clients, sizeof(*adm.clients) * (size_t)(adm.nclients + 1));
        slot = &adm.clients[adm.nclients++];
        snprintf(slot->addr, sizeof(slot->addr), "%s", key);
        slot->count = 0;
    }
    slot->count++;
    adm.sessions++;
    stress_update_locked(conf->limits.max_sessions);
    c = mycalloc(1, sizeof(*c));
    c->io.fd = fd;
    c->snap = snap;
    c->listen_index = listen_index;
    memcpy(&c->peer, peer, peerlen < sizeof(c->peer) ? peerlen : sizeof(c->peer));
    snprintf(c->addr, sizeof(c->addr), "%s", addr);
    snprintf(c->client_key, sizeof(c->client_key), "%s", key);
    snprintf(c->id, sizeof(c->id), "s%06lu", ++adm.next_id);
    pthread_mutex_unlock(&adm.lock);
    return c;
}

void smtpd_admit_end(struct smtpd_conn *c)
{
    struct server_snap *cur;

    pthread_mutex_lock(&adm.lock);
    adm.sessions--;
    for (int i = 0; i < adm.nclients; i++) {
        if (strcmp(adm.clients[i].addr, c->client_key) == 0) {
            if (--adm.clients[i].count == 0)
                adm.clients[i] = adm.clients[--adm.nclients];
            break;
        }
    }
    /* Dropped before the broadcast: once server_stop() sees no session,
     * nothing of a session is left to free. */
    smtpd_snap_put(c->snap);
    c->snap = NULL;
    cur = smtpd_snap_get();
    stress_update_locked(cur ? cur->conf->limits.max_sessions : 0);
    smtpd_snap_put(cur);
    pthread_cond_broadcast(&adm.idle);
    pthread_mutex_unlock(&adm.lock);
}

void smtpd_admit_state(bool *stopping, bool *stressed)
{
    pthread_mutex_lock(&adm.lock);
    *stopping = adm.stopping;
    *stressed = adm.stressed;
    pthread_mutex_unlock(&adm.lock);
}

void smtpd_admit_open(void)
{
    pthread_mutex_lock(&adm.lock);
    adm.stopping = false;
    pthread_mutex_unlock(&adm.lock);
}

bool smtpd_admit_stop(const struct timespec *until)
{
    bool idle;

    pthread_mutex_lock(&adm.lock);
    adm.stopping = true;
    while (adm.sessions > 0)
        if (pthread_cond_timedwait(&adm.idle, &adm.lock, until) == ETIMEDOUT)
            break;
    idle = adm.sessions == 0;
    if (idle) {
        myfree(adm.clients);
        adm.clients = NULL;
        adm.nclients = 0;
    }
    pthread_mutex_unlock(&adm.lock);
    return idle;
}
