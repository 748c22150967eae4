/*
 * tmpfile.c - unpredictable, exclusively created temp files (see tmpfile.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "tenantrelay/mymalloc.h"
#include "tenantrelay/tmpfile.h"

#define TMPFILE_TRIES 8

int tmpfile_create(const char *dir, const char *base, mode_t mode, char **path_out)
{
    size_t len = strlen(dir) + strlen(base) + 32;
    char *path = mymalloc(len);

    *path_out = NULL;
    if (sodium_init() < 0) {
        myfree(path);
        errno = EIO;
        return -1;
    }
    for (int i = 0; i < TMPFILE_TRIES; i++) {
        unsigned char rnd[8];
        char hex[sizeof(rnd) * 2 + 1];
        int fd;

        randombytes_buf(rnd, sizeof(rnd));
        sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
        snprintf(path, len, "%s/.%s.tmp.%s", dir, base, hex);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd >= 0) {
            *path_out = path;
            return fd;
        }
        if (errno != EEXIST)
            break;
    }
    myfree(path);
    return -1;
}
