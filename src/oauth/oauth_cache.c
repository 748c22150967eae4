/*
 * oauth_cache.c - the daemon's one cache of access tokens, shared by every
 * delivery worker, keyed by (token URL, client, scope, subject).
 *
 * Tokens live only in sodium_malloc'd memory; each caller gets its own
 * copy (the cached one may be replaced while the caller is in AUTH).  One
 * request in flight per key: the first worker that needs a token fetches it
 * while the others wait on the condition variable.  Refresh happens at
 * 75-80% of the lifetime (jitter, so routes do not refresh in step); a
 * failed refresh keeps the old token while it is still valid.  A failure is
 * remembered until its Retry-After (429) or a short back-off, so a broken
 * credential costs one request per back-off, not one per message.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "tenantrelay/clock.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/oauth.h"

#define BACKOFF_HARD_MS 60000       /* invalid_client and friends: the admin must act */
#define BACKOFF_SOFT_MS 5000        /* network, 5xx */
#define EXPIRY_MARGIN_MS 30000      /* never hand out a token this close to its end ... */
#define WAIT_MAX_MS 60000           /* ... and never wait longer for another's fetch */

struct entry {
    char *key;
    unsigned char *tok;             /* sodium_malloc'd; NULL: none */
    size_t len, alloc;
    long lifetime;
    long long refresh_ms, expires_ms, not_before_ms;
    bool fetching;
    bool have_err;
    struct oauth_error err;         /* the last failure (no secret in it) */
    struct entry *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static struct entry *entries;
static unsigned long fetches;

/* The key: token URL, client, scope and subject, plus the sealed credential
 * itself, so a credential set anew never reuses a token of the old one. */
static char *key_of(const struct oauth_request *req)
{
    const struct route_oauth *o = req->oauth;
    const char *cred = NULL;
    char urlbuf[512], *k;
    const char *url = route_oauth_token_url(o, urlbuf, sizeof(urlbuf));
    size_t n;

    oauth_secret_field(o, &cred);
    n = strlen(url) + strlen(o->client_id ? o->client_id : "") + strlen(route_oauth_scope(o))
        + strlen(req->username ? req->username : "") + strlen(cred ? cred : "") + 8;
    k = mymalloc(n);
    /* Microsoft and generic tokens are the application's, for every mailbox:
     * the subject is only Google's (the token is the mailbox's). */
    snprintf(k, n, "%s\n%s\n%s\n%s\n%s", url, o->client_id ? o->client_id : "", route_oauth_scope(o),
             o->provider == ROUTE_OAUTH_GOOGLE && req->username ? req->username : "", cred ? cred : "");
    return k;
}

static struct entry *entry_get(const char *key)
{
    struct entry *e;

    for (e = entries; e; e = e->next)
        if (strcmp(e->key, key) == 0)
            return e;
    e = mycalloc(1, sizeof(*e));
    e->key = mystrdup(key);
    e->next = entries;
    entries = e;
    return e;
}

static void entry_drop_token(struct entry *e)
{
    oauth_secret_free(e->tok, e->alloc);
    e->tok = NULL;
    e->len = e->alloc = 0;
}

/* A copy of the cached token for the caller.  0 or -1. */
static int hand_out(const struct entry *e, struct oauth_token *tok, bool from_cache)
{
    if ((tok->data = sodium_malloc(e->len + 1)) == NULL)
        return -1;
    memcpy(tok->data, e->tok, e->len);
    tok->data[e->len] = 0;
    tok->len = e->len;
    tok->alloc = e->len + 1;
    tok->lifetime = e->lifetime;
    tok->from_cache = from_cache;
    return 0;
}

static void store(struct entry *e, struct oauth_token *fresh, long long now)
{
    long long life = (long long)fresh->lifetime * 1000;
    long long margin = life / 10 < EXPIRY_MARGIN_MS ? life / 10 : EXPIRY_MARGIN_MS;

    entry_drop_token(e);
    e->tok = fresh->data;
    e->len = fresh->len;
    e->alloc = fresh->alloc;
    e->lifetime = fresh->lifetime;
    fresh->data = NULL;
    fresh->alloc = fresh->len = 0;
    /* 75% of the lifetime plus up to 5% of jitter. */
    e->refresh_ms = now + life * 3 / 4 + (long long)randombytes_uniform((uint32_t)(life / 20 + 1));
    e->expires_ms = now + life - margin;
    e->not_before_ms = 0;
    e->have_err = false;
}

static void remember_failure(struct entry *e, const struct oauth_error *err, long long now)
{
    e->err = *err;
    e->have_err = true;
    if (err->retry_after > 0)
        e->not_before_ms = now + (long long)err->retry_after * 1000;
    else
        e->not_before_ms = now + (err->breaker ? BACKOFF_HARD_MS : BACKOFF_SOFT_MS);
}

int oauth_cache_get(const struct oauth_request *req, struct oauth_token *tok, struct oauth_error *err)
{
    char *key = key_of(req);
    long long deadline = clock_mono_ms() + WAIT_MAX_MS;
    struct oauth_token fresh;
    struct entry *e;
    int rc = -1;

    memset(tok, 0, sizeof(*tok));
    memset(err, 0, sizeof(*err));
    pthread_mutex_lock(&lock);
    e = entry_get(key);
    for (;;) {
        long long now = clock_mono_ms();
        bool valid = e->tok && now < e->expires_ms;

        if (valid && (now < e->refresh_ms || e->fetching || now < e->not_before_ms)) {
            rc = hand_out(e, tok, true);
            if (rc < 0)
                oauth_error_local(err, "oauth_token_failed", "sodium_malloc failed");
            goto unlock;
        }
        if (valid || (!e->fetching && now >= e->not_before_ms))
            break;                      /* this thread fetches */
        if (!e->fetching) {
            *err = e->err;
            if (!e->have_err)
                oauth_error_local(err, "oauth_token_failed", "waiting before the next token request");
            err->retry_after = (long)((e->not_before_ms - now + 999) / 1000);
            goto unlock;
        }
        if (now >= deadline) {
            oauth_error_local(err, "oauth_token_failed", "timed out waiting for another token request");
            goto unlock;
        }
        {
            struct timespec until;
            long long wait = deadline - now < 1000 ? deadline - now : 1000;

            clock_real_deadline(&until, wait);
            pthread_cond_timedwait(&cond, &lock, &until);
        }
    }
    e->fetching = true;
    fetches++;
    pthread_mutex_unlock(&lock);

    rc = oauth_fetch(req, &fresh, err);

    pthread_mutex_lock(&lock);
    e->fetching = false;
    if (rc == 0) {
        store(e, &fresh, clock_mono_ms());
        rc = hand_out(e, tok, false);
        if (rc < 0)
            oauth_error_local(err, "oauth_token_failed", "sodium_malloc failed");
    } else {
        remember_failure(e, err, clock_mono_ms());
        /* A failed refresh: the old token still works until it expires. */
        if (e->tok && clock_mono_ms() < e->expires_ms && hand_out(e, tok, true) == 0) {
            memset(err, 0, sizeof(*err));
            rc = 0;
        }
    }
    pthread_cond_broadcast(&cond);
unlock:
    pthread_mutex_unlock(&lock);
    myfree(key);
    return rc;
}

void oauth_cache_invalidate(const struct oauth_request *req, const struct oauth_token *tok)
{
    char *key = key_of(req);
    struct entry *e;

    pthread_mutex_lock(&lock);
    for (e = entries; e; e = e->next)
        if (strcmp(e->key, key) == 0 && e->tok && e->len == tok->len
            && sodium_memcmp(e->tok, tok->data, tok->len) == 0)
            entry_drop_token(e);
    pthread_mutex_unlock(&lock);
    myfree(key);
}

unsigned long oauth_cache_fetches(void)
{
    unsigned long n;

    pthread_mutex_lock(&lock);
    n = fetches;
    pthread_mutex_unlock(&lock);
    return n;
}

void oauth_cache_clear(void)
{
    pthread_mutex_lock(&lock);
    while (entries) {
        struct entry *e = entries;

        entries = e->next;
        entry_drop_token(e);
        myfree(e->key);
        myfree(e);
    }
    pthread_mutex_unlock(&lock);
}
