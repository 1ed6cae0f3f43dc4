#include "exec/exec_capture.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util/log.h"
#include "util/xmalloc.h"

void capture_init(struct exec_capture *c, int fd, size_t head_cap, size_t tail_cap)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->head_cap = head_cap;
	c->tail_cap = tail_cap;
}

void capture_init_lazy(struct exec_capture *c, const char *path, size_t head_cap, size_t tail_cap)
{
	capture_init(c, -1, head_cap, tail_cap);
	c->path = xstrdup(path);
}

int capture_open(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	return fd < 0 ? -errno : fd;
}

/* Write every iovec to the file, remembering the first error; later writes are skipped after one. */
static void write_all(struct exec_capture *c, struct iovec *iov, int n)
{
	while (c->fd >= 0 && !c->error && n > 0) {
		ssize_t w = writev(c->fd, iov, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			c->error = -errno;
			log_warn("exec: cannot write task output");
			return;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
}

void capture_feed(struct exec_capture *c, const char *data, size_t len)
{
	if (c->path) {
		c->fd = capture_open(c->path);
		if (c->fd < 0) {
			c->error = c->fd;
			c->fd = -1;
			log_warnx("exec: cannot create '%s': %s", c->path, strerror(-c->error));
		}
		free(c->path);
		c->path = NULL;
	}
	if (c->total < c->head_cap) {
		size_t n = c->head_cap - c->total < len ? (size_t)(c->head_cap - c->total) : len;
		struct iovec iov = {(void *)(uintptr_t)data, n};
		write_all(c, &iov, 1);
		c->total += n;
		data += n;
		len -= n;
	}
	if (len == 0)
		return;
	c->total += len;
	if (c->fd < 0 || c->tail_cap == 0)
		return;
	if (!c->ring)
		c->ring = xmalloc(c->tail_cap);
	if (len >= c->tail_cap) {
		memcpy(c->ring, data + len - c->tail_cap, c->tail_cap);
		c->ring_pos = 0;
		c->ring_len = c->tail_cap;
		return;
	}
	size_t first = c->tail_cap - c->ring_pos < len ? c->tail_cap - c->ring_pos : len;
	memcpy(c->ring + c->ring_pos, data, first);
	memcpy(c->ring, data + first, len - first);
	c->ring_pos = (c->ring_pos + len) % c->tail_cap;
	c->ring_len = c->ring_len + len < c->tail_cap ? c->ring_len + len : c->tail_cap;
}

uint64_t capture_omitted(const struct exec_capture *c)
{
	uint64_t kept = (uint64_t)c->head_cap + c->tail_cap;
	return c->total > kept ? c->total - kept : 0;
}

size_t capture_marker(const struct exec_capture *c, char *out, size_t outlen)
{
	uint64_t omitted = capture_omitted(c);
	int len;

	if (!omitted || (c->fd < 0 && !c->done))
		return 0;
	len = snprintf(out, outlen, "\n[gnomon: %" PRIu64 " bytes omitted]\n", omitted);
	return len < 0 ? 0 : (size_t)len;
}

void capture_finish(struct exec_capture *c)
{
	char marker[64];
	struct iovec iov[3];
	int n = 0;
	size_t mlen = capture_marker(c, marker, sizeof(marker));

	if (c->fd < 0)
		goto out;
	c->done = true;
	if (mlen)
		iov[n++] = (struct iovec){marker, mlen};
	/* once the ring has wrapped, the oldest byte is at ring_pos */
	if (!c->ring) {
		/* nothing past the head */
	} else if (c->ring_len == c->tail_cap) {
		iov[n++] = (struct iovec){c->ring + c->ring_pos, c->tail_cap - c->ring_pos};
		iov[n++] = (struct iovec){c->ring, c->ring_pos};
	} else {
		iov[n++] = (struct iovec){c->ring, c->ring_len};
	}
	write_all(c, iov, n);
	if (close(c->fd) < 0 && !c->error)
		c->error = -errno;
	c->fd = -1;
out:
	free(c->ring);
	c->ring = NULL;
	free(c->path);
	c->path = NULL;
}
