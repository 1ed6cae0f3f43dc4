/* The embedded agent through the runner interface: a batch of tasks starts and each ends once with its result,
 * output and environment; starts it refuses (runAsUser, containers, an older epoch) leave nothing behind; kills
 * and deadlines; ends that come while nobody listens are reported by the next reconciliation, running tasks can
 * be adopted; after a crash of the server (a child process that dies with its tasks running), a new runner on
 * the same data directory finds the survivor, kills it and reports it lost; and what a crash left in work/ is
 * swept at creation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "exec/launcher.h"
#include "history/run_name.h"
#include "history/run_output.h"
#include "history/run_output_files.h"
#include "runner/runner.h"
#include "runner/runner_local.h"
#include "util/rmtree.h"

#define WAIT_MS 20000
#define MAX_SEEN 32

/* One event as the listener saw it. */
struct seen {
	enum runner_event_type type;
	char task_id[128];
	void *ctx;
	struct runner_result result;
};

struct fixture {
	uv_loop_t loop;
	char dir[64];
	struct runner *runner;
	struct run_output *output;
	struct seen seen[MAX_SEEN];
	size_t nseen;
	char live[4096]; /* stdout chunks as they came, of every task */
	size_t nlive;
};

static void on_event(void *ctx, const struct runner_event *ev)
{
	struct fixture *f = ctx;
	struct seen *s = &f->seen[f->nseen++];

	assert_true(f->nseen <= MAX_SEEN);
	s->type = ev->type;
	snprintf(s->task_id, sizeof(s->task_id), "%s", ev->task_id);
	s->ctx = ev->ctx;
	if (ev->result)
		s->result = *ev->result;
}

static void on_output(void *ctx, void *task_ctx, const char *task_id, enum run_stream s, const char *data, size_t len)
{
	struct fixture *f = ctx;

	(void)task_ctx;
	(void)task_id;
	if (s == RUN_STDOUT && f->nlive + len < sizeof(f->live)) {
		memcpy(f->live + f->nlive, data, len);
		f->nlive += len;
	}
}

static struct runner_listener listener_of(struct fixture *f)
{
	return (struct runner_listener){.on_event = on_event, .on_output = on_output, .ctx = f};
}

static void on_timeout(uv_timer_t *t)
{
	*(bool *)t->data = true;
}

/* Run the loop until n events have come (or WAIT_MS passed: the test fails). */
static void wait_events(struct fixture *f, size_t n)
{
	uv_timer_t timer;
	bool late = false;

	uv_timer_init(&f->loop, &timer);
	timer.data = &late;
	uv_timer_start(&timer, on_timeout, WAIT_MS, 0);
	while (f->nseen < n && !late)
		uv_run(&f->loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&timer, NULL);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(f->nseen, n);
}

/* The event of a task (the test fails when none came). */
static const struct seen *seen_of(const struct fixture *f, const char *task_id)
{
	for (size_t i = 0; i < f->nseen; i++)
		if (strcmp(f->seen[i].task_id, task_id) == 0)
			return &f->seen[i];
	fail_msg("no event of %s", task_id);
	abort();
}

/* Whether DATA_DIR/<dir>/<the task's file name><suffix> exists. */
static bool exists(const struct fixture *f, const char *dir, const char *task_id, const char *suffix)
{
	char path[PATH_MAX], name[RUN_NAME_MAX];
	struct stat st;

	run_name(task_id, name);
	snprintf(path, sizeof(path), "%s/%s/%s%s", f->dir, dir, name, suffix);
	return stat(path, &st) == 0;
}

static bool work_exists(const struct fixture *f, const char *task_id)
{
	return exists(f, "work", task_id, "");
}

/* Wait (running the loop) until a run's working directory is gone: the work-dirs thread removes it (and its
 * task file). */
static void wait_work_gone(struct fixture *f, const char *task_id)
{
	for (int i = 0; i < WAIT_MS / 10 && (work_exists(f, task_id) || exists(f, "work", task_id, WORKDIRS_TASK_SUFFIX) ||
	    exists(f, "work", task_id, WORKDIRS_RESULT_SUFFIX)); i++) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
		usleep(10000);
	}
	assert_false(work_exists(f, task_id));
	assert_false(exists(f, "work", task_id, WORKDIRS_TASK_SUFFIX));
	assert_false(exists(f, "work", task_id, WORKDIRS_PID_SUFFIX));
	assert_false(exists(f, "work", task_id, WORKDIRS_RESULT_SUFFIX));
}

/* Wait until a process that is not this one's child is gone. */
static void wait_pid_gone(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd p = {fd, POLLIN, 0};

	if (fd < 0) {
		assert_int_equal(errno, ESRCH);
		return;
	}
	assert_int_equal(poll(&p, 1, WAIT_MS), 1);
	close(fd);
}

/* What a stream of a run holds, through the run-output interface. */
static char *output_of(struct fixture *f, const char *task_id, enum run_stream s, char *buf, size_t len)
{
	struct run_output_reader *r;
	size_t got = 0;
	ssize_t n;

	assert_int_equal(run_output_open(f->output, &(struct run_output_key){task_id}, s, &r), 0);
	while ((n = run_output_read(r, buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	assert_true(n == 0);
	buf[got] = '\0';
	run_output_close(r);
	return buf;
}

static struct runner_spec spec_of(const char *task_id, const char *command, void *ctx)
{
	return (struct runner_spec){.task_id = task_id, .epoch = 1, .job = "job", .owner = "o@x",
		.due_ms = 1700000000000, .attempt = 0, .parents = "", .command = command, .shell = true,
		.output_cap = 65536, .grace_ms = 1000, .ctx = ctx};
}

/* A runner over f's data directory, with the sweep's answers from past (NULL: no sweep). */
/* A runner on the fixture's data directory with cfg's other settings, attached to the fixture's listener. */
static void runner_open_with(struct fixture *f, struct runner_local_config cfg)
{
	struct runner_listener l = listener_of(f);
	char err[256];

	cfg.data_dir = f->dir;
	cfg.executor = GNOMON_EXECUTOR;
	cfg.hostname = "host-a";
	assert_int_equal(runner_local_new(&f->loop, &cfg, &f->runner, err, sizeof(err)), 0);
	runner_attach(f->runner, &l);
}

static void runner_open(struct fixture *f, enum workdirs_keep keep, runner_past_fn past)
{
	runner_open_with(f, (struct runner_local_config){.spawn_threads = 3, .keep_work_dirs = keep, .past = past,
	    .past_ctx = f});
}

/* runner_open with stop_tasks_on_exit. */
static void runner_open_stopping(struct fixture *f)
{
	runner_open_with(f, (struct runner_local_config){.spawn_threads = 1, .stop_tasks_on_exit = true});
}

static void runner_close(struct fixture *f)
{
	runner_free(f->runner);
	f->runner = NULL;
	for (int i = 0; i < 100 && uv_loop_alive(&f->loop); i++)
		uv_run(&f->loop, UV_RUN_NOWAIT), usleep(10000);
}

/* A batch: output, exit codes, argv jobs with arguments, the environment; each task ends once, its working
 * directory exists while it runs and goes once its end is released. */
static void test_start_batch(void **state)
{
	struct fixture *f = *state;
	static const char *const args[] = {"a b", "c"};
	int ctx[4];
	struct runner_spec specs[4] = {
		spec_of("ct:1:0:job:", "echo out; echo err >&2", &ctx[0]),
		spec_of("ct:2:0:job:", "exit 3", &ctx[1]),
		spec_of("ct:3:0:job:", "printf '%s|' \"$@\"", &ctx[2]),
		spec_of("ct:4:0:job:",
		    "echo $mesos_task_id $CHRONOS_JOB_NAME $HOST $GNOMON_PARENT_TASK_IDS $CHRONOS_JOB_RUN_ATTEMPT $PWD", &ctx[3]),
	};
	struct runner_start st[4];
	char buf[512], want[512], name[RUN_NAME_MAX];

	specs[2].command = "/usr/bin/printf";
	specs[2].shell = false;
	specs[2].args = (const char *const[]){"%s|", args[0], args[1]};
	specs[2].n_args = 3;
	specs[3].parents = "ct:9:0:p:";
	specs[3].attempt = 2;
	runner_open(f, WORKDIRS_KEEP_NEVER, NULL);
	runner_start_many(f->runner, specs, 4, st);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(st[i].rc, 0);
		assert_true(st[i].running);
		assert_non_null(st[i].task);
		assert_true(st[i].pid > 1);
		assert_true(st[i].start_ms > 1600000000000);
		assert_true(work_exists(f, specs[i].task_id));
	}
	wait_events(f, 4);
	for (int i = 0; i < 4; i++) {
		const struct seen *s = seen_of(f, specs[i].task_id);
		assert_int_equal(s->type, RUNNER_EVENT_ENDED);
		assert_ptr_equal(s->ctx, &ctx[i]);
		assert_int_equal(s->result.end, RUNNER_END_EXITED);
		assert_int_equal(s->result.exit_code, i == 1 ? 3 : 0);
		assert_true(s->result.max_rss_kib > 0);
	}
	assert_string_equal(output_of(f, specs[0].task_id, RUN_STDOUT, buf, sizeof(buf)), "out\n");
	assert_string_equal(output_of(f, specs[0].task_id, RUN_STDERR, buf, sizeof(buf)), "err\n");
	assert_int_equal(seen_of(f, specs[0].task_id)->result.bytes[RUN_STDOUT], 4);
	assert_string_equal(output_of(f, specs[2].task_id, RUN_STDOUT, buf, sizeof(buf)), "a b|c|");
	run_name("ct:4:0:job:", name);
	snprintf(want, sizeof(want), "ct:4:0:job: job host-a ct:9:0:p: 2 %s/work/%s\n", f->dir, name);
	assert_string_equal(output_of(f, specs[3].task_id, RUN_STDOUT, buf, sizeof(buf)), want);
	assert_non_null(memmem(f->live, f->nlive, "out\n", 4)); /* the output callback saw it as it came */
	for (int i = 0; i < 4; i++) {
		runner_release(f->runner, &(struct runner_ref){specs[i].task_id, "job"},
		    i == 1 ? RUNNER_OUTCOME_FAILED : RUNNER_OUTCOME_SUCCEEDED);
		wait_work_gone(f, specs[i].task_id);
	}
	runner_close(f);
}

/* Starts refused before anything runs: nothing is left in work/ or logs/, and only the container refusal says
 * that a retry is pointless. */
static void test_start_refused(void **state)
{
	static const struct {
		const char *run_as, *container;
		uint64_t epoch;
		int rc;
		bool permanent;
		const char *err;
	} rows[] = {
		{"no-such-user-gnomon", NULL, 5, -ENOENT, false, "runAsUser: unknown user 'no-such-user-gnomon'"},
		{NULL, "{\"type\":\"DOCKER\",\"image\":\"busybox\"}", 5, -ENOTSUP, true, "this agent cannot run containers"},
		{NULL, NULL, 4, -ESTALE, false, "epoch 4 is older than 5, the newest this agent has seen"},
	};
	struct fixture *f = *state;
	struct runner_spec s = spec_of("ct:1:0:job:", "touch ran", NULL);
	struct runner_start st;

	runner_open(f, WORKDIRS_KEEP_NEVER, NULL);
	s.epoch = 5; /* the newest seen from now on */
	s.command = "true";
	runner_start_many(f->runner, &s, 1, &st);
	assert_int_equal(st.rc, 0);
	wait_events(f, 1);
	s.command = "touch ran";
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char id[32];
		snprintf(id, sizeof(id), "ct:2%zu:0:job:", i);
		s.task_id = id;
		s.run_as_user = rows[i].run_as;
		s.container = rows[i].container;
		s.epoch = rows[i].epoch;
		runner_start_many(f->runner, &s, 1, &st);
		assert_int_equal(st.rc, rows[i].rc);
		assert_int_equal(st.permanent, rows[i].permanent);
		assert_string_equal(st.err, rows[i].err);
		assert_null(st.task);
		assert_false(work_exists(f, s.task_id));
		assert_false(exists(f, "work", s.task_id, WORKDIRS_TASK_SUFFIX));
		assert_false(exists(f, "logs", s.task_id, ".stdout"));
	}
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(f->nseen, 1); /* a refused start gets no event */
	runner_close(f);
}

/* A kill, and a deadline. */
static void test_kill_and_deadline(void **state)
{
	struct fixture *f = *state;
	struct runner_spec specs[2] = {
		spec_of("ct:1:0:job:", "sleep 60", NULL),
		spec_of("ct:2:0:job:", "sleep 60", NULL),
	};
	struct runner_start st[2];

	specs[1].deadline_ms = 200;
	specs[1].grace_ms = 100;
	runner_open(f, WORKDIRS_KEEP_NEVER, NULL);
	runner_start_many(f->runner, specs, 2, st);
	assert_int_equal(runner_kill(f->runner, st[0].task, 0), 0);
	wait_events(f, 2);
	assert_int_equal(seen_of(f, "ct:1:0:job:")->result.end, RUNNER_END_KILLED);
	assert_int_equal(seen_of(f, "ct:1:0:job:")->result.term_signal, SIGKILL);
	assert_int_equal(seen_of(f, "ct:2:0:job:")->result.end, RUNNER_END_TIMED_OUT);
	runner_close(f);
}

struct reconciled {
	struct runner_report reports[8];
	struct runner_result results[8];
	char ids[8][128];
	size_t n;
	int calls;
};

static void on_reconciled(void *ctx, const struct runner_report *reports, size_t n)
{
	struct reconciled *rc = ctx;

	rc->calls++;
	assert_true(n <= 8);
	rc->n = n;
	for (size_t i = 0; i < n; i++) {
		rc->reports[i] = reports[i];
		snprintf(rc->ids[i], sizeof(rc->ids[i]), "%s", reports[i].task_id);
		rc->reports[i].task_id = rc->ids[i];
		if (reports[i].result) {
			rc->results[i] = *reports[i].result;
			rc->reports[i].result = &rc->results[i];
		}
	}
}

/* Nobody listens for a while (a leader stepped down): a task that ends meanwhile is reported ended with its
 * result, one still running is reported running and, once adopted, its end comes with the new ctx; an id it
 * never had is unknown; a released end is not reported again. */
static void test_reconcile_unheard(void **state)
{
	struct fixture *f = *state;
	struct runner_spec specs[2] = {
		spec_of("ct:1:0:job:", "exit 4", NULL),
		spec_of("ct:2:0:job:", "sleep 2", NULL),
	};
	static const char *const ids[] = {"ct:1:0:job:", "ct:2:0:job:", "ct:3:0:job:"};
	struct runner_listener l = listener_of(f);
	struct runner_start st[2];
	struct reconciled rc = {0};
	int adopted;

	runner_open(f, WORKDIRS_KEEP_NEVER, NULL);
	runner_attach(f->runner, NULL);
	runner_start_many(f->runner, specs, 2, st);
	for (int i = 0; i < WAIT_MS / 5 && (rc.n == 0 || rc.reports[0].state != RUNNER_TASK_ENDED); i++) {
		uv_run(&f->loop, UV_RUN_NOWAIT); /* until the first has ended, unheard */
		usleep(5000);
		rc = (struct reconciled){0};
		runner_reconcile(f->runner, 1, ids, NULL, 1, on_reconciled, &rc);
	}
	runner_attach(f->runner, &l);
	rc = (struct reconciled){0};
	runner_reconcile(f->runner, 1, ids, NULL, 3, on_reconciled, &rc);
	assert_int_equal(rc.calls, 1); /* at once: runner_local answers before returning */
	assert_int_equal(rc.n, 3);
	assert_string_equal(rc.reports[0].task_id, ids[0]);
	assert_int_equal(rc.reports[0].state, RUNNER_TASK_ENDED);
	assert_int_equal(rc.reports[0].result->end, RUNNER_END_EXITED);
	assert_int_equal(rc.reports[0].result->exit_code, 4);
	assert_int_equal(rc.reports[1].state, RUNNER_TASK_RUNNING);
	assert_ptr_equal(rc.reports[1].task, st[1].task);
	assert_int_equal(rc.reports[2].state, RUNNER_TASK_UNKNOWN);
	runner_adopt(f->runner, rc.reports[1].task, &adopted);
	runner_release(f->runner, &(struct runner_ref){ids[0], "job"}, RUNNER_OUTCOME_FAILED);
	wait_events(f, 1);
	assert_string_equal(f->seen[0].task_id, ids[1]);
	assert_ptr_equal(f->seen[0].ctx, &adopted);
	assert_int_equal(f->seen[0].result.exit_code, 0);
	runner_release(f->runner, &(struct runner_ref){ids[1], "job"}, RUNNER_OUTCOME_SUCCEEDED);
	rc = (struct reconciled){0};
	runner_reconcile(f->runner, 1, ids, NULL, 1, on_reconciled, &rc);
	assert_int_equal(rc.n, 1);
	assert_int_equal(rc.reports[0].state, RUNNER_TASK_UNKNOWN); /* released: forgotten */
	rc = (struct reconciled){0};
	runner_reconcile(f->runner, 0, ids, NULL, 1, on_reconciled, &rc); /* an older leader learns nothing */
	assert_int_equal(rc.n, 0);
	runner_close(f);
}

/* The child of a fork: a server that starts three tasks (the first waits for the file "go" in the data directory
 * and exits 3, the second ends at once, the third sleeps), waits for the second to end and the first to have
 * written, says so (the third's task pid) and dies with the first and the third still running. */
static int crashing_server(struct fixture *f, int ready)
{
	char waiting[256];
	struct runner_spec specs[3];
	struct runner_start st[3];

	snprintf(waiting, sizeof(waiting), "echo started; while [ ! -e %s/go ]; do sleep 0.02; done; exit 3", f->dir);
	specs[0] = spec_of("ct:1:0:job:", waiting, NULL);
	specs[1] = spec_of("ct:2:0:job:", "echo done", NULL);
	specs[2] = spec_of("ct:3:0:job:", "exec sleep 60", NULL);
	f->nseen = 0;
	if (uv_loop_init(&f->loop) != 0)
		return 1;
	runner_open(f, WORKDIRS_KEEP_NEVER, NULL);
	runner_start_many(f->runner, specs, 3, st);
	if (st[0].rc < 0 || st[1].rc < 0 || st[2].rc < 0)
		return 2;
	while (f->nseen < 1 || memmem(f->live, f->nlive, "started\n", 8) == NULL)
		uv_run(&f->loop, UV_RUN_ONCE);
	if (write(ready, &st[2].pid, sizeof(st[2].pid)) != (ssize_t)sizeof(st[2].pid))
		return 3;
	return 0;
}

/* A server dies with tasks running: their executors go on, and a new runner on the same data directory finds
 * them through their journals. The task that ended while nobody listened is reported with its real result; a
 * running one is adopted and its end heard (exit 3, after the test lets it go); one whose executor was killed
 * (kill -9, no result) is reported lost, and what is left of it killed. */
static void test_reconcile_after_crash(void **state)
{
	struct fixture *f = *state;
	static const char *const ids[] = {"ct:1:0:job:", "ct:2:0:job:", "ct:3:0:job:", "ct:4:0:job:"};
	struct reconciled rc = {0};
	char buf[64], path[128], journal[PATH_MAX + 16];
	int fds[2], status, adopted, fd;
	int64_t sleeper = 0;
	pid_t pid;
	ssize_t n;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		_exit(crashing_server(f, fds[1])); /* no cleanup: a crash */
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &sleeper, sizeof(sleeper)), (ssize_t)sizeof(sleeper));
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* the third task's executor is killed -9 (it never writes a result); its task outlives it */
	snprintf(journal, sizeof(journal), "%s/work/", f->dir);
	run_name(ids[2], journal + strlen(journal));
	strcat(journal, ".pid");
	assert_true((fd = open(journal, O_RDONLY)) >= 0);
	assert_true((n = read(fd, buf, sizeof(buf) - 1)) > 0);
	close(fd);
	buf[n] = '\0';
	assert_int_equal(kill((pid_t)atol(buf), SIGKILL), 0);
	wait_pid_gone((pid_t)atol(buf)); /* exited: a zombie of this process's (the subreaper), reaped by nobody yet */
	assert_int_equal(kill((pid_t)sleeper, 0), 0);

	runner_open(f, WORKDIRS_KEEP_NEVER, NULL);
	runner_reconcile(f->runner, 1, ids, NULL, 4, on_reconciled, &rc);
	assert_int_equal(rc.calls, 1);
	assert_int_equal(rc.n, 4);
	assert_int_equal(rc.reports[0].state, RUNNER_TASK_RUNNING);
	assert_non_null(rc.reports[0].task);
	assert_int_equal(rc.reports[1].state, RUNNER_TASK_ENDED);
	assert_int_equal(rc.reports[1].result->end, RUNNER_END_EXITED);
	assert_int_equal(rc.reports[1].result->exit_code, 0);
	assert_int_equal(rc.reports[1].result->bytes[RUN_STDOUT], 5);
	assert_int_equal(rc.reports[2].state, RUNNER_TASK_ENDED);
	assert_int_equal(rc.reports[2].result->end, RUNNER_END_LOST);
	assert_non_null(strstr(rc.reports[2].result->reason, "its executor ended without a result"));
	assert_non_null(strstr(rc.reports[2].result->reason, "its 1 surviving process was killed"));
	assert_int_equal(rc.reports[3].state, RUNNER_TASK_UNKNOWN); /* never started: no journal */
	wait_pid_gone((pid_t)sleeper);
	/* the adopted task ends when let go, and its end comes as any task's does */
	runner_adopt(f->runner, rc.reports[0].task, &adopted);
	snprintf(path, sizeof(path), "%s/go", f->dir);
	assert_true((fd = open(path, O_WRONLY | O_CREAT, 0600)) >= 0);
	close(fd);
	wait_events(f, 1);
	assert_string_equal(f->seen[0].task_id, ids[0]);
	assert_ptr_equal(f->seen[0].ctx, &adopted);
	assert_int_equal(f->seen[0].type, RUNNER_EVENT_ENDED);
	assert_int_equal(f->seen[0].result.end, RUNNER_END_EXITED);
	assert_int_equal(f->seen[0].result.exit_code, 3);
	assert_string_equal(output_of(f, ids[0], RUN_STDOUT, buf, sizeof(buf)), "started\n");
	assert_string_equal(output_of(f, ids[1], RUN_STDOUT, buf, sizeof(buf)), "done\n");
	/* The engine records them and releases them: their working directories and journals go. */
	for (int i = 0; i < 3; i++)
		runner_release(f->runner, &(struct runner_ref){ids[i], "job"}, RUNNER_OUTCOME_FAILED);
	for (int i = 0; i < 3; i++)
		wait_work_gone(f, ids[i]);
	runner_close(f);
}

/* The history's answers for the sweep: ct:61 ended failed, ct:62 succeeded, ct:63 is unknown, ct:64 still open,
 * ct:65 (work/65 of an earlier release) failed. */
static int past(void *ctx, const char *task_id, struct runner_past *out)
{
	(void)ctx;
	if (strcmp(task_id, "ct:63:0:job:") == 0)
		return -ENOENT;
	out->ended = strcmp(task_id, "ct:64:0:job:") != 0;
	out->outcome = strcmp(task_id, "ct:62:0:job:") == 0 ? RUNNER_OUTCOME_SUCCEEDED : RUNNER_OUTCOME_FAILED;
	out->job = strdup("job");
	out->task_id = strdup(task_id);
	return 0;
}

/* Earlier releases' row ids: 65 is ct:65:0:job:, 66 was pruned. */
static int legacy(void *ctx, int64_t id, char **task_id)
{
	(void)ctx;
	if (id != 65)
		return -ENOENT;
	*task_id = strdup("ct:65:0:job:");
	return 0;
}

/* A run's working directory and task file, as runner_local makes them. */
static void make_work(const struct fixture *f, const char *task_id)
{
	char path[PATH_MAX], name[RUN_NAME_MAX];
	FILE *tf;

	run_name(task_id, name);
	snprintf(path, sizeof(path), "%s/work/%s", f->dir, name);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/work/%s%s", f->dir, name, WORKDIRS_TASK_SUFFIX);
	assert_non_null(tf = fopen(path, "w"));
	fputs(task_id, tf);
	fclose(tf);
}

/* What a crash left in work/: with --keep-work-dirs failed, the failed run's directory stays, the succeeded
 * one's and the unknown one's go, the open run's waits for its recovery, a directory without a task file stays;
 * earlier releases' directories (named by row id) are renamed to their task id's name and then treated alike, or removed
 * when the history no longer has their run. */
static void test_sweep(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/work", f->dir);
	assert_int_equal(mkdir(path, 0711), 0);
	make_work(f, "ct:61:0:job:");
	make_work(f, "ct:62:0:job:");
	make_work(f, "ct:63:0:job:");
	make_work(f, "ct:64:0:job:");
	for (int id = 65; id <= 66; id++) {
		snprintf(path, sizeof(path), "%s/work/%d", f->dir, id);
		assert_int_equal(mkdir(path, 0700), 0);
		snprintf(path, sizeof(path), "%s/work/%d/left", f->dir, id);
		assert_int_equal(mkdir(path, 0700), 0);
	}
	snprintf(path, sizeof(path), "%s/work/notes", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	struct runner_local_config cfg = {.data_dir = f->dir, .executor = GNOMON_EXECUTOR, .hostname = "host-a", .spawn_threads = 1,
		.keep_work_dirs = WORKDIRS_KEEP_FAILED, .past = past, .legacy = legacy, .past_ctx = f};
	char err[256];
	assert_int_equal(runner_local_new(&f->loop, &cfg, &f->runner, err, sizeof(err)), 0);
	wait_work_gone(f, "ct:62:0:job:");
	wait_work_gone(f, "ct:63:0:job:");
	assert_true(work_exists(f, "ct:61:0:job:"));
	assert_true(work_exists(f, "ct:64:0:job:"));
	assert_true(work_exists(f, "ct:65:0:job:"));
	assert_true(exists(f, "work", "ct:65:0:job:", WORKDIRS_TASK_SUFFIX));
	assert_true(exists(f, "work", "ct:65:0:job:", "/left"));
	snprintf(path, sizeof(path), "%s/work/65", f->dir);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/work/66", f->dir);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/work/notes", f->dir);
	assert_int_equal(access(path, F_OK), 0);
	runner_close(f);
}

/* Freeing the runner ends what still runs. */
/* A runner freed with a task running leaves it to its executor (a deploy, a restart): the next runner adopts it.
 * With stop_tasks_on_exit the task is killed instead, and the next runner reports it lost. */
static void test_free_leaves_running(void **state)
{
	struct fixture *f = *state;
	static const char *const ids[] = {"ct:1:0:job:"};
	struct runner_spec s = spec_of(ids[0], "exec sleep 60", NULL);
	struct runner_start st;
	struct reconciled rc = {0};

	runner_open(f, WORKDIRS_KEEP_NEVER, NULL);
	runner_start_many(f->runner, &s, 1, &st);
	assert_int_equal(st.rc, 0);
	runner_close(f);
	assert_int_equal(f->nseen, 0); /* no event after the free */
	assert_int_equal(kill((pid_t)st.pid, 0), 0);
	runner_open(f, WORKDIRS_KEEP_NEVER, NULL);
	runner_reconcile(f->runner, 1, ids, NULL, 1, on_reconciled, &rc);
	assert_int_equal(rc.n, 1);
	assert_int_equal(rc.reports[0].state, RUNNER_TASK_RUNNING);
	runner_adopt(f->runner, rc.reports[0].task, f);
	assert_int_equal(runner_kill(f->runner, rc.reports[0].task, 0), 0);
	wait_events(f, 1);
	assert_int_equal(f->seen[0].result.end, RUNNER_END_KILLED);
	runner_release(f->runner, &(struct runner_ref){ids[0], "job"}, RUNNER_OUTCOME_KILLED);
	wait_work_gone(f, ids[0]);
	runner_close(f);
}

static void test_free_stops_tasks(void **state)
{
	struct fixture *f = *state;
	static const char *const ids[] = {"ct:1:0:job:"};
	struct runner_spec s = spec_of(ids[0], "exec sleep 60", NULL);
	struct runner_start st;
	struct reconciled rc = {0};

	runner_open_stopping(f);
	runner_start_many(f->runner, &s, 1, &st);
	assert_int_equal(st.rc, 0);
	runner_close(f);
	assert_int_equal(kill((pid_t)st.pid, 0), -1);
	assert_int_equal(f->nseen, 0); /* no event after the free */
	runner_open(f, WORKDIRS_KEEP_NEVER, NULL);
	runner_reconcile(f->runner, 1, ids, NULL, 1, on_reconciled, &rc);
	assert_int_equal(rc.n, 1);
	assert_int_equal(rc.reports[0].state, RUNNER_TASK_ENDED);
	assert_int_equal(rc.reports[0].result->end, RUNNER_END_LOST);
	assert_string_equal(rc.reports[0].result->reason, "killed when its server stopped");
	runner_release(f->runner, &(struct runner_ref){ids[0], "job"}, RUNNER_OUTCOME_LOST);
	wait_work_gone(f, ids[0]);
	runner_close(f);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	snprintf(f->dir, sizeof(f->dir), "/tmp/gnomon-test-runner-XXXXXX");
	if (mkdtemp(f->dir) == NULL || uv_loop_init(&f->loop) != 0 ||
	    run_output_files_new(f->dir, &f->output, err, sizeof(err)) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char err[256];
	int rc;

	run_output_free(f->output);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	rc = uv_loop_close(&f->loop) == 0 && rmtree_at(AT_FDCWD, f->dir, err, sizeof(err)) == 0 ? 0 : -1;
	free(f);
	return rc;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_start_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_and_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconcile_unheard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconcile_after_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_leaves_running, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_stops_tasks, setup, teardown),
	};

	/* a root server runs another account's tasks through the launcher: this binary re-executed, as gnomon is */
	if (argc > 1 && strcmp(argv[1], EXEC_LAUNCHER_ARG) == 0)
		return exec_launcher_main(argc, argv);
	/* the tasks of a crashed server (a forked child) become this process's, to be reaped here */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
