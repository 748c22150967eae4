/*
 * server_stub.c - placeholder behind tenantrelayd's listeners until the SMTP
 * listener lands: every client is told plainly that mail is not accepted yet
 * (421), so nothing is ever accepted and then lost.
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "tenantrelay/msg.h"
#include "tenantrelay/server.h"

static struct conf *server_conf;

int server_start(struct conf *conf)
{
    server_conf = conf_ref(conf);
    return 0;
}

void server_accept(int fd, const struct sockaddr_storage *peer, socklen_t peerlen, int listen_index)
{
    static const char reply[] = "421 4.3.2 tenantrelayd: the SMTP listener is not built yet\r\n";

    if (write(fd, reply, sizeof(reply) - 1) < 0) {
        /* The client is gone; nothing to tell it. */
    }
    close(fd);
}

int server_reload(struct conf *conf)
{
    conf_unref(server_conf);
    server_conf = conf_ref(conf);
    return 0;
}

void server_stop(void)
{
    conf_unref(server_conf);
    server_conf = NULL;
}
