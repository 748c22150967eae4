/*
 * events.c - the JSON-lines events file (see events.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tenantrelay/events.h"
#include "tenantrelay/timefmt.h"

int events_append(const char *path, const json_t *obj)
{
    char *line = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    size_t len;
    ssize_t n;
    int fd;
    int saved;

    if (line == NULL) {
        errno = EINVAL;
        return -1;
    }
    len = strlen(line);
    line[len++] = '\n';         /* json_dumps leaves room: we replace the NUL */
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        saved = errno;
        free(line);
        errno = saved;
        return -1;
    }
    n = write(fd, line, len);
    saved = errno;
    close(fd);
    free(line);
    if (n != (ssize_t)len) {
        errno = n < 0 ? saved : EIO;
        return -1;
    }
    return 0;
}

/* The events' name for the one formatter (src/common/timefmt.c). */
const char *events_time(time_t t, char *buf, size_t len)
{
    return timefmt_rfc3339(t, buf, len);
}
