/*
 * oauth_http.c - the one HTTPS request OAuth2 needs: a form POST to the
 * token endpoint, through libcurl.  https only (also on redirects, which
 * are not followed), the peer's certificate and name verified against the
 * system store plus the route's ca_file, connect and total timeouts, never
 * verbose.  One easy handle per thread, reused (its connection cache saves
 * a TLS handshake per refresh) and freed when the thread ends.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <jansson.h>
#include <malloc.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "tenantrelay/oauth.h"
#include "oauth_int.h"

static pthread_key_t handle_key;
static pthread_once_t handle_once = PTHREAD_ONCE_INIT;
static int global_rc = -1;

/* Every live handle, so that oauth_http_cleanup() can free those of
 * threads that never exited through pthread's destructors. */
struct handle {
    CURL *h;
    bool in_use;                /* inside oauth_http_post(): never freed by cleanup */
    struct handle *next;
};
static pthread_mutex_t handles_lock = PTHREAD_MUTEX_INITIALIZER;
static struct handle *handles;

static void handle_free(void *p)
{
    struct handle **pp, *hd = p;
    bool mine = false;

    /* Only a handle still registered: oauth_http_cleanup() may have
     * freed it already (a worker that ended after the daemon's stop). */
    pthread_mutex_lock(&handles_lock);
    for (pp = &handles; *pp; pp = &(*pp)->next) {
        if (*pp == hd) {
            *pp = hd->next;
            mine = true;
            break;
        }
    }
    pthread_mutex_unlock(&handles_lock);
    if (mine) {
        curl_easy_cleanup(hd->h);
        free(hd);
    }
}

void oauth_http_cleanup(void)
{
    struct handle **pp = &handles;

    pthread_mutex_lock(&handles_lock);
    while (*pp) {
        struct handle *hd = *pp;

        if (hd->in_use) {               /* a worker still in a request: left to exit */
            pp = &hd->next;
            continue;
        }
        *pp = hd->next;
        curl_easy_cleanup(hd->h);
        free(hd);
    }
    pthread_mutex_unlock(&handles_lock);
    if (global_rc == 0)
        pthread_setspecific(handle_key, NULL);
}

static void handle_key_make(void)
{
    if (pthread_key_create(&handle_key, handle_free) == 0)
        global_rc = 0;
}

/* jansson parses the token answer and the service-account key: its own
 * buffers (the lexer's, every string) are wiped when freed, so no copy of
 * a token or key lingers in freed heap.  Same allocator underneath, so a
 * block allocated before this was set is freed correctly too. */
static void *json_alloc(size_t n)
{
    return malloc(n);
}

static void json_release(void *p)
{
    if (p) {
        sodium_memzero(p, malloc_usable_size(p));
        free(p);
    }
}

int oauth_global_init(void)
{
    static bool done;

    /* curl_global_init is not thread-safe: the daemon calls this before it
     * starts a thread; later calls are no-ops. */
    if (done)
        return global_rc;
    done = true;
    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -1;
    json_set_alloc_funcs(json_alloc, json_release);
    pthread_once(&handle_once, handle_key_make);
    return global_rc;
}

static struct handle *thread_handle(void)
{
    struct handle *hd;

    if (oauth_global_init() < 0)
        return NULL;
    if ((hd = pthread_getspecific(handle_key)) != NULL) {
        curl_easy_reset(hd->h);
        return hd;
    }
    if ((hd = calloc(1, sizeof(*hd))) == NULL || (hd->h = curl_easy_init()) == NULL) {
        free(hd);
        return NULL;
    }
    if (pthread_setspecific(handle_key, hd) != 0) {
        curl_easy_cleanup(hd->h);
        free(hd);
        return NULL;
    }
    pthread_mutex_lock(&handles_lock);
    hd->next = handles;
    handles = hd;
    pthread_mutex_unlock(&handles_lock);
    return hd;
}

/* The answer body grows in sodium memory: it holds the access token. */
static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct oauth_http_reply *r = arg;
    size_t add = size * n;

    if (add > OAUTH_RESPONSE_MAX || r->len + add >= OAUTH_RESPONSE_MAX)
        return 0;                       /* curl fails the transfer: too long */
    if (r->len + add + 1 > r->alloc) {
        size_t na = r->alloc ? r->alloc * 2 : 4096;
        char *nb;

        while (na < r->len + add + 1)
            na *= 2;
        if ((nb = sodium_malloc(na)) == NULL)
            return 0;
        if (r->body) {
            memcpy(nb, r->body, r->len);
            oauth_secret_free(r->body, r->alloc);
        }
        r->body = nb;
        r->alloc = na;
    }
    memcpy(r->body + r->len, data, add);
    r->len += add;
    r->body[r->len] = 0;
    return add;
}

/* The route's CA file is trusted in addition to the system store (curl's
 * CAINFO would replace the store). */
static CURLcode add_ca(CURL *h, void *sslctx, void *arg)
{
    X509_STORE *st = SSL_CTX_get_cert_store(sslctx);
    int ok = X509_STORE_load_locations(st, arg, NULL) == 1;

    (void)h;
    /* Nothing left on this thread's error queue for the SMTP side's TLS. */
    ERR_clear_error();
    return ok ? CURLE_OK : CURLE_SSL_CACERT_BADFILE;
}

/* The tenant route policy, right before each connection libcurl makes. */
struct policy_gate {
    const struct route_policy *policy;
    bool refused;
    char why[256];
};

static curl_socket_t open_checked(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct policy_gate *g = arg;

    (void)purpose;
    if (route_policy_check_addr(g->policy, &a->addr, g->why, sizeof(g->why)) < 0) {
        g->refused = true;
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

int oauth_http_post(const char *url, const char *ca_file, const struct route_policy *policy,
                    const char *body, size_t body_len, int timeout_ms, struct oauth_http_reply *reply,
                    char *err, size_t errlen)
{
    char curl_err[CURL_ERROR_SIZE] = "";
    struct policy_gate gate = { policy, false, "" };
    struct curl_slist *hdrs = NULL;
    struct handle *hd;
    curl_off_t retry = 0;
    CURLcode cc;
    CURL *h;

    memset(reply, 0, sizeof(*reply));
    if (strncmp(url, "https://", 8) != 0) {
        snprintf(err, errlen, "token URL is not https://");
        return -1;
    }
    if ((hd = thread_handle()) == NULL) {
        snprintf(err, errlen, "libcurl could not be initialised");
        return -1;
    }
    h = hd->h;
    pthread_mutex_lock(&handles_lock);
    hd->in_use = true;
    pthread_mutex_unlock(&handles_lock);
    if (timeout_ms <= 0)
        timeout_ms = OAUTH_TIMEOUT_DEFAULT_MS;
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_VERBOSE, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);         /* threads: no SIGALRM for DNS timeouts */
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout_ms < 10000 ? timeout_ms : 10000));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    /* Not COPYPOSTFIELDS: the body holds a secret and stays in our memory. */
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)body_len);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, reply);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
    if (ca_file && *ca_file) {
        curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, add_ca);
        curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, (void *)ca_file);
    }
    if (policy) {
        curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_checked);
        curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &gate);
    }
    cc = curl_easy_perform(h);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, NULL);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, NULL);
    curl_slist_free_all(hdrs);
    /* The handle is reused: let it keep no pointer to our buffers. */
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    if (cc == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply->status);
        if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &retry) != CURLE_OK)
            retry = 0;
    }
    pthread_mutex_lock(&handles_lock);
    hd->in_use = false;
    pthread_mutex_unlock(&handles_lock);
    if (cc != CURLE_OK && gate.refused) {
        snprintf(err, errlen, "route_policy: %s", gate.why);
        oauth_http_reply_free(reply);
        return -1;
    }
    if (cc != CURLE_OK) {
        snprintf(err, errlen, "%s: %s", curl_easy_strerror(cc), curl_err[0] ? curl_err : "no detail");
        oauth_http_reply_free(reply);
        return -1;
    }
    if (retry > 0)
        reply->retry_after = retry > 86400 ? 86400 : (long)retry;
    if (reply->body == NULL) {
        reply->body = sodium_malloc(1);
        if (reply->body == NULL) {
            snprintf(err, errlen, "sodium_malloc failed");
            return -1;
        }
        reply->body[0] = 0;
        reply->alloc = 1;
    }
    return 0;
}

void oauth_http_reply_free(struct oauth_http_reply *reply)
{
    oauth_secret_free(reply->body, reply->alloc);
    reply->body = NULL;
    reply->len = reply->alloc = 0;
}

void oauth_secret_free(void *p, size_t alloc)
{
    if (p) {
        sodium_memzero(p, alloc);
        sodium_free(p);
    }
}
