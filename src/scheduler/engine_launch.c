/* Starting runs through the runner: what each run runs (its job's command, or a manual run's arguments) and
 * everything its task is told about itself, as one batch. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job/job.h"
#include "job/job_words.h"
#include "runner/runner.h"
#include "scheduler/engine_internal.h"
#include "scheduler/registry.h"
#include "util/xmalloc.h"

/* A job's constraints go to the runner as they are. */
_Static_assert(sizeof(struct runner_constraint) == sizeof(struct job_constraint), "constraint layout");
_Static_assert(offsetof(struct runner_constraint, op) == offsetof(struct job_constraint, op), "constraint layout");
_Static_assert(offsetof(struct runner_constraint, value) == offsetof(struct job_constraint, value),
    "constraint layout");

/* The arguments of a run: a manual run's replace the job's; for a shell job they are appended to the command
 * (Chronos), for an argv job they are split into words as a shell would (nothing is expanded). *words is what
 * to free. -EINVAL with err when they cannot be split. */
static int run_args(const struct job *j, const struct run *r, struct runner_spec *s, char ***words, char *err,
    size_t errlen)
{
	size_t n;

	*words = NULL;
	if (r->override == NULL || r->override[0] == '\0') {
		s->args = (const char *const *)j->arguments;
		s->n_args = j->n_arguments;
		return 0;
	}
	if (j->shell) {
		s->args = (const char *const *)&r->override;
		s->n_args = 1;
		return 0;
	}
	if (job_words_split(r->override, words, &n, err, errlen) < 0)
		return -EINVAL;
	s->args = (const char *const *)*words;
	s->n_args = n;
	return 0;
}

/* The spec of one run of j. */
static void run_spec(const struct engine *e, const struct job *j, struct run *r, struct runner_spec *s)
{
	s->task_id = r->rec.task_id;
	s->epoch = e->cfg.epoch;
	s->job = j->name;
	s->owner = j->owner;
	s->due_ms = r->rec.due_ms;
	s->attempt = r->rec.attempt;
	s->parents = r->rec.parents;
	s->command = j->command;
	s->shell = j->shell;
	s->container = j->container_json;
	s->env = (const struct runner_env *)j->env;
	s->n_env = j->n_env;
	s->run_as_user = j->run_as_user;
	s->cpus = j->cpus;
	s->mem = j->mem;
	s->disk = j->disk;
	s->constraints = (const struct runner_constraint *)j->constraints;
	s->n_constraints = j->n_constraints;
	s->start_by_ms = r->rec.trigger == TRIGGER_SCHEDULE ? r->rec.due_ms + job_epsilon_ms(j) : 0;
	s->deadline_ms = j->max_completion_time > 0 ? (uint64_t)j->max_completion_time * 1000 : 0;
	s->grace_ms = (uint64_t)e->cfg.kill_grace_ms;
	s->output_cap = e->cfg.log_cap;
	s->ctx = r;
}

void run_launch_many(struct engine *e, struct run *const *runs, size_t n, struct runner_start *out)
{
	struct runner_spec *specs = xcalloc(n, sizeof(*specs));
	struct runner_start *taken = xcalloc(n, sizeof(*taken));
	char ***words = xcalloc(n, sizeof(*words));
	size_t *idx = xcalloc(n, sizeof(*idx)), m = 0;

	for (size_t i = 0; i < n; i++) {
		struct jobrec *rec = run_jobrec(e, runs[i]);
		memset(&out[i], 0, sizeof(out[i]));
		if (rec == NULL) {
			out[i].rc = -ENOENT;
			snprintf(out[i].err, sizeof(out[i].err), "its job no longer exists");
			continue;
		}
		if ((out[i].rc = run_args(rec->job, runs[i], &specs[m], &words[m], out[i].err, sizeof(out[i].err))) < 0)
			continue;
		run_spec(e, rec->job, runs[i], &specs[m]);
		idx[m++] = i;
	}
	if (m > 0)
		runner_start_many(e->cfg.runner, specs, m, taken);
	for (size_t k = 0; k < m; k++) {
		out[idx[k]] = taken[k];
		free(words[k]);
	}
	free(idx);
	free(words);
	free(taken);
	free(specs);
}
