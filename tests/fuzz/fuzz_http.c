/*
 * fuzz_http.c - libFuzzer harness for the HTTP API's request parsing: the
 * first line of the input is a request path for the route table, the rest
 * a PUT body for http_update_parse() and http_oauth_parse().  Whatever the input: no crash, no
 * leak, an id only for the tenant routes and always NUL-terminated within
 * its buffer, an error message whenever parsing fails.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tenantrelay/http.h"
#include "tenantrelay/mymalloc.h"
#include "../../src/http/http_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = mystrndup((const char *)data, size), *nl = strchr(text, '\n');
    const char *body = nl ? nl + 1 : "";
    char id[80], err[256];
    enum http_route r;
    struct tenant_update u;
    json_t *j;

    if (nl)
        *nl = 0;
    r = http_route_of(text, id, sizeof(id));
    if (strlen(id) >= sizeof(id) || ((r == HTTP_R_TENANT || r == HTTP_R_TENANT_TEST) != (id[0] != 0)))
        abort();
    if ((j = json_loads(body, JSON_ALLOW_NUL, NULL)) != NULL) {
        tenant_update_init(&u);
        err[0] = 0;
        if (http_update_parse(j, &u, err, sizeof(err)) < 0 && err[0] == 0)
            abort();
        http_update_free(&u);
        {
            struct http_oauth o;

            err[0] = 0;
            if (http_oauth_parse(j, &o, err, sizeof(err)) < 0 && err[0] == 0)
                abort();
            http_oauth_free(&o);
        }
        json_decref(j);
    }
    myfree(text);
    return 0;
}
