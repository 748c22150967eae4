/*
 * conf_get.c - typed, range-checked access to libconfig settings.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tenantrelay/conf_get.h"
#include "tenantrelay/errstr.h"
#include "tenantrelay/str.h"
#include "tenantrelay/mymalloc.h"

void conf_errorf(struct conf_error *err, const config_setting_t *where, const char *fmt, ...)
{
    char text[768];
    const char *file = where ? config_setting_source_file(where) : NULL;
    unsigned line = where ? config_setting_source_line(where) : 0;
    va_list ap;

    if (err == NULL || err->text[0])
        return;
    va_start(ap, fmt);
    errstr_vset(text, sizeof(text), fmt, ap);
    va_end(ap);
    snprintf(err->text, sizeof(err->text), "%s:%u: %s", file ? file : "<config>", line, text);
}

int conf_check_keys(const config_setting_t *group, const char *const *known1,
                    const char *const *known2, struct conf_error *err)
{
    int n = config_setting_length(group);

    for (int i = 0; i < n; i++) {
        config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(s);

        if (name && str_index(known1, name) < 0 && str_index(known2, name) < 0) {
            conf_errorf(err, s, "unknown key '%s'", name);
            return -1;
        }
    }
    return 0;
}

static const char *type_name(int type)
{
    switch (type) {
    case CONFIG_TYPE_GROUP: return "a group";
    case CONFIG_TYPE_INT: case CONFIG_TYPE_INT64: return "an integer";
    case CONFIG_TYPE_FLOAT: return "a float";
    case CONFIG_TYPE_STRING: return "a string";
    case CONFIG_TYPE_BOOL: return "a boolean";
    case CONFIG_TYPE_ARRAY: return "an array";
    case CONFIG_TYPE_LIST: return "a list";
    default: return "unknown";
    }
}

/* The member, or NULL when absent; -1 in *rc when present with the wrong type. */
static config_setting_t *member(const config_setting_t *group, const char *name, int type,
                                int *rc, struct conf_error *err)
{
    config_setting_t *s = config_setting_get_member(group, name);

    *rc = 0;
    if (s == NULL) {
        *rc = 1;
        return NULL;
    }
    if (config_setting_type(s) != type
        && !(type == CONFIG_TYPE_INT && config_setting_type(s) == CONFIG_TYPE_INT64)) {
        conf_errorf(err, s, "key '%s' must be %s, not %s", name, type_name(type),
                    type_name(config_setting_type(s)));
        *rc = -1;
        return NULL;
    }
    return s;
}

int conf_get_string(const config_setting_t *group, const char *name, char **out,
                    struct conf_error *err)
{
    int rc;
    config_setting_t *s = member(group, name, CONFIG_TYPE_STRING, &rc, err);

    if (s == NULL)
        return rc;
    myfree(*out);
    *out = mystrdup(config_setting_get_string(s));
    return 0;
}

int conf_get_nonempty(const config_setting_t *group, const char *name, char **out,
                      struct conf_error *err)
{
    int rc;
    config_setting_t *s = member(group, name, CONFIG_TYPE_STRING, &rc, err);

    if (s == NULL)
        return rc;
    if (*config_setting_get_string(s) == 0) {
        conf_errorf(err, s, "key '%s' must not be empty", name);
        return -1;
    }
    myfree(*out);
    *out = mystrdup(config_setting_get_string(s));
    return 0;
}

int conf_get_int(const config_setting_t *group, const char *name, long long min,
                 long long max, long long *out, struct conf_error *err)
{
    int rc;
    config_setting_t *s = member(group, name, CONFIG_TYPE_INT, &rc, err);
    long long v;

    if (s == NULL)
        return rc;
    v = config_setting_get_int64(s);
    if (config_setting_type(s) == CONFIG_TYPE_INT)
        v = config_setting_get_int(s);
    if (v < min || v > max) {
        conf_errorf(err, s, "key '%s': %lld is out of range %lld..%lld", name, v, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int conf_get_group(const config_setting_t *parent, const char *name, config_setting_t **out,
                   struct conf_error *err)
{
    *out = config_setting_get_member(parent, name);
    if (*out == NULL || config_setting_is_group(*out))
        return 0;
    conf_errorf(err, *out, "key '%s' must be a group", name);
    return -1;
}

int conf_get_bool(const config_setting_t *group, const char *name, bool *out,
                  struct conf_error *err)
{
    int rc;
    config_setting_t *s = member(group, name, CONFIG_TYPE_BOOL, &rc, err);

    if (s == NULL)
        return rc;
    *out = config_setting_get_bool(s) != 0;
    return 0;
}

int conf_get_enum(const config_setting_t *group, const char *name, const char *const *names,
                  int *out, struct conf_error *err)
{
    int rc;
    config_setting_t *s = member(group, name, CONFIG_TYPE_STRING, &rc, err);
    const char *v;
    char allowed[256] = "";
    int found;

    if (s == NULL)
        return rc;
    v = config_setting_get_string(s);
    if ((found = str_index(names, v)) >= 0) {
        *out = found;
        return 0;
    }
    for (int i = 0; names[i]; i++)
        snprintf(allowed + strlen(allowed), sizeof(allowed) - strlen(allowed), "%s\"%s\"",
                 i ? ", " : "", names[i]);
    conf_errorf(err, s, "key '%s': \"%s\" is not one of %s", name, v, allowed);
    return -1;
}

int conf_get_strings(const config_setting_t *group, const char *name, char ***out,
                     int *count, struct conf_error *err)
{
    config_setting_t *s = config_setting_get_member(group, name);
    int n;
    char **v;

    if (s == NULL)
        return 1;
    if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
        conf_errorf(err, s, "key '%s' must be an array of strings, not %s", name,
                    type_name(config_setting_type(s)));
        return -1;
    }
    n = config_setting_length(s);
    for (int i = 0; i < n; i++) {
        config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

        if (config_setting_type(e) != CONFIG_TYPE_STRING) {
            conf_errorf(err, e, "key '%s': element %d must be a string, not %s", name, i,
                        type_name(config_setting_type(e)));
            return -1;
        }
    }
    v = mycalloc((size_t)n + 1, sizeof(*v));
    for (int i = 0; i < n; i++)
        v[i] = mystrdup(config_setting_get_string_elem(s, i));
    conf_free_strings(*out);
    *out = v;
    if (count)
        *count = n;
    return 0;
}

void conf_free_strings(char **v)
{
    if (v == NULL)
        return;
    for (char **p = v; *p; p++)
        myfree(*p);
    myfree(v);
}
