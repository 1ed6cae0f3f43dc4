/* One message with file descriptors over a unix socket (SCM_RIGHTS), for both sides of the executor fork server
 * (executor_zygote.c, exec_zygote.c; the protocol is in executor_proto.h). libc only. */
#ifndef GNOMON_EXEC_FDPASS_H
#define GNOMON_EXEC_FDPASS_H

#include <stddef.h>
#include <sys/types.h>

#define FDPASS_MAX 4 /* descriptors in one message */

/* Send len bytes and nfds descriptors (at most FDPASS_MAX) as one message, without SIGPIPE. 0, or a negative
 * errno (-EPIPE, -ECONNRESET: the peer is gone). */
int fdpass_send(int sock, const void *data, size_t len, const int *fds, size_t nfds)
    __attribute__((warn_unused_result));
/* Receive one message of at most len bytes and its descriptors (close-on-exec, at most maxfds kept: any beyond
 * are closed). Returns the bytes received (0: the peer is gone) with *nfds set, or a negative errno. */
ssize_t fdpass_recv(int sock, void *data, size_t len, int *fds, size_t maxfds, size_t *nfds)
    __attribute__((warn_unused_result));

#endif
