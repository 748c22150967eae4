/*
 * fuzz_store.c - libFuzzer harness for the tenant-store parser: any file
 * content loads into a consistent store or fails with "FILE:LINE: ...",
 * never crashes or leaks.  On success every record is found again by id,
 * address and domain.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "tenantrelay/tenant.h"
#include "tenantrelay/tenant_write.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/* libconfig 1.5 leaks in its scanner and parser on syntax errors (the
 * string buffer of an unterminated literal, token strings the parser
 * drops): its bugs, not ours, bounded by the size of a failed file.  Our
 * own code is never called from libconfig_yy*, so nothing of ours hides
 * behind these. */
const char *__lsan_default_suppressions(void)
{
    return "leak:strbuf_append\nleak:libconfig_yy\n";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    struct conf_error err = { "" };
    struct tenant_store *s;
    FILE *fp;

    if (path[0] == 0) {
        int fd;

        snprintf(path, sizeof(path), "/dev/shm/tr-fuzz-store-%ld.conf", (long)getpid());
        if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0) {
            snprintf(path, sizeof(path), "/tmp/tr-fuzz-store-%ld.conf", (long)getpid());
            fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        }
        if (fd < 0)
            abort();
        close(fd);
    }
    if ((fp = fopen(path, "w")) == NULL)
        abort();
    fwrite(data, 1, size, fp);
    fclose(fp);
    s = tenant_store_load(path, &err);
    if (s == NULL) {
        if (strncmp(err.text, path, strlen(path)) != 0)
            abort();            /* every error names the file */
    } else {
        for (size_t i = 0; i < tenant_store_count(s); i++) {
            const struct tenant *t = tenant_store_at(s, i);

            if (tenant_store_find(s, t->id) != t || !tenant_id_is_valid(t->id))
                abort();
            if (i > 0 && strcmp(tenant_store_at(s, i - 1)->id, t->id) >= 0)
                abort();
            for (char **p = t->addresses; *p; p++)
                if (tenant_store_find_by_address(s, *p) != t || tenant_store_find_by_sender(s, *p) != t)
                    abort();
            for (char **p = t->domains; *p; p++)
                if (tenant_store_find_by_domain(s, *p) != t)
                    abort();
        }
        tenant_store_free(s);
    }
    return 0;
}
