/* The executor's half of cgroup.h: one task's cgroup, from its creation to its removal. libc only. */
#include "exec/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KILL_ROUNDS 400   /* of cgroup_task_kill(), 5 ms apart at most */
#define RMDIR_ROUNDS 400  /* of cgroup_task_remove() */

int cgroup_write(const char *dir, const char *file, const char *text)
{
	char path[PATH_MAX];
	size_t n = strlen(text);
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (write(fd, text, n) != (ssize_t)n)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

int cgroup_read(const char *dir, const char *file, char *out, size_t outlen)
{
	char path[PATH_MAX];
	size_t got = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	while (got + 1 < outlen) {
		ssize_t n = read(fd, out + got, outlen - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	out[got] = '\0';
	close(fd);
	return 0;
}

static void nap_ms(long ms)
{
	struct timespec ts = {0, ms * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Whether s->dir[c] is the first of its directory (v2 and co-mounted v1 controllers share one). */
static bool first_of(const struct cgroup_spec *s, int c)
{
	if (!s->dir[c])
		return false;
	for (int d = 0; d < c; d++)
		if (s->dir[d] && strcmp(s->dir[d], s->dir[c]) == 0)
			return false;
	return true;
}

/* Write a limit of item into dir; a message in err when it fails. */
static int set_limit(const struct cgroup_spec *s, const char *dir, enum cgroup_item item, uint64_t v, char *err,
    size_t errlen)
{
	char text[64];
	const char *file = cgroup_file((enum cgroup_version)s->version, item);
	int rc;

	cgroup_limit_text((enum cgroup_version)s->version, item, v, text, sizeof(text));
	if ((rc = cgroup_write(dir, file, text)) < 0)
		snprintf(err, errlen, "cgroup: cannot write '%s' to %.300s/%s: %s", text, dir, file, strerror(-rc));
	return rc;
}

int cgroup_task_create(const struct cgroup_spec *s, char *err, size_t errlen)
{
	const struct cgroup_limits *l = &s->lim;
	enum cgroup_version v = (enum cgroup_version)s->version;
	char swap[32];
	int rc = 0;

	for (int c = 0; c < CGROUP_NCTL; c++) {
		if (first_of(s, c) && mkdir(s->dir[c], 0755) < 0 && errno != EEXIST) {
			rc = -errno;
			snprintf(err, errlen, "cgroup: cannot create %.300s: %s", s->dir[c], strerror(errno));
			return rc;
		}
	}
	if (s->dir[CGROUP_MEMORY] && l->mem_bytes) {
		if ((rc = set_limit(s, s->dir[CGROUP_MEMORY], CGROUP_MEM_LIMIT, l->mem_bytes, err, errlen)) < 0)
			return rc;
		/* no swap to escape the limit into (best effort: the file is missing without swap accounting): v1
		 * counts memory and swap together, v2 swap alone */
		snprintf(swap, sizeof(swap), "%llu", v == CGROUP_V2 ? 0ull : (unsigned long long)l->mem_bytes);
		(void)!cgroup_write(s->dir[CGROUP_MEMORY], cgroup_file(v, CGROUP_SWAP_LIMIT), swap);
	}
	if (s->dir[CGROUP_CPU] && l->cpu_quota_us) {
		if (v == CGROUP_V1 && (rc = set_limit(s, s->dir[CGROUP_CPU], CGROUP_CPU_PERIOD, CGROUP_PERIOD_US, err,
		    errlen)) < 0)
			return rc;
		if ((rc = set_limit(s, s->dir[CGROUP_CPU], CGROUP_CPU_LIMIT, l->cpu_quota_us, err, errlen)) < 0)
			return rc;
	}
	if (s->dir[CGROUP_PIDS] && l->pids_max)
		rc = set_limit(s, s->dir[CGROUP_PIDS], CGROUP_PIDS_LIMIT, l->pids_max, err, errlen);
	return rc;
}

/* Write this process's pid to the cgroup.procs of every directory of s, or of each one's parent (up) with
 * leaf appended. */
static int move_self(const struct cgroup_spec *s, bool up, const char *leaf, char *err, size_t errlen)
{
	char pid[24], dir[PATH_MAX];
	int rc = 0;

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	for (int c = 0; c < CGROUP_NCTL; c++) {
		char *slash;
		int r;
		if (!first_of(s, c))
			continue;
		snprintf(dir, sizeof(dir), "%s", s->dir[c]);
		if (up && (slash = strrchr(dir, '/')) != NULL) {
			*slash = '\0';
			if (leaf)
				snprintf(slash, sizeof(dir) - (size_t)(slash - dir), "/%s", leaf);
		}
		if ((r = cgroup_write(dir, "cgroup.procs", pid)) < 0 && rc == 0) {
			rc = r;
			snprintf(err, errlen, "cgroup: cannot move into %.300s: %s", dir, strerror(-r));
		}
	}
	return rc;
}

int cgroup_task_enter(const struct cgroup_spec *s, char *err, size_t errlen)
{
	return move_self(s, false, NULL, err, errlen);
}

void cgroup_task_leave(const struct cgroup_spec *s)
{
	char err[512];

	if (move_self(s, true, s->version == CGROUP_V2 ? CGROUP_EXECUTORS : NULL, err, sizeof(err)) < 0)
		fprintf(stderr, "gnomon-executor: %s\n", err);
}

/* The directory whose cgroup.procs lists the task's processes. */
static const char *procs_dir(const struct cgroup_spec *s)
{
	return s->dir[CGROUP_PIDS] ? s->dir[CGROUP_PIDS] : s->dir[CGROUP_MEMORY];
}

/* Send sig to every process listed but this one; the number sent. */
static int signal_listed(const struct cgroup_spec *s, int sig)
{
	char text[65536], *save = NULL;
	pid_t self = getpid();
	int sent = 0;

	if (!procs_dir(s) || cgroup_read(procs_dir(s), "cgroup.procs", text, sizeof(text)) < 0)
		return 0;
	for (char *t = strtok_r(text, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
		pid_t pid = (pid_t)atoi(t);
		if (pid > 0 && pid != self && kill(pid, sig) == 0)
			sent++;
	}
	return sent;
}

void cgroup_task_signal(const struct cgroup_spec *s, int sig)
{
	if (s->version != CGROUP_NONE)
		(void)signal_listed(s, sig);
}

void cgroup_task_kill(const struct cgroup_spec *s)
{
	if (s->version == CGROUP_NONE)
		return;
	if (s->version == CGROUP_V2)
		(void)!cgroup_write(procs_dir(s), "cgroup.kill", "1");
	/* a fork between the read and the kills adds a process: read again until none is left */
	for (int round = 0; round < KILL_ROUNDS && signal_listed(s, SIGKILL) > 0; round++)
		nap_ms(round < 10 ? 1 : 5);
}

/* A number from a file of dir: the whole file, or key's line (key NULL: the whole file). -1 when unknown. */
static int64_t read_number(const char *dir, const char *file, const char *key)
{
	char text[4096];
	int64_t v = -1;

	if (!dir || !file || cgroup_read(dir, file, text, sizeof(text)) < 0)
		return -1;
	if ((key ? cgroup_parse_keyed(text, key, &v) : cgroup_parse_number(text, &v)) < 0)
		return -1;
	return v;
}

void cgroup_task_usage(const struct cgroup_spec *s, struct cgroup_usage *out)
{
	enum cgroup_version v = (enum cgroup_version)s->version;
	int64_t oom;

	out->user_us = out->system_us = out->peak_bytes = -1;
	out->oom_killed = false;
	if (v == CGROUP_NONE)
		return;
	if (v == CGROUP_V1) {
		int64_t u = read_number(s->dir[CGROUP_CPUACCT], cgroup_file(v, CGROUP_CPU_USER), NULL);
		int64_t y = read_number(s->dir[CGROUP_CPUACCT], cgroup_file(v, CGROUP_CPU_SYSTEM), NULL);
		out->user_us = u < 0 ? -1 : u / 1000;
		out->system_us = y < 0 ? -1 : y / 1000;
	} else {
		out->user_us = read_number(s->dir[CGROUP_CPU], "cpu.stat", "user_usec");
		out->system_us = read_number(s->dir[CGROUP_CPU], "cpu.stat", "system_usec");
	}
	out->peak_bytes = read_number(s->dir[CGROUP_MEMORY], cgroup_file(v, CGROUP_MEM_PEAK), NULL);
	oom = read_number(s->dir[CGROUP_MEMORY], cgroup_file(v, CGROUP_MEM_EVENTS), "oom_kill");
	out->oom_killed = oom > 0;
}

void cgroup_task_remove(const struct cgroup_spec *s)
{
	if (s->version == CGROUP_NONE)
		return;
	cgroup_task_kill(s);
	for (int c = 0; c < CGROUP_NCTL; c++) {
		int round = 0;
		if (!first_of(s, c))
			continue;
		while (rmdir(s->dir[c]) < 0 && errno == EBUSY && round++ < RMDIR_ROUNDS) {
			(void)signal_listed(s, SIGKILL);
			nap_ms(5);
		}
		if (access(s->dir[c], F_OK) == 0)
			fprintf(stderr, "gnomon-executor: cannot remove the cgroup %s: %s\n", s->dir[c], strerror(errno));
	}
}
