/*
 * store_uri.c - what a tenant_store setting names (store.h): the
 * PostgreSQL URI test and the form of the setting that may be logged.
 * Below both store.c (which picks the backend by it) and store_live.c
 * (which watches only a PostgreSQL store), so neither calls the other
 * for it.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "tenantrelay/store.h"

bool store_is_pg(const char *s)
{
    return s && (strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0);
}

const char *store_display_name(const char *s, char *buf, size_t len)
{
    const char *auth, *at, *colon, *end;

    if (!store_is_pg(s)) {
        snprintf(buf, len, "%s", s);
        return buf;
    }
    auth = strstr(s, "://") + 3;
    end = auth + strcspn(auth, "/?");
    at = memchr(auth, '@', (size_t)(end - auth));
    colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    /* scheme://user[:password]@host:port/db[?query]: drop password and query. */
    if (colon)
        snprintf(buf, len, "%.*s:***%.*s", (int)(colon - s), s, (int)(strcspn(at, "?")), at);
    else
        snprintf(buf, len, "%.*s", (int)strcspn(s, "?"), s);
    return buf;
}
