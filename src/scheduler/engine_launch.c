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
#include "exec/exec_words.h"
#include "job/job.h"
#include "scheduler/engine_internal.h"
#include "scheduler/registry.h"

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
	if (exec_words_split(r->override, &words, &n, err, errlen) < 0)
		return NULL;
	argv = exec_argv_build(j->command, (const char *const *)words, n, false);
	free(words);
	return argv;
}

/* The account a run runs as, checked before anything is created for it: 0, or -errno with err. */
static int run_account(struct engine *e, const char *run_as, struct exec_user *user, bool *other, char *err,
    size_t errlen)
{
	int rc;

	*other = strcmp(run_as, e->user) != 0;
	if (!*other)
		return 0;
	if ((rc = exec_user_lookup(run_as, user, err, errlen)) < 0)
		return rc;
	if (user->uid == geteuid()) {
		*other = false; /* another name of the server's own account */
		return 0;
	}
	if (geteuid() != 0) {
		snprintf(err, errlen, "gnomon runs as '%s', not root: cannot run jobs as '%s'", e->user, run_as);
		return -EPERM;
	}
	return 0;
}

int run_launch(struct engine *e, struct jobrec *rec, struct run *r, exec_exit_cb on_exit, char *err, size_t errlen)
{
	struct job *j = rec->job;
	struct exec_spec spec;
	struct exec_user user;
	struct exec_env_var extra[2] = {{"GNOMON_PARENT_TASK_IDS", r->rec.parents}, {"GNOMON_DATA_DIR", e->data_dir_abs}};
	char out_path[4096], err_path[4096], cwd[4096], **argv = NULL, **envp = NULL;
	const char *run_as = j->run_as_user[0] ? j->run_as_user : e->user;
	bool other_user;
	int rc;

	if ((rc = run_account(e, run_as, &user, &other_user, err, errlen)) < 0)
		return rc;
	if ((argv = run_argv(j, r, err, errlen)) == NULL)
		return -EINVAL;
	snprintf(cwd, sizeof(cwd), "%s/work/%" PRId64, e->cfg.data_dir, r->rec.id);
	if (mkdir(cwd, 0700) < 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "cannot create the working directory %.300s: %s", cwd, strerror(errno));
		free(argv);
		return rc;
	}
	if (other_user && chown(cwd, user.uid, user.gid) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot give the working directory %.300s to %s: %s", cwd, run_as, strerror(errno));
		goto out;
	}
	run_log_path(e->cfg.data_dir, r->rec.id, "stdout", out_path, sizeof(out_path));
	run_log_path(e->cfg.data_dir, r->rec.id, "stderr", err_path, sizeof(err_path));
	struct exec_env_input in = {
		.task_id = r->rec.task_id, .job_name = j->name, .job_owner = j->owner, .hostname = e->cfg.hostname,
		.mem = j->mem, .cpus = j->cpus, .disk = j->disk, .run_time_ms = r->rec.due_ms,
		.attempt = (uint32_t)r->rec.attempt, .user = run_as, .home = other_user ? user.home : e->home,
		.extra = extra, .n_extra = 2, .job_env = (const struct exec_env_var *)j->env, .n_job_env = j->n_env,
	};
	envp = exec_env_build(&in);
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
	spec.on_exit = on_exit;
	spec.ctx = r;
	rc = exec_start(e->loop, &spec, &r->task, err, errlen);
out:
	if (rc < 0)
		run_remove_files(e, r->rec.id);
	free(argv);
	free(envp);
	return rc;
}
