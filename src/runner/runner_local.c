/* The embedded agent's starts, events and kills: a batch of tasks is prepared and spawned on the spawn threads
 * (exec_start_many), each task's end comes back from exec as a loop event and goes to the listener, or is kept
 * for the next reconciliation when nobody listens. */
#include "runner/runner_local.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/exec.h"
#include "exec/exec_env.h"
#include "exec/spawn_pool.h"
#include "history/run_name.h"
#include "history/run_output_files.h"
#include "runner/runner_local_internal.h"
#include "runner/workdirs.h"
#include "util/log.h"
#include "util/rmtree.h"
#include "util/self_path.h"
#include "util/xmalloc.h"

bool local_epoch_ok(struct local *l, uint64_t epoch)
{
	if (epoch < l->epoch)
		return false;
	l->epoch = epoch;
	return true;
}

/* What one task's exec spec points to, kept until its spawn. */
struct launch {
	struct exec_account account;
	struct exec_env_var extra[4];
	char epoch[24]; /* GNOMON_EPOCH */
	char out_path[PATH_MAX], err_path[PATH_MAX], order_path[PATH_MAX], cwd[PATH_MAX], journal[PATH_MAX];
	char **argv, **envp;
	struct cgroup_spec cg;
	char cg_dirs[CGROUP_NCTL][PATH_MAX];
	char env_file[PATH_MAX];   /* a container's: its variables (--env-file), in its working directory */
};

/* The tasks of one exec_start_many() call: specs[idx[k]] is spawned as task k. */
struct launch_batch {
	const struct local *l;
	const struct runner_spec *specs;
	const size_t *idx;
	struct local_task **tasks;
	struct launch *launch;
};

static void on_output(void *ctx, enum exec_stream s, const char *data, size_t len);

/* Create work/<name> for a task (0700) and work/<name>.task, its task id, which a sweep after a restart reads to
 * learn whose directory it is (the name alone does not say). Its path goes into cwd. 0, or -errno with err. */
_Static_assert(RUN_NAME_MAX <= WORKDIRS_NAME_MAX, "a run's name fits the work-dirs thread's");

static int make_work_dir(const struct local *l, const char *task_id, char *cwd, size_t len, char *err, size_t errlen)
{
	char name[RUN_NAME_MAX], path[PATH_MAX];
	size_t n = strlen(task_id);
	int fd, rc = 0;

	run_name(task_id, name);
	snprintf(path, sizeof(path), "%s/work/%s%s", l->data_dir, name, WORKDIRS_TASK_SUFFIX);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0 ||
	    write(fd, task_id, n) != (ssize_t)n)
		rc = -errno;
	if (fd >= 0 && close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc < 0) {
		snprintf(err, errlen, "cannot write %.300s: %s", path, strerror(-rc));
		return rc;
	}
	snprintf(cwd, len, "%s/work/%s", l->data_dir, name);
	if (mkdir(cwd, 0700) < 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "cannot create the working directory %.300s: %s", cwd, strerror(errno));
	}
	return rc;
}

/* A container task's argv: the runtime's run, marked beside its journal. The task's variables go into a file
 * for the container (--env-file) and the runtime itself gets a clean environment of its own, so that no job
 * variable configures it (CONTAINERS_CONF, LD_PRELOAD, DOCKER_HOST...). 0, or -errno with err. */
static int container_argv(const struct local *l, const struct runner_spec *s, struct launch *ln, char *err,
    size_t errlen)
{
	char **clean;
	int rc;

	if ((rc = local_container_mark(l, s->task_id, err, errlen)) < 0 ||
	    (rc = local_container_host_paths(l, s->container, err, errlen)) < 0)
		return rc;
	if ((size_t)snprintf(ln->env_file, sizeof(ln->env_file), "%s/" LOCAL_CONTAINER_ENV_FILE, ln->cwd) >=
	    sizeof(ln->env_file)) {
		snprintf(err, errlen, "the working directory's path is too long");
		return -ENAMETOOLONG;
	}
	if ((rc = local_container_env(s, &ln->account, ln->envp, ln->env_file, &clean, err, errlen)) < 0)
		return rc;
	free(ln->envp);
	ln->envp = clean;
	struct container_task ct = {
		.container = s->container, .task_id = s->task_id, .job = s->job, .agent = l->agent_id[0] ? l->agent_id
		: l->hostname, .data_dir = l->data_dir_abs, .command = s->command, .args = s->args, .n_args = s->n_args,
		.shell = s->shell, .cpus = s->cpus, .mem = s->mem, .env_file = ln->env_file,
	};
	if ((ln->argv = container_run_argv(&l->ctr, &ct, err, errlen)) == NULL)
		return -EINVAL;
	return 0;
}

/* Everything before a task's spawn: its account, argv, working directory, output files and environment. It runs
 * on a spawn thread while the loop thread waits in exec_start_many(), so it only reads the runner's settings
 * (fixed since its creation) and the spec, and writes its own launch. 0, or -errno with err. */
static int prepare(void *ctx, size_t k, struct exec_spec *es, char *err, size_t errlen)
{
	struct launch_batch *b = ctx;
	const struct local *l = b->l;
	const struct runner_spec *s = &b->specs[b->idx[k]];
	struct launch *ln = &b->launch[k];
	struct run_output_key key = {s->task_id};
	const char *run_as = s->run_as_user && s->run_as_user[0] ? s->run_as_user : l->self.name;
	int rc;

	if ((rc = exec_account_check(&l->self, run_as, &ln->account, err, errlen)) < 0)
		return rc;
	if ((rc = make_work_dir(l, s->task_id, ln->cwd, sizeof(ln->cwd), err, errlen)) < 0)
		return rc;
	if (ln->account.launcher && chown(ln->cwd, ln->account.user.uid, ln->account.user.gid) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot give the working directory %.300s to %s: %s", ln->cwd, run_as,
		    strerror(errno));
		return rc;
	}
	run_output_files_path(l->data_dir, &key, RUN_STDOUT, ln->out_path, sizeof(ln->out_path));
	run_output_files_path(l->data_dir, &key, RUN_STDERR, ln->err_path, sizeof(ln->err_path));
	run_output_files_path(l->data_dir, &key, RUN_ORDER, ln->order_path, sizeof(ln->order_path));
	snprintf(ln->epoch, sizeof(ln->epoch), "%" PRIu64, s->epoch);
	ln->extra[0] = (struct exec_env_var){"GNOMON_PARENT_TASK_IDS", s->parents};
	ln->extra[1] = (struct exec_env_var){"GNOMON_DATA_DIR", l->data_dir_abs};
	ln->extra[2] = (struct exec_env_var){"GNOMON_EPOCH", ln->epoch};
	ln->extra[3] = (struct exec_env_var){"GNOMON_AGENT", l->agent_id};
	struct exec_env_input in = {
		.task_id = s->task_id, .job_name = s->job, .job_owner = s->owner, .hostname = l->hostname,
		.mem = s->mem, .cpus = s->cpus, .disk = s->disk, .run_time_ms = s->due_ms, .attempt = (uint32_t)s->attempt,
		.user = run_as, .home = ln->account.user.home, .extra = ln->extra, .n_extra = l->agent_id[0] ? 4 : 3,
		.job_env = (const struct exec_env_var *)s->env, .n_job_env = s->n_env,
	};
	ln->envp = exec_env_build(&in);
	if (s->container == NULL)
		ln->argv = exec_argv_build(s->command, s->args, s->n_args, s->shell);
	else if ((rc = container_argv(l, s, ln, err, errlen)) < 0)
		return rc;
	exec_spec_init(es);
	es->executor = l->executor;
	local_journal(l, s->task_id, ln->journal, sizeof(ln->journal));
	es->journal = ln->journal;
	es->argv = ln->argv;
	es->envp = ln->envp;
	es->cwd = ln->cwd;
	es->run_as_user = run_as;
	es->account = &ln->account;
	es->out_path[EXEC_STDOUT] = ln->out_path;
	es->out_path[EXEC_STDERR] = ln->err_path;
	es->order_path = ln->order_path;
	es->cap_head = es->cap_tail = s->output_cap;
	es->deadline_ms = s->deadline_ms;
	es->grace_ms = s->grace_ms;
	es->lease = l->lease_file;
	if (l->cg.version != CGROUP_NONE) {
		char name[CGROUP_NAME_MAX + 1];
		struct cgroup_limits lim;
		cgroup_name(s->task_id, name);
		cgroup_limits_of(s->cpus, s->mem, l->pids_max, &lim);
		cgroup_spec_of(&l->cg, name, &lim, ln->cg_dirs, &ln->cg);
		es->cgroup = &ln->cg;
	}
	es->on_output = on_output;
	es->on_exit = local_on_exit;
	es->ctx = b->tasks[k];
	return 0;
}

/* Remove what a task that did not start left: its output files and working directory (at once: the same run
 * may be started again right after). */
static void remove_leftovers(const struct local *l, const struct runner_spec *s)
{
	struct run_output_key key = {s->task_id};
	char path[PATH_MAX], name[RUN_NAME_MAX], err[512];
	int rc;

	for (int st = 0; st < RUN_NSTREAMS; st++) {
		run_output_files_path(l->data_dir, &key, (enum run_stream)st, path, sizeof(path));
		unlink(path);
	}
	run_name(s->task_id, name);
	snprintf(path, sizeof(path), "%s/work/%s", l->data_dir, name);
	if ((rc = rmtree_at(AT_FDCWD, path, err, sizeof(err))) < 0 && rc != -ENOENT)
		log_warnx("could not remove all of %s", err);
	snprintf(path, sizeof(path), "%s/work/%s%s", l->data_dir, name, WORKDIRS_TASK_SUFFIX);
	unlink(path);
	snprintf(path, sizeof(path), "%s/work/%s%s", l->data_dir, name, WORKDIRS_CONTAINER_SUFFIX);
	unlink(path);
}

/* The tasks refused before anything is made for them; true when s is. */
static bool refuse(struct local *l, const struct runner_spec *s, struct runner_start *out)
{
	if (!local_epoch_ok(l, s->epoch)) {
		out->rc = -ESTALE;
		snprintf(out->err, sizeof(out->err), "epoch %" PRIu64 " is older than %" PRIu64 ", the newest this agent "
		    "has seen", s->epoch, l->epoch);
		return true;
	}
	if (s->container && l->ctr.kind == CONTAINER_NONE) {
		out->rc = -ENOTSUP;
		out->permanent = true;
		snprintf(out->err, sizeof(out->err), "%s", l->ctr.why);
		return true;
	}
	return false;
}

void local_journal(const struct local *l, const char *task_id, char *out, size_t len)
{
	char name[RUN_NAME_MAX];

	run_name(task_id, name);
	snprintf(out, len, "%s/work/%s", l->data_dir, name);
}

static struct local_task *task_new(struct local *l, const char *task_id, void *ctx)
{
	struct local_task *t = xcalloc(1, sizeof(*t));

	t->l = l;
	t->task_id = xstrdup(task_id);
	t->ctx = ctx;
	return t;
}

static void task_free(struct local_task *t)
{
	free(t->task_id);
	free(t);
}

static void link_task(struct local *l, struct local_task *t)
{
	t->prev = NULL;
	t->next = l->tasks;
	if (l->tasks)
		l->tasks->prev = t;
	l->tasks = t;
}

struct local_task *local_task_add(struct local *l, const char *task_id, void *ctx)
{
	struct local_task *t = task_new(l, task_id, ctx);
	link_task(l, t);
	return t;
}

static void unlink_task(struct local *l, struct local_task *t)
{
	*(t->prev ? &t->prev->next : &l->tasks) = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->prev = t->next = NULL;
}

void local_task_drop(struct local *l, struct local_task *t)
{
	unlink_task(l, t);
	task_free(t);
}

static void local_start_many(struct runner *r, const struct runner_spec *specs, size_t n, struct runner_start *out)
{
	struct local *l = (struct local *)r;
	size_t *idx = xmalloc(n * sizeof(*idx)), m = 0;
	struct launch_batch b = {l, specs, idx, NULL, NULL};
	struct exec_spec *es;
	struct exec_task **exec;
	char *errs;
	int *rc;

	for (size_t i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		if (!refuse(l, &specs[i], &out[i]))
			idx[m++] = i;
	}
	b.tasks = xcalloc(m, sizeof(*b.tasks));
	b.launch = xcalloc(m, sizeof(*b.launch));
	es = xcalloc(m, sizeof(*es));
	exec = xcalloc(m, sizeof(*exec));
	rc = xcalloc(m, sizeof(*rc));
	errs = xcalloc(m, sizeof(out->err));
	for (size_t k = 0; k < m; k++)
		b.tasks[k] = task_new(l, specs[idx[k]].task_id, specs[idx[k]].ctx);
	if (m > 0)
		exec_start_many(l->loop, l->pool, &l->self, es, m, prepare, &b, exec, rc, errs, sizeof(out->err));
	for (size_t k = 0; k < m; k++) {
		struct runner_start *o = &out[idx[k]];
		struct local_task *t = b.tasks[k];
		if (rc[k] < 0) {
			o->rc = rc[k];
			memcpy(o->err, errs + k * sizeof(out->err), sizeof(out->err));
			remove_leftovers(l, &specs[idx[k]]);
			task_free(t);
		} else {
			t->exec = exec[k];
			link_task(l, t);
			o->task = LOCAL_HANDLE(t);
			o->running = true;
			o->start_ms = exec_task_start_ms(t->exec);
			o->pid = exec_task_pid(t->exec);
		}
		free(b.launch[k].argv);
		free(b.launch[k].envp);
	}
	free(errs);
	free(rc);
	free(exec);
	free(es);
	free(b.launch);
	free(b.tasks);
	free(idx);
}

static void on_output(void *ctx, enum exec_stream s, const char *data, size_t len)
{
	struct local_task *t = ctx;
	struct local *l = t->l;

	if (l->listening && l->listener.on_output)
		l->listener.on_output(l->listener.ctx, t->ctx, t->task_id, (enum run_stream)s, data, len);
}

/* How exec saw the task end, in the interface's terms. */
void local_result_of(const struct exec_result *res, struct runner_result *out)
{
	memset(out, 0, sizeof(*out));
	if (res->lease_lapsed)
		out->end = RUNNER_END_LOST;
	else if (res->timed_out)
		out->end = RUNNER_END_TIMED_OUT;
	else if (res->killed)
		out->end = RUNNER_END_KILLED;
	else if (res->term_signal)
		out->end = RUNNER_END_SIGNALLED;
	else
		out->end = RUNNER_END_EXITED;
	if (res->status_lost)
		snprintf(out->reason, sizeof(out->reason), "its exit status was lost");
	if (res->lease_lapsed)
		snprintf(out->reason, sizeof(out->reason), "killed by its executor: its agent's lease lapsed (the agent had "
		    "heard from no server for %.1f s), so a server may run it elsewhere", (double)res->lease_silent_ms / 1000);
	out->exit_code = res->exit_code;
	out->term_signal = res->term_signal;
	out->core_dumped = res->core_dumped;
	out->start_ms = res->start_ms;
	out->end_ms = res->end_ms;
	out->duration_us = res->duration_us;
	out->bytes[RUN_STDOUT] = (int64_t)res->stream[EXEC_STDOUT].bytes;
	out->bytes[RUN_STDERR] = (int64_t)res->stream[EXEC_STDERR].bytes;
	out->user_cpu_us = res->user_cpu_us;
	out->system_cpu_us = res->system_cpu_us;
	out->max_rss_kib = res->max_rss_kib;
	out->peak_mem_bytes = res->peak_mem_bytes;
	if (res->oom_killed && !res->timed_out && !res->killed && (res->term_signal || res->exit_code != 0)) {
		char how[64];
		if (res->term_signal)
			snprintf(how, sizeof(how), "ended by signal %d", res->term_signal);
		else
			snprintf(how, sizeof(how), "exited with status %d", res->exit_code);
		snprintf(out->reason, sizeof(out->reason), "out of memory: limit %" PRId64 " MiB (%s)",
		    res->mem_limit / 1048576, how);
	}
}

/* Report a task's end (its container, if any, is gone). */
static void report_end(struct local_task *t)
{
	struct local *l = t->l;

	if (!l->listening) {
		t->ended = true; /* for the next reconciliation */
		return;
	}
	unlink_task(l, t);
	struct runner_event ev = {
		.type = RUNNER_EVENT_ENDED, .task = LOCAL_HANDLE(t), .ctx = t->ctx, .task_id = t->task_id,
		.result = &t->result,
	};
	l->listener.on_event(l->listener.ctx, &ev);
	task_free(t);
}

void local_on_exit(void *ctx, struct exec_task *task, const struct exec_result *res)
{
	struct local_task *t = ctx;

	local_result_of(res, &t->result); /* res lives in the task */
	exec_task_free(task);
	t->exec = NULL;
	if (!local_container_ended(t->l, t, report_end))
		report_end(t);
}

static int local_kill(struct runner *r, struct runner_task *h, uint64_t grace_ms)
{
	struct local_task *t = LOCAL_TASK(h);

	(void)r;
	return t->exec ? exec_kill(t->exec, grace_ms) : -ESRCH;
}

static void local_attach(struct runner *r, const struct runner_listener *listener)
{
	struct local *l = (struct local *)r;

	l->listening = listener != NULL;
	if (listener) {
		l->listener = *listener;
		return;
	}
	memset(&l->listener, 0, sizeof(l->listener));
	for (struct local_task *t = l->tasks; t; t = t->next)
		t->ctx = NULL;
}

static void local_adopt(struct runner *r, struct runner_task *h, void *ctx)
{
	(void)r;
	LOCAL_TASK(h)->ctx = ctx;
}

static void local_release(struct runner *r, const struct runner_ref *ref, enum runner_outcome outcome)
{
	struct local *l = (struct local *)r;
	char name[RUN_NAME_MAX];

	for (struct local_task *t = l->tasks; t; t = t->next) {
		if (t->ended && strcmp(t->task_id, ref->task_id) == 0) {
			unlink_task(l, t);
			task_free(t);
			break;
		}
	}
	/* Its process is gone: its working directory goes, or is kept (--keep-work-dirs). */
	run_name(ref->task_id, name);
	if (l->workdirs)
		workdirs_ended(l->workdirs, name, outcome == RUNNER_OUTCOME_FAILED || outcome == RUNNER_OUTCOME_LOST,
		    ref->job, ref->task_id);
}

static void local_purge(struct runner *r, const struct runner_ref *ref)
{
	struct local *l = (struct local *)r;
	char name[RUN_NAME_MAX];

	run_name(ref->task_id, name);
	if (l->workdirs)
		workdirs_remove(l->workdirs, name);
}

static void local_free(struct runner *r)
{
	struct local *l = (struct local *)r;
	struct local_task *t, *next;

	local_container_forget(l);
	for (t = l->tasks; t; t = next) {
		next = t->next;
		if (l->stop_tasks_on_exit && t->exec) {
			char path[PATH_MAX + 16];
			int fd;
			local_journal(l, t->task_id, path, PATH_MAX);
			strcat(path, LOCAL_STOPPED_SUFFIX);
			if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) >= 0)
				close(fd);
			exec_task_free(t->exec); /* SIGKILL to its group; the next start records it lost (.stopped) */
		} else
			exec_task_detach(t->exec); /* it goes on: the next runner here adopts it */
		task_free(t);
	}
	cgroup_host_release(&l->cg);
	workdirs_free(l->workdirs); /* once the directory it is on is done; the rest waits for the next start */
	spawn_pool_free(l->pool);
	free(l->data_dir);
	free(l->data_dir_abs);
	free(l->lease_file);
	free(l->executor);
	free(l->hostname);
	free(l->agent_id);
	free(l);
}

/* The executor binary: the one given, or gnomon-executor beside this process's binary. */
static int find_executor(const char *given, char **out, char *err, size_t errlen)
{
	int rc;

	if (given)
		*out = xstrdup(given);
	else if ((rc = self_path_beside("gnomon-executor", out, err, errlen)) < 0)
		return rc;
	if (access(*out, X_OK) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot run %s (every task runs under it; it is built and installed beside gnomon): "
		    "%s", *out, strerror(errno));
		return rc;
	}
	return 0;
}

static const struct runner_ops local_ops = {
	.attach = local_attach,
	.start_many = local_start_many,
	.kill = local_kill,
	.reconcile = local_reconcile,
	.adopt = local_adopt,
	.release = local_release,
	.purge = local_purge,
	.free = local_free,
};

/* Find the host's cgroups once, and say once how resources are enforced. */
static void detect_cgroups(struct local *l, const struct runner_local_config *cfg)
{
	char what[PATH_MAX + 128], sub[64];
	int swept;

	l->pids_max = cfg->task_pids_max;
	if (!cfg->enforce_resources) {
		memset(&l->cg, 0, sizeof(l->cg));
		snprintf(l->cg.layout, sizeof(l->cg.layout), "none");
		snprintf(l->cg.why, sizeof(l->cg.why), "--enforce-resources=false");
		log_info("resources: not enforced (--enforce-resources=false): jobs' mem and cpus are not limits");
		return;
	}
	cgroup_agent_name(l->data_dir_abs, sub, sizeof(sub));
	if (cgroup_host_detect(sub, &l->cg) < 0) {
		log_warnx("resources: NOT enforced, tasks run without cgroups: %s", l->cg.why);
		return;
	}
	cgroup_host_describe(&l->cg, what, sizeof(what));
	log_info("resources: enforced through cgroups %s (mem, cpus, %" PRIu64 " pids per task)", what, l->pids_max);
	if ((swept = cgroup_host_sweep(&l->cg)) > 0)
		log_info("resources: removed %d cgroups of runs whose executor had died", swept);
}

int runner_local_new(uv_loop_t *loop, const struct runner_local_config *cfg, struct runner **out, char *err,
    size_t errlen)
{
	struct local *l;
	char path[PATH_MAX];
	int rc;

	snprintf(path, sizeof(path), "%s/work", cfg->data_dir);
	if (mkdir(path, 0711) < 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return rc;
	}
	l = xcalloc(1, sizeof(*l));
	l->base.ops = &local_ops;
	l->loop = loop;
	exec_user_self(&l->self);
	l->data_dir = xstrdup(cfg->data_dir);
	if ((l->data_dir_abs = realpath(cfg->data_dir, NULL)) == NULL)
		l->data_dir_abs = xstrdup(cfg->data_dir);
	l->hostname = xstrdup(cfg->hostname ? cfg->hostname : "");
	l->agent_id = xstrdup(cfg->agent_id ? cfg->agent_id : "");
	l->lease_file = cfg->lease_file ? xstrdup(cfg->lease_file) : NULL;
	l->stop_tasks_on_exit = cfg->stop_tasks_on_exit;
	if (cfg->containers)
		l->ctr = *cfg->containers;
	else
		snprintf(l->ctr.why, sizeof(l->ctr.why), "this agent cannot run containers");
	if ((rc = find_executor(cfg->executor, &l->executor, err, errlen)) < 0) {
		local_free(&l->base);
		return rc;
	}
	if (cfg->spawn_threads > 1 && spawn_pool_new(cfg->spawn_threads - 1, &l->pool) < 0)
		log_warnx("cannot start the spawn threads: runs that start together are spawned one by one");
	if ((rc = workdirs_new(path, cfg->keep_work_dirs, cfg->keep_work_dirs_max, &l->workdirs)) < 0) {
		snprintf(err, errlen, "cannot start the thread that removes working directories: %s", strerror(-rc));
		local_free(&l->base);
		return rc;
	}
	if (cfg->past)
		local_sweep_work_dirs(l, cfg->past, cfg->legacy, cfg->past_ctx);
	detect_cgroups(l, cfg);
	*out = &l->base;
	return 0;
}

void runner_local_cgroups(const struct runner *r, struct cgroup_host *out)
{
	*out = ((const struct local *)(const void *)r)->cg;
}
