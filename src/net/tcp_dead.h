/* A TCP connection given up once its peer has been silent too long (net_request_options.dead_after_ms): a
 * partition drops packets without a word, and a request (a long poll above all) would otherwise wait for its own
 * deadline, tens of seconds, before the caller tries another server. */
#ifndef GNOMON_NET_TCP_DEAD_H
#define GNOMON_NET_TCP_DEAD_H

#include <stdint.h>

/* On the connected or connecting TCP socket fd: keepalive probes after 1 s of silence, 1 s apart, and
 * TCP_USER_TIMEOUT ms: the kernel ends the connection (ETIMEDOUT) once what it sent, data or probe, has gone
 * unacknowledged that long. A slow answer never causes it: the peer's kernel acknowledges what it receives. A
 * connect not yet made gives up after 1 SYN retry (the second SYN 1 s after the first, failing 2 s later) when ms
 * is at most 3000, 2 up to 7000, else 3.
 * ms 0: nothing is set. Returns 0 or a negative errno from setsockopt. */
int tcp_dead_after(int fd, uint32_t ms) __attribute__((warn_unused_result));

#endif
