/* The agent's half of cgroup.h: find the host's cgroups at start-up and make the gnomon directories. */
#include "exec/cgroup.h"

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

/* v2: hand memory, cpu and pids down from dir's parent to dir and from dir to its children. The parent (the
 * agent's own cgroup) cannot hold processes then: the agent moves into a leaf beside dir when it must. */
static int enable_v2(const char *dir, char *why, size_t whylen)
{
	static const char *const ctls = "+memory +cpu +pids";
	char parent[PATH_MAX], leaf[PATH_MAX + 32], *slash;
	int rc;

	snprintf(parent, sizeof(parent), "%s", dir);
	if ((slash = strrchr(parent, '/')) != NULL)
		*slash = '\0';
	if ((rc = cgroup_write(parent, "cgroup.subtree_control", ctls)) == -EBUSY) {
		snprintf(leaf, sizeof(leaf), "%s/%s", parent, CGROUP_AGENT_LEAF);
		if ((mkdir(leaf, 0755) < 0 && errno != EEXIST) || cgroup_write(leaf, "cgroup.procs", "0") < 0)
			rc = -errno;
		else
			rc = cgroup_write(parent, "cgroup.subtree_control", ctls);
	}
	if (rc == 0)
		rc = cgroup_write(dir, "cgroup.subtree_control", ctls);
	snprintf(leaf, sizeof(leaf), "%s/%s", dir, CGROUP_EXECUTORS);
	if (rc == 0 && mkdir(leaf, 0755) < 0 && errno != EEXIST)
		rc = -errno;
	if (rc < 0)
		snprintf(why, whylen, "cannot enable memory, cpu and pids under %.150s: %s", dir, strerror(-rc));
	return rc;
}

int cgroup_host_detect(struct cgroup_host *h)
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
		char probe[PATH_MAX];
		if (!h->dir[c][0])
			continue;
		if (mkdir(h->dir[c], 0755) < 0 && errno != EEXIST) {
			rc = -errno;
			snprintf(h->why, sizeof(h->why), "cannot create %.200s: %s", h->dir[c], strerror(errno));
			break;
		}
		/* writable for real: a probe cgroup made and removed (a read-only bind mount lets mkdir say EEXIST) */
		snprintf(probe, sizeof(probe), "%s/probe-%d", h->dir[c], (int)getpid());
		if (mkdir(probe, 0755) < 0) {
			rc = -errno;
			snprintf(h->why, sizeof(h->why), "cannot create cgroups under %.200s: %s", h->dir[c], strerror(errno));
		} else {
			(void)rmdir(probe);
		}
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
