/*
 * fsync_block.c - an LD_PRELOAD shim for test_daemon_acceptance_no_fsync.sh:
 * fsync() and fdatasync() of a spool state file whose content records the
 * state "held" block while the file named by $FSYNC_BLOCK_MARKER exists
 * (at most 60 s), after touching $FSYNC_BLOCK_MARKER.seen.  It makes one
 * disk write as slow as a stalled disk, so that a test can show which
 * paths wait for it and which do not, without measuring time.
 * Built by the test with the system compiler; not part of the programs.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int held_state(int fd)
{
    char link[64], path[4096], buf[256];
    ssize_t n;
    int rfd;

    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    n = readlink(link, path, sizeof(path) - 1);
    if (n <= 0)
        return 0;
    path[n] = 0;
    if (strstr(path, ".state") == NULL)
        return 0;
    /* The spool writes through a write-only descriptor: read by name. */
    if ((rfd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return 0;
    n = pread(rfd, buf, sizeof(buf) - 1, 0);
    close(rfd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    return strstr(buf, "\nstate held\n") != NULL;
}

static void maybe_block(int fd)
{
    const char *marker = getenv("FSYNC_BLOCK_MARKER");
    char seen[4096];
    struct timespec tick = { 0, 20 * 1000 * 1000 };

    if (marker == NULL || access(marker, F_OK) != 0 || !held_state(fd))
        return;
    snprintf(seen, sizeof(seen), "%s.seen", marker);
    close(open(seen, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    for (int i = 0; i < 3000 && access(marker, F_OK) == 0; i++)
        nanosleep(&tick, NULL);
}

int fsync(int fd)
{
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");

    maybe_block(fd);
    return real(fd);
}

int fdatasync(int fd)
{
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");

    maybe_block(fd);
    return real(fd);
}
