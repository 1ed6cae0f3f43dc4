/* The control layer without the HTTP server: a real store in a temporary directory, the engine on a loop with a
 * runner that only pretends (every task runs until it is killed), and the commands' codes, messages and effects:
 * put (Chronos's refusals), delete with re-parenting, run now, kill, mark success, task status. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "control/control.h"
#include "history/history.h"
#include "history/history_sqlite.h"
#include "job/job.h"
#include "job/job_json.h"
#include "runner/runner.h"
#include "schedule/schedule.h"
#include "scheduler/engine.h"
#include "scheduler/registry.h"
#include "state/state.h"
#include "state/state_sqlite.h"
#include "store/store.h"
#include "util/clock_uv.h"
#include "util/rmtree.h"
#include "util/xmalloc.h"

static const struct control_who test_who = {"test", "anonymous", "test", "test"};

/* A runner whose tasks run until killed; kills are delivered by deliver_kills(), from the loop's side. */
struct fake_task {
	void *ctx;
	char task_id[256];
	bool kill;
	bool ended;
};

struct fake_runner {
	struct runner base;
	struct runner_listener l;
	struct fake_task *tasks[64];
	size_t n;
};

static void fake_attach(struct runner *r, const struct runner_listener *l)
{
	struct fake_runner *f = (struct fake_runner *)r;
	if (l)
		f->l = *l;
	else
		memset(&f->l, 0, sizeof(f->l));
}

static void fake_start_many(struct runner *r, const struct runner_spec *specs, size_t n, struct runner_start *out)
{
	struct fake_runner *f = (struct fake_runner *)r;
	for (size_t i = 0; i < n; i++) {
		struct fake_task *t = xcalloc(1, sizeof(*t));
		assert_true(f->n < 64);
		t->ctx = specs[i].ctx;
		snprintf(t->task_id, sizeof(t->task_id), "%s", specs[i].task_id);
		f->tasks[f->n++] = t;
		out[i] = (struct runner_start){.rc = 0, .running = true, .task = (struct runner_task *)t,
			.start_ms = 1};
	}
}

static int fake_kill(struct runner *r, struct runner_task *task, uint64_t grace_ms)
{
	struct fake_task *t = (struct fake_task *)task;
	(void)r;
	(void)grace_ms;
	if (t->kill)
		return -ESRCH;
	t->kill = true;
	return 0;
}

static void fake_reconcile(struct runner *r, uint64_t epoch, const char *const *task_ids,
    const char *const *agents, size_t n, runner_reconciled_fn done, void *ctx)
{
	(void)agents;
	(void)r;
	(void)epoch;
	(void)task_ids;
	(void)n;
	done(ctx, NULL, 0);
}

static void fake_adopt(struct runner *r, struct runner_task *t, void *ctx)
{
	(void)r;
	((struct fake_task *)t)->ctx = ctx;
}

static void fake_release(struct runner *r, const struct runner_ref *ref, enum runner_outcome outcome)
{
	(void)r;
	(void)ref;
	(void)outcome;
}

static void fake_purge(struct runner *r, const struct runner_ref *ref)
{
	(void)r;
	(void)ref;
}

static void fake_free(struct runner *r)
{
	struct fake_runner *f = (struct fake_runner *)r;
	for (size_t i = 0; i < f->n; i++)
		free(f->tasks[i]);
	free(f);
}

static const struct runner_ops fake_ops = {fake_attach, fake_start_many, fake_kill, fake_reconcile, fake_adopt,
	fake_release, fake_purge, fake_free};

/* The tasks killed end now, as RUNNER_END_KILLED. */
static void deliver_kills(struct fake_runner *f)
{
	for (size_t i = 0; i < f->n; i++) {
		struct fake_task *t = f->tasks[i];
		if (!t->kill || t->ended)
			continue;
		struct runner_result res = {.end = RUNNER_END_KILLED, .exit_code = -1, .start_ms = 1, .end_ms = 2,
			.duration_us = -1, .user_cpu_us = -1, .system_cpu_us = -1, .max_rss_kib = -1};
		struct runner_event ev = {.type = RUNNER_EVENT_ENDED, .task = (struct runner_task *)t, .ctx = t->ctx,
			.task_id = t->task_id, .result = &res};
		t->ended = true;
		f->l.on_event(f->l.ctx, &ev);
	}
}

struct fixture {
	char dir[64];
	uv_loop_t loop;
	struct store *store;
	struct state *state;
	struct registry *reg;
	struct schedule_zones *zones;
	struct fake_runner *runner;
	struct clock *clock;
	struct history *history;
	struct engine *engine;
	struct control *control;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char err[256];
	struct engine_config cfg = {.hostname = "test", .max_running = 8, .kill_grace_ms = 10, .log_cap = 1024,
		.epoch = 1};

	snprintf(f->dir, sizeof(f->dir), "/tmp/gnomon-control-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(uv_loop_init(&f->loop), 0);
	assert_int_equal(store_open(f->dir, &f->store, err, sizeof(err)), 0);
	f->state = state_sqlite_new(f->store);
	f->reg = registry_new();
	f->zones = schedule_zones_new();
	f->runner = xcalloc(1, sizeof(*f->runner));
	f->runner->base.ops = &fake_ops;
	cfg.runner = &f->runner->base;
	f->clock = clock_uv_new(&f->loop);
	cfg.clock = f->clock;
	assert_int_equal(history_sqlite_new(store_connection(f->store), &f->history, err, sizeof(err)), 0);
	cfg.history = f->history;
	f->engine = engine_new(f->reg, f->state, f->zones, &cfg);
	assert_int_equal(engine_start(f->engine), 0);
	f->control = control_new(&(struct control_config){.reg = f->reg, .state = f->state, .engine = f->engine,
		.zones = f->zones, .clock = f->clock});
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	control_free(f->control);
	engine_stop(f->engine);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	clock_uv_free(f->clock);
	runner_free(&f->runner->base);
	registry_free(f->reg);
	schedule_zones_free(f->zones);
	history_free(f->history);
	state_free(f->state);
	store_close(f->store);
	char err[256];
	assert_int_equal(rmtree_at(AT_FDCWD, f->dir, err, sizeof(err)), 0);
	free(f);
	return 0;
}

static int put(struct fixture *f, const char *json, enum control_put_kind kind, char *err, size_t errlen)
{
	err[0] = '\0';
	return control_put_job(f->control, json, strlen(json), kind, &test_who, err, errlen);
}

#define SCHEDULED(name) "{\"name\":\"" name "\",\"command\":\"true\",\"schedule\":\"R/2030-01-01T00:00:00Z/P1D\"}"
#define DEPENDENT(name, parents) "{\"name\":\"" name "\",\"command\":\"true\",\"parents\":[" parents "]}"

static void test_put(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *json;
		enum control_put_kind kind;
		int rc;
		const char *err; /* the message's start */
	} rows[] = {
		{SCHEDULED("a"), CONTROL_PUT_ANY, 0, ""},
		{DEPENDENT("b", "\"a\""), CONTROL_PUT_DEPENDENT, 0, ""},
		{DEPENDENT("c", "\"a\",\"b\""), CONTROL_PUT_ANY, 0, ""},
		{SCHEDULED("a"), CONTROL_PUT_ANY, 0, ""}, /* replaced */
		{"{", CONTROL_PUT_ANY, -EINVAL, ""},
		{SCHEDULED("d"), CONTROL_PUT_DEPENDENT, -EINVAL, "parents: required"},
		{DEPENDENT("d", ""), CONTROL_PUT_ANY, -EINVAL, "parents: a dependent job needs at least one parent"},
		{DEPENDENT("d", "\"nope\""), CONTROL_PUT_ANY, -EINVAL, "parents: job 'd' has unknown parent 'nope'"},
		{DEPENDENT("b", "\"b\""), CONTROL_PUT_ANY, -EINVAL, "parents: job 'b' cannot be its own parent"},
		{DEPENDENT("a", "\"c\""), CONTROL_PUT_ANY, -EINVAL,
		    "parents: making 'c' a parent of 'a' creates a dependency cycle: a -> b -> c -> a"},
		{"{\"name\":\"e\",\"command\":\"true\",\"schedule\":\"R/nonsense\"}", CONTROL_PUT_ANY, -EINVAL, "schedule"},
	};
	char err[1024];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc = put(f, rows[i].json, rows[i].kind, err, sizeof(err));
		if (rc != rows[i].rc)
			fail_msg("row %zu: rc %d (%s), expected %d", i, rc, err, rows[i].rc);
		if (strncmp(err, rows[i].err, strlen(rows[i].err)) != 0)
			fail_msg("row %zu: '%s' does not start with '%s'", i, err, rows[i].err);
		if (rc < 0)
			assert_true(rows[i].rc == 0 || err[0] != '\0');
	}
	assert_int_equal(registry_count(f->reg), 3);
	assert_null(registry_get(f->reg, "d"));
	assert_int_equal(registry_get(f->reg, "c")->node.nparents, 2);
}

/* The stored jobs, "name:parents|schedule;" in the store's order, from the store itself. */
static int add_stored(void *ctx, const struct state_job *sj)
{
	char err[256];
	struct job *j = job_from_json(sj->definition, sj->len, NULL, 0, err, sizeof(err));
	char *out = ctx;
	assert_non_null(j);
	strcat(out, sj->name);
	strcat(out, ":");
	for (uint32_t i = 0; i < j->n_parents; i++) {
		strcat(out, i ? "," : "");
		strcat(out, j->parents[i]);
	}
	if (!j->dependent)
		strcat(out, j->schedule);
	strcat(out, ";");
	job_free(j);
	return 0;
}

static void stored(struct fixture *f, char *out)
{
	out[0] = '\0';
	assert_int_equal(state_load_jobs(f->state, add_stored, out), 0);
}

static void test_delete_reparents(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *name;
		int rc;
		const char *after; /* what the store holds then */
	} rows[] = {
		{"zz", -ENOENT, NULL},
		/* a dependent job's children inherit its parents */
		{"b", 0, "a:R/2030-01-01T00:00:00Z/P1D;x:R/2030-01-01T00:00:00Z/P1D;c:x,a;d:c;"},
		/* a scheduled job's children take over its schedule */
		{"a", 0, "x:R/2030-01-01T00:00:00Z/P1D;c:R/2030-01-01T00:00:00Z/P1D;d:c;"},
		{"c", 0, "x:R/2030-01-01T00:00:00Z/P1D;d:R/2030-01-01T00:00:00Z/P1D;"},
	};
	char err[512], out[1024];

	assert_int_equal(put(f, SCHEDULED("a"), CONTROL_PUT_ANY, err, sizeof(err)), 0);
	assert_int_equal(put(f, SCHEDULED("x"), CONTROL_PUT_ANY, err, sizeof(err)), 0);
	assert_int_equal(put(f, DEPENDENT("b", "\"a\""), CONTROL_PUT_ANY, err, sizeof(err)), 0);
	assert_int_equal(put(f, DEPENDENT("c", "\"b\",\"x\""), CONTROL_PUT_ANY, err, sizeof(err)), 0);
	assert_int_equal(put(f, DEPENDENT("d", "\"c\""), CONTROL_PUT_ANY, err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc = control_delete_job(f->control, rows[i].name, &test_who, err, sizeof(err));
		assert_int_equal(rc, rows[i].rc);
		if (rc == -ENOENT) {
			assert_string_equal(err, "Job 'zz' not found");
			continue;
		}
		assert_null(registry_get(f->reg, rows[i].name));
		stored(f, out);
		assert_string_equal(out, rows[i].after);
	}
	/* The registry's edges follow: d is scheduled now, with no parent. */
	assert_int_equal(registry_get(f->reg, "d")->node.nparents, 0);
	assert_false(registry_get(f->reg, "d")->job->dependent);
}

static void collect_task(void *ctx, const struct run_record *r)
{
	snprintf(ctx, 256, "%s", r->task_id);
}

static void test_runs(void **state)
{
	struct fixture *f = *state;
	char err[512], state_buf[32], task[256] = "";
	struct control_job_view view;
	int killed = -1;

	assert_int_equal(put(f, SCHEDULED("a"), CONTROL_PUT_ANY, err, sizeof(err)), 0);
	assert_int_equal(put(f, DEPENDENT("b", "\"a\""), CONTROL_PUT_ANY, err, sizeof(err)), 0);
	const struct jobrec *a = registry_get(f->reg, "a"), *b = registry_get(f->reg, "b");

	assert_int_equal(control_run_now(f->control, "nope", NULL, &test_who, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "Job 'nope' not found");
	assert_int_equal(put(f, "{\"name\":\"v\",\"command\":\"/bin/true\",\"shell\":false,"
	    "\"schedule\":\"R/2030-01-01T00:00:00Z/P1D\"}", CONTROL_PUT_ANY, err, sizeof(err)), 0);
	assert_int_equal(control_run_now(f->control, "v", "'unclosed", &test_who, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "arguments: unterminated single quote");
	assert_string_equal(control_job_state(f->control, a, state_buf, sizeof(state_buf)), "idle");
	control_job_view(f->control, a, &view);
	assert_int_equal(view.running, 0);
	assert_int_equal(view.next_fire, 1893456000000);
	assert_non_null(view.sched);

	assert_int_equal(control_run_now(f->control, "a", "x y", &test_who, err, sizeof(err)), 0);
	assert_string_equal(control_job_state(f->control, a, state_buf, sizeof(state_buf)), "1 running");
	assert_int_equal(control_running(f->control), 1);
	assert_int_equal(control_queue_size(f->control, false), 0);
	control_foreach_run(f->control, collect_task, task);
	assert_true(control_run_active(f->control, task));

	assert_int_equal(control_kill(f->control, "nope", &test_who, &killed, err, sizeof(err)), -ENOENT);
	assert_int_equal(control_kill(f->control, "a", &test_who, &killed, err, sizeof(err)), 0);
	assert_int_equal(killed, 1);
	deliver_kills(f->runner);
	assert_false(control_run_active(f->control, task));
	assert_string_equal(control_job_state(f->control, a, state_buf, sizeof(state_buf)), "idle");

	/* A marked success counts, and triggers the dependent job. */
	assert_int_equal(control_mark_success(f->control, "nope", &test_who, err, sizeof(err)), -ENOENT);
	assert_int_equal(control_mark_success(f->control, "a", &test_who, err, sizeof(err)), 0);
	assert_int_equal(a->job->success_count, 1);
	assert_string_equal(control_job_state(f->control, b, state_buf, sizeof(state_buf)), "1 running");
	control_job_view(f->control, b, &view);
	assert_null(view.sched);
	assert_int_equal(view.next_fire, INT64_MAX);

	assert_int_equal(control_task_status(f->control, "ct:1:0:nope:", 0, &test_who, err, sizeof(err)), -ENOENT);
	assert_int_equal(control_kill(f->control, "b", &test_who, &killed, err, sizeof(err)), 0);
	deliver_kills(f->runner);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_reparents, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runs, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
