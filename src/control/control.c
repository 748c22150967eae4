/*
 * control.c - the control socket, server and client sides (see control.h).
 *
 * Requests are small and rare, so the server handles one client at a time
 * on its own thread with a short I/O deadline: a stuck client cannot block
 * the daemon's mail, only other control requests, and only briefly.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "tenantrelay/control.h"
#include "tenantrelay/dbuf.h"
#include "tenantrelay/msg.h"
#include "tenantrelay/mymalloc.h"

#define CONTROL_MAX_REQUEST 65536
#define CONTROL_IO_MS 5000

struct control_server {
    int fd;
    int stop_pipe[2];
    char *path;
    control_handler_fn handler;
    control_text_fn text_handler;   /* NULL: none */
    void *arg;
    pthread_t thread;
};

/* Read one line (up to max bytes) before the deadline.  0 or -1. */
static int read_line(int fd, struct dbuf *line, size_t max, int timeout_ms)
{
    char buf[65536];
    size_t scanned = 0;

    /* Only the new bytes are searched: a `status` of 100,000 tenants is
     * megabytes, and rescanning from the start made reading it quadratic. */
    while (memchr(dbuf_str(line) + scanned, '\n', line->len - scanned) == NULL) {
        struct pollfd p = { fd, POLLIN, 0 };
        ssize_t n;

        scanned = line->len;
        if (line->len > max || poll(&p, 1, timeout_ms) <= 0)
            return -1;
        n = read(fd, buf, sizeof(buf));
        if (n <= 0)
            return -1;
        dbuf_append(line, buf, (size_t)n);
    }
    return 0;
}

static int write_all(int fd, const char *data, size_t len, int timeout_ms)
{
    while (len > 0) {
        struct pollfd p = { fd, POLLOUT, 0 };
        ssize_t n;

        if (poll(&p, 1, timeout_ms) <= 0)
            return -1;
        n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static json_t *error_response(const char *text)
{
    return json_pack("{s:b, s:s}", "ok", 0, "error", text);
}

struct reply_out {
    int fd;
    struct dbuf buf;
    int failed;
};

static int reply_piece(const char *data, size_t len, void *arg)
{
    struct reply_out *ro = arg;

    dbuf_append(&ro->buf, data, len);
    if (ro->buf.len >= 65536) {
        if (write_all(ro->fd, ro->buf.data, ro->buf.len, CONTROL_IO_MS) < 0) {
            ro->failed = 1;
            return -1;
        }
        dbuf_reset(&ro->buf);
    }
    return 0;
}

static void serve_client(struct control_server *s, int cfd)
{
    struct ucred cred;
    socklen_t clen = sizeof(cred);
    struct dbuf line = DBUF_INIT;
    json_t *req = NULL;
    json_t *resp = NULL;
    json_error_t jerr;

    /* Only root and our own user: the socket mode is the first fence. */
    if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0
        || (cred.uid != 0 && cred.uid != geteuid())) {
        resp = error_response("permission denied");
        goto reply;
    }
    if (read_line(cfd, &line, CONTROL_MAX_REQUEST, CONTROL_IO_MS) < 0)
        goto done;
    req = json_loadb(dbuf_str(&line), line.len, 0, &jerr);
    if (req == NULL || !json_is_object(req)) {
        resp = error_response("request is not a JSON object");
        goto reply;
    }
    if (s->text_handler) {
        size_t len = 0;
        char *text = s->text_handler(req, &len, s->arg);

        if (text) {
            if (write_all(cfd, text, len, CONTROL_IO_MS) == 0)
                (void)write_all(cfd, "\n", 1, CONTROL_IO_MS);
            myfree(text);
            goto done;
        }
    }
    resp = s->handler(req, s->arg);
    if (resp == NULL)
        resp = error_response("internal error");
reply:
    /* Streamed in 64 KB pieces: a large reply (status of 100,000 tenants)
     * is never built whole in memory first. */
    {
        struct reply_out ro = { cfd, DBUF_INIT, 0 };

        if (json_dump_callback(resp, reply_piece, &ro, JSON_COMPACT) == 0 && ro.failed == 0) {
            dbuf_append_char(&ro.buf, '\n');
            (void)write_all(cfd, ro.buf.data, ro.buf.len, CONTROL_IO_MS);
        }
        dbuf_free(&ro.buf);
    }
done:
    json_decref(req);
    json_decref(resp);
    dbuf_free(&line);
}

static void *control_thread(void *arg)
{
    struct control_server *s = arg;

    for (;;) {
        struct pollfd p[2] = { { s->fd, POLLIN, 0 }, { s->stop_pipe[0], POLLIN, 0 } };
        int cfd;

        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            break;
        if (!(p[0].revents & POLLIN))
            continue;
        cfd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
        if (cfd < 0)
            continue;
        serve_client(s, cfd);
        close(cfd);
    }
    return NULL;
}

static int unix_address(const char *path, struct sockaddr_un *sun, char *err, size_t errlen)
{
    memset(sun, 0, sizeof(*sun));
    sun->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun->sun_path)) {
        snprintf(err, errlen, "control socket path too long: %s", path);
        return -1;
    }
    strcpy(sun->sun_path, path);
    return 0;
}

struct control_server *control_server_start(const char *path, control_handler_fn handler,
                                            control_text_fn text_handler, void *arg,
                                            char *err, size_t errlen)
{
    struct control_server *s = mycalloc(1, sizeof(*s));
    struct sockaddr_un sun;
    mode_t old;

    s->fd = -1;
    s->stop_pipe[0] = s->stop_pipe[1] = -1;
    s->path = mystrdup(path);
    s->handler = handler;
    s->text_handler = text_handler;
    s->arg = arg;
    if (unix_address(path, &sun, err, errlen) < 0)
        goto fail;
    if ((s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0
        || pipe2(s->stop_pipe, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "control socket: %s", strerror(errno));
        goto fail;
    }
    unlink(path);
    /* Owner and group only (the service user's group may be given to admins). */
    old = umask(0117);
    if (bind(s->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        umask(old);
        snprintf(err, errlen, "bind control socket %s: %s", path, strerror(errno));
        goto fail;
    }
    umask(old);
    if (listen(s->fd, 16) < 0 || pthread_create(&s->thread, NULL, control_thread, s) != 0) {
        snprintf(err, errlen, "listen on control socket %s: %s", path, strerror(errno));
        unlink(path);
        goto fail;
    }
    return s;

fail:
    if (s->fd >= 0)
        close(s->fd);
    if (s->stop_pipe[0] >= 0) {
        close(s->stop_pipe[0]);
        close(s->stop_pipe[1]);
    }
    myfree(s->path);
    myfree(s);
    return NULL;
}

void control_server_stop(struct control_server *s)
{
    if (s == NULL)
        return;
    if (write(s->stop_pipe[1], "x", 1) < 0) {
        /* The thread also stops when the pipe closes below. */
    }
    pthread_join(s->thread, NULL);
    close(s->fd);
    close(s->stop_pipe[0]);
    close(s->stop_pipe[1]);
    unlink(s->path);
    myfree(s->path);
    myfree(s);
}

int control_call(const char *path, const json_t *request, json_t **response, int timeout_ms,
                 char *err, size_t errlen)
{
    struct sockaddr_un sun;
    struct dbuf line = DBUF_INIT;
    json_error_t jerr;
    char *out = NULL;
    int fd = -1;
    int rc = -1;

    *response = NULL;
    if (unix_address(path, &sun, err, errlen) < 0)
        return -1;
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0
        || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        snprintf(err, errlen, "cannot reach the daemon at %s: %s", path, strerror(errno));
        goto done;
    }
    out = json_dumps(request, JSON_COMPACT);
    if (out == NULL || write_all(fd, out, strlen(out), timeout_ms) < 0
        || write_all(fd, "\n", 1, timeout_ms) < 0) {
        snprintf(err, errlen, "cannot send to the daemon at %s", path);
        goto done;
    }
    if (read_line(fd, &line, 256 * 1024 * 1024, timeout_ms) < 0) {
        snprintf(err, errlen, "no answer from the daemon at %s", path);
        goto done;
    }
    *response = json_loadb(dbuf_str(&line), line.len, 0, &jerr);
    if (*response == NULL || !json_is_object(*response)) {
        json_decref(*response);
        *response = NULL;
        snprintf(err, errlen, "the daemon's answer is not JSON");
        goto done;
    }
    rc = 0;
done:
    free(out);
    if (fd >= 0)
        close(fd);
    dbuf_free(&line);
    return rc;
}
