/* Removing a run's working directory as a job may leave it: links to elsewhere (their targets survive), trees
 * made unreadable and unwritable (as their owner, not root), trees deeper than the descriptors kept open, a
 * link or a file in place of the directory; and measuring one. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/rmtree.h"

static char base[] = "/tmp/gnomon-test-rmtree-XXXXXX";

static void put_file(const char *path, size_t size, mode_t mode)
{
	char block[4096];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	memset(block, 'x', sizeof(block));
	for (size_t done = 0; done < size; done += sizeof(block))
		assert_true(write(fd, block, size - done < sizeof(block) ? size - done : sizeof(block)) > 0);
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static char *pathf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static char *pathf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return buf;
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static int open_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

/* A work dir with files, subdirectories, links to a directory outside it, to / and to a file outside it. */
static void test_links_are_removed_not_followed(void **state)
{
	char p[512], outside[512], err[256];
	(void)state;

	pathf(outside, sizeof(outside), "%s/outside", base);
	assert_int_equal(mkdir(outside, 0755), 0);
	put_file(pathf(p, sizeof(p), "%s/precious", outside), 100, 0644);
	assert_int_equal(mkdir(pathf(p, sizeof(p), "%s/w", base), 0755), 0);
	assert_int_equal(mkdir(pathf(p, sizeof(p), "%s/w/sub", base), 0755), 0);
	put_file(pathf(p, sizeof(p), "%s/w/sub/out.txt", base), 10000, 0644);
	assert_int_equal(symlink(outside, pathf(p, sizeof(p), "%s/w/to-outside", base)), 0);
	assert_int_equal(symlink("/", pathf(p, sizeof(p), "%s/w/sub/to-root", base)), 0);
	assert_int_equal(symlink(pathf(outside, sizeof(outside), "%s/outside/precious", base),
		pathf(p, sizeof(p), "%s/w/to-file", base)), 0);
	assert_int_equal(mkfifo(pathf(p, sizeof(p), "%s/w/fifo", base), 0600), 0);

	assert_int_equal(rmtree_at(AT_FDCWD, pathf(p, sizeof(p), "%s/w", base), err, sizeof(err)), 0);
	assert_false(exists(p));
	assert_true(exists(pathf(p, sizeof(p), "%s/outside/precious", base)));
	assert_true(exists("/etc/passwd"));
	assert_int_equal(rmtree_at(AT_FDCWD, pathf(p, sizeof(p), "%s/w", base), err, sizeof(err)), -ENOENT);
}

/* A link (or a file) where the directory should be goes as itself. */
static void test_a_link_in_place_of_the_tree(void **state)
{
	char p[512], outside[512], err[256];
	int dir;
	(void)state;

	pathf(outside, sizeof(outside), "%s/outside2", base);
	assert_int_equal(mkdir(outside, 0755), 0);
	put_file(pathf(p, sizeof(p), "%s/keep", outside), 10, 0644);
	assert_int_equal(symlink(outside, pathf(p, sizeof(p), "%s/link", base)), 0);
	dir = open(base, O_RDONLY | O_DIRECTORY);
	assert_int_equal(rmtree_at(dir, "link", err, sizeof(err)), 0);
	close(dir);
	assert_false(exists(p));
	assert_true(exists(pathf(p, sizeof(p), "%s/keep", outside)));
	put_file(pathf(p, sizeof(p), "%s/plain", base), 10, 0644);
	assert_int_equal(rmtree_at(AT_FDCWD, p, err, sizeof(err)), 0);
	assert_false(exists(p));
}

/* 100 nested levels, more than the directories kept open, each with a file, every seventh read-only: all
 * removed, no descriptor left open. */
static void test_deep_tree(void **state)
{
	char p[8192], f[8300], err[256];
	size_t len;
	int fds = open_fds();
	(void)state;

	len = (size_t)snprintf(p, sizeof(p), "%s/deep", base);
	assert_int_equal(mkdir(p, 0755), 0);
	for (int i = 0; i < 100; i++) {
		len += (size_t)snprintf(p + len, sizeof(p) - len, "/d%d", i);
		assert_int_equal(mkdir(p, 0755), 0);
		put_file(pathf(f, sizeof(f), "%s/f", p), 10, 0644);
	}
	for (int i = 99; i >= 0; i--) {
		if (i % 7 == 0)
			assert_int_equal(chmod(p, 0500), 0);
		*strrchr(p, '/') = '\0';
	}
	assert_int_equal(rmtree_at(AT_FDCWD, pathf(p, sizeof(p), "%s/deep", base), err, sizeof(err)), 0);
	assert_false(exists(p));
	assert_int_equal(open_fds(), fds);
}

/* What a job running as an ordinary account can do to its directory: take away every permission, on files and
 * on directories. Removed by that account (the server's, when it is not root). */
static int remove_as_owner_unwritable(const char *dir)
{
	char p[512], err[256];

	if (mkdir(pathf(p, sizeof(p), "%s/w", dir), 0755) < 0 || mkdir(pathf(p, sizeof(p), "%s/w/ro", dir), 0755) < 0 ||
	    mkdir(pathf(p, sizeof(p), "%s/w/none", dir), 0755) < 0 ||
	    mkdir(pathf(p, sizeof(p), "%s/w/none/inner", dir), 0755) < 0)
		return 10;
	put_file(pathf(p, sizeof(p), "%s/w/ro/file", dir), 10, 0);
	put_file(pathf(p, sizeof(p), "%s/w/none/inner/file", dir), 10, 0);
	if (chmod(pathf(p, sizeof(p), "%s/w/ro", dir), 0500) < 0 || chmod(pathf(p, sizeof(p), "%s/w/none/inner", dir), 0) < 0 ||
	    chmod(pathf(p, sizeof(p), "%s/w/none", dir), 0) < 0 || chmod(pathf(p, sizeof(p), "%s/w", dir), 0500) < 0)
		return 11;
	if (rmtree_at(AT_FDCWD, pathf(p, sizeof(p), "%s/w", dir), err, sizeof(err)) != 0) {
		fprintf(stderr, "rmtree: %s\n", err);
		return 12;
	}
	return exists(p) ? 13 : 0;
}

static void test_unwritable_tree_of_its_owner(void **state)
{
	char dir[] = "/tmp/gnomon-test-rmtree-owner-XXXXXX";
	int status;
	pid_t pid;
	(void)state;

	if (geteuid() != 0) {
		assert_non_null(mkdtemp(dir));
		assert_int_equal(remove_as_owner_unwritable(dir), 0);
		assert_int_equal(rmdir(dir), 0);
		return;
	}
	/* As root every permission is bypassed: check it as the account nobody. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgid(65534) < 0 || setuid(65534) < 0 || mkdtemp(dir) == NULL)
			_exit(20);
		status = remove_as_owner_unwritable(dir);
		_exit(status != 0 ? status : rmdir(dir) == 0 ? 0 : 21);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* In a mount namespace of its own (when the test may make one): a file system mounted inside the tree is left
 * in place, with its files, and reported; the rest of the tree goes. 77: cannot mount here. */
static int remove_around_a_mount(void)
{
	char p[512], err[256];
	int rc;

	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return 77;
	if (mkdir(pathf(p, sizeof(p), "%s/m", base), 0755) < 0 || mkdir(pathf(p, sizeof(p), "%s/m/mnt", base), 0755) < 0)
		return 10;
	put_file(pathf(p, sizeof(p), "%s/m/plain", base), 10, 0644);
	if (mount("none", pathf(p, sizeof(p), "%s/m/mnt", base), "tmpfs", 0, NULL) < 0)
		return 77;
	put_file(pathf(p, sizeof(p), "%s/m/mnt/theirs", base), 10, 0644);
	rc = rmtree_at(AT_FDCWD, pathf(p, sizeof(p), "%s/m", base), err, sizeof(err));
	if (rc != -EXDEV || strstr(err, "/m/mnt: ") == NULL)
		return 11;
	if (!exists(pathf(p, sizeof(p), "%s/m/mnt/theirs", base)) || exists(pathf(p, sizeof(p), "%s/m/plain", base)))
		return 12;
	if (umount(pathf(p, sizeof(p), "%s/m/mnt", base)) < 0)
		return 13;
	return rmtree_at(AT_FDCWD, pathf(p, sizeof(p), "%s/m", base), err, sizeof(err)) == 0 ? 0 : 14;
}

static void test_mount_point_is_left_alone(void **state)
{
	int status;
	pid_t pid = fork();
	(void)state;

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(remove_around_a_mount());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_disk_usage(void **state)
{
	char p[512], outside[512];
	int64_t bytes = -1;
	(void)state;

	assert_int_equal(mkdir(pathf(p, sizeof(p), "%s/u", base), 0755), 0);
	put_file(pathf(p, sizeof(p), "%s/u/a", base), 200 << 10, 0644);
	assert_int_equal(mkdir(pathf(p, sizeof(p), "%s/u/d", base), 0755), 0);
	put_file(pathf(p, sizeof(p), "%s/u/d/b", base), 100 << 10, 0644);
	put_file(pathf(outside, sizeof(outside), "%s/big-outside", base), 1 << 20, 0644);
	assert_int_equal(symlink(outside, pathf(p, sizeof(p), "%s/u/link", base)), 0);
	assert_int_equal(tree_disk_usage(pathf(p, sizeof(p), "%s/u", base), &bytes), 0);
	assert_true(bytes >= 300 << 10);
	assert_true(bytes < 600 << 10); /* the linked megabyte is not counted */
	assert_int_equal(tree_disk_usage(pathf(p, sizeof(p), "%s/nothing", base), &bytes), -ENOENT);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(base) ? 0 : -1;
}

static int teardown(void **state)
{
	char err[256];
	(void)state;
	return rmtree_at(AT_FDCWD, base, err, sizeof(err));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_links_are_removed_not_followed),
		cmocka_unit_test(test_a_link_in_place_of_the_tree),
		cmocka_unit_test(test_deep_tree),
		cmocka_unit_test(test_unwritable_tree_of_its_owner),
		cmocka_unit_test(test_mount_point_is_left_alone),
		cmocka_unit_test(test_disk_usage),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
