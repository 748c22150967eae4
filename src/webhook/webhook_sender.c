/*
 * webhook_sender.c - the webhook thread (see webhook.h): read a batch of
 * whole lines from the cursor, sign, POST with libcurl, advance the cursor
 * on 2xx, back off otherwise.
 */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tenantrelay/clock.h"
#include "tenantrelay/dbuf.h"
#include "tenantrelay/msg.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/webhook.h"

#define READ_MAX (4 << 20)          /* bytes read per batch, at most */
#define IDLE_WAIT_MS 500            /* poll of the events file when idle */
#define LINGER_MS 200               /* wait for a fuller batch */

static struct {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool running, stopping;
    char *url, *ca_file, *events, *cursor_path;
    int batch, timeout, max_backoff;
    unsigned char *key;             /* sodium_malloc */
    size_t keylen;
} wh = { .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER };

void webhook_sign(const unsigned char *key, size_t keylen, const char *body, size_t len, char *out)
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];

    crypto_auth_hmacsha256_init(&st, key, keylen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(out, "sha256=", 7);
    sodium_bin2hex(out + 7, WEBHOOK_SIG_LEN - 7, mac, sizeof(mac));
    sodium_memzero(&st, sizeof(st));
}

/* The cursor: "OFFSET INODE\n"; absent: the start of the file. */
static void cursor_load(long long *off, unsigned long long *ino)
{
    FILE *fp = fopen(wh.cursor_path, "re");

    *off = 0;
    *ino = 0;
    if (fp) {
        if (fscanf(fp, "%lld %llu", off, ino) != 2 || *off < 0)
            *off = 0, *ino = 0;
        fclose(fp);
    }
}

/* Atomically: temp file, fsync, rename, directory fsync. */
static int cursor_save(long long off, unsigned long long ino)
{
    char tmp[4200], *dcopy;
    FILE *fp;
    int dfd, rc = -1;

    snprintf(tmp, sizeof(tmp), "%s.tmp", wh.cursor_path);
    if ((fp = fopen(tmp, "we")) == NULL)
        return -1;
    fprintf(fp, "%lld %llu\n", off, ino);
    if (fflush(fp) == 0 && fsync(fileno(fp)) == 0)
        rc = 0;
    fclose(fp);
    if (rc < 0 || rename(tmp, wh.cursor_path) < 0) {
        unlink(tmp);
        return -1;
    }
    dcopy = mystrdup(wh.cursor_path);
    if ((dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        fsync(dfd);
        close(dfd);
    }
    myfree(dcopy);
    return 0;
}

/* Up to wh.batch whole lines from off as the JSON body; *next: the offset
 * after the last line taken.  0 lines: an empty body. */
static int read_batch(long long off, struct dbuf *body, long long *next, int *count)
{
    int fd = open(wh.events, O_RDONLY | O_CLOEXEC);
    /* About what a batch needs (events are a few hundred bytes), grown
     * while not even one whole line fits. */
    size_t want = (size_t)wh.batch * 1024, i = 0;
    char *buf = NULL;
    ssize_t got;

    *count = 0;
    *next = off;
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    for (;;) {
        if (want > READ_MAX)
            want = READ_MAX;
        buf = myrealloc(buf, want);
        got = pread(fd, buf, want, (off_t)off);
        if (got < (ssize_t)want || memchr(buf, '\n', (size_t)got) || want == READ_MAX)
            break;
        want *= 4;
    }
    close(fd);
    dbuf_append_str(body, "{\"events\":[");
    while (got > 0 && i < (size_t)got && *count < wh.batch) {
        char *nl = memchr(buf + i, '\n', (size_t)got - i);
        json_t *ev;

        if (nl == NULL)
            break;              /* a line still being written */
        /* Our own lines carry their event_id: copied as they are, no
         * parse and re-encode per event.  Older lines get it added. */
        if (nl - (buf + i) > 2 && buf[i] == '{' && nl[-1] == '}'
            && memmem(buf + i, (size_t)(nl - (buf + i)), "\"event_id\":", 11)) {
            if (*count)
                dbuf_append_char(body, ',');
            dbuf_append(body, buf + i, (size_t)(nl - (buf + i)));
            (*count)++;
        } else if ((ev = json_loadb(buf + i, (size_t)(nl - (buf + i)), 0, NULL)) != NULL) {
            const char *q = json_string_value(json_object_get(ev, "queue_id"));
            char *s;

            json_object_set_new(ev, "event_id", json_sprintf("%s.%lld", q ? q : "-",
                                                             (long long)json_integer_value(json_object_get(ev, "attempt"))));
            if ((s = json_dumps(ev, JSON_COMPACT)) != NULL) {
                if (*count)
                    dbuf_append_char(body, ',');
                dbuf_append_str(body, s);
                (*count)++;
                free(s);
            }
            json_decref(ev);
        }
        i = (size_t)(nl - buf) + 1;
        *next = off + (long long)i;
    }
    dbuf_append_str(body, "]}");
    myfree(buf);
    return 0;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

/* POST body; the HTTP status (0: no answer), with why in err. */
static long post(CURL *c, const struct dbuf *body, char *err, size_t errlen)
{
    struct curl_slist *h = NULL;
    char sig[WEBHOOK_SIG_LEN + 40], ebuf[CURL_ERROR_SIZE] = "";
    long code = 0;
    CURLcode rc;

    memcpy(sig, "X-Tenantrelay-Signature: ", 25);
    webhook_sign(wh.key, wh.keylen, body->data, body->len, sig + 25);
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, sig);
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, wh.url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)wh.timeout);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)wh.timeout);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "tenantrelay/" PACKAGE_VERSION);
    if (wh.ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, wh.ca_file);
    if ((rc = curl_easy_perform(c)) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    else
        snprintf(err, errlen, "%s", ebuf[0] ? ebuf : curl_easy_strerror(rc));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all(h);
    return code;
}

/* Sleep ms unless stopping; true when stopping. */
static bool wait_ms(long ms)
{
    struct timespec until;
    bool stop;

    clock_real_deadline(&until, ms);
    pthread_mutex_lock(&wh.lock);
    while (!wh.stopping && pthread_cond_timedwait(&wh.wake, &wh.lock, &until) == 0)
        ;
    stop = wh.stopping;
    pthread_mutex_unlock(&wh.lock);
    return stop;
}

static void *sender(void *arg)
{
    long long off, next;
    unsigned long long ino;
    long backoff = 0;
    bool failing = false, lingered = false;

    /* One handle for the thread's life: the connection (and its TLS
     * session) is kept alive from one batch to the next. */
    CURL *c = curl_easy_init();

    (void)arg;
    if (c == NULL) {
        msg_error("-", "webhook: curl_easy_init failed; no webhooks will be sent");
        return NULL;
    }
    cursor_load(&off, &ino);
    msg_info("-", "webhook started url=%s cursor=%lld", wh.url, off);
    for (;;) {
        struct stat st;
        struct dbuf body = DBUF_INIT;
        char err[CURL_ERROR_SIZE + 64] = "";
        int count;
        long code;

        /* A new file (rotated) or a shorter one: start over at its top. */
        if (stat(wh.events, &st) == 0 && ((ino && (unsigned long long)st.st_ino != ino) || st.st_size < off)) {
            msg_info("-", "webhook events file replaced: cursor reset from %lld to 0", off);
            off = 0;
        }
        if (stat(wh.events, &st) == 0)
            ino = (unsigned long long)st.st_ino;
        if (read_batch(off, &body, &next, &count) < 0 || count == 0) {
            dbuf_free(&body);
            if (next > off) {   /* only unparsable lines: skip them */
                off = next;
                cursor_save(off, ino);
                continue;
            }
            if (wait_ms(IDLE_WAIT_MS))
                break;
            continue;
        }
        /* A partial batch waits a moment for more: fewer, fuller POSTs
         * under load, at most LINGER_MS of extra latency. */
        if (count < wh.batch && !lingered) {
            dbuf_free(&body);
            lingered = true;
            if (wait_ms(LINGER_MS))
                break;
            continue;
        }
        lingered = false;
        code = post(c, &body, err, sizeof(err));
        dbuf_free(&body);
        if (code >= 200 && code < 300) {
            off = next;
            if (cursor_save(off, ino) < 0)
                msg_error("-", "webhook cannot save its cursor %s: %s", wh.cursor_path, strerror(errno));
            if (failing)
                msg_info("-", "webhook delivering again status=%ld", code);
            failing = false;
            backoff = 0;
            continue;
        }
        backoff = backoff ? backoff * 2 : 1000;
        if (backoff > wh.max_backoff * 1000L)
            backoff = wh.max_backoff * 1000L;
        if (!failing)
            msg_warn("-", "webhook post failed status=%ld (%s); retrying with backoff", code,
                     code ? "not 2xx" : err);
        failing = true;
        if (wait_ms(backoff))
            break;
    }
    curl_easy_cleanup(c);
    return NULL;
}

int webhook_start(const struct conf *conf, const struct vault *vault, char *err, size_t errlen)
{
    const struct conf_webhook *w = &conf->webhook;
    unsigned char *plain = NULL;
    size_t len = 0;
    char path[4096];

    if (w->url == NULL)
        return 0;
    if (vault == NULL || vault_open(vault, CONF_RESERVED_TENANT, "webhook_secret", w->secret, &plain, &len,
                                    err, errlen) != VAULT_OK) {
        if (vault == NULL)
            snprintf(err, errlen, "webhook: no keyring to open the secret with");
        return -1;
    }
    /* libcurl's global state: set up by the daemon before any thread
     * (oauth_global_init()), which is not thread-safe to do here. */
    wh.key = plain;
    wh.keylen = len;
    wh.url = mystrdup(w->url);
    wh.ca_file = mystrdup_or_null(w->ca_file);
    wh.events = mystrdup(conf->events_file);
    snprintf(path, sizeof(path), "%s/webhook.cursor", conf->spool_directory);
    wh.cursor_path = mystrdup(w->cursor_file ? w->cursor_file : path);
    wh.batch = w->batch_size;
    wh.timeout = w->timeout;
    wh.max_backoff = w->max_backoff;
    wh.stopping = false;
    if (pthread_create(&wh.thread, NULL, sender, NULL) != 0) {
        snprintf(err, errlen, "webhook: cannot start its thread");
        webhook_stop();
        return -1;
    }
    wh.running = true;
    return 0;
}

void webhook_stop(void)
{
    if (wh.running) {
        pthread_mutex_lock(&wh.lock);
        wh.stopping = true;
        pthread_cond_broadcast(&wh.wake);
        pthread_mutex_unlock(&wh.lock);
        pthread_join(wh.thread, NULL);
        wh.running = false;
    }
    vault_plain_free(wh.key, wh.keylen);
    wh.key = NULL;
    myfree(wh.url);
    myfree(wh.ca_file);
    myfree(wh.events);
    myfree(wh.cursor_path);
    wh.url = wh.ca_file = wh.events = wh.cursor_path = NULL;
}
