/* Starting a run's process: the account it runs as, its argv (a manual run's arguments), its environment,
 * its working directory and its output files. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/exec.h"
#include "exec/exec_env.h"
#include "job/job_words.h"
#include "history/run_output_files.h"
#include "job/job.h"
#include "scheduler/engine_internal.h"
#include "scheduler/registry.h"
#include "util/xmalloc.h"

/* The argv of a run: a manual run's arguments replace the job's; for a shell job they are appended to the
 * command (Chronos), for an argv job they are split into words as a shell would (nothing is expanded). NULL
 * with err when they cannot be split. */
static char **run_argv(const struct job *j, const struct run *r, char *err, size_t errlen)
{
	char **words, **argv;
	size_t n;

	if (r->override == NULL || r->override[0] == '\0')
		return exec_argv_build(j->command, (const char *const *)j->arguments, j->n_arguments, j->shell);
	if (j->shell) {
		const char *one[1] = {r->override};
		return exec_argv_build(j->command, one, 1, true);
	}
	if (job_words_split(r->override, &words, &n, err, errlen) < 0)
		return NULL;
	argv = exec_argv_build(j->command, (const char *const *)words, n, false);
	free(words);
	return argv;
}

/* What one run's spec points to, kept until its spawn. */
struct launch {
	struct exec_account account;
	struct exec_env_var extra[2];
	char out_path[4096], err_path[4096], cwd[4096];
	char **argv, **envp;
};

/* The runs of one run_launch_many() call. */
struct launch_batch {
	struct engine *e;
	struct run *const *runs;
	struct launch *l;
	exec_exit_cb on_exit;
};

/* Everything before a run's spawn: its account, argv, working directory and environment. It runs on a spawn
 * thread while the loop thread waits in run_launch_many(), so it only reads the engine, the job and the run.
 * 0, or -errno with err. */
static int prepare(void *ctx, size_t i, struct exec_spec *spec, char *err, size_t errlen)
{
	struct launch_batch *b = ctx;
	struct engine *e = b->e;
	struct run *r = b->runs[i];
	struct jobrec *rec = run_jobrec(e, r);
	struct launch *l = &b->l[i];
	const char *run_as;
	int rc;

	if (rec == NULL) {
		snprintf(err, errlen, "its job no longer exists");
		return -ENOENT;
	}
	struct job *j = rec->job;
	run_as = j->run_as_user[0] ? j->run_as_user : e->self.name;
	if ((rc = exec_account_check(&e->self, run_as, &l->account, err, errlen)) < 0)
		return rc;
	if ((l->argv = run_argv(j, r, err, errlen)) == NULL)
		return -EINVAL;
	snprintf(l->cwd, sizeof(l->cwd), "%s/work/%" PRId64, e->cfg.data_dir, r->rec.id);
	if (mkdir(l->cwd, 0700) < 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "cannot create the working directory %.300s: %s", l->cwd, strerror(errno));
		return rc;
	}
	if (l->account.launcher && chown(l->cwd, l->account.user.uid, l->account.user.gid) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot give the working directory %.300s to %s: %s", l->cwd, run_as,
		    strerror(errno));
		return rc;
	}
	run_output_files_path(e->cfg.data_dir, &(struct run_output_key){r->rec.task_id, r->rec.id}, RUN_STDOUT,
	    l->out_path, sizeof(l->out_path));
	run_output_files_path(e->cfg.data_dir, &(struct run_output_key){r->rec.task_id, r->rec.id}, RUN_STDERR,
	    l->err_path, sizeof(l->err_path));
	l->extra[0] = (struct exec_env_var){"GNOMON_PARENT_TASK_IDS", r->rec.parents};
	l->extra[1] = (struct exec_env_var){"GNOMON_DATA_DIR", e->data_dir_abs};
	struct exec_env_input in = {
		.task_id = r->rec.task_id, .job_name = j->name, .job_owner = j->owner, .hostname = e->cfg.hostname,
		.mem = j->mem, .cpus = j->cpus, .disk = j->disk, .run_time_ms = r->rec.due_ms,
		.attempt = (uint32_t)r->rec.attempt, .user = run_as, .home = l->account.user.home,
		.extra = l->extra, .n_extra = 2, .job_env = (const struct exec_env_var *)j->env, .n_job_env = j->n_env,
	};
	l->envp = exec_env_build(&in);
	exec_spec_init(spec);
	spec->argv = l->argv;
	spec->envp = l->envp;
	spec->cwd = l->cwd;
	spec->run_as_user = run_as;
	spec->account = &l->account;
	spec->out_path[EXEC_STDOUT] = l->out_path;
	spec->out_path[EXEC_STDERR] = l->err_path;
	spec->cap_head = spec->cap_tail = e->cfg.log_cap;
	spec->deadline_ms = j->max_completion_time > 0 ? (uint64_t)j->max_completion_time * 1000 : 0;
	spec->grace_ms = (uint64_t)e->cfg.kill_grace_ms;
	spec->on_exit = b->on_exit;
	spec->ctx = r;
	return 0;
}

void run_launch_many(struct engine *e, struct run *const *runs, size_t n, exec_exit_cb on_exit, int *rc,
    char *errs, size_t errlen)
{
	struct launch_batch b = {e, runs, xcalloc(n, sizeof(*b.l)), on_exit};
	struct exec_spec *specs = xcalloc(n, sizeof(*specs));
	struct exec_task **tasks = xcalloc(n, sizeof(*tasks));

	exec_start_many(e->loop, e->spawn_pool, &e->self, specs, n, prepare, &b, tasks, rc, errs, errlen);
	for (size_t i = 0; i < n; i++) {
		runs[i]->task = tasks[i];
		if (rc[i] < 0)
			run_remove_files(e, runs[i]->rec.task_id, runs[i]->rec.id, true); /* a launch that fails leaves no working directory */
		free(b.l[i].argv);
		free(b.l[i].envp);
	}
	free(tasks);
	free(specs);
	free(b.l);
}
