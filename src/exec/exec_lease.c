#include "exec/exec_lease.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define LEASE_MAGIC 0x676e6f6d6c656173ull /* "gnomleas" */
#define LEASE_SIZE 4096

static int map(struct exec_lease *l, const char *path, bool writer, char *err, size_t errlen)
{
	struct stat st;
	void *p;
	int fd, rc;

	l->page = NULL;
	l->fd = -1;
	fd = writer ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644) : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open the lease file %.300s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot read the lease file %.300s: %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	if (st.st_size < LEASE_SIZE && !writer) {
		snprintf(err, errlen, "the lease file %.300s is not written yet", path);
		close(fd);
		return -EINVAL;
	}
	/* its blocks allocated now: a write through the map never needs a new one (a full disk would SIGBUS it) */
	if (writer && (rc = posix_fallocate(fd, 0, LEASE_SIZE)) != 0) {
		snprintf(err, errlen, "cannot allocate the lease file %.300s: %s", path, strerror(rc));
		close(fd);
		return -rc;
	}
	p = mmap(NULL, LEASE_SIZE, writer ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		rc = -errno;
		snprintf(err, errlen, "cannot map the lease file %.300s: %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	l->page = p;
	l->fd = fd;
	return 0;
}

int lease_open_writer(struct exec_lease *l, const char *path, char *err, size_t errlen)
{
	int rc = map(l, path, true, err, errlen);

	if (rc < 0)
		return rc;
	if (__atomic_load_n(&l->page->magic, __ATOMIC_ACQUIRE) != LEASE_MAGIC) {
		__atomic_store_n(&l->page->heard_ms, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&l->page->lease_ms, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&l->page->magic, LEASE_MAGIC, __ATOMIC_RELEASE);
	}
	return 0;
}

void lease_set(struct exec_lease *l, uint64_t lease_ms)
{
	if (l->page)
		__atomic_store_n(&l->page->lease_ms, lease_ms, __ATOMIC_RELEASE);
}

uint64_t lease_for_timeout(uint64_t timeout_ms)
{
	uint64_t margin = timeout_ms / 4 < LEASE_MARGIN_MS ? timeout_ms / 4 : LEASE_MARGIN_MS;

	return timeout_ms - margin;
}

void lease_renew(struct exec_lease *l, uint64_t heard_ms)
{
	if (l->page && heard_ms > __atomic_load_n(&l->page->heard_ms, __ATOMIC_ACQUIRE))
		__atomic_store_n(&l->page->heard_ms, heard_ms, __ATOMIC_RELEASE);
}

int lease_open_reader(struct exec_lease *l, const char *path, char *err, size_t errlen)
{
	return map(l, path, false, err, errlen);
}

void lease_close(struct exec_lease *l)
{
	if (l->page)
		munmap(l->page, LEASE_SIZE);
	if (l->fd >= 0)
		close(l->fd);
	l->page = NULL;
	l->fd = -1;
}

bool lease_lapsed(uint64_t heard_ms, uint64_t lease_ms, uint64_t now_ms)
{
	if (lease_ms == 0)
		return false;
	return heard_ms == 0 || heard_ms > now_ms || now_ms - heard_ms > lease_ms;
}

bool lease_check(const struct exec_lease *l, uint64_t now_ms, uint64_t *silent_ms)
{
	uint64_t heard = 0, lease = 0;

	if (l->page && __atomic_load_n(&l->page->magic, __ATOMIC_ACQUIRE) == LEASE_MAGIC) {
		heard = __atomic_load_n(&l->page->heard_ms, __ATOMIC_ACQUIRE);
		lease = __atomic_load_n(&l->page->lease_ms, __ATOMIC_ACQUIRE);
	}
	if (silent_ms)
		*silent_ms = heard && heard <= now_ms ? now_ms - heard : 0;
	return lease_lapsed(heard, lease, now_ms);
}
