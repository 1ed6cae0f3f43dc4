/* The run half of the engine: the run queue, starting runs through the executor, their outcomes (counters,
 * retries, disabling), kills, manual runs, async completions and resuming open runs after a restart. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/metrics.h"
#include "exec/exec.h"
#include "exec/exec_env.h"
#include "job/job.h"
#include "job/task_id.h"
#include "schedule/schedule.h"
#include "scheduler/engine_internal.h"
#include "scheduler/registry.h"
#include "store/store.h"
#include "util/log.h"
#include "util/strmap.h"
#include "util/xmalloc.h"

#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

struct run *run_new(struct engine *e, const struct jobrec *rec, int64_t due_ms, int attempt,
    enum run_trigger trigger, const char *arguments)
{
	struct run *r = xcalloc(1, sizeof(*r));
	char *args = task_id_arguments(rec->job, arguments);

	run_record_init(&r->rec);
	r->e = e;
	r->rec.task_id = task_id_format(due_ms, attempt, rec->job->name, args);
	run_record_set(&r->rec.job, rec->job->name);
	run_record_set(&r->rec.host, e->cfg.hostname);
	r->rec.arguments = args;
	r->rec.due_ms = due_ms;
	r->rec.attempt = attempt;
	r->rec.trigger = trigger;
	r->rec.status = RUN_QUEUED;
	/* What runs is what the task id says: the arguments with every ';' removed (Chronos), so a manual run's
	 * arguments cannot chain another command. */
	r->override = arguments ? xstrdup(args) : NULL;
	r->high = rec->job->high_priority;
	heap_node_init(&r->wait);
	return r;
}

void run_free(struct run *r)
{
	run_record_clear(&r->rec);
	free(r->override);
	free(r);
}

/* Start holding r: findable by task id and in the list of runs. */
static void hold(struct engine *e, struct run *r)
{
	strmap_put(e->runs, r->rec.task_id, r);
	r->all_next = e->all;
	r->all_prev = NULL;
	if (e->all)
		e->all->all_prev = r;
	e->all = r;
}

static void forget(struct engine *e, struct run *r)
{
	strmap_remove(e->runs, r->rec.task_id);
	if (r->all_prev)
		r->all_prev->all_next = r->all_next;
	else
		e->all = r->all_next;
	if (r->all_next)
		r->all_next->all_prev = r->all_prev;
}

static void queue_push(struct engine *e, struct jobrec *rec, struct run *r)
{
	int q = r->high ? 1 : 0;
	r->next = NULL;
	if (e->queue_tail[q])
		e->queue_tail[q]->next = r;
	else
		e->queue_head[q] = r;
	e->queue_tail[q] = r;
	e->queue_len[q]++;
	r->queued = true;
	rec->queued++;
}

static struct run *queue_pop(struct engine *e)
{
	for (int q = 1; q >= 0; q--) {
		struct run *r = e->queue_head[q];
		if (r == NULL)
			continue;
		e->queue_head[q] = r->next;
		if (e->queue_head[q] == NULL)
			e->queue_tail[q] = NULL;
		e->queue_len[q]--;
		r->queued = false;
		return r;
	}
	return NULL;
}

static void queue_unlink(struct engine *e, struct run *r)
{
	int q = r->high ? 1 : 0;
	struct run *prev = NULL;
	for (struct run *x = e->queue_head[q]; x; prev = x, x = x->next) {
		if (x != r)
			continue;
		if (prev)
			prev->next = x->next;
		else
			e->queue_head[q] = x->next;
		if (e->queue_tail[q] == x)
			e->queue_tail[q] = prev;
		e->queue_len[q]--;
		r->queued = false;
		return;
	}
}

static int unlink_path(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* Remove what a run left on disk: its output files and working directory. */
static void remove_run_files(struct engine *e, int64_t id)
{
	char path[4096];
	run_log_path(e->cfg.data_dir, id, "stdout", path, sizeof(path));
	unlink(path);
	run_log_path(e->cfg.data_dir, id, "stderr", path, sizeof(path));
	unlink(path);
	snprintf(path, sizeof(path), "%s/work/%" PRId64, e->cfg.data_dir, id);
	nftw(path, unlink_path, 16, FTW_DEPTH | FTW_PHYS);
}

static void on_pruned(void *ctx, const char *task_id, int64_t id)
{
	(void)task_id;
	remove_run_files(ctx, id);
}

void run_prune_history(struct engine *e)
{
	int64_t older = e->cfg.history_max_age_ms > 0 ? engine_now_ms() - e->cfg.history_max_age_ms : RUN_TIME_NONE;
	int n = store_prune_all_runs(e->store, e->cfg.history_max_runs, older, on_pruned, e);
	if (n < 0)
		log_warnx("history retention failed; it is tried again in an hour");
	else if (n > 0)
		log_info("history retention removed %d run(s)", n);
}

/* Apply the job's outcome to its counters (Chronos's handleFinishedTask/handleFailedTask); returns the retry
 * to schedule, if any. */
static struct run *apply_outcome(struct engine *e, struct jobrec *rec, struct run *r, int64_t now)
{
	struct job *j = rec->job;
	struct run *retry = NULL;

	switch (r->rec.status) {
	case RUN_SUCCEEDED:
		j->success_count++;
		j->last_success_ms = now;
		j->errors_since_last_success = 0;
		if (rec->has_sched && schedule_kind(&rec->sched) == SCHEDULE_ISO8601 &&
		    schedule_repeat(&rec->sched) == 0 && !j->disabled) {
			j->disabled = true;
			log_info("job '%s' has exhausted all of its recurrences and is now disabled", j->name);
		}
		break;
	case RUN_FAILED:
	case RUN_LOST:
		if (r->rec.attempt < j->retries) {
			retry = run_new(e, rec, r->rec.due_ms, r->rec.attempt + 1, TRIGGER_RETRY, r->override);
			retry->rec.status = RUN_WAITING;
			retry->rec.not_before_ms = now + job_retry_delay_ms(j, r->rec.attempt + 1, e->cfg.failure_retry_ms);
			run_record_set(&retry->rec.parents, r->rec.parents);
			break;
		}
		j->error_count++;
		j->errors_since_last_success++;
		j->last_error_ms = now;
		if (e->cfg.disable_after_failures > 0 && j->errors_since_last_success >= e->cfg.disable_after_failures &&
		    !j->disabled) {
			j->disabled = true;
			log_info("job '%s' disabled after %" PRId64 " failures since its last success", j->name,
			    j->errors_since_last_success);
		}
		break;
	default:
		break;
	}
	return retry;
}

/* Record a run's end with its job's new counters (and a retry) in one transaction, then let the job's waiting
 * slot and the queue move. */
static void finish(struct engine *e, struct run *r, enum run_status status, const char *reason)
{
	struct jobrec *rec = registry_get(e->reg, r->rec.job);
	struct run *retry = NULL;
	struct run_list children = {0};
	int64_t now = engine_now_ms();
	bool ok = false, was_disabled = rec && rec->job->disabled;
	int64_t errors_before = rec ? rec->job->errors_since_last_success : 0;

	r->rec.status = status;
	if (r->rec.end_ms == RUN_TIME_NONE)
		r->rec.end_ms = now;
	if (reason)
		run_record_set(&r->rec.reason, reason);
	if (store_begin(e->store) == 0) {
		if (rec)
			retry = apply_outcome(e, rec, r, now);
		ok = store_put_run(e->store, &r->rec) == 0 && (rec == NULL || engine_save_job(e, rec) == 0) &&
		    (retry == NULL || store_claim_run(e->store, &retry->rec) == 0);
		/* A success, or a softError job's final failure, counts for its children (Chronos). */
		if (ok && rec && (status == RUN_SUCCEEDED || (retry == NULL && rec->job->soft_error &&
					 (status == RUN_FAILED || status == RUN_LOST))))
			ok = deps_parent_done(e, rec, r->rec.task_id, &children) == 0;
		if (ok && rec && e->cfg.history_max_runs > 0)
			ok = store_prune_runs(e->store, rec->job->name, e->cfg.history_max_runs, RUN_TIME_NONE, on_pruned,
				 e) >= 0;
		ok = ok && store_commit(e->store) == 0;
		if (!ok)
			store_rollback(e->store);
	}
	if (!ok)
		log_warnx("run %s: could not record its end (%s); a restart will record it as lost", r->rec.task_id,
		    run_status_name(status));
	else
		engine_tell_outcome(e, rec, &r->rec, retry != NULL, was_disabled, errors_before);
	log_info("run %s %s%s%s", r->rec.task_id, run_status_name(status), reason ? ": " : "", reason ? reason : "");
	if (e->cfg.metrics) {
		char name[64];
		snprintf(name, sizeof(name), "gnomon.runs.%s", run_status_name(status));
		metrics_count(e->cfg.metrics, name, 1);
		if (status == RUN_SUCCEEDED)
			metrics_histogram(e->cfg.metrics, "gnomon.runs.duration_ms", r->rec.end_ms - r->rec.start_ms);
	}
	forget(e, r);
	run_free(r);
	if (retry && ok) {
		hold(e, retry);
		heap_set(&e->retries, &retry->wait, retry->rec.not_before_ms);
		log_info("run %s will retry at attempt %d", retry->rec.task_id, retry->rec.attempt);
	} else if (retry) {
		run_free(retry);
	}
	deps_release(e, &children, ok);
	if (rec && rec->pending && rec->running == 0 && rec->queued == 0) {
		struct run *p = rec->pending;
		rec->pending = NULL;
		queue_push(e, rec, p);
	}
	run_dispatch(e);
	engine_arm(e);
}

void run_enqueue(struct engine *e, struct run *r)
{
	struct jobrec *rec = registry_get(e->reg, r->rec.job);

	hold(e, r);
	if (rec == NULL) {
		finish(e, r, RUN_LOST, "its job no longer exists");
		return;
	}
	if (!rec->job->concurrent && r->rec.trigger != TRIGGER_RETRY && (rec->running > 0 || rec->queued > 0)) {
		if (rec->pending == NULL) {
			rec->pending = r;
			engine_tell_run(e, rec, &r->rec);
			return;
		}
		finish(e, r, RUN_SKIPPED, "the previous run was still going and another slot was already waiting");
		return;
	}
	queue_push(e, rec, r);
	engine_tell_run(e, rec, &r->rec);
}

/* Write a run's status change on its own; failures are logged, and the restart after them recovers. */
static void save(struct engine *e, struct run *r)
{
	if (store_put_run(e->store, &r->rec) < 0)
		log_warnx("run %s: could not record that it is %s", r->rec.task_id, run_status_name(r->rec.status));
}

static void on_exit_task(void *ctx, struct exec_task *task, const struct exec_result *res);

/* The environment and argv of a run, and everything else exec_start needs. Returns 0 or -errno with err. */
static int launch(struct engine *e, struct jobrec *rec, struct run *r, char *err, size_t errlen)
{
	struct job *j = rec->job;
	struct exec_spec spec;
	struct exec_user user;
	struct exec_env_var extra[1] = {{"GNOMON_PARENT_TASK_IDS", r->rec.parents}};
	char out_path[4096], err_path[4096], cwd[4096], **argv, **envp;
	const char *run_as = j->run_as_user[0] ? j->run_as_user : e->user, *home = e->home;
	bool other_user = strcmp(run_as, e->user) != 0;
	int rc;

	if (other_user) {
		if ((rc = exec_user_lookup(run_as, &user, err, errlen)) < 0)
			return rc;
		home = user.home;
	}
	snprintf(cwd, sizeof(cwd), "%s/work/%" PRId64, e->cfg.data_dir, r->rec.id);
	if (mkdir(cwd, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create the working directory %.300s: %s", cwd, strerror(errno));
		return -errno;
	}
	if (other_user && chown(cwd, user.uid, user.gid) < 0) {
		snprintf(err, errlen, "cannot give the working directory %.300s to %s: %s", cwd, run_as, strerror(errno));
		return -errno;
	}
	run_log_path(e->cfg.data_dir, r->rec.id, "stdout", out_path, sizeof(out_path));
	run_log_path(e->cfg.data_dir, r->rec.id, "stderr", err_path, sizeof(err_path));
	struct exec_env_input in = {
		.task_id = r->rec.task_id, .job_name = j->name, .job_owner = j->owner, .hostname = e->cfg.hostname,
		.mem = j->mem, .cpus = j->cpus, .disk = j->disk, .run_time_ms = r->rec.due_ms,
		.attempt = (uint32_t)r->rec.attempt, .user = run_as, .home = home, .extra = extra, .n_extra = 1,
		.job_env = (const struct exec_env_var *)j->env, .n_job_env = j->n_env,
	};
	envp = exec_env_build(&in);
	if (r->override && r->override[0]) {
		const char *one[1] = {r->override};
		argv = exec_argv_build(j->command, one, 1, j->shell);
	} else {
		argv = exec_argv_build(j->command, (const char *const *)j->arguments, j->n_arguments, j->shell);
	}
	exec_spec_init(&spec);
	spec.argv = argv;
	spec.envp = envp;
	spec.cwd = cwd;
	spec.run_as_user = run_as;
	spec.out_path[EXEC_STDOUT] = out_path;
	spec.out_path[EXEC_STDERR] = err_path;
	spec.cap_head = spec.cap_tail = e->cfg.log_cap;
	spec.deadline_ms = j->max_completion_time > 0 ? (uint64_t)j->max_completion_time * 1000 : 0;
	spec.grace_ms = (uint64_t)e->cfg.kill_grace_ms;
	spec.on_exit = on_exit_task;
	spec.ctx = r;
	rc = exec_start(e->loop, &spec, &r->task, err, errlen);
	free(argv);
	free(envp);
	return rc;
}

#define START_BATCH 64 /* runs started per round of run_dispatch: one commit before their spawns, one after */

/* Record the runs of a batch in one transaction; -1 (rolled back) if any could not be written. */
static int put_runs(struct engine *e, struct run *const *batch, size_t n)
{
	bool ok = store_begin(e->store) == 0;
	for (size_t i = 0; ok && i < n; i++)
		ok = store_put_run(e->store, &batch[i]->rec) == 0;
	if (ok && store_commit(e->store) == 0)
		return 0;
	store_rollback(e->store);
	return -1;
}

/* Start a batch of runs: all recorded as starting in one transaction before any is spawned, then all that
 * started recorded as running, with their pids and spawn times, in one more. A crash in between leaves them "starting", which a
 * restart records as lost. */
static void start_batch(struct engine *e, struct run **batch, size_t n)
{
	int64_t now = engine_now_ms();
	char err[512];
	size_t started = 0;

	for (size_t i = 0; i < n; i++) {
		batch[i]->rec.status = RUN_STARTING;
		batch[i]->rec.start_ms = now;
	}
	if (put_runs(e, batch, n) < 0) {
		for (size_t i = 0; i < n; i++)
			finish(e, batch[i], RUN_LOST, "could not record its start");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct run *r = batch[i];
		struct jobrec *rec = registry_get(e->reg, r->rec.job);
		if (launch(e, rec, r, err, sizeof(err)) < 0) {
			finish(e, r, RUN_FAILED, err);
			continue;
		}
		rec->running++;
		e->running++;
		r->rec.start_ms = engine_now_ms(); /* the spawn, not the batch's first write */
		if (e->cfg.metrics && r->rec.trigger == TRIGGER_SCHEDULE)
			metrics_histogram(e->cfg.metrics, "gnomon.runs.start_lateness_ms", r->rec.start_ms - r->rec.due_ms);
		r->rec.status = RUN_RUNNING;
		r->rec.pid = exec_task_pid(r->task);
		batch[started++] = r;
	}
	if (started == 0)
		return;
	if (put_runs(e, batch, started) < 0) {
		log_warnx("could not record that %zu run(s) are running; a restart records them as lost", started);
		return;
	}
	for (size_t i = 0; i < started; i++)
		engine_tell_run(e, registry_get(e->reg, batch[i]->rec.job), &batch[i]->rec);
}

void run_dispatch(struct engine *e)
{
	struct run *batch[START_BATCH], *r;
	size_t n;

	if (e->dispatching)
		return; /* finish() inside the loop below: the loop goes on */
	e->dispatching = true;
	do {
		n = 0;
		while (!e->stopping && e->running + (int)n < e->cfg.max_running && n < START_BATCH &&
		    (r = queue_pop(e)) != NULL) {
			struct jobrec *rec = registry_get(e->reg, r->rec.job);
			if (rec == NULL) {
				finish(e, r, RUN_LOST, "its job no longer exists");
				continue;
			}
			rec->queued--;
			if (rec->job->disabled && r->rec.trigger != TRIGGER_MANUAL) {
				finish(e, r, RUN_SKIPPED, "the job is disabled");
				continue;
			}
			batch[n++] = r;
		}
		if (n > 0)
			start_batch(e, batch, n);
	} while (n > 0);
	e->dispatching = false;
}

static void on_exit_task(void *ctx, struct exec_task *task, const struct exec_result *result)
{
	struct run *r = ctx;
	struct engine *e = r->e;
	struct jobrec *rec = registry_get(e->reg, r->rec.job);
	struct exec_result copy = *result; /* the result lives in the task */
	const struct exec_result *res = &copy;
	char reason[256] = "";

	exec_task_free(task);
	r->task = NULL;
	e->running--;
	r->rec.end_ms = res->end_ms;
	r->rec.exit_code = res->exit_code;
	r->rec.signal = res->term_signal;
	r->rec.stdout_bytes = (int64_t)res->stream[EXEC_STDOUT].bytes;
	r->rec.stderr_bytes = (int64_t)res->stream[EXEC_STDERR].bytes;
	if (rec && rec->job->async && res->exit_code == 0 && !res->killed && !res->timed_out && !r->async_reported) {
		/* Chronos 2 async job: it ends when it reports its status. */
		r->awaiting_async = true;
		save(e, r);
		run_dispatch(e);
		return;
	}
	if (rec)
		rec->running--;
	if (res->timed_out) {
		snprintf(reason, sizeof(reason), "maxCompletionTime of %" PRId64 " s exceeded", rec ?
		    rec->job->max_completion_time : 0);
		finish(e, r, RUN_FAILED, reason);
	} else if (res->killed) {
		finish(e, r, RUN_KILLED, "killed on request");
	} else if (r->async_reported) {
		r->rec.exit_code = r->async_code;
		finish(e, r, r->async_code == 0 ? RUN_SUCCEEDED : RUN_FAILED, "status reported by the task");
	} else if (res->exit_code == 0) {
		finish(e, r, RUN_SUCCEEDED, NULL);
	} else {
		if (res->term_signal)
			snprintf(reason, sizeof(reason), "ended by signal %d (%s)", res->term_signal,
			    strsignal(res->term_signal));
		else if (res->status_lost)
			snprintf(reason, sizeof(reason), "its exit status was lost");
		else
			snprintf(reason, sizeof(reason), "exited with status %d", res->exit_code);
		finish(e, r, RUN_FAILED, reason);
	}
}

void run_release_retries(struct engine *e, int64_t now)
{
	struct heap_node *n;
	while ((n = heap_min(&e->retries)) != NULL && n->key <= now) {
		struct run *r = container_of(n, struct run, wait);
		struct jobrec *rec = registry_get(e->reg, r->rec.job);
		heap_remove(&e->retries, n);
		r->rec.status = RUN_QUEUED;
		if (rec == NULL) {
			finish(e, r, RUN_LOST, "its job no longer exists");
			continue;
		}
		queue_push(e, rec, r);
	}
}

/* Is pid still the leader of the given task's process group? Checked through its environment, so a recycled
 * pid is never killed. */
static bool is_our_task(int64_t pid, const char *task_id)
{
	char path[64], buf[65536], want[512];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%" PRId64 "/environ", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	snprintf(want, sizeof(want), "GNOMON_TASK_ID=%s", task_id);
	for (char *p = buf; p < buf + n; p += strlen(p) + 1)
		if (strcmp(p, want) == 0)
			return true;
	return false;
}

void run_recover(struct engine *e, const struct run_record *stored)
{
	struct jobrec *rec = registry_get(e->reg, stored->job);
	struct run *r = xcalloc(1, sizeof(*r));
	char reason[256];

	run_record_init(&r->rec);
	r->e = e;
	r->rec = *stored;
	r->rec.task_id = xstrdup(stored->task_id);
	r->rec.job = xstrdup(stored->job);
	r->rec.host = xstrdup(stored->host);
	r->rec.arguments = xstrdup(stored->arguments);
	r->rec.parents = xstrdup(stored->parents);
	r->rec.reason = xstrdup(stored->reason);
	r->override = r->rec.trigger == TRIGGER_MANUAL && stored->arguments[0] ? xstrdup(stored->arguments) : NULL;
	r->high = rec && rec->job->high_priority;
	heap_node_init(&r->wait);
	switch (stored->status) {
	case RUN_QUEUED:
		run_enqueue(e, r);
		return;
	case RUN_WAITING:
		hold(e, r);
		heap_set(&e->retries, &r->wait, r->rec.not_before_ms);
		return;
	case RUN_RUNNING:
		if (rec && rec->job->async && stored->end_ms != RUN_TIME_NONE && stored->exit_code == 0) {
			hold(e, r);
			r->awaiting_async = true;
			rec->running++;
			return;
		}
		if (stored->pid > 0 && is_our_task(stored->pid, stored->task_id)) {
			kill(-(pid_t)stored->pid, SIGKILL);
			snprintf(reason, sizeof(reason), "the server stopped while it ran; its process group %" PRId64
			    " was killed", stored->pid);
		} else {
			snprintf(reason, sizeof(reason), "the server stopped while it ran");
		}
		break;
	default:
		snprintf(reason, sizeof(reason), "the server stopped while it was starting");
		break;
	}
	hold(e, r);
	finish(e, r, RUN_LOST, reason);
}

/* End a run the engine holds that is not in a process: queued, pending, waiting or awaiting its status. */
static void cancel(struct engine *e, struct jobrec *rec, struct run *r, const char *reason)
{
	if (r->queued) {
		queue_unlink(e, r);
		rec->queued--;
	}
	if (rec->pending == r)
		rec->pending = NULL;
	heap_remove(&e->retries, &r->wait);
	if (r->awaiting_async)
		rec->running--;
	finish(e, r, RUN_KILLED, reason);
}

int engine_kill_job(struct engine *e, struct jobrec *rec)
{
	int n = 0;
	/* Processes first: their end arrives later as a loop event. */
	for (struct run *r = e->all; r; r = r->all_next) {
		if (r->task && strcmp(r->rec.job, rec->job->name) == 0) {
			n++;
			if (exec_kill(r->task, (uint64_t)e->cfg.kill_grace_ms) < 0)
				log_debug("run %s: already ending", r->rec.task_id);
		}
	}
	/* Then what has no process; cancel() changes the list, so look again from the start each time. */
	for (;;) {
		struct run *r = e->all;
		while (r && (r->task || strcmp(r->rec.job, rec->job->name) != 0))
			r = r->all_next;
		if (r == NULL)
			break;
		cancel(e, rec, r, "killed before it started");
		n++;
	}
	return n;
}

struct run *run_claim_now(struct engine *e, const struct jobrec *rec, enum run_trigger trigger,
    const char *arguments, const char *parents, int *rc)
{
	int64_t due = engine_now_ms();
	for (int tries = 0; tries < 1000; tries++, due++) {
		struct run *r = run_new(e, rec, due, 0, trigger, arguments);
		if (parents)
			run_record_set(&r->rec.parents, parents);
		*rc = store_claim_run(e->store, &r->rec);
		if (*rc == 0)
			return r;
		run_free(r);
		if (*rc != -EEXIST)
			return NULL;
	}
	return NULL;
}

int engine_run_now(struct engine *e, struct jobrec *rec, const char *arguments, char *err, size_t errlen)
{
	int rc;
	struct run *r = run_claim_now(e, rec, TRIGGER_MANUAL, arguments, NULL, &rc);

	if (r == NULL) {
		snprintf(err, errlen, rc == -EEXIST ? "could not find a free task id" : "store: could not record the run");
		return rc;
	}
	run_enqueue(e, r);
	run_dispatch(e);
	engine_arm(e);
	return 0;
}

int engine_mark_success(struct engine *e, struct jobrec *rec)
{
	struct run_list children = {0};
	int64_t now = engine_now_ms();
	/* The children see this id among their GNOMON_PARENT_TASK_IDS: the success was marked, not run. */
	char *marked = task_id_format(now, 0, rec->job->name, "marked successful");
	bool ok;

	rec->job->success_count++;
	rec->job->last_success_ms = now;
	rec->job->errors_since_last_success = 0;
	ok = store_begin(e->store) == 0;
	if (ok) {
		ok = engine_save_job(e, rec) == 0 && deps_parent_done(e, rec, marked, &children) == 0 &&
		    store_commit(e->store) == 0;
		if (!ok)
			store_rollback(e->store);
	}
	free(marked);
	deps_release(e, &children, ok);
	run_dispatch(e);
	engine_arm(e);
	return ok ? 0 : -EIO;
}

int engine_task_status(struct engine *e, const char *task_id, int status_code, char *err, size_t errlen)
{
	struct run *r = strmap_get(e->runs, task_id);
	struct jobrec *rec = r ? registry_get(e->reg, r->rec.job) : NULL;

	if (r == NULL || rec == NULL || (r->task == NULL && !r->awaiting_async)) {
		snprintf(err, errlen, "taskId: no running task '%s'", task_id);
		return -ENOENT;
	}
	if (r->awaiting_async) {
		rec->running--;
		r->rec.exit_code = status_code;
		finish(e, r, status_code == 0 ? RUN_SUCCEEDED : RUN_FAILED, "status reported by the task");
		return 0;
	}
	r->async_reported = true;
	r->async_code = status_code;
	return 0;
}

void run_stop_all(struct engine *e)
{
	struct run *r = e->all, *next;
	for (; r; r = next) {
		next = r->all_next;
		if (r->task)
			exec_task_free(r->task); /* SIGKILL to its group; the restart records it as lost */
		forget(e, r);
		run_free(r);
	}
	for (size_t i = 0; i < registry_slots(e->reg); i++) {
		struct jobrec *rec = registry_slot(e->reg, i);
		if (rec) {
			rec->pending = NULL;
			rec->running = rec->queued = 0;
		}
	}
	e->queue_head[0] = e->queue_head[1] = e->queue_tail[0] = e->queue_tail[1] = NULL;
	e->queue_len[0] = e->queue_len[1] = 0;
}
