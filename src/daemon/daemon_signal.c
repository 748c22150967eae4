/*
 * daemon_signal.c - self-pipe signal delivery and shared argument parsing.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "tenantrelay/daemon.h"

static int signal_write_fd = -1;

static void on_signal(int sig)
{
    unsigned char b = (unsigned char)sig;
    int saved = errno;

    if (write(signal_write_fd, &b, 1) < 0) {
        /* The pipe is full: the main loop already has work pending. */
    }
    errno = saved;
}

int daemon_signal_pipe(void)
{
    int p[2];
    struct sigaction sa;

    if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0)
        return -1;
    signal_write_fd = p[1];
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return p[0];
}

int daemon_signal_next(int fd)
{
    unsigned char b;

    if (read(fd, &b, 1) == 1)
        return b;
    return 0;
}

int daemon_parse_args(int argc, char **argv, const char *program, struct daemon_args *args)
{
    int c;

    args->config_path = CONF_DEFAULT_PATH;
    args->foreground = false;
    args->check_only = false;
    opterr = 0;
    while ((c = getopt(argc, argv, "c:fth")) != -1) {
        switch (c) {
        case 'c':
            args->config_path = optarg;
            break;
        case 'f':
            args->foreground = true;
            break;
        case 't':
            args->check_only = true;
            break;
        case 'h':
            printf("usage: %s [-f] [-t] [-c FILE]\n"
                   "  -c FILE  configuration file (default %s)\n"
                   "  -f       stay in the foreground and log to stderr\n"
                   "  -t       check the configuration and exit (0, or 78 with FILE:LINE: reason)\n",
                   program, CONF_DEFAULT_PATH);
            return -1;
        default:
            fprintf(stderr, "%s: unknown option -%c; try -h\n", program, optopt);
            return EX_USAGE;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "%s: unexpected argument \"%s\"; try -h\n", program, argv[optind]);
        return EX_USAGE;
    }
    return 0;
}
