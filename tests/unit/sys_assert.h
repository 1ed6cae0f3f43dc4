/* Files and processes in unit tests: read a file whole, check its contents or its absence, write one; check
 * that a process group is gone. Each failure fails the test (cmocka). */
#ifndef GNOMON_TESTS_SYS_ASSERT_H
#define GNOMON_TESTS_SYS_ASSERT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"

/* Read a whole file, NUL-terminated; NULL when it does not exist. The caller frees it. */
static inline char *slurp(const char *path, size_t *len)
{
	struct buf b;
	char chunk[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		assert_int_equal(errno, ENOENT);
		return NULL;
	}
	buf_init(&b, 0);
	assert_int_equal(buf_append(&b, "", 0), 0);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		assert_int_equal(buf_append(&b, chunk, (size_t)n), 0);
	close(fd);
	return buf_steal(&b, len);
}

static inline void assert_file(const char *path, const char *want, size_t wantlen)
{
	size_t len;
	char *got = slurp(path, &len);

	assert_non_null(got);
	assert_int_equal(len, wantlen);
	assert_memory_equal(got, want, wantlen);
	free(got);
}

static inline void assert_absent(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(errno, ENOENT);
}

/* Write a file with the given contents. */
static inline void put_file(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	close(fd);
}

/* Reap the group's orphans (the test process is their subreaper: PR_SET_CHILD_SUBREAPER) for up to 10 s, then
 * check that nothing of the group is left. */
static inline void assert_group_gone(pid_t pgid)
{
	pid_t rc;

	for (int i = 0; (rc = waitpid(-pgid, NULL, WNOHANG)) >= 0 && i < 10000; i++)
		usleep(1000);
	assert_int_equal(rc, -1);
	assert_int_equal(errno, ECHILD);
	assert_int_equal(kill(-pgid, 0), -1);
	assert_int_equal(errno, ESRCH);
}

#endif
