#include "util/rmtree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/xmalloc.h"

/* Directories open at once: deeper subtrees are moved up to the top of the tree and removed from there. */
#define RMTREE_DEPTH 32
/* A subtree moved to the top gets this name and a number. */
#define MOVED_PREFIX ".gnomon-rm-"

struct level {
	DIR *d;
	char *name; /* its entry in the level above (NULL at the top) */
};

struct rm {
	struct level lv[RMTREE_DEPTH + 1];
	int depth;           /* the level being read */
	dev_t dev;           /* the tree's file system */
	const char *top;     /* the tree's name, for messages */
	unsigned long moved; /* subtrees moved to the top since the top was last read from its start */
	unsigned long seq;
	int rc;              /* the first error */
	char *err;
	size_t errlen;
};

/* Keep the first error, with the path of the entry within the tree. */
static void fail(struct rm *m, int e, const char *name)
{
	size_t used;

	if (m->rc != 0 || e == 0)
		return;
	m->rc = -e;
	if (m->errlen == 0)
		return;
	used = (size_t)snprintf(m->err, m->errlen, "%s", m->top);
	for (int i = 1; i <= m->depth && used < m->errlen; i++)
		used += (size_t)snprintf(m->err + used, m->errlen - used, "/%s", m->lv[i].name);
	if (name && used < m->errlen)
		used += (size_t)snprintf(m->err + used, m->errlen - used, "/%s", name);
	if (used < m->errlen)
		snprintf(m->err + used, m->errlen - used, ": %s", strerror(e));
}

/* Open the directory name of parent for reading without following a link (O_PATH first: that needs no
 * permission on it), on the tree's file system only; a directory its owner (we) made unreadable or unwritable
 * gets u+rwx back, changed on the inode just opened (/proc/self/fd), never through a path that could have
 * become a link. 0 or -errno (-EXDEV: a mount point, -ENOTDIR: not a directory, or a link). */
static int open_dir(struct rm *m, int parent, const char *name, DIR **out)
{
	int pfd = openat(parent, name, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC), fd, e;
	char proc[64];
	struct stat st;

	if (pfd < 0)
		return errno == ELOOP ? -ENOTDIR : -errno;
	if (fstat(pfd, &st) < 0) {
		e = errno;
		close(pfd);
		return -e;
	}
	if (st.st_dev != m->dev) {
		close(pfd);
		return -EXDEV;
	}
	if ((st.st_mode & S_IRWXU) != S_IRWXU && st.st_uid == geteuid()) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
		(void)chmod(proc, (st.st_mode & 07777) | S_IRWXU); /* the open below says whether it was needed */
	}
	fd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	e = errno;
	close(pfd);
	if (fd < 0)
		return -e;
	if ((*out = fdopendir(fd)) == NULL) {
		e = errno;
		close(fd);
		return -e;
	}
	return 0;
}

/* A directory too deep to open beside the others moves to the top under a name of its own. */
static void move_to_top(struct rm *m, int parent, const char *name)
{
	char to[sizeof(MOVED_PREFIX) + 24];

	for (int tries = 0; tries < 100; tries++) {
		snprintf(to, sizeof(to), MOVED_PREFIX "%lu", m->seq++);
		if (renameat(parent, name, dirfd(m->lv[0].d), to) == 0) {
			m->moved++;
			return;
		}
		if (errno != EEXIST && errno != ENOTEMPTY)
			break;
	}
	fail(m, errno, name);
}

/* One entry of the current level: unlinked, or opened as the next level (or moved to the top). */
static void remove_entry(struct rm *m, const struct dirent *de)
{
	int parent = dirfd(m->lv[m->depth].d), rc;
	DIR *d;

	if (de->d_type != DT_DIR) {
		if (unlinkat(parent, de->d_name, 0) == 0 || errno == ENOENT)
			return;
		if (errno != EISDIR) {
			fail(m, errno, de->d_name);
			return;
		}
	}
	rc = open_dir(m, parent, de->d_name, &d);
	if (rc == -ENOTDIR) { /* replaced by a file or a link since it was read: it goes as one */
		if (unlinkat(parent, de->d_name, 0) < 0 && errno != ENOENT)
			fail(m, errno, de->d_name);
		return;
	}
	if (rc < 0) {
		if (rc != -ENOENT)
			fail(m, -rc, de->d_name);
		return;
	}
	if (m->depth == RMTREE_DEPTH) {
		closedir(d);
		move_to_top(m, parent, de->d_name);
		return;
	}
	m->depth++;
	m->lv[m->depth] = (struct level){d, xstrdup(de->d_name)};
}

/* The current level was read to its end: the top is read again while subtrees were moved into it, a level
 * below is closed and removed from its parent. False once the top is done. */
static bool level_done(struct rm *m)
{
	struct level *l = &m->lv[m->depth];

	if (m->depth == 0) {
		if (m->moved == 0)
			return false;
		m->moved = 0;
		rewinddir(l->d);
		return true;
	}
	closedir(l->d);
	m->depth--;
	if (unlinkat(dirfd(m->lv[m->depth].d), l->name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		fail(m, errno, l->name);
	free(l->name);
	return true;
}

int rmtree_at(int dirfd, const char *name, char *err, size_t errlen)
{
	struct rm m = {.top = name, .err = err, .errlen = errlen};
	struct dirent *de;
	struct stat st;
	int rc;

	if (errlen > 0)
		err[0] = '\0';
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		fail(&m, errno, NULL);
		return m.rc;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dirfd, name, 0) < 0)
			fail(&m, errno, NULL);
		return m.rc;
	}
	m.dev = st.st_dev;
	if ((rc = open_dir(&m, dirfd, name, &m.lv[0].d)) < 0) {
		fail(&m, -rc, NULL);
		return m.rc;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(m.lv[m.depth].d)) != NULL) {
			if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
				remove_entry(&m, de);
			continue;
		}
		if (errno != 0)
			fail(&m, errno, NULL);
		if (!level_done(&m))
			break;
	}
	closedir(m.lv[0].d);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
		fail(&m, errno, NULL);
	return m.rc;
}

/* nftw has no context argument: each thread sums into its own. */
static _Thread_local int64_t usage_sum;

static int add_usage(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (flag != FTW_NS)
		usage_sum += (int64_t)st->st_blocks * 512;
	return 0;
}

int tree_disk_usage(const char *path, int64_t *bytes)
{
	int rc;

	usage_sum = 0;
	rc = nftw(path, add_usage, 8, FTW_PHYS | FTW_MOUNT);
	*bytes = usage_sum;
	return rc < 0 && usage_sum == 0 ? -errno : 0;
}
