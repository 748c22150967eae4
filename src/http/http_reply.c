/*
 * http_reply.c - how the HTTP server answers: JSON bodies, the
 * {"error", "detail"} shape of SPEC §9, headers every answer carries
 * (no caching, no sniffing), and the zeroing of parsed bodies.
 */
#include "config.h"

#include <microhttpd.h>
#include <sodium.h>
#include <stdlib.h>

#include "tenantrelay/dbuf.h"
#include "http_int.h"

enum MHD_Result http_send_text(struct MHD_Connection *c, unsigned status, const char *type,
                               const char *data, size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result rc;

    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (status == 401)
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
    rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

enum MHD_Result http_send_json(struct MHD_Connection *c, int status, json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    enum MHD_Result rc;
    struct dbuf b = DBUF_INIT;

    dbuf_append_str(&b, s ? s : "{}");
    dbuf_append_char(&b, '\n');
    rc = http_send_text(c, (unsigned)status, "application/json", b.data, b.len);
    dbuf_free(&b);
    free(s);
    json_decref(j);
    return rc;
}

enum MHD_Result http_send_error(struct MHD_Connection *c, int status, const char *code, const char *detail)
{
    int st;

    return http_send_json(c, status, http_error(status, code, detail, &st));
}

void http_json_wipe(json_t *j)
{
    const char *k;
    json_t *v;
    size_t i;

    if (json_is_string(j))
        sodium_memzero((char *)json_string_value(j), json_string_length(j));
    else if (json_is_object(j))
        json_object_foreach(j, k, v)
            http_json_wipe(v);
    else if (json_is_array(j))
        json_array_foreach(j, i, v)
            http_json_wipe(v);
}
