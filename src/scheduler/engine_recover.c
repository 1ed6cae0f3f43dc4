/* Resuming after a restart: the open runs the store holds go back where they were (queued, waiting for their
 * retry, awaiting an async status), and the runs that were starting or running when the server died are
 * recorded as lost (or killed, when a kill had been requested) once their surviving processes, found through
 * the GNOMON_TASK_ID in their environment, are killed. Working directories left behind by ended runs go to the
 * workdirs thread. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "job/job.h"
#include "job/task_id.h"
#include "scheduler/engine_internal.h"
#include "scheduler/registry.h"
#include "store/store.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define ENV_TASK_ID "GNOMON_TASK_ID="
#define ENV_DATA_DIR "GNOMON_DATA_DIR="

/* A process that carries a task id in its environment. */
struct task_proc {
	char *task_id;
	pid_t pid;
};

struct recovery {
	struct engine *e;
	struct task_proc *procs; /* found on the first run that needs them */
	size_t nprocs;
	bool scanned;
};

/* The GNOMON_TASK_ID in the environment of pid, as a string to free, when its GNOMON_DATA_DIR is this server's
 * (another server on the host may run a task of the same id); NULL when it has none or is gone. */
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

/* Every process but the server itself whose environment names a task. */
static void scan_processes(struct recovery *rc)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	size_t cap = 0;

	rc->scanned = true;
	if (d == NULL) {
		log_warn("cannot list /proc to find the processes of interrupted runs");
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char *end, *id;
		long pid = strtol(de->d_name, &end, 10);
		if (!isdigit((unsigned char)de->d_name[0]) || *end || pid <= 1 || pid == (long)getpid())
			continue;
		if ((id = task_id_of((pid_t)pid, rc->e->data_dir_abs)) == NULL)
			continue;
		if (rc->nprocs == cap) {
			cap = cap ? cap * 2 : 16;
			rc->procs = xrealloc(rc->procs, cap * sizeof(*rc->procs));
		}
		rc->procs[rc->nprocs++] = (struct task_proc){id, (pid_t)pid};
	}
	closedir(d);
}

/* SIGKILL every surviving process of a task and its process group; returns how many processes carried its id. */
static int kill_task_processes(struct recovery *rc, const char *task_id)
{
	int n = 0;

	if (!rc->scanned)
		scan_processes(rc);
	for (size_t i = 0; i < rc->nprocs; i++) {
		pid_t pgid;
		if (strcmp(rc->procs[i].task_id, task_id) != 0)
			continue;
		pgid = getpgid(rc->procs[i].pid);
		if (pgid > 1 && pgid != getpgrp())
			kill(-pgid, SIGKILL);
		kill(rc->procs[i].pid, SIGKILL);
		n++;
	}
	return n;
}

/* The arguments a recovered run runs with: a manual run's (and its retries') when they are not the job's own. */
static char *recovered_override(const struct jobrec *rec, const struct run *r)
{
	char *own;
	bool same;

	if (r->origin != TRIGGER_MANUAL || rec == NULL || r->rec.arguments[0] == '\0')
		return NULL;
	own = task_id_arguments(rec->job, NULL);
	same = strcmp(own, r->rec.arguments) == 0;
	free(own);
	return same ? NULL : xstrdup(r->rec.arguments);
}

/* What triggered attempt 0 of a retry's slot (its record may have been pruned: then the retry's own). */
static enum run_trigger slot_origin(struct engine *e, const struct run_record *stored)
{
	struct run_record first;
	enum run_trigger t = stored->trigger;
	char *id;

	if (stored->trigger != TRIGGER_RETRY)
		return t;
	run_record_init(&first);
	id = task_id_format(stored->due_ms, 0, stored->job, stored->arguments);
	if (store_get_run(e->store, id, &first) == 0)
		t = first.trigger;
	free(id);
	run_record_clear(&first);
	return t;
}

/* The run of a stored record, held by nobody yet. */
static struct run *run_from_record(struct engine *e, const struct jobrec *rec, const struct run_record *stored)
{
	struct run *r = xcalloc(1, sizeof(*r));

	run_record_init(&r->rec);
	r->e = e;
	r->rec = *stored;
	r->rec.task_id = xstrdup(stored->task_id);
	r->rec.job = xstrdup(stored->job);
	r->rec.host = xstrdup(stored->host);
	r->rec.arguments = xstrdup(stored->arguments);
	r->rec.parents = xstrdup(stored->parents);
	r->rec.reason = xstrdup(stored->reason);
	r->origin = slot_origin(e, stored);
	r->override = recovered_override(rec, r);
	r->high = rec && rec->job->high_priority;
	heap_node_init(&r->wait);
	return r;
}

/* A run that was starting or running when the server died: its surviving processes are killed, then it is
 * recorded as killed when a kill had been requested, else as lost (and retried per its job's policy). */
static void recover_interrupted(struct recovery *rc, struct run *r)
{
	bool starting = r->rec.status == RUN_STARTING;
	bool kill_requested = strcmp(r->rec.reason, RUN_KILL_REQUESTED) == 0;
	int n = kill_task_processes(rc, r->rec.task_id);
	char reason[256];
	size_t len;

	if (kill_requested)
		len = (size_t)snprintf(reason, sizeof(reason), "killed on request; the server stopped before it ended");
	else
		len = (size_t)snprintf(reason, sizeof(reason), "the server stopped while it %s",
		    starting ? "was starting" : "ran");
	if (n > 0)
		snprintf(reason + len, sizeof(reason) - len, "; its %d surviving process%s killed", n,
		    n == 1 ? " was" : "es were");
	run_hold(rc->e, r);
	run_finish(rc->e, r, kill_requested ? RUN_KILLED : RUN_LOST, reason);
}

/* Resume one open run, as the store held it. */
static void recover_one(struct recovery *rc, struct run *r)
{
	struct engine *e = rc->e;
	struct jobrec *rec = run_jobrec(e, r);

	switch (r->rec.status) {
	case RUN_QUEUED:
		run_enqueue(e, r);
		break;
	case RUN_WAITING:
		run_hold(e, r);
		heap_set(&e->retries, &r->wait, r->rec.not_before_ms);
		break;
	case RUN_RUNNING:
		if (rec && rec->job->async && r->rec.end_ms != RUN_TIME_NONE && r->rec.exit_code == 0) {
			/* Its process ended well; its status may still come, within maxCompletionTime. */
			run_hold(e, r);
			r->awaiting_async = true;
			rec->running++;
			if (rec->job->max_completion_time > 0)
				heap_set(&e->retries, &r->wait, r->rec.start_ms + rec->job->max_completion_time * 1000);
			break;
		}
		recover_interrupted(rc, r);
		break;
	default:
		recover_interrupted(rc, r);
		break;
	}
}

/* The open runs, read in full before any is resumed: resuming writes to the table being read. */
struct open_runs {
	struct engine *e;
	struct run **v;
	size_t n, cap;
};

static int collect(void *ctx, const struct run_record *stored)
{
	struct open_runs *o = ctx;

	if (o->n == o->cap) {
		o->cap = o->cap ? 2 * o->cap : 64;
		o->v = xrealloc(o->v, o->cap * sizeof(*o->v));
	}
	o->v[o->n++] = run_from_record(o->e, registry_get(o->e->reg, stored->job), stored);
	return 0;
}

int run_recover_all(struct engine *e)
{
	struct recovery rc = {.e = e};
	struct open_runs open = {.e = e};
	int ret = store_load_open_runs(e->store, collect, &open);

	for (size_t i = 0; i < open.n; i++) {
		if (ret == 0)
			recover_one(&rc, open.v[i]);
		else
			run_free(open.v[i]);
	}
	free(open.v);
	for (size_t i = 0; i < rc.nprocs; i++)
		free(rc.procs[i].task_id);
	free(rc.procs);
	return ret;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The run ids named by the entries of work/ (a name that is exactly a positive decimal number), unsorted. */
static size_t work_dir_ids(const char *path, int64_t **out)
{
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d = opendir(path);

	*out = NULL;
	if (d == NULL) {
		log_warn("cannot read %s", path);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		char *end, back[24];
		long long v;
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		errno = 0;
		v = strtoll(de->d_name, &end, 10);
		snprintf(back, sizeof(back), "%lld", v);
		if (errno || *end || v <= 0 || strcmp(back, de->d_name) != 0)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		(*out)[n++] = v;
	}
	closedir(d);
	return n;
}

void run_sweep_work_dirs(struct engine *e)
{
	char path[4096];
	int64_t *ids;
	size_t n, handed = 0;

	if (e->workdirs == NULL)
		return;
	snprintf(path, sizeof(path), "%s/work", e->cfg.data_dir);
	n = work_dir_ids(path, &ids);
	if (n > 1)
		qsort(ids, n, sizeof(*ids), cmp_id);
	for (size_t i = 0; i < n; i++) {
		struct run_record r;
		int rc;
		run_record_init(&r);
		rc = store_get_run_by_id(e->store, ids[i], &r);
		if (rc == -ENOENT) {
			workdirs_remove(e->workdirs, ids[i]);
			handed++;
		} else if (rc == 0 && run_status_is_final(r.status)) {
			workdirs_ended(e->workdirs, ids[i], r.status, r.job, r.task_id);
			handed++;
		}
		run_record_clear(&r);
	}
	if (handed > 0)
		log_info("%zu working director%s of ended runs found in %s: each is removed or kept as --keep-work-dirs "
		    "says", handed, handed == 1 ? "y" : "ies", path);
	free(ids);
}
