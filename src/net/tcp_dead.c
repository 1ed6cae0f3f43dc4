#include "net/tcp_dead.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

int tcp_dead_after(int fd, uint32_t ms)
{
	int on = 1, idle = 1, interval = 1, count = (int)(ms / 1000) + 1, syns = ms <= 3000 ? 1 : ms <= 7000 ? 2 : 3;
	unsigned int timeout = ms;

	if (ms == 0)
		return 0;
	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout, sizeof(timeout)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &syns, sizeof(syns)) < 0)
		return -errno;
	return 0;
}
