/*
 * tmpfile.h - temp files for atomic replacement (keyring, tenant store).
 *
 * The name is unpredictable (".BASE.tmp." and 16 random hex digits, a dot
 * file next to its target) and the file is created with O_EXCL|O_NOFOLLOW,
 * so nobody can pre-create it or plant a symlink there to redirect a write
 * of secrets.  The ".BASE.tmp." prefix is what stale-temp cleanup matches.
 */
#ifndef TENANTRELAY_TMPFILE_H
#define TENANTRELAY_TMPFILE_H

#include <sys/types.h>

/* Create the temp file for DIR/BASE with mode.  The open fd (O_WRONLY,
 * O_CLOEXEC), its path in *path_out (the caller's: myfree), or -1 with
 * errno set and *path_out NULL. */
int tmpfile_create(const char *dir, const char *base, mode_t mode, char **path_out);

#endif
