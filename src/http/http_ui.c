/*
 * http_ui.c - the reference SMTP settings page at /ui/ (http.ui = true):
 * static files from http.ui_directory, names [a-z0-9._-] only (no path
 * tricks), a same-origin Content-Security-Policy (nothing from elsewhere).
 */
#include "config.h"

#include <fcntl.h>
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tenantrelay/fdio.h"
#include "tenantrelay/mymalloc.h"
#include "http_int.h"

#define UI_FILE_MAX (1 << 20)

/* A file of the reference page: names are [a-z0-9._-] only, no dot first. */
enum MHD_Result http_ui_serve(struct MHD_Connection *c, const struct conf *conf, const char *url)
{
    static const struct { const char *ext, *type; } types[] = {
        { ".html", "text/html; charset=utf-8" }, { ".css", "text/css; charset=utf-8" },
        { ".js", "text/javascript; charset=utf-8" }, { ".svg", "image/svg+xml" },
    };
    const char *name = strcmp(url, "/ui") == 0 || strcmp(url, "/ui/") == 0 ? "index.html" : url + 4;
    const char *type = NULL;
    char path[1024];
    struct stat st;
    char *data;
    ssize_t got;
    int fd;
    enum MHD_Result rc;

    if (!conf->http.ui)
        return http_send_error(c, 404, "not_found", "the reference page is off (http.ui = false)");
    if (strcmp(url, "/ui") == 0) {
        struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);

        MHD_add_response_header(r, "Location", "/ui/");
        rc = MHD_queue_response(c, 301, r);
        MHD_destroy_response(r);
        return rc;
    }
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_'))
            return http_send_error(c, 404, "not_found", "no such file");
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        size_t n = strlen(name), e = strlen(types[i].ext);

        if (n > e && strcmp(name + n - e, types[i].ext) == 0)
            type = types[i].type;
    }
    if (name[0] == '.' || type == NULL)
        return http_send_error(c, 404, "not_found", "no such file");
    snprintf(path, sizeof(path), "%s/%s", conf->http.ui_directory, name);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0 || fstat(fd, &st) < 0
        || !S_ISREG(st.st_mode) || st.st_size > UI_FILE_MAX) {
        if (fd >= 0)
            close(fd);
        return http_send_error(c, 404, "not_found", "no such file");
    }
    data = mymalloc((size_t)st.st_size + 1);
    got = fdio_read_all(fd, data, (size_t)st.st_size);
    close(fd);
    if (got != st.st_size) {
        myfree(data);
        return http_send_error(c, 503, "unavailable", "cannot read the page");
    }
    {
        struct MHD_Response *r = MHD_create_response_from_buffer((size_t)got, data, MHD_RESPMEM_MUST_COPY);

        MHD_add_response_header(r, "Content-Type", type);
        MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
        /* Nothing from elsewhere: the page's own origin only. */
        MHD_add_response_header(r, "Content-Security-Policy",
                                "default-src 'self'; connect-src 'self'; frame-ancestors 'none'");
        rc = MHD_queue_response(c, 200, r);
        MHD_destroy_response(r);
    }
    myfree(data);
    return rc;
}
