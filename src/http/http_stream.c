/*
 * http_stream.c - PUT /v1/tenants/{id} streamed as NDJSON (see
 * http_int.h): a worker thread runs the update and appends one line per
 * probe step; libmicrohttpd's content reader (this connection's own
 * thread) waits for lines and sends them as they come.
 */
#include "config.h"

#include <microhttpd.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "tenantrelay/dbuf.h"
#include "tenantrelay/http_token.h"
#include "tenantrelay/mymalloc.h"
#include "http_int.h"

struct stream {
    pthread_mutex_t lock;
    pthread_cond_t more;
    struct dbuf out;            /* lines produced so far */
    size_t sent;
    bool done;
    pthread_t thread;
    struct conf *conf;
    struct delivery *delivery;  /* outlives the stream: http_stop() joins it first */
    json_t *body;
    char id[80];
    char user[HTTP_TOKEN_NAME_MAX + 1];
};

static void push_line(struct stream *s, json_t *line)
{
    char *text = json_dumps(line, JSON_COMPACT);

    pthread_mutex_lock(&s->lock);
    if (text) {
        dbuf_append_str(&s->out, text);
        dbuf_append_char(&s->out, '\n');
    }
    pthread_cond_broadcast(&s->more);
    pthread_mutex_unlock(&s->lock);
    free(text);
    json_decref(line);
}

static void on_step(const struct probe_report *rep, enum probe_step_id id, void *arg)
{
    push_line(arg, json_pack("{s:s, s:o}", "event", "step", "step", probe_step_json(rep, id)));
}

static void *worker(void *arg)
{
    struct stream *s = arg;
    int status = 500;
    json_t *result = http_api_put(s->conf, s->delivery, s->id, s->body, s->user, on_step, s, &status);

    push_line(s, json_pack("{s:s, s:i, s:o}", "event", "result", "status", status, "result", result));
    pthread_mutex_lock(&s->lock);
    s->done = true;
    pthread_cond_broadcast(&s->more);
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream *s = cls;
    size_t n;

    (void)pos;
    pthread_mutex_lock(&s->lock);
    /* This connection's own thread: waiting here stalls nobody else. */
    while (s->sent == s->out.len && !s->done)
        pthread_cond_wait(&s->more, &s->lock);
    n = s->out.len - s->sent;
    if (n > max)
        n = max;
    memcpy(buf, s->out.data + s->sent, n);
    s->sent += n;
    pthread_mutex_unlock(&s->lock);
    return n ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
}

static void stream_free(void *cls)
{
    struct stream *s = cls;

    pthread_join(s->thread, NULL);
    http_json_wipe(s->body);
    json_decref(s->body);
    conf_unref(s->conf);
    dbuf_free(&s->out);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->more);
    myfree(s);
}

struct MHD_Response *http_stream_put(struct conf *conf, struct delivery *delivery, const char *id, json_t *body,
                                     const char *user)
{
    struct stream *s = mycalloc(1, sizeof(*s));
    struct MHD_Response *r;

    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->more, NULL);
    s->conf = conf_ref(conf);
    s->delivery = delivery;
    s->body = json_incref(body);
    snprintf(s->id, sizeof(s->id), "%s", id);
    snprintf(s->user, sizeof(s->user), "%s", user);
    if (pthread_create(&s->thread, NULL, worker, s) != 0) {
        json_decref(s->body);
        conf_unref(s->conf);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->more);
        myfree(s);
        return NULL;
    }
    if ((r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, reader, s, stream_free)) == NULL)
        stream_free(s);         /* joins the worker: the update still completes */
    return r;
}
