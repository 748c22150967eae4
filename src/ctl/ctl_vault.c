/*
 * ctl_vault.c - helpers shared by the key, seal, tenant and audit commands
 * (see ctl_vault.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <termios.h>
#include <unistd.h>

#include "tenantrelay/tenant_write.h"
#include "tenantrelay/timefmt.h"
#include "ctl_vault.h"

int ctl_status_for_errno(int e)
{
    switch (e) {
    case EACCES: case EPERM: case EROFS: return EX_NOPERM;
    case EEXIST: return EX_CANTCREAT;
    case ENOENT: return EX_CONFIG;
    case EINVAL: return EX_DATAERR;
    default: return EX_IOERR;
    }
}

struct vault *ctl_vault_load(struct ctl_ctx *ctx, int *status)
{
    struct conf *conf = ctl_conf(ctx);
    struct vault *v;
    char err[1024];

    if (conf == NULL) {
        *status = EX_CONFIG;
        return NULL;
    }
    if ((v = vault_load(conf->key_file, conf->key_credential, conf->user, err, sizeof(err))) == NULL) {
        *status = ctl_status_for_errno(errno);
        ctl_fail(*status, "%s", err);
    }
    return v;
}

struct tenant_store *ctl_store_load(struct ctl_ctx *ctx, int *status)
{
    struct conf *conf = ctl_conf(ctx);
    struct conf_error err = { "" };
    struct tenant_store *s;

    if (conf == NULL) {
        *status = EX_CONFIG;
        return NULL;
    }
    if ((s = store_load(conf, NULL, &err)) == NULL) {
        /* A database that does not answer is "unavailable", not bad data. */
        *status = strstr(err.text, "cannot connect") ? EX_UNAVAILABLE : EX_DATAERR;
        ctl_fail(*status, "tenant store: %s", err.text);
    }
    return s;
}

int ctl_secret_read(const char *file, unsigned char **out, size_t *len)
{
    int fd = file ? open(file, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
    unsigned char *buf = NULL;
    size_t n = 0;
    struct termios old, quiet;
    bool tty = false;
    int status = 0;

    *out = NULL;
    *len = 0;
    if (fd < 0)
        return ctl_fail(ctl_status_for_errno(errno) == EX_CONFIG ? EX_IOERR : ctl_status_for_errno(errno),
                        "%s: %s", file, strerror(errno));
    if (vault_init() < 0 || (buf = sodium_malloc(VAULT_SECRET_MAX + 2)) == NULL) {
        status = ctl_fail(EX_OSERR, "cannot allocate secure memory");
        goto out;
    }
    if (file == NULL && isatty(fd) && tcgetattr(fd, &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tty = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
        fprintf(stderr, "secret (not echoed): ");
    }
    for (;;) {
        ssize_t r = read(fd, buf + n, VAULT_SECRET_MAX + 1 - n);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            status = ctl_fail(EX_IOERR, "reading the secret: %s", strerror(errno));
            goto out;
        }
        n += (size_t)r;
        /* A terminal gives one line; a pipe or file is read to its end. */
        if (r == 0 || n > VAULT_SECRET_MAX || (tty && n && buf[n - 1] == '\n'))
            break;
    }
    if (n > VAULT_SECRET_MAX) {
        status = ctl_fail(EX_DATAERR, "the secret is longer than %d bytes", VAULT_SECRET_MAX);
        goto out;
    }
    if (n && buf[n - 1] == '\n')
        n--;
    if (n && buf[n - 1] == '\r')
        n--;
    if (n == 0) {
        status = ctl_fail(EX_DATAERR, "empty secret");
        goto out;
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    buf = NULL;
out:
    if (tty) {
        tcsetattr(fd, TCSAFLUSH, &old);
        fprintf(stderr, "\n");
    }
    if (buf)
        sodium_free(buf);
    if (file)
        close(fd);
    return status;
}

void ctl_json_print(json_t *j)
{
    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(j);
}

