/*
 * http_token.c - the API token file: load, add, revoke, check (see
 * http_token.h).  Shared by tenantrelayctl and tenantrelayd.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tenantrelay/http_token.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/timefmt.h"

#define TOKEN_RAW 32
#define TOKEN_PREFIX "trt_"

bool http_token_name_is_valid(const char *name)
{
    size_t i = 0;

    if (name == NULL || !((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z')
                          || (name[0] >= '0' && name[0] <= '9')))
        return false;
    for (; name[i]; i++) {
        char c = name[i];

        if (i >= HTTP_TOKEN_NAME_MAX || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                                          || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static void hash_token(const char *token, size_t len, unsigned char out[HTTP_TOKEN_HASH_LEN])
{
    crypto_generichash(out, HTTP_TOKEN_HASH_LEN, (const unsigned char *)token, len, NULL, 0);
}

int http_token_load(const char *path, struct http_token_entry **out, size_t *n, char *err, size_t errlen)
{
    FILE *fp;
    char line[512];
    int lineno = 0;

    *out = NULL;
    *n = 0;
    if ((fp = fopen(path, "re")) == NULL) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), fp)) {
        struct http_token_entry e;
        char name[HTTP_TOKEN_NAME_MAX + 2], hex[2 * HTTP_TOKEN_HASH_LEN + 2], when[64];
        size_t bin_len = 0;

        lineno++;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        memset(&e, 0, sizeof(e));
        if (sscanf(line, "%65s %65s %63s", name, hex, when) != 3 || !http_token_name_is_valid(name)
            || sodium_hex2bin(e.hash, sizeof(e.hash), hex, strlen(hex), NULL, &bin_len, NULL) != 0
            || bin_len != HTTP_TOKEN_HASH_LEN || timefmt_parse_rfc3339(when, &e.created) < 0) {
            snprintf(err, errlen, "%s:%d: malformed token line (NAME HASH CREATED expected)", path, lineno);
            fclose(fp);
            myfree(*out);
            *out = NULL;
            *n = 0;
            return -1;
        }
        memcpy(e.name, name, strlen(name) + 1);   /* valid: at most 64 characters */
        *out = myrealloc(*out, (*n + 1) * sizeof(**out));
        (*out)[(*n)++] = e;
    }
    fclose(fp);
    return 0;
}

/* Replace the file with v: temp file 0600, fsync, rename, directory fsync. */
static int save(const char *path, const struct http_token_entry *v, size_t n, char *err, size_t errlen)
{
    char *tmp = mymalloc(strlen(path) + 16), *dcopy = mystrdup(path);
    FILE *fp = NULL;
    int fd, dfd, rc = -1;

    sprintf(tmp, "%s.tmp.%d", path, (int)getpid());
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0
        || (fp = fdopen(fd, "w")) == NULL) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        goto out;
    }
    fprintf(fp, "# tenantrelay API tokens: NAME BLAKE2b-256(token) CREATED (tenantrelayctl api-token)\n");
    for (size_t i = 0; i < n; i++) {
        char hex[2 * HTTP_TOKEN_HASH_LEN + 1], when[32];

        sodium_bin2hex(hex, sizeof(hex), v[i].hash, HTTP_TOKEN_HASH_LEN);
        timefmt_rfc3339(v[i].created, when, sizeof(when));
        fprintf(fp, "%s %s %s\n", v[i].name, hex, when);
    }
    if (fflush(fp) != 0 || fsync(fileno(fp)) < 0) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        fclose(fp);
        unlink(tmp);
        goto out;
    }
    fclose(fp);
    if (rename(tmp, path) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        unlink(tmp);
        goto out;
    }
    if ((dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        fsync(dfd);
        close(dfd);
    }
    rc = 0;
out:
    myfree(tmp);
    myfree(dcopy);
    return rc;
}

void http_token_free_clear(char *token)
{
    if (token)
        sodium_free(token);
}

int http_token_add(const char *path, const char *name, char **token_out, char *err, size_t errlen)
{
    struct http_token_entry *v = NULL;
    unsigned char *raw = NULL;
    size_t n = 0, tlen = strlen(TOKEN_PREFIX) + sodium_base64_ENCODED_LEN(TOKEN_RAW,
                                                                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *token = NULL;
    int rc = -1;

    *token_out = NULL;
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium cannot start");
        return -1;
    }
    if (!http_token_name_is_valid(name)) {
        snprintf(err, errlen, "token name \"%s\" must match [A-Za-z0-9][A-Za-z0-9._-]{0,63}", name);
        return -1;
    }
    if (http_token_load(path, &v, &n, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0) {
            snprintf(err, errlen, "a token named \"%s\" exists (revoke it first)", name);
            goto out;
        }
    if ((raw = sodium_malloc(TOKEN_RAW)) == NULL || (token = sodium_malloc(tlen)) == NULL) {
        snprintf(err, errlen, "out of locked memory");
        goto out;
    }
    randombytes_buf(raw, TOKEN_RAW);
    memcpy(token, TOKEN_PREFIX, strlen(TOKEN_PREFIX));
    sodium_bin2base64(token + strlen(TOKEN_PREFIX), tlen - strlen(TOKEN_PREFIX), raw, TOKEN_RAW,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    v = myrealloc(v, (n + 1) * sizeof(*v));
    memset(&v[n], 0, sizeof(v[n]));
    snprintf(v[n].name, sizeof(v[n].name), "%s", name);
    hash_token(token, strlen(token), v[n].hash);
    v[n].created = time(NULL);
    if (save(path, v, n + 1, err, errlen) < 0)
        goto out;
    *token_out = token;
    token = NULL;
    rc = 0;
out:
    if (raw)
        sodium_free(raw);
    http_token_free_clear(token);
    myfree(v);
    return rc;
}

int http_token_revoke(const char *path, const char *name, bool *missing, char *err, size_t errlen)
{
    struct http_token_entry *v = NULL;
    size_t n = 0, k = 0;
    int rc;

    *missing = false;
    if (http_token_load(path, &v, &n, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) != 0)
            v[k++] = v[i];
    if (k == n) {
        *missing = true;
        snprintf(err, errlen, "no token named \"%s\"", name);
        myfree(v);
        return -1;
    }
    rc = save(path, v, k, err, errlen);
    myfree(v);
    return rc;
}

bool http_token_check(const struct http_token_entry *v, size_t n, const char *token, size_t token_len,
                      char name_out[HTTP_TOKEN_NAME_MAX + 1])
{
    unsigned char h[HTTP_TOKEN_HASH_LEN];
    bool found = false;

    hash_token(token, token_len, h);
    /* Every entry compared, in constant time each. */
    for (size_t i = 0; i < n; i++)
        if (sodium_memcmp(h, v[i].hash, HTTP_TOKEN_HASH_LEN) == 0 && !found) {
            snprintf(name_out, HTTP_TOKEN_NAME_MAX + 1, "%s", v[i].name);
            found = true;
        }
    sodium_memzero(h, sizeof(h));
    return found;
}
