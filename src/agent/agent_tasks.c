/* The tasks the agent holds: what a restart finds (the journal, reconciled with the runner), the commands of a
 * poll answer (start, kill, release) and the runner's events, which become the agent's events. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent_internal.h"
#include "history/run_output_files.h"
#include "runner/agent_wire.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/strmap.h"
#include "util/xmalloc.h"

#define REASON_MAX 1024 /* bytes of a refusal's reason (the protocol's bound) */

struct agent_task *agent_task_add(struct agent *a, const char *task_id, const char *job, json_t *assignment)
{
	struct agent_task *t = xcalloc(1, sizeof(*t));
	json_t *cap = json_object_get(assignment, "outputCap");

	t->a = a;
	t->task_id = xstrdup(task_id);
	t->job = xstrdup(job ? job : "");
	t->assignment = json_incref(assignment);
	t->output_cap = json_is_integer(cap) ? json_integer_value(cap) : 0;
	for (int s = 0; s < 2; s++)
		buf_init(&t->chunk[s], AGENT_CHUNK_MAX);
	/* no cap: no live order (the executor's record has none either way until the end) */
	t->order_off = t->output_cap <= 0;
	order_rec_init(&t->order, t->output_cap > 0 ? (uint64_t)t->output_cap : 0,
	    t->output_cap > 0 ? (uint64_t)t->output_cap : 0);
	buf_init(&t->order_live, AGENT_CHUNK_MAX);
	t->next = a->tasks;
	if (a->tasks)
		a->tasks->prev = t;
	a->tasks = t;
	strmap_put(a->by_id, t->task_id, t);
	return t;
}

void agent_task_free(struct agent_task *t)
{
	struct agent *a = t->a;

	agent_output_stop(t);
	strmap_remove(a->by_id, t->task_id);
	*(t->prev ? &t->prev->next : &a->tasks) = t->next;
	if (t->next)
		t->next->prev = t->prev;
	for (int s = 0; s < 2; s++)
		buf_free(&t->chunk[s]);
	order_rec_free(&t->order);
	buf_free(&t->order_live);
	json_decref(t->assignment);
	free(t->task_id);
	free(t->job);
	free(t);
}

static json_t *event_running(const struct agent_task *t)
{
	return json_pack("{s:s, s:s, s:I, s:I}", "type", "running", "taskId", t->task_id, "pid", (json_int_t)t->pid,
	    "startMs", (json_int_t)t->start_ms);
}

static void refuse(struct agent *a, const char *task_id, const char *reason, bool permanent)
{
	size_t len = strnlen(reason, REASON_MAX);

	while (len > 0 && len < strlen(reason) && ((unsigned char)reason[len] & 0xc0) == 0x80)
		len--; /* cut before a UTF-8 sequence, not inside it */
	log_info_kv(LOG_FIELDS(.event = "task.refused", .task_id = task_id), "task %s refused: %s", task_id, reason);
	agent_event(a, json_pack("{s:s, s:s, s:s%, s:b}", "type", "refused", "taskId", task_id, "reason", reason, len,
	    "permanent", permanent));
}

void agent_task_report_end(struct agent_task *t)
{
	t->ended_queued = true;
	agent_event(t->a, json_pack("{s:s, s:s, s:o}", "type", "ended", "taskId", t->task_id, "result",
	    agent_wire_result_to_json(&t->result)));
}

/* Forget a task the server recorded: the runner's traces (working directory as --keep-work-dirs says), its
 * output files, its journal entry. t may be NULL (a task this agent does not hold). */
static void release(struct agent *a, struct agent_task *t, const char *task_id, const char *job,
    enum runner_outcome outcome)
{
	struct run_output_key key = {task_id};
	char path[PATH_MAX];
	int rc;

	runner_release(a->runner, &(struct runner_ref){task_id, job}, outcome);
	for (int s = 0; s < RUN_NSTREAMS; s++) {
		run_output_files_path(a->cfg.data_dir, &key, (enum run_stream)s, path, sizeof(path));
		unlink(path);
	}
	if ((rc = agent_journal_remove(a->cfg.data_dir, task_id)) < 0 && rc != -ENOENT)
		log_warnx("task %s: cannot remove its journal entry: %s", task_id, strerror(-rc));
	log_debug_kv(LOG_FIELDS(.event = "task.released", .task_id = task_id), "task %s released (%s)", task_id,
	    agent_wire_outcome_name(outcome));
	if (t)
		agent_task_free(t);
}

/* ---- the runner's events ---- */

static void on_event(void *ctx, const struct runner_event *ev)
{
	struct agent *a = ctx;
	struct agent_task *t = ev->ctx;
	const struct runner_result *r = ev->result;

	if (t == NULL)
		return;
	if (ev->type == RUNNER_EVENT_RUNNING) {
		t->pid = ev->pid;
		t->start_ms = ev->start_ms;
		agent_event(a, event_running(t));
		return;
	}
	if (ev->type != RUNNER_EVENT_ENDED)
		return;
	t->handle = NULL;
	t->ended = true;
	t->result = *r;
	log_info_kv(LOG_FIELDS(.event = "task.ended", .job = t->job, .task_id = t->task_id), "task %s ended: %s, exit "
	    "code %d, signal %d%s%s", t->task_id, agent_wire_end_name(r->end), r->exit_code, r->term_signal,
	    r->reason[0] ? ": " : "", r->reason);
	if (t->release_pending) {
		agent_output_stop(t);
		release(a, t, t->task_id, t->job, t->release_outcome);
		return;
	}
	t->final_stream = 0;
	agent_output_kick(t); /* what waits of its live output, its final output, then the ended event */
}

static void on_output(void *ctx, void *task_ctx, const char *task_id, enum run_stream s, const char *data, size_t len)
{
	(void)ctx;
	(void)task_id;
	if (task_ctx)
		agent_output_chunk(task_ctx, s, data, len);
}

void agent_listener(struct agent *a, struct runner_listener *out)
{
	*out = (struct runner_listener){on_event, on_output, a};
}

/* ---- start-up ---- */

struct recovery {
	struct agent *a;
	const struct agent_journal_entry *e;
	size_t n;
};

static void on_reconciled(void *ctx, const struct runner_report *reports, size_t n)
{
	struct recovery *rc = ctx;
	struct agent *a = rc->a;

	for (size_t i = 0; i < n; i++) {
		const struct runner_report *rep = &reports[i];
		struct agent_task *t = strmap_get(a->by_id, rep->task_id);

		if (t == NULL)
			continue;
		if (rep->state == RUNNER_TASK_RUNNING) {
			t->handle = rep->task;
			runner_adopt(a->runner, rep->task, t);
			t->live_off[0] = t->live_off[1] = true; /* what it wrote while nobody listened is not known */
			log_info_kv(LOG_FIELDS(.event = "task.adopted", .job = t->job, .task_id = t->task_id),
			    "task %s still runs (pid %" PRId64 "): adopted", t->task_id, t->pid);
			continue;
		}
		t->ended = true;
		if (rep->state == RUNNER_TASK_ENDED) {
			t->result = *rep->result;
		} else {
			t->result = (struct runner_result){.end = RUNNER_END_LOST, .exit_code = -1, .duration_us = -1,
				.user_cpu_us = -1, .system_cpu_us = -1, .max_rss_kib = -1, .start_ms = t->start_ms,
				.end_ms = clock_now_ms()};
			snprintf(t->result.reason, sizeof(t->result.reason), "%s", t->pid ? "its executor left no trace on "
			    "this agent" : "the agent stopped before it could start it");
		}
		log_info_kv(LOG_FIELDS(.event = "task.ended", .job = t->job, .task_id = t->task_id), "task %s ended while "
		    "the agent was away: %s%s%s", t->task_id, agent_wire_end_name(t->result.end),
		    t->result.reason[0] ? ": " : "", t->result.reason);
	}
}

int agent_tasks_recover(struct agent *a, const struct agent_journal_entry *e, size_t n)
{
	const char **ids = xcalloc(n ? n : 1, sizeof(*ids));
	struct recovery rc = {a, e, n};

	for (size_t i = 0; i < n; i++) {
		struct agent_task *t = strmap_get(a->by_id, e[i].task_id);
		if (t == NULL)
			t = agent_task_add(a, e[i].task_id, e[i].job, e[i].task);
		t->pid = e[i].pid;
		t->start_ms = e[i].start_ms;
		ids[i] = t->task_id;
	}
	runner_reconcile(a->runner, a->epoch, ids, NULL, n, on_reconciled, &rc); /* runner_local answers from inside */
	free(ids);
	return 0;
}

json_t *agent_tasks_json(const struct agent *a)
{
	json_t *tasks = json_array();
	size_t n = 0;

	for (const struct agent_task *t = a->tasks; t && n < AGENT_TASKS_MAX; t = t->next) {
		if (t->handle && !t->release_pending)
			json_array_append_new(tasks, json_pack("{s:s, s:s, s:I, s:I}", "taskId", t->task_id, "state", "running",
			    "pid", (json_int_t)t->pid, "startMs", (json_int_t)t->start_ms));
		else if (t->ended)
			json_array_append_new(tasks, json_pack("{s:s, s:s, s:o}", "taskId", t->task_id, "state", "ended",
			    "result", agent_wire_result_to_json(&t->result)));
		else
			continue;
		n++;
	}
	return tasks;
}

/* ---- commands ---- */

/* A start of a task this agent holds: say how it is. */
static void report_held(struct agent_task *t)
{
	if (t->handle)
		agent_event(t->a, event_running(t));
	else if (t->ended && t->final_stream >= RUN_NSTREAMS)
		agent_task_report_end(t);
	/* else its end's final output is going up, and its ended event follows */
}

/* Check one start command, journal it and add it to the batch (specs[*m], tasks[*m]). */
static void start_one(struct agent *a, json_t *cmd, size_t i, struct agent_assignment *as, struct agent_task **tasks,
    size_t *m)
{
	json_t *task = json_object_get(cmd, "task");
	const char *task_id = json_string_value(json_object_get(task, "taskId"));
	char prefix[64], err[1024];
	struct agent_task *t;

	snprintf(prefix, sizeof(prefix), "commands[%zu].task.", i);
	if (agent_wire_spec_from_json(task, prefix, &as[*m], err, sizeof(err)) < 0) {
		log_warnx("poll: %s", err);
		if (agent_wire_task_id_ok(task_id))
			refuse(a, task_id, err, true);
		goto drop;
	}
	task_id = as[*m].spec.task_id;
	if ((t = strmap_get(a->by_id, task_id)) != NULL) {
		report_held(t);
		goto drop;
	}
	if (as[*m].spec.epoch < a->epoch) {
		snprintf(err, sizeof(err), "stale epoch %" PRIu64 ": this agent has seen epoch %" PRIu64, as[*m].spec.epoch,
		    a->epoch);
		refuse(a, task_id, err, false);
		goto drop;
	}
	if (!agent_lease_valid(a, err, sizeof(err))) {
		refuse(a, task_id, err, false);
		goto drop;
	}
	agent_epoch_seen(a, as[*m].spec.epoch);
	if (agent_journal_write(a->cfg.data_dir, task, 0, 0, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		refuse(a, task_id, err, false);
		goto drop;
	}
	tasks[*m] = agent_task_add(a, task_id, as[*m].spec.job, task);
	as[*m].spec.ctx = tasks[*m];
	(*m)++;
	return;
drop:
	agent_assignment_clear(&as[*m]);
}

/* How runner_start_many() took each task of the batch. */
static void started(struct agent *a, struct agent_task *t, const struct runner_start *st)
{
	char err[1024];

	if (st->rc < 0) {
		char reason[sizeof(st->err)];
		int rc = agent_journal_remove(a->cfg.data_dir, t->task_id);
		if (rc < 0 && rc != -ENOENT)
			log_warnx("task %s: cannot remove its journal entry: %s", t->task_id, strerror(-rc));
		memcpy(reason, st->err, sizeof(reason));
		refuse(a, t->task_id, reason, st->permanent);
		agent_task_free(t);
		return;
	}
	t->handle = st->task;
	if (!st->running) /* its RUNNING event comes */
		return;
	t->pid = st->pid;
	t->start_ms = st->start_ms;
	/* the epoch of the leader that assigned it: which leader started what, in the log */
	log_info_kv(LOG_FIELDS(.event = "task.started", .job = t->job, .task_id = t->task_id), "task %s started (pid %"
	    PRId64 "), assigned in epoch %" PRId64, t->task_id, t->pid,
	    (int64_t)json_integer_value(json_object_get(t->assignment, "epoch")));
	/* the pid goes to the journal too, for the registration after a restart */
	if (agent_journal_write(a->cfg.data_dir, t->assignment, t->pid, t->start_ms, err, sizeof(err)) < 0)
		log_warnx("%s", err);
	agent_event(a, event_running(t));
}

static void start_batch(struct agent *a, json_t *commands)
{
	size_t n = json_array_size(commands), m = 0;
	struct agent_assignment *as = xcalloc(n, sizeof(*as));
	struct agent_task **tasks = xcalloc(n, sizeof(*tasks));
	struct runner_spec *specs;
	struct runner_start *out;
	json_t *cmd;
	size_t i;

	json_array_foreach(commands, i, cmd)
		if (json_string_value(json_object_get(cmd, "type")) &&
		    strcmp(json_string_value(json_object_get(cmd, "type")), "start") == 0)
			start_one(a, cmd, i, as, tasks, &m);
	specs = xcalloc(m ? m : 1, sizeof(*specs));
	out = xcalloc(m ? m : 1, sizeof(*out));
	for (size_t k = 0; k < m; k++)
		specs[k] = as[k].spec;
	if (m > 0)
		runner_start_many(a->runner, specs, m, out);
	for (size_t k = 0; k < m; k++) {
		started(a, tasks[k], &out[k]);
		agent_assignment_clear(&as[k]);
	}
	free(out);
	free(specs);
	free(tasks);
	free(as);
}

static void kill_one(struct agent *a, json_t *cmd)
{
	const char *task_id = json_string_value(json_object_get(cmd, "taskId"));
	json_t *grace = json_object_get(cmd, "graceMs");
	struct agent_task *t = task_id ? strmap_get(a->by_id, task_id) : NULL;

	if (t == NULL || t->handle == NULL) {
		log_debug("kill of task %s, which does not run here", task_id ? task_id : "(none)");
		return;
	}
	log_info_kv(LOG_FIELDS(.event = "task.kill", .job = t->job, .task_id = t->task_id), "task %s: kill (grace %"
	    PRId64 " ms)", t->task_id, json_is_integer(grace) ? (int64_t)json_integer_value(grace) : 0);
	if (runner_kill(a->runner, t->handle, json_is_integer(grace) && json_integer_value(grace) > 0 ?
	    (uint64_t)json_integer_value(grace) : 0) < 0)
		log_debug("task %s is ending already", t->task_id);
}

static void release_one(struct agent *a, json_t *cmd)
{
	const char *task_id = json_string_value(json_object_get(cmd, "taskId"));
	struct agent_task *t = task_id ? strmap_get(a->by_id, task_id) : NULL;
	enum runner_outcome outcome;

	if (!agent_wire_task_id_ok(task_id)) {
		log_warnx("poll: a release without a valid taskId: ignored");
		return;
	}
	if (agent_wire_outcome_parse(json_string_value(json_object_get(cmd, "outcome")), &outcome) < 0) {
		log_warnx("poll: release of %s: outcome is not one of succeeded, failed, killed, lost: taken as lost",
		    task_id);
		outcome = RUNNER_OUTCOME_LOST;
	}
	if (t && t->handle) { /* the server is done with it: it ends now */
		t->release_pending = true;
		t->release_outcome = outcome;
		if (runner_kill(a->runner, t->handle, 0) < 0)
			log_debug("task %s is ending already", task_id);
		return;
	}
	release(a, t, task_id, t ? t->job : "", outcome);
}

void agent_commands_run(struct agent *a, json_t *commands)
{
	json_t *cmd;
	size_t i;

	start_batch(a, commands); /* the starts of one answer go to the runner as one batch */
	json_array_foreach(commands, i, cmd) {
		const char *type = json_string_value(json_object_get(cmd, "type"));
		if (type && strcmp(type, "kill") == 0)
			kill_one(a, cmd);
		else if (type && strcmp(type, "release") == 0)
			release_one(a, cmd);
		else if (type == NULL || strcmp(type, "start") != 0)
			log_warnx("poll: commands[%zu]: unknown type '%s': ignored", i, type ? type : "(none)");
	}
}
