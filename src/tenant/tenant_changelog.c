/*
 * tenant_changelog.c - the append-only change log of the tenant store:
 * one line per change with the time, the user, the action, the tenant and
 * the NAMES of the fields changed.  Values never go there: the log is for
 * auditors and must not become a second place where secrets live.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tenantrelay/tenant_write.h"
#include "tenantrelay/timefmt.h"

/* Set by a caller acting for someone else (the HTTP API: the token's
 * name), for this thread only: whatever store backend writes the change
 * log line asks tenant_changelog_user(). */
static __thread const char *acting_user;

void tenant_changelog_set_user(const char *user)
{
    acting_user = user;
}

const char *tenant_changelog_user(void)
{
    static __thread char name[64];
    const char *sudo = getenv("SUDO_USER");
    struct passwd *pw;

    if (acting_user) {
        snprintf(name, sizeof(name), "%s", acting_user);
        return name;
    }
    if (getuid() == 0 && sudo && *sudo) {
        snprintf(name, sizeof(name), "%s(sudo)", sudo);
        return name;
    }
    if ((pw = getpwuid(getuid())) != NULL)
        snprintf(name, sizeof(name), "%s", pw->pw_name);
    else
        snprintf(name, sizeof(name), "uid%ld", (long)getuid());
    return name;
}

/* Field values in the log are names we chose or validated ids; anything
 * else is replaced so that a line stays one line. */
static void clean(char *dst, size_t len, const char *src)
{
    size_t i = 0;

    for (; src && *src && i + 1 < len; src++)
        dst[i++] = (*src > 0x20 && *src < 0x7f && *src != '"') ? *src : '?';
    dst[i] = 0;
    if (i == 0)
        snprintf(dst, len, "-");
}

int tenant_changelog_append(const char *log_path, const char *action, const char *tenant,
                            const char *fields, struct conf_error *err)
{
    char line[2048], when[64], c_action[64], c_tenant[128], c_fields[1024], c_user[128];
    int fd, len;

    timefmt_rfc3339(time(NULL), when, sizeof(when));
    clean(c_action, sizeof(c_action), action);
    clean(c_tenant, sizeof(c_tenant), tenant);
    clean(c_fields, sizeof(c_fields), fields);
    clean(c_user, sizeof(c_user), tenant_changelog_user());
    len = snprintf(line, sizeof(line), "%s user=%s action=%s tenant=%s fields=%s\n", when,
                   c_user, c_action, c_tenant, c_fields);
    if (len < 0 || (size_t)len >= sizeof(line))
        len = (int)strlen(line);
    if ((fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640)) < 0) {
        tenant_errorf(err, "%s: cannot open the change log: %s", log_path,
                 strerror(errno));
        return -1;
    }
    /* One write(2) with O_APPEND: concurrent writers never interleave. */
    if (write(fd, line, (size_t)len) != len || fsync(fd) < 0) {
        tenant_errorf(err, "%s: cannot append: %s", log_path, strerror(errno));
        close(fd);
        return -1;
    }
    close(fd);
    return 0;
}
