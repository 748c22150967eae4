/*
 * fdio.h - the one write-all and read-all on a blocking file descriptor:
 * short writes and reads are continued and EINTR is retried, so a caller
 * never has to.  (Sockets with deadlines and TLS have their own loops in
 * smtpc, smtpd and control: they poll between tries.)
 */
#ifndef TENANTRELAY_FDIO_H
#define TENANTRELAY_FDIO_H

#include <stddef.h>
#include <sys/types.h>

/* Write all len bytes of buf.  0, or -1 with errno (EIO if write(2) made
 * no progress without an error). */
int fdio_write_all(int fd, const void *buf, size_t len);

/* Read until len bytes or end of file.  The count read (less than len only
 * at end of file), or -1 with errno. */
ssize_t fdio_read_all(int fd, void *buf, size_t len);

#endif
