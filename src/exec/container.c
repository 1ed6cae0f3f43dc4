/* The I/O half of container.h: which runtime this host has and how it must run it (once, at start-up). */
#include "exec/container.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/magic.h>


#include "util/log.h"

#define PODMAN_INIT "/usr/libexec/podman/catatonit"

bool container_runtime_name_ok(const char *want)
{
	return want && (strcmp(want, "auto") == 0 || strcmp(want, "podman") == 0 || strcmp(want, "docker") == 0 ||
	    strcmp(want, "none") == 0);
}

/* The absolute path of name in PATH into out; false when it is not there. */
static bool in_path(const char *name, char *out, size_t len)
{
	const char *path = getenv("PATH");
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s", path && path[0] ? path : "/usr/local/bin:/usr/bin:/bin");
	for (char *save = NULL, *dir = strtok_r(buf, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		if ((size_t)snprintf(out, len, "%s/%s", dir, name) < len && access(out, X_OK) == 0)
			return true;
	}
	return false;
}

/* The first line `path arg1 [arg2]` prints (stdout and stderr) into out, run without a shell; its exit status,
 * or -1. */
static int first_line(const char *path, const char *arg1, const char *arg2, char *out, size_t len)
{
	char a0[PATH_MAX], a1[64], a2[64];
	char *argv[] = {a0, a1, arg2 ? a2 : NULL, NULL};
	posix_spawn_file_actions_t fa;
	int fds[2], st = -1, rc;
	pid_t pid;
	FILE *p;

	out[0] = '\0';
	snprintf(a0, sizeof(a0), "%s", path);
	snprintf(a1, sizeof(a1), "%s", arg1);
	snprintf(a2, sizeof(a2), "%s", arg2 ? arg2 : "");
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	if ((rc = posix_spawn_file_actions_init(&fa)) != 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	rc = rc ? rc : posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	rc = rc ? rc : posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	rc = rc ? rc : posix_spawn(&pid, a0, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (rc != 0 || (p = fdopen(fds[0], "r")) == NULL) {
		close(fds[0]);
		if (rc == 0)
			(void)waitpid(pid, NULL, 0);
		return -1;
	}
	if (fgets(out, (int)len, p) != NULL)
		out[strcspn(out, "\r\n")] = '\0';
	while (fgetc(p) != EOF)
		;
	fclose(p);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The version in "podman version 4.3.1" or "Docker version 24.0.5, build ced0996". */
static void version_of(const char *line, char *out, size_t len)
{
	const char *v = strstr(line, "version ");

	v = v ? v + strlen("version ") : line;
	snprintf(out, len, "%.*s", (int)strcspn(v, ", "), v);
}

/* long long of a hard limit, -1 when unlimited. */
static long long hard_limit(int resource)
{
	struct rlimit rl;

	if (getrlimit(resource, &rl) < 0 || rl.rlim_max == RLIM_INFINITY)
		return -1;
	return (long long)rl.rlim_max;
}

/* How this host's cgroups are mounted: 2 pure v2, 1 v1 only, 3 hybrid (v1 and a v2 tree beside). */
static int cgroup_layout(void)
{
	struct statfs fs;

	if (statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
		return 2;
	if (statfs("/sys/fs/cgroup/unified", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
		return 3;
	return 1;
}

/* kernel.pid_max: podman lowers its own nproc limit to it, and crun then cannot raise the container's above it
 * without CAP_SYS_RESOURCE. */
static long long pid_max(void)
{
	long long v = 32768;
	FILE *f = fopen("/proc/sys/kernel/pid_max", "re");

	if (f) {
		if (fscanf(f, "%lld", &v) != 1)
			v = 32768;
		fclose(f);
	}
	return v;
}

static void podman_setup(struct container_runtime *rt)
{
	int layout = cgroup_layout();

	rt->init = access(PODMAN_INIT, X_OK) == 0;
	rt->nofile = hard_limit(RLIMIT_NOFILE);
	rt->nproc = hard_limit(RLIMIT_NPROC);
	if (rt->nproc < 0 || rt->nproc > pid_max())
		rt->nproc = pid_max();
	rt->limits = layout != 3;
	if (layout != 3)
		return;
	if (geteuid() != 0) {
		rt->kind = CONTAINER_NONE;
		snprintf(rt->why, sizeof(rt->why), "podman cannot run containers here: this host's cgroups are hybrid "
		    "(v1 and v2), which crun refuses, and only root can give it a pure cgroup2 mount");
		return;
	}
	if (!in_path("unshare", rt->unshare, sizeof(rt->unshare))) {
		rt->kind = CONTAINER_NONE;
		snprintf(rt->why, sizeof(rt->why), "podman cannot run containers here: this host's cgroups are hybrid "
		    "(v1 and v2) and there is no unshare in PATH to give it a pure cgroup2 mount");
		return;
	}
	rt->hybrid = true;
}

/* Try one runtime: true when it is usable (rt filled), else why says why not. */
static bool try_runtime(enum container_kind kind, struct container_runtime *rt, char *why, size_t whylen)
{
	const char *name = container_kind_name(kind);
	char line[512];

	if (!in_path(name, rt->path, sizeof(rt->path))) {
		snprintf(why, whylen, "no %s in PATH", name);
		return false;
	}
	if (first_line(rt->path, "--version", NULL, line, sizeof(line)) != 0) {
		snprintf(why, whylen, "%.30s --version failed: %.200s", name, line);
		return false;
	}
	version_of(line, rt->version, sizeof(rt->version));
	if (kind == CONTAINER_DOCKER && first_line(rt->path, "version", "--format={{.Server.Version}}", line,
	    sizeof(line)) != 0) {
		snprintf(why, whylen, "docker cannot reach its daemon: %.200s", line);
		return false;
	}
	rt->kind = kind;
	if (kind == CONTAINER_PODMAN) {
		podman_setup(rt);
		if (rt->kind == CONTAINER_NONE) {
			snprintf(why, whylen, "%.200s", rt->why);
			return false;
		}
	} else {
		rt->init = rt->limits = true;
		rt->nofile = rt->nproc = -1;
	}
	return true;
}

void container_runtime_detect(const char *want, struct container_runtime *out)
{
	char why_podman[256] = "", why_docker[256] = "";

	memset(out, 0, sizeof(*out));
	out->nofile = out->nproc = -1;
	if (want == NULL || strcmp(want, "none") == 0) {
		snprintf(out->why, sizeof(out->why), "containers are turned off on this agent (--container-runtime=none)");
		return;
	}
	if (strcmp(want, "docker") != 0 && try_runtime(CONTAINER_PODMAN, out, why_podman, sizeof(why_podman)))
		return;
	if (strcmp(want, "podman") != 0 && try_runtime(CONTAINER_DOCKER, out, why_docker, sizeof(why_docker)))
		return;
	out->kind = CONTAINER_NONE;
	if (strcmp(want, "auto") == 0)
		snprintf(out->why, sizeof(out->why), "this agent cannot run containers: %.120s; %.120s", why_podman,
		    why_docker);
	else
		snprintf(out->why, sizeof(out->why), "this agent cannot run containers: %.230s",
		    strcmp(want, "podman") == 0 ? why_podman : why_docker);
}

void container_log(const struct container_runtime *rt)
{
	if (rt->kind == CONTAINER_NONE)
		log_info("container jobs: none here: %s", rt->why);
	else if (rt->hybrid)
		log_info("container jobs: %s %s (%s), through a private cgroup2 mount with --cgroups=disabled: this "
		    "host's cgroups are hybrid; cpus and mem are left to the task's own cgroup", container_kind_name(rt->kind),
		    rt->version, rt->path);
	else
		log_info("container jobs: %s %s (%s)", container_kind_name(rt->kind), rt->version, rt->path);
}
