/* The agent's half of cgroup.h: find the host's cgroups at start-up and make the gnomon directories. */
#include "exec/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A whole /proc file into a buffer the caller frees; NULL when it cannot be read. */
static char *slurp(const char *path)
{
	size_t cap = 16384, len = 0;
	char *text = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (!text || fd < 0) {
		free(text);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	for (;;) {
		ssize_t n;
		if (len + 1 == cap) {
			char *more = realloc(text, cap *= 2);
			if (!more)
				break;
			text = more;
		}
		n = read(fd, text + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	text[len] = '\0';
	close(fd);
	return text;
}

/* v2: hand memory, cpu and pids down from the agent's cgroup to dir (DIR: <own>/gnomon/<sub>) and on to its
 * children. The agent's own cgroup cannot hold processes then: the agent moves into a leaf beside it when it
 * must. */
static int enable_v2(const char *dir, char *why, size_t whylen)
{
	static const char *const ctls = "+memory +cpu +pids";
	char own[PATH_MAX], path[PATH_MAX + 32], *slash;
	int rc;

	snprintf(own, sizeof(own), "%s", dir);
	for (int up = 0; up < 2 && (slash = strrchr(own, '/')) != NULL; up++)
		*slash = '\0';
	if ((rc = cgroup_write(own, "cgroup.subtree_control", ctls)) == -EBUSY) {
		snprintf(path, sizeof(path), "%s/%s", own, CGROUP_AGENT_LEAF);
		if ((mkdir(path, 0755) < 0 && errno != EEXIST) || cgroup_write(path, "cgroup.procs", "0") < 0)
			rc = -errno;
		else
			rc = cgroup_write(own, "cgroup.subtree_control", ctls);
	}
	snprintf(path, sizeof(path), "%s", dir);
	if (rc == 0 && (slash = strrchr(path, '/')) != NULL) { /* the gnomon directory */
		*slash = '\0';
		rc = cgroup_write(path, "cgroup.subtree_control", ctls);
	}
	if (rc == 0)
		rc = cgroup_write(dir, "cgroup.subtree_control", ctls);
	snprintf(path, sizeof(path), "%s/%s", dir, CGROUP_EXECUTORS);
	if (rc == 0 && mkdir(path, 0755) < 0 && errno != EEXIST)
		rc = -errno;
	if (rc < 0)
		snprintf(why, whylen, "cannot enable memory, cpu and pids down to %.150s: %s", dir, strerror(-rc));
	return rc;
}

/* Make dir and its parent (the gnomon directory), and check that cgroups can be made in it for real: a probe
 * made and removed (a read-only bind mount lets mkdir say EEXIST). */
static int make_dir(const char *dir, char *why, size_t whylen)
{
	char path[PATH_MAX + 32], *slash;
	int rc = 0;

	snprintf(path, sizeof(path), "%s", dir);
	if ((slash = strrchr(path, '/')) != NULL) {
		*slash = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			rc = -errno;
	}
	if (rc == 0 && mkdir(dir, 0755) < 0 && errno != EEXIST)
		rc = -errno;
	if (rc < 0) {
		snprintf(why, whylen, "cannot create %.200s: %s", dir, strerror(-rc));
		return rc;
	}
	snprintf(path, sizeof(path), "%s/probe-%d", dir, (int)getpid());
	if (mkdir(path, 0755) < 0) {
		rc = -errno;
		snprintf(why, whylen, "cannot create cgroups under %.200s: %s", dir, strerror(errno));
		return rc;
	}
	(void)rmdir(path);
	return 0;
}

int cgroup_host_detect(const char *sub, struct cgroup_host *h)
{
	char *mi = slurp("/proc/self/mountinfo"), *pc = slurp("/proc/self/cgroup");
	int rc;

	if (!mi || !pc) {
		memset(h, 0, sizeof(*h));
		snprintf(h->layout, sizeof(h->layout), "none");
		snprintf(h->why, sizeof(h->why), "cannot read /proc/self/mountinfo or /proc/self/cgroup");
		rc = -ENOENT;
		goto out;
	}
	if ((rc = cgroup_host_parse(mi, pc, h)) < 0)
		goto out;
	for (int c = 0; c < CGROUP_NCTL && rc == 0; c++) {
		size_t n = strlen(h->dir[c]);
		if (n == 0)
			continue;
		if (n + 1 + strlen(sub) >= sizeof(h->dir[c])) {
			snprintf(h->why, sizeof(h->why), "the cgroup path %.200s is too long", h->dir[c]);
			rc = -ENAMETOOLONG;
			break;
		}
		h->dir[c][n] = '/';
		memcpy(h->dir[c] + n + 1, sub, strlen(sub) + 1);
		rc = make_dir(h->dir[c], h->why, sizeof(h->why));
	}
	if (rc == 0 && h->version == CGROUP_V2)
		rc = enable_v2(h->dir[CGROUP_MEMORY], h->why, sizeof(h->why));
	if (rc < 0)
		h->version = CGROUP_NONE;
out:
	free(mi);
	free(pc);
	return rc;
}

int cgroup_host_sweep(const struct cgroup_host *h)
{
	int removed = 0;

	if (h->version == CGROUP_NONE)
		return 0;
	for (int c = 0; c < CGROUP_NCTL; c++) {
		DIR *d;
		struct dirent *e;
		bool seen = false;
		if (!h->dir[c][0])
			continue;
		for (int o = 0; o < c; o++)
			seen = seen || strcmp(h->dir[o], h->dir[c]) == 0;
		if (seen || (d = opendir(h->dir[c])) == NULL)
			continue;
		while ((e = readdir(d)) != NULL) {
			char path[PATH_MAX + 256], procs[64];
			if (e->d_type != DT_DIR || e->d_name[0] == '.' || strcmp(e->d_name, CGROUP_EXECUTORS) == 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", h->dir[c], e->d_name);
			/* empty: its run is over (a live executor's task is in it) */
			if (cgroup_read(path, "cgroup.procs", procs, sizeof(procs)) == 0 && procs[0] == '\0' && rmdir(path) == 0)
				removed++;
		}
		closedir(d);
	}
	return removed;
}

void cgroup_host_release(const struct cgroup_host *h)
{
	char leaf[PATH_MAX + 32];

	if (h->version == CGROUP_NONE)
		return;
	for (int c = 0; c < CGROUP_NCTL; c++) {
		if (!h->dir[c][0])
			continue;
		snprintf(leaf, sizeof(leaf), "%s/%s", h->dir[c], CGROUP_EXECUTORS);
		if (h->version == CGROUP_V2)
			(void)rmdir(leaf);
		(void)rmdir(h->dir[c]); /* fails while a task's cgroup is in it, and for a second controller of v2 */
	}
}
