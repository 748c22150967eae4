/*
 * daemon_listen.c - bind the listeners before privileges are dropped.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tenantrelay/daemon.h"

int daemon_listen_all(const struct conf *conf, int *fds, char *err, size_t errlen)
{
    for (int i = 0; i < conf->listen_count; i++)
        fds[i] = -1;
    for (int i = 0; i < conf->listen_count; i++) {
        const struct conf_listen *ls = &conf->listen[i];
        int one = 1;
        int fd = socket(ls->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

        if (fd < 0) {
            snprintf(err, errlen, "socket for %s port %d: %s", ls->address, ls->port, strerror(errno));
            goto fail;
        }
        fds[i] = fd;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (ls->sa.ss_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        if (bind(fd, (const struct sockaddr *)&ls->sa, ls->salen) < 0) {
            snprintf(err, errlen, "bind %s port %d: %s", ls->address, ls->port, strerror(errno));
            goto fail;
        }
        if (listen(fd, 512) < 0) {
            snprintf(err, errlen, "listen %s port %d: %s", ls->address, ls->port, strerror(errno));
            goto fail;
        }
    }
    return 0;

fail:
    for (int i = 0; i < conf->listen_count; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    return -1;
}
