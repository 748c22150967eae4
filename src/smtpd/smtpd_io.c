/*
 * smtpd_io.c - a session's socket, plain or TLS after STARTTLS: blocking
 * from the session thread's view, bounded by poll() deadlines over the
 * non-blocking socket, so a silent client never holds a thread forever.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "smtpd_int.h"
#include "tenantrelay/clock.h"

/* Wait for events on fd for at most ms.  >0 ready, 0 timeout, -1 error. */
static int wait_fd(int fd, short events, int ms)
{
    struct pollfd p = { fd, events, 0 };
    int n;

    do
        n = poll(&p, 1, ms);
    while (n < 0 && errno == EINTR);
    if (n > 0 && (p.revents & (POLLERR | POLLNVAL)) && !(p.revents & events))
        return -1;
    return n;
}

ssize_t smtpd_io_read(struct smtpd_io *io, char *buf, size_t len, int ms)
{
    if (io->ssl) {
        int n, e;

        /* Decrypted bytes already inside OpenSSL: poll() would not see them. */
        if (SSL_pending(io->ssl) == 0) {
            int w = wait_fd(io->fd, POLLIN, ms);
            if (w <= 0)
                return w == 0 ? -2 : -1;
        }
        n = SSL_read(io->ssl, buf, (int)len);
        if (n > 0)
            return n;
        e = SSL_get_error(io->ssl, n);
        ERR_clear_error();
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return -2;
        return e == SSL_ERROR_ZERO_RETURN ? 0 : -1;
    }
    int w = wait_fd(io->fd, POLLIN, ms);
    if (w <= 0)
        return w == 0 ? -2 : -1;
    ssize_t n = read(io->fd, buf, len);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? -2 : -1;
    return n;
}

int smtpd_io_write(struct smtpd_io *io, const char *buf, size_t len, time_t deadline)
{
    while (len > 0) {
        time_t left = deadline - clock_mono_s();
        short want = POLLOUT;

        if (left <= 0)
            return -1;
        if (io->ssl) {
            int n = SSL_write(io->ssl, buf, (int)(len > 65536 ? 65536 : len));
            if (n > 0) {
                buf += n;
                len -= (size_t)n;
                continue;
            }
            int e = SSL_get_error(io->ssl, n);
            ERR_clear_error();
            if (e == SSL_ERROR_WANT_READ)
                want = POLLIN;
            else if (e != SSL_ERROR_WANT_WRITE)
                return -1;
        } else {
            ssize_t n = send(io->fd, buf, len, MSG_NOSIGNAL);
            if (n > 0) {
                buf += n;
                len -= (size_t)n;
                continue;
            }
            if (n < 0 && errno != EAGAIN && errno != EINTR)
                return -1;
        }
        if (wait_fd(io->fd, want, (int)(left > 1 ? 1000 : left * 1000)) < 0)
            return -1;
    }
    return 0;
}

int smtpd_io_starttls(struct smtpd_io *io, SSL_CTX *ctx, time_t deadline)
{
    io->ssl = SSL_new(ctx);
    if (io->ssl == NULL || SSL_set_fd(io->ssl, io->fd) != 1)
        return -1;
    for (;;) {
        int n = SSL_accept(io->ssl);
        int e;
        time_t left;

        if (n == 1)
            return 0;
        e = SSL_get_error(io->ssl, n);
        ERR_clear_error();
        left = deadline - clock_mono_s();
        if (left <= 0 || (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE))
            return -1;
        if (wait_fd(io->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, 1000) < 0)
            return -1;
    }
}

const char *smtpd_io_tls_version(const struct smtpd_io *io)
{
    return SSL_get_version(io->ssl);
}

const char *smtpd_io_tls_cipher(const struct smtpd_io *io)
{
    return SSL_get_cipher_name(io->ssl);
}

void smtpd_io_close(struct smtpd_io *io)
{
    if (io->ssl) {
        SSL_shutdown(io->ssl);
        SSL_free(io->ssl);
        io->ssl = NULL;
    }
    close(io->fd);
}
