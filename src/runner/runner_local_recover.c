/* What the embedded agent finds after a restart. Reconciling: the tasks it watches or that ended unheard are
 * reported as they are; for the others named, the processes an earlier server left behind are found through
 * the GNOMON_TASK_ID in their environment (and the GNOMON_DATA_DIR, since another server on the host may run a
 * task of the same id), killed, and reported lost: nobody can learn how they would end. Sweeping: the working
 * directories a crash or a stop left in work/ go to the work-dirs thread. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "history/run_name.h"
#include "runner/runner_local_internal.h"
#include "runner/workdirs.h"
#include "util/log.h"
#include "util/rmtree.h"
#include "util/strmap.h"
#include "util/xmalloc.h"

#define ENV_TASK_ID "GNOMON_TASK_ID="
#define ENV_DATA_DIR "GNOMON_DATA_DIR="

/* A process that carries a task id in its environment. */
struct task_proc {
	char *task_id;
	pid_t pid;
};

struct scan {
	struct task_proc *procs; /* found on the first task that needs them */
	size_t n;
	bool done;
};

/* The GNOMON_TASK_ID in the environment of pid, as a string to free, when its GNOMON_DATA_DIR is this server's;
 * NULL when it has none or is gone. */
static char *task_id_of(pid_t pid, const char *data_dir)
{
	char path[64], buf[65536];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/environ", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	const char *id = NULL;
	bool ours = false;
	for (char *p = buf; p < buf + n; p += strlen(p) + 1) {
		if (strncmp(p, ENV_TASK_ID, strlen(ENV_TASK_ID)) == 0)
			id = p + strlen(ENV_TASK_ID);
		else if (strncmp(p, ENV_DATA_DIR, strlen(ENV_DATA_DIR)) == 0)
			ours = strcmp(p + strlen(ENV_DATA_DIR), data_dir) == 0;
	}
	return id && ours ? xstrdup(id) : NULL;
}

/* Every process but the server itself whose environment names a task of this data directory. */
static void scan_processes(const struct local *l, struct scan *sc)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	size_t cap = 0;

	sc->done = true;
	if (d == NULL) {
		log_warn("cannot list /proc to find the processes of interrupted runs");
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char *end, *id;
		long pid = strtol(de->d_name, &end, 10);
		if (!isdigit((unsigned char)de->d_name[0]) || *end || pid <= 1 || pid == (long)getpid())
			continue;
		if ((id = task_id_of((pid_t)pid, l->data_dir_abs)) == NULL)
			continue;
		if (sc->n == cap) {
			cap = cap ? cap * 2 : 16;
			sc->procs = xrealloc(sc->procs, cap * sizeof(*sc->procs));
		}
		sc->procs[sc->n++] = (struct task_proc){id, (pid_t)pid};
	}
	closedir(d);
}

/* SIGKILL every surviving process of a task and its process group; returns how many processes carried its id. */
static int kill_survivors(const struct local *l, struct scan *sc, const char *task_id)
{
	int n = 0;

	if (!sc->done)
		scan_processes(l, sc);
	for (size_t i = 0; i < sc->n; i++) {
		pid_t pgid;
		if (strcmp(sc->procs[i].task_id, task_id) != 0)
			continue;
		pgid = getpgid(sc->procs[i].pid);
		if (pgid > 1 && pgid != getpgrp())
			kill(-pgid, SIGKILL);
		kill(sc->procs[i].pid, SIGKILL);
		n++;
	}
	return n;
}

/* Kill what is left in a task's cgroup and remove it (its executor, which would have, is dead). */
static void remove_cgroup(const struct local *l, const char *task_id)
{
	char name[CGROUP_NAME_MAX + 1], bufs[CGROUP_NCTL][PATH_MAX];
	struct cgroup_limits none = {0, 0, 0};
	struct cgroup_spec cg;

	if (l->cg.version == CGROUP_NONE)
		return;
	cgroup_name(task_id, name);
	cgroup_spec_of(&l->cg, name, &none, bufs, &cg);
	cgroup_task_remove(&cg);
}

/* What the journal of a task that no runner of this process started says (runner_local.c's local_journal). */
enum journal_says {
	JOURNAL_NONE,     /* no journal: a task of an earlier release, or one that never started */
	JOURNAL_ENDED,    /* its executor journaled how it ended: the result */
	JOURNAL_RUNNING,  /* its executor still runs it: adopted, the task it now holds (exec follows it) */
	JOURNAL_DEAD,     /* its executor died before it could say: the reason */
};

static enum journal_says read_journal(struct local *l, const char *task_id, struct runner_result *out,
    struct local_task **adopted)
{
	char journal[PATH_MAX], err[512], stopped[PATH_MAX + 16];
	struct exec_result res;
	struct exec_task *x;
	struct local_task *t;
	int rc;

	local_journal(l, task_id, journal, sizeof(journal));
	for (int attempt = 0; attempt < 2; attempt++) {
		/* the result first: an executor that has written it may be exiting */
		if ((rc = exec_journal_result(journal, &res, err, sizeof(err))) == 0) {
			local_result_of(&res, out);
			snprintf(stopped, sizeof(stopped), "%s" LOCAL_STOPPED_SUFFIX, journal);
			if (out->end == RUNNER_END_KILLED && access(stopped, F_OK) == 0) {
				/* killed by the stop of its server (--stop-tasks-on-exit), not by a kill request */
				out->end = RUNNER_END_LOST;
				snprintf(out->reason, sizeof(out->reason), "killed when its server stopped");
			}
			return JOURNAL_ENDED;
		}
		if (rc != -ENOENT)
			log_warnx("task %s: %s", task_id, err);
		t = local_task_add(l, task_id, NULL);
		if ((rc = exec_adopt(l->loop, journal, NULL, local_on_exit, t, &x, err, sizeof(err))) == 0) {
			t->exec = x;
			log_info_kv(LOG_FIELDS(.event = "task.adopted", .task_id = task_id),
			    "task %s still runs under its executor: adopted", task_id);
			*adopted = t;
			return JOURNAL_RUNNING;
		}
		local_task_drop(l, t);
		if (rc == -ENOENT)
			return JOURNAL_NONE;
		if (rc != -ESRCH)
			break;
		/* gone: it may have written its result meanwhile, which the second look finds */
	}
	snprintf(out->reason, sizeof(out->reason), "its executor ended without a result (%.200s)", err);
	return JOURNAL_DEAD;
}

static void report_task(struct runner_report *rep, struct local_task *t)
{
	rep->task_id = t->task_id;
	rep->state = t->ended ? RUNNER_TASK_ENDED : RUNNER_TASK_RUNNING;
	rep->task = t->ended ? NULL : LOCAL_HANDLE(t);
	rep->result = t->ended ? &t->result : NULL;
}

void local_reconcile(struct runner *r, uint64_t epoch, const char *const *task_ids,
    const char *const *agents, size_t n, runner_reconciled_fn done, void *ctx)
{
	struct local *l = (struct local *)r;
	struct strmap *mine = strmap_new(), *asked = strmap_new();
	struct runner_result *found = xcalloc(n, sizeof(*found)); /* what the journals or /proc said */
	struct runner_report *rep;
	struct scan sc = {0};
	size_t held = 0, k = 0;

	(void)agents; /* every task it can know of ran here */
	if (!local_epoch_ok(l, epoch)) {
		log_warnx("reconciliation of epoch %" PRIu64 " refused: this agent has seen %" PRIu64, epoch, l->epoch);
		n = 0;
	}
	for (struct local_task *t = l->tasks; t; t = t->next, held++)
		strmap_put(mine, t->task_id, t);
	rep = xcalloc(n + held, sizeof(*rep));
	for (size_t i = 0; i < n; i++) {
		struct local_task *t = strmap_get(mine, task_ids[i]);
		enum journal_says says;
		int killed;
		strmap_put(asked, task_ids[i], &rep[k]);
		if (t) {
			report_task(&rep[k++], t);
			continue;
		}
		rep[k] = (struct runner_report){.task_id = task_ids[i], .state = RUNNER_TASK_UNKNOWN};
		found[i] = (struct runner_result){.end = RUNNER_END_LOST, .exit_code = -1, .duration_us = -1,
			.user_cpu_us = -1, .system_cpu_us = -1, .max_rss_kib = -1};
		/* an earlier process's task: its executor journaled how it ended, or still runs it */
		says = read_journal(l, task_ids[i], &found[i], &t);
		if (says == JOURNAL_RUNNING) {
			report_task(&rep[k++], t);
			continue;
		}
		if (says == JOURNAL_ENDED) {
			rep[k].state = RUNNER_TASK_ENDED;
			rep[k++].result = &found[i];
			continue;
		}
		/* nobody can tell how it would end: what is left of it is killed, its cgroup too */
		killed = kill_survivors(l, &sc, task_ids[i]);
		remove_cgroup(l, task_ids[i]);
		if (killed > 0 || says == JOURNAL_DEAD) {
			size_t used = strlen(found[i].reason);
			if (killed > 0)
				snprintf(found[i].reason + used, sizeof(found[i].reason) - used, "%sits %d surviving process%s "
				    "killed", used ? "; " : "", killed, killed == 1 ? " was" : "es were");
			rep[k].state = RUNNER_TASK_ENDED;
			rep[k].result = &found[i];
		}
		k++;
	}
	for (struct local_task *t = l->tasks; t; t = t->next)
		if (strmap_get(asked, t->task_id) == NULL)
			report_task(&rep[k++], t);
	done(ctx, rep, k);
	local_container_sweep(l); /* the containers of tasks that are not held any more */
	for (size_t i = 0; i < sc.n; i++)
		free(sc.procs[i].task_id);
	free(sc.procs);
	free(rep);
	free(found);
	strmap_free(asked);
	strmap_free(mine);
}

/* A directory of an ended run's, found in work/. */
struct found {
	char name[RUN_NAME_MAX];
	char *task_id;
	int64_t mtime_ns; /* of its task file: when the run was started */
};

static int cmp_found(const void *a, const void *b)
{
	const struct found *x = a, *y = b;
	return (x->mtime_ns > y->mtime_ns) - (x->mtime_ns < y->mtime_ns);
}

/* The task id in work/<name>.task (allocated), or NULL. */
static char *read_task_file(int dirfd, const char *name, int64_t *mtime_ns)
{
	char file[RUN_NAME_MAX + sizeof(WORKDIRS_TASK_SUFFIX)], buf[65536];
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(file, sizeof(file), "%s%s", name, WORKDIRS_TASK_SUFFIX);
	if ((fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return NULL;
	n = fstat(fd, &st) == 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	close(fd);
	if (n <= 0 || (size_t)n == sizeof(buf) - 1)
		return NULL;
	*mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	return xstrndup(buf, (size_t)n);
}

/* Earlier releases named a directory work/<row id>: rename it to its task id's name and write its task file.
 * Returns the task id (allocated), or NULL when it stays (logged) or went (its run is no longer in the history). */
static char *migrate_legacy(int dirfd, const char *old, int64_t id, run_legacy_fn legacy, void *ctx, char *name)
{
	char *task_id = NULL, file[RUN_NAME_MAX + sizeof(WORKDIRS_TASK_SUFFIX)], err[512];
	int rc = legacy(ctx, id, &task_id), fd;
	size_t n;

	if (rc == -ENOENT) {
		if ((rc = rmtree_at(dirfd, old, err, sizeof(err))) < 0 && rc != -ENOENT)
			log_warnx("could not remove all of work/%s", err);
		return NULL;
	}
	if (rc < 0) {
		log_warnx("work/%s: the history cannot tell whose directory this is (%s); it stays", old, strerror(-rc));
		return NULL;
	}
	run_name(task_id, name);
	snprintf(file, sizeof(file), "%s%s", name, WORKDIRS_TASK_SUFFIX);
	n = strlen(task_id);
	fd = openat(dirfd, file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, task_id, n) != (ssize_t)n || close(fd) < 0 || renameat(dirfd, old, dirfd, name) < 0) {
		log_warn("work/%s: cannot rename it to work/%s", old, name);
		if (fd >= 0)
			unlinkat(dirfd, file, 0);
		free(task_id);
		return NULL;
	}
	return task_id;
}

/* The directories in work/ with a task file (and earlier releases', renamed on the way), unsorted. */
static size_t work_dirs_found(const char *path, run_legacy_fn legacy, void *ctx, struct found **out)
{
	size_t n = 0, cap = 0, migrated = 0;
	struct dirent *de;
	DIR *d = opendir(path);

	*out = NULL;
	if (d == NULL) {
		log_warn("cannot read %s", path);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		struct found f = {.mtime_ns = 0};
		int64_t id;

		if (de->d_name[0] == '.' || strlen(de->d_name) >= RUN_NAME_MAX)
			continue;
		if (run_name_legacy(de->d_name, "", &id)) {
			if (legacy == NULL || (f.task_id = migrate_legacy(dirfd(d), de->d_name, id, legacy, ctx, f.name)) == NULL)
				continue;
			migrated++;
			f.mtime_ns = id; /* before every directory of this release, in their old order */
		} else {
			struct stat st;
			if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode) ||
			    (f.task_id = read_task_file(dirfd(d), de->d_name, &f.mtime_ns)) == NULL)
				continue;
			memcpy(f.name, de->d_name, strlen(de->d_name) + 1); /* shorter than RUN_NAME_MAX: checked above */
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		(*out)[n++] = f;
	}
	closedir(d);
	if (migrated > 0)
		log_info("%zu working director%s in %s renamed from the run's row id to its task id's name", migrated,
		    migrated == 1 ? "y" : "ies", path);
	return n;
}

void local_sweep_work_dirs(struct local *l, runner_past_fn past, run_legacy_fn legacy, void *ctx)
{
	char path[PATH_MAX];
	struct found *dirs;
	size_t n, handed = 0;

	snprintf(path, sizeof(path), "%s/work", l->data_dir);
	n = work_dirs_found(path, legacy, ctx, &dirs);
	if (n > 1)
		qsort(dirs, n, sizeof(*dirs), cmp_found);
	for (size_t i = 0; i < n; i++) {
		struct runner_past p = {0};
		int rc = past(ctx, dirs[i].task_id, &p);
		if (rc == -ENOENT) {
			workdirs_remove(l->workdirs, dirs[i].name);
			handed++;
		} else if (rc == 0 && p.ended) {
			workdirs_ended(l->workdirs, dirs[i].name,
			    p.outcome == RUNNER_OUTCOME_FAILED || p.outcome == RUNNER_OUTCOME_LOST, p.job ? p.job : "",
			    dirs[i].task_id);
			handed++;
		}
		free(p.job);
		free(p.task_id);
		free(dirs[i].task_id);
	}
	if (handed > 0)
		log_info("%zu working director%s of ended runs found in %s: each is removed or kept as --keep-work-dirs "
		    "says", handed, handed == 1 ? "y" : "ies", path);
	free(dirs);
}
