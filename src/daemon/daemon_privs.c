/*
 * daemon_privs.c - drop root after binding; no core dumps.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "tenantrelay/daemon.h"

int daemon_drop_privileges(const char *user, char *err, size_t errlen)
{
    struct passwd *pw;

    if (geteuid() != 0)
        return 0;
    if ((pw = getpwnam(user)) == NULL) {
        snprintf(err, errlen, "user \"%s\" does not exist (create it, or set 'user')", user);
        return -1;
    }
    if (pw->pw_uid == 0) {
        snprintf(err, errlen, "user \"%s\" is root: refusing to run privileged", user);
        return -1;
    }
    if (setgroups(0, NULL) < 0 || initgroups(pw->pw_name, pw->pw_gid) < 0
        || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0
        || setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0) {
        snprintf(err, errlen, "cannot switch to user \"%s\": %s", user, strerror(errno));
        return -1;
    }
    /* Paranoia: regaining root must be impossible now. */
    if (setuid(0) == 0) {
        snprintf(err, errlen, "privilege drop to \"%s\" did not stick", user);
        return -1;
    }
    /* setuid clears the dumpable flag; keep it cleared (secrets in memory). */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    return 0;
}

void daemon_disable_core_dumps(void)
{
    struct rlimit rl = { 0, 0 };

    setrlimit(RLIMIT_CORE, &rl);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}
