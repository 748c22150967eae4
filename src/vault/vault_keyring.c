/*
 * vault_keyring.c - the keyring: load (mode-checked file or systemd
 * credential), generate, retire, save atomically (see vault.h).
 *
 * File format, one key a line (comments with '#'):
 *     key <id> <primary|active|retired> <created RFC 3339> <base64 key>
 * The id is re-derived on load and must match: a corrupted or hand-mangled
 * line is refused rather than silently producing tokens nobody can open.
 * A retired key's line has "-" for its key: retiring removes the bytes.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pwd.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tenantrelay/errstr.h"
#include "tenantrelay/str.h"
#include "tenantrelay/fdio.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/timefmt.h"
#include "tenantrelay/tmpfile.h"
#include "tenantrelay/vault.h"
#include "vault_int.h"

#define KEYRING_MAX_FILE 65536
#define KEYRING_MAX_KEYS 256
#define KEYID_LABEL "tenantrelay key id v1"

const char *const vault_key_state_names[] = { "primary", "active", "retired", NULL };

int vault_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

/* The public id: BLAKE2b keyed by the key over a fixed label, 6 bytes hex. */
static void derive_id(const unsigned char *key, char *id)
{
    unsigned char h[VAULT_KEYID_LEN / 2];

    crypto_generichash(h, sizeof(h), (const unsigned char *)KEYID_LABEL, strlen(KEYID_LABEL),
                       key, VAULT_KEY_BYTES);
    sodium_bin2hex(id, VAULT_KEYID_LEN + 1, h, sizeof(h));
}

struct vault *vault_new(void)
{
    struct vault *v;

    if (vault_init() < 0)
        return NULL;
    v = mycalloc(1, sizeof(*v));
    v->info = mycalloc(KEYRING_MAX_KEYS, sizeof(*v->info));
    /* Guarded, mlock'd pages, wiped by sodium_free(). */
    v->material = sodium_malloc((size_t)KEYRING_MAX_KEYS * VAULT_KEY_BYTES);
    if (v->material == NULL) {
        myfree(v->info);
        myfree(v);
        return NULL;
    }
    sodium_memzero(v->material, (size_t)KEYRING_MAX_KEYS * VAULT_KEY_BYTES);
    return v;
}

void vault_free(struct vault *v)
{
    if (v == NULL)
        return;
    sodium_free(v->material);
    myfree(v->info);
    myfree(v);
}

const char *vault_path(const char *key_file, const char *key_credential, char *buf, size_t len)
{
    const char *dir = getenv("CREDENTIALS_DIRECTORY");

    if (key_credential)
        snprintf(buf, len, "%s/%s", dir ? dir : "$CREDENTIALS_DIRECTORY", key_credential);
    else
        snprintf(buf, len, "%s", key_file);
    return buf;
}

/* Parse the keyring text (in secure memory) into v. */
static int parse_keyring(struct vault *v, const char *path, char *text, char *err, size_t errlen)
{
    char *save = NULL, *line;
    int lineno = 0, primaries = 0;

    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[6], *fs = NULL;
        int nf = 0;
        struct vault_key_info *ki;
        unsigned char *key;
        size_t keylen = 0;
        char id[VAULT_KEYID_LEN + 1];
        int st;

        lineno++;
        while (*line == ' ' || *line == '\t')
            line++;
        if (*line == '#' || *line == 0 || *line == '\r')
            continue;
        for (char *w = strtok_r(line, " \t\r", &fs); w && nf < 6; w = strtok_r(NULL, " \t\r", &fs))
            f[nf++] = w;
        if (nf != 5 || strcmp(f[0], "key") != 0) {
            errstr_set(err, errlen, "%s: line %d: expected \"key ID STATE CREATED BASE64\"", path, lineno);
            return -1;
        }
        if (v->count >= KEYRING_MAX_KEYS) {
            errstr_set(err, errlen, "%s: more than %d keys", path, KEYRING_MAX_KEYS);
            return -1;
        }
        if ((st = str_index(vault_key_state_names, f[2])) < 0) {
            errstr_set(err, errlen, "%s: line %d: unknown key state \"%s\"", path, lineno, f[2]);
            return -1;
        }
        ki = &v->info[v->count];
        key = v->material + v->count * VAULT_KEY_BYTES;
        if (timefmt_parse_rfc3339(f[3], &ki->created) < 0) {
            errstr_set(err, errlen, "%s: line %d: bad creation time", path, lineno);
            return -1;
        }
        if (strcmp(f[4], "-") == 0) {
            /* A retired key: its id and date only. */
            if (st != VAULT_KEY_RETIRED || strlen(f[1]) != VAULT_KEYID_LEN) {
                errstr_set(err, errlen, "%s: line %d: only a retired key may lack its bytes", path, lineno);
                return -1;
            }
            if (vault_key_find(v, f[1])) {
                errstr_set(err, errlen, "%s: line %d: key %s listed twice", path, lineno, f[1]);
                return -1;
            }
            memcpy(ki->id, f[1], sizeof(ki->id));
            ki->state = VAULT_KEY_RETIRED;
            v->count++;
            continue;
        }
        if (sodium_base642bin(key, VAULT_KEY_BYTES, f[4], strlen(f[4]), NULL, &keylen, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0 || keylen != VAULT_KEY_BYTES) {
            errstr_set(err, errlen, "%s: line %d: the key is not %d bytes of base64", path, lineno,
                       VAULT_KEY_BYTES);
            return -1;
        }
        derive_id(key, id);
        if (strcmp(id, f[1]) != 0) {
            errstr_set(err, errlen, "%s: line %d: key id %s does not match its key (corrupted keyring?)",
                       path, lineno, f[1]);
            return -1;
        }
        if (vault_key_find(v, id)) {
            errstr_set(err, errlen, "%s: line %d: key %s listed twice", path, lineno, id);
            return -1;
        }
        memcpy(ki->id, id, sizeof(ki->id));
        ki->state = (enum vault_key_state)st;
        /* Retired before its bytes were removed (an older keyring): never
         * usable, and gone from the file at the next save. */
        if (st == VAULT_KEY_RETIRED)
            sodium_memzero(key, VAULT_KEY_BYTES);
        primaries += st == VAULT_KEY_PRIMARY;
        v->count++;
    }
    if (v->count == 0) {
        errstr_set(err, errlen, "%s: the keyring holds no key (run: tenantrelayctl key init)", path);
        return -1;
    }
    if (primaries != 1) {
        errstr_set(err, errlen, "%s: the keyring must have exactly one primary key, not %d", path,
                   primaries);
        return -1;
    }
    return 0;
}

/* check_mode: the mode, and the owner (root, this process's user, or the
 * configured service user, whose keyring it is; (uid_t)-1: none). */
static struct vault *load_file(const char *path, bool check_mode, uid_t service_uid, const char *service,
                               char *err, size_t errlen)
{
    struct vault *v = NULL;
    char *text = NULL;
    struct stat st;
    size_t len = 0;
    int fd;

    if (vault_init() < 0) {
        errstr_set(err, errlen, "libsodium failed to initialise");
        return NULL;
    }
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
        int e = errno;

        errstr_set(err, errlen, "%s: cannot open the keyring: %s%s", path, strerror(e),
                   e == ENOENT ? " (create it with: tenantrelayctl key init)" : "");
        errno = e;
        return NULL;
    }
    errno = EINVAL;             /* what a failure below means, unless said otherwise */
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        errstr_set(err, errlen, "%s: the keyring is not a regular file", path);
        goto out;
    }
    /* Whoever owns the keyring can swap in keys of their own. */
    if (check_mode && st.st_uid != 0 && st.st_uid != geteuid() && st.st_uid != service_uid) {
        if (service)
            errstr_set(err, errlen, "%s: refusing a keyring owned by uid %u (neither root, this user "
                       "(uid %u) nor the service user %s): chown root %s, or chown %s %s", path,
                       (unsigned)st.st_uid, (unsigned)geteuid(), service, path, service, path);
        else
            errstr_set(err, errlen, "%s: refusing a keyring owned by uid %u (neither root nor this user, "
                       "uid %u): chown root %s", path, (unsigned)st.st_uid, (unsigned)geteuid(), path);
        errno = EPERM;
        goto out;
    }
    if (check_mode && (st.st_mode & 077)) {
        errstr_set(err, errlen, "%s: refusing a keyring that group or others can read or write "
                   "(mode %04o): chmod 600 %s", path, (unsigned)(st.st_mode & 07777), path);
        errno = EPERM;
        goto out;
    }
    if (st.st_size > KEYRING_MAX_FILE) {
        errstr_set(err, errlen, "%s: the keyring is too large", path);
        goto out;
    }
    if ((text = sodium_malloc(KEYRING_MAX_FILE + 1)) == NULL) {
        errstr_set(err, errlen, "cannot allocate secure memory");
        goto out;
    }
    {
        ssize_t r = fdio_read_all(fd, text, KEYRING_MAX_FILE);

        if (r < 0) {
            errstr_set(err, errlen, "%s: read: %s", path, strerror(errno));
            errno = EIO;
            goto out;
        }
        len = (size_t)r;
    }
    text[len] = 0;
    if ((v = vault_new()) == NULL) {
        errstr_set(err, errlen, "cannot allocate secure memory");
        goto out;
    }
    if (parse_keyring(v, path, text, err, errlen) < 0) {
        vault_free(v);
        v = NULL;
    }
out:
    {
        int e = errno;

        if (text)
            sodium_free(text);  /* wipes the base64 of the keys */
        close(fd);
        errno = e;
    }
    return v;
}

struct vault *vault_load_file(const char *path, bool check_mode, char *err, size_t errlen)
{
    return load_file(path, check_mode, (uid_t)-1, NULL, err, errlen);
}

struct vault *vault_load(const char *key_file, const char *key_credential, const char *user,
                         char *err, size_t errlen)
{
    char path[4096];
    struct passwd *pw = user ? getpwnam(user) : NULL;

    if (key_credential) {
        const char *dir = getenv("CREDENTIALS_DIRECTORY");

        if (dir == NULL || *dir == 0) {
            errstr_set(err, errlen, "key_credential \"%s\" is set but $CREDENTIALS_DIRECTORY is not "
                       "(run under systemd with LoadCredential= or LoadCredentialEncrypted=)",
                       key_credential);
            return NULL;
        }
        /* systemd makes the credential readable by the service alone; its
         * mode bits (often 0440 with an ACL) are not ours to judge. */
        return vault_load_file(vault_path(NULL, key_credential, path, sizeof(path)), false, err, errlen);
    }
    return load_file(key_file, true, pw ? pw->pw_uid : (uid_t)-1, pw ? user : NULL, err, errlen);
}

size_t vault_key_count(const struct vault *v)
{
    return v ? v->count : 0;
}

const struct vault_key_info *vault_key_at(const struct vault *v, size_t i)
{
    return v && i < v->count ? &v->info[i] : NULL;
}

const struct vault_key_info *vault_key_find(const struct vault *v, const char *id)
{
    for (size_t i = 0; v && id && i < v->count; i++)
        if (strcmp(v->info[i].id, id) == 0)
            return &v->info[i];
    return NULL;
}

const unsigned char *vault_key_material(const struct vault *v, const char *id)
{
    for (size_t i = 0; v && id && i < v->count; i++)
        if (strcmp(v->info[i].id, id) == 0)
            return v->info[i].state == VAULT_KEY_RETIRED ? NULL : v->material + i * VAULT_KEY_BYTES;
    return NULL;
}

const char *vault_primary_id(const struct vault *v)
{
    for (size_t i = 0; v && i < v->count; i++)
        if (v->info[i].state == VAULT_KEY_PRIMARY)
            return v->info[i].id;
    return NULL;
}

int vault_key_generate(struct vault *v, char *id_out, char *err, size_t errlen)
{
    unsigned char *key;
    struct vault_key_info *ki;

    if (v->count >= KEYRING_MAX_KEYS) {
        errstr_set(err, errlen, "the keyring is full (%d keys): retire and remove old keys",
                   KEYRING_MAX_KEYS);
        return -1;
    }
    key = v->material + v->count * VAULT_KEY_BYTES;
    ki = &v->info[v->count];
    crypto_aead_xchacha20poly1305_ietf_keygen(key);
    derive_id(key, ki->id);
    if (vault_key_find(v, ki->id) != NULL) {   /* 48-bit id collision: astronomically rare */
        sodium_memzero(key, VAULT_KEY_BYTES);
        errstr_set(err, errlen, "key id collision, try again");
        return -1;
    }
    for (size_t i = 0; i < v->count; i++)
        if (v->info[i].state == VAULT_KEY_PRIMARY)
            v->info[i].state = VAULT_KEY_ACTIVE;
    ki->state = VAULT_KEY_PRIMARY;
    ki->created = time(NULL);
    v->count++;
    if (id_out)
        memcpy(id_out, ki->id, VAULT_KEYID_LEN + 1);
    return 0;
}

int vault_key_retire(struct vault *v, const char *id, char *err, size_t errlen)
{
    for (size_t i = 0; i < v->count; i++) {
        if (strcmp(v->info[i].id, id) != 0)
            continue;
        if (v->info[i].state == VAULT_KEY_PRIMARY) {
            errstr_set(err, errlen, "key %s is the primary key: rotate first", id);
            return -1;
        }
        v->info[i].state = VAULT_KEY_RETIRED;
        sodium_memzero(v->material + i * VAULT_KEY_BYTES, VAULT_KEY_BYTES);
        return 0;
    }
    errstr_set(err, errlen, "no key %s in the keyring", id);
    return -1;
}

int vault_save(const struct vault *v, const char *path, bool exclusive, char *err, size_t errlen)
{
    size_t cap = 256 + v->count * 160;
    char *text = sodium_malloc(cap), *tmp = NULL, *dircopy = NULL;
    size_t len = 0;
    struct stat st;
    bool have_old = !exclusive && stat(path, &st) == 0;
    int fd = -1, dfd = -1, rc = -1, saved_errno = 0;

    if (text == NULL) {
        errstr_set(err, errlen, "cannot allocate secure memory");
        return -1;
    }
    len += (size_t)snprintf(text + len, cap - len,
                            "# tenantrelay keyring: SECRET.  Mode 0600 (or 0400), owned by root or the\n"
                            "# service user.  Back it up offline: without it no sealed secret opens.\n");
    for (size_t i = 0; i < v->count; i++) {
        char when[32], b64[sodium_base64_ENCODED_LEN(VAULT_KEY_BYTES, sodium_base64_VARIANT_ORIGINAL)];

        timefmt_rfc3339(v->info[i].created, when, sizeof(when));
        if (v->info[i].state == VAULT_KEY_RETIRED)
            snprintf(b64, sizeof(b64), "-");
        else
            sodium_bin2base64(b64, sizeof(b64), v->material + i * VAULT_KEY_BYTES, VAULT_KEY_BYTES,
                              sodium_base64_VARIANT_ORIGINAL);
        len += (size_t)snprintf(text + len, cap - len, "key %s %s %s %s\n", v->info[i].id,
                                vault_key_state_names[v->info[i].state], when, b64);
        sodium_memzero(b64, sizeof(b64));
    }
    if (exclusive) {
        if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
            saved_errno = errno;
            errstr_set(err, errlen, "%s: %s", path, errno == EEXIST
                       ? "a keyring already exists; refusing to overwrite it (keys in it may still be needed)"
                       : strerror(errno));
            goto out;
        }
    } else {
        char *dcopy = mystrdup(path);
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

        fd = tmpfile_create(dirname(dcopy), base, 0600, &tmp);
        saved_errno = errno;
        myfree(dcopy);
        if (fd < 0) {
            errstr_set(err, errlen, "%s: cannot create its temp file: %s", path, strerror(saved_errno));
            goto out;
        }
        if (have_old) {
            if (fchown(fd, st.st_uid, st.st_gid) < 0 && geteuid() == 0)
                goto io;
            fchmod(fd, st.st_mode & 0600);
        }
    }
    if (fdio_write_all(fd, text, len) < 0 || fsync(fd) < 0)
        goto io;
    if (close(fd) < 0) {
        fd = -1;
        goto io;
    }
    fd = -1;
    if (tmp && rename(tmp, path) < 0)
        goto io;
    dircopy = mystrdup(path);
    if ((dfd = open(dirname(dircopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(dfd) < 0)
        goto io;
    rc = 0;
    goto out;
io:
    saved_errno = errno;
    errstr_set(err, errlen, "%s: cannot write the keyring: %s", path, strerror(errno));
    if (tmp)
        unlink(tmp);
    else if (exclusive)
        unlink(path);           /* ours, created above: no half-written keyring */
out:
    if (fd >= 0)
        close(fd);
    if (dfd >= 0)
        close(dfd);
    sodium_free(text);
    myfree(tmp);
    myfree(dircopy);
    errno = saved_errno;
    return rc;
}
