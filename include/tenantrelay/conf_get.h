/*
 * conf_get.h - typed, range-checked access to libconfig settings.
 *
 * Every error names the file and line of the offending setting
 * ("FILE:LINE: key 'port': 70000 is out of range 1..65535"), so that an
 * operator can fix it without guessing.  Strings returned are copies owned
 * by the caller (libconfig's own strings die with its config_t).
 *
 * Getters return 0 when the key was present and valid, 1 when it is absent
 * (the output is left untouched, so callers pre-set defaults), -1 on error.
 */
#ifndef TENANTRELAY_CONF_GET_H
#define TENANTRELAY_CONF_GET_H

#include <libconfig.h>
#include <stdbool.h>

struct conf_error {
    char text[1024];
};

/* Format "FILE:LINE: message" for a setting into err (the first error wins). */
void conf_errorf(struct conf_error *err, const config_setting_t *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fail on any member of group whose name is in none of the NULL-terminated lists. */
int conf_check_keys(const config_setting_t *group, const char *const *known1,
                    const char *const *known2, struct conf_error *err);

/* The optional group name of parent: *out NULL when absent (0), -1 when
 * it is there but not a group. */
int conf_get_group(const config_setting_t *parent, const char *name, config_setting_t **out,
                   struct conf_error *err);

int conf_get_string(const config_setting_t *group, const char *name, char **out,
                    struct conf_error *err);
/* Like conf_get_string, but an empty string is an error. */
int conf_get_nonempty(const config_setting_t *group, const char *name, char **out,
                      struct conf_error *err);
int conf_get_int(const config_setting_t *group, const char *name, long long min,
                 long long max, long long *out, struct conf_error *err);
int conf_get_bool(const config_setting_t *group, const char *name, bool *out,
                  struct conf_error *err);
/* One of the NULL-terminated names; *out is its index. */
int conf_get_enum(const config_setting_t *group, const char *name, const char *const *names,
                  int *out, struct conf_error *err);
/* An array or list of strings; *out is a NULL-terminated vector the caller frees
 * with conf_free_strings(). */
int conf_get_strings(const config_setting_t *group, const char *name, char ***out,
                     int *count, struct conf_error *err);
void conf_free_strings(char **v);

#endif
