/*
 * tenant_record.c - one tenant record: parse from a libconfig group,
 * validate, copy, free; RFC 3339 times.
 *
 * Times are stored as RFC 3339 UTC strings ("2026-11-25T03:00:00Z") so the
 * store stays readable in a diff; an integer (seconds since the epoch) is
 * accepted too for hand-written stores.  verified absent means "never".
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tenantrelay/conf.h"
#include "tenantrelay/errstr.h"
#include "tenantrelay/mailaddr.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/route_parse.h"
#include "tenantrelay/tenant_write.h"
#include "tenantrelay/timefmt.h"

const char *const tenant_keys[] = {
    "id", "enabled", "domains", "addresses", "created", "updated", "verified", NULL,
};

void tenant_errorf(struct conf_error *err, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || err->text[0])
        return;
    va_start(ap, fmt);
    errstr_vset(err->text, sizeof(err->text), fmt, ap);
    va_end(ap);
}

bool tenant_id_is_valid(const char *id)
{
    size_t n;

    if (id == NULL || !((*id >= 'a' && *id <= 'z') || (*id >= '0' && *id <= '9')))
        return false;
    for (n = 1; id[n]; n++) {
        char c = id[n];

        if (n >= TENANT_ID_MAX)
            return false;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return strcmp(id, CONF_RESERVED_TENANT) != 0;
}

/* The store's names for the one formatter (src/common/timefmt.c). */
void tenant_time_format(time_t t, char *buf, size_t len)
{
    timefmt_rfc3339(t, buf, len);
}

int tenant_time_parse(const char *s, time_t *out)
{
    return timefmt_parse_rfc3339(s, out);
}

/* created/updated/verified: an RFC 3339 UTC string or an integer. */
static int get_time(const config_setting_t *g, const char *name, time_t *out,
                    struct conf_error *err)
{
    config_setting_t *s = config_setting_get_member(g, name);

    if (s == NULL)
        return 1;
    if (config_setting_type(s) == CONFIG_TYPE_INT || config_setting_type(s) == CONFIG_TYPE_INT64) {
        long long v = config_setting_get_int64(s);

        if (v < 0 || v > 253402300799LL) {
            conf_errorf(err, s, "key '%s': %lld is out of range", name, v);
            return -1;
        }
        *out = (time_t)v;
        return 0;
    }
    if (config_setting_type(s) != CONFIG_TYPE_STRING
        || timefmt_parse_rfc3339(config_setting_get_string(s), out) < 0) {
        conf_errorf(err, s, "key '%s' must be an RFC 3339 UTC time like \"2026-01-31T12:00:00Z\"",
                    name);
        return -1;
    }
    return 0;
}

static void lower(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

/* domains / addresses: lower-cased and syntax-checked, duplicates inside
 * one record refused. */
static int get_names(const config_setting_t *g, const char *name, bool addresses, char ***out,
                     struct conf_error *err)
{
    config_setting_t *s = config_setting_get_member(g, name);
    int rc;

    if ((rc = conf_get_strings(g, name, out, NULL, err)) < 0)
        return -1;
    if (rc == 1) {
        *out = mycalloc(1, sizeof(char *));
        return 0;
    }
    for (int i = 0; (*out)[i]; i++) {
        char *v = (*out)[i];
        config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

        lower(v);
        if (addresses ? !mailaddr_is_valid(v, true) : !mailaddr_is_hostname(v)) {
            conf_errorf(err, e, "key '%s': \"%s\" is not a valid %s", name, v,
                        addresses ? "address" : "domain");
            return -1;
        }
        for (int j = 0; j < i; j++) {
            if (strcmp((*out)[j], v) == 0) {
                conf_errorf(err, e, "key '%s': \"%s\" is listed twice", name, v);
                return -1;
            }
        }
    }
    return 0;
}

int tenant_parse(const config_setting_t *g, struct tenant *t, struct conf_error *err)
{
    config_setting_t *idset;

    memset(t, 0, sizeof(*t));
    t->enabled = true;
    route_init(&t->route);
    if (!config_setting_is_group(g)) {
        conf_errorf(err, g, "a tenant record must be a group { ... }");
        return -1;
    }
    if (conf_check_keys(g, route_keys, tenant_keys, err) < 0)
        return -1;
    if (conf_get_nonempty(g, "id", &t->id, err) < 0)
        return -1;
    idset = config_setting_get_member(g, "id");
    if (t->id == NULL) {
        conf_errorf(err, g, "key 'id' is required");
        return -1;
    }
    if (!tenant_id_is_valid(t->id)) {
        conf_errorf(err, idset, strcmp(t->id, CONF_RESERVED_TENANT) == 0
                    ? "key 'id': \"%s\" is reserved for the default route"
                    : "key 'id': \"%s\" must match [a-z0-9][a-z0-9._-]{0,63}", t->id);
        return -1;
    }
    if (conf_get_bool(g, "enabled", &t->enabled, err) < 0
        || route_parse(g, &t->route, true, err) < 0
        || get_names(g, "domains", false, &t->domains, err) < 0
        || get_names(g, "addresses", true, &t->addresses, err) < 0
        || get_time(g, "created", &t->created, err) < 0
        || get_time(g, "updated", &t->updated, err) < 0
        || get_time(g, "verified", &t->verified, err) < 0)
        return -1;
    return 0;
}

static char **copy_strings(char *const *v)
{
    size_t n = 0;
    char **out;

    while (v && v[n])
        n++;
    out = mycalloc(n + 1, sizeof(*out));
    for (size_t i = 0; i < n; i++)
        out[i] = mystrdup(v[i]);
    return out;
}

void tenant_copy(struct tenant *dst, const struct tenant *src)
{
    *dst = *src;
    dst->id = mystrdup_or_null(src->id);
    route_copy(&dst->route, &src->route);
    dst->domains = copy_strings(src->domains);
    dst->addresses = copy_strings(src->addresses);
}

void tenant_free_fields(struct tenant *t)
{
    myfree(t->id);
    route_free(&t->route);
    conf_free_strings(t->domains);
    conf_free_strings(t->addresses);
    memset(t, 0, sizeof(*t));
}
