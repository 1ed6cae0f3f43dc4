/* exec with many tasks in flight on one loop: every task gets exactly one exit callback with its own exit code
 * and output, whether the output is discarded, in lazy files or in eager files, started one by one or as one
 * batch spawned in parallel (exec_start_many), where a task that cannot start fails alone. (Launch speed is
 * measured by bench/exec and bench/dag, not here.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "exec/exec.h"
#include "exec/spawn_pool.h"

#define RUNS 64
#define WATCHDOG_MS 20000

enum mode { DISCARD, LAZY, EAGER };

struct slot {
	struct many *m;
	int exits;
	struct exec_result res;
};

struct many {
	uv_loop_t loop;
	const char *dir;
	enum mode mode;
	int parallel, started, ended, inflight;
	struct slot slots[RUNS];
};

static void start_next(struct many *m);

static void on_exit_cb(void *ctx, struct exec_task *t, const struct exec_result *res)
{
	struct slot *s = ctx;

	s->exits++;
	s->res = *res;
	s->m->ended++;
	s->m->inflight--;
	exec_task_free(t);
	while (s->m->started < RUNS && s->m->inflight < s->m->parallel)
		start_next(s->m);
}

static void out_file(char *path, size_t len, const struct many *m, int i, int stream)
{
	snprintf(path, len, "%s/%d.%s", m->dir, i, stream == 2 ? "journal" : stream ? "err" : "out");
}

/* Start run i: print i on stdout and exit with i % 7. */
static void start_next(struct many *m)
{
	static char sh[] = "/bin/sh", dash_c[] = "-c";
	char cmd[64], out[PATH_MAX + 32], err[PATH_MAX + 32], journal[PATH_MAX + 32], msg[256];
	char *argv[] = {sh, dash_c, cmd, NULL};
	struct exec_spec spec;
	struct exec_task *t;
	int i = m->started;

	snprintf(cmd, sizeof(cmd), "echo %d; exit %d", i, i % 7);
	exec_spec_init(&spec);
	spec.executor = GNOMON_EXECUTOR;
	out_file(journal, sizeof(journal), m, i, 2);
	spec.journal = journal;
	spec.argv = argv;
	if (m->mode != DISCARD) {
		out_file(out, sizeof(out), m, i, 0);
		out_file(err, sizeof(err), m, i, 1);
		spec.out_path[0] = out;
		spec.out_path[1] = err;
	}
	spec.lazy_files = m->mode == LAZY;
	spec.on_exit = on_exit_cb;
	spec.ctx = &m->slots[i];
	m->slots[i].m = m;
	if (exec_start(&m->loop, &spec, &t, msg, sizeof(msg)) != 0)
		fail_msg("exec_start: %s", msg);
	m->started++;
	m->inflight++;
}

static void on_watchdog(uv_timer_t *h)
{
	(void)h;
	fail_msg("watchdog: the runs did not all end within %d ms", WATCHDOG_MS);
}

/* The file's contents (at most len - 1 bytes) into buf; -1 if it does not exist. */
static ssize_t slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return (ssize_t)n;
}

static void check_run(const struct many *m, int i)
{
	const struct slot *s = &m->slots[i];
	char want[32], got[64], path[PATH_MAX + 32];

	snprintf(want, sizeof(want), "%d\n", i);
	/* its executor's journal: removed here (the embedded agent removes it with the run's working directory) */
	for (int k = 0; k < 2; k++) {
		out_file(path, sizeof(path), m, i, 2);
		strcat(path, k ? ".result" : ".pid");
		assert_int_equal(unlink(path), 0);
	}
	assert_int_equal(s->exits, 1);
	assert_int_equal(s->res.exit_code, i % 7);
	assert_int_equal(s->res.stream[EXEC_STDOUT].bytes, strlen(want));
	assert_int_equal(s->res.stream[EXEC_STDERR].bytes, 0);
	if (m->mode == DISCARD)
		return;
	out_file(path, sizeof(path), m, i, 0);
	assert_int_equal(slurp(path, got, sizeof(got)), (ssize_t)strlen(want));
	assert_string_equal(got, want);
	assert_int_equal(unlink(path), 0);
	out_file(path, sizeof(path), m, i, 1);
	/* A lazy stream that wrote nothing leaves no file; an eager one an empty file. */
	assert_int_equal(slurp(path, got, sizeof(got)), m->mode == LAZY ? -1 : 0);
	if (m->mode == EAGER)
		assert_int_equal(unlink(path), 0);
}

static void test_many_in_flight(void **state)
{
	static const struct {
		enum mode mode;
		int parallel;
	} rows[] = {
		{DISCARD, 8}, {LAZY, 8}, {EAGER, 8}, {DISCARD, RUNS}, {LAZY, RUNS}, {EAGER, RUNS},
	};
	char dir[] = "/tmp/gnomon-test-exec-many-XXXXXX";
	(void)state;

	assert_non_null(mkdtemp(dir));
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct many *m = calloc(1, sizeof(*m));
		uv_timer_t wd;

		assert_non_null(m);
		m->dir = dir;
		m->mode = rows[r].mode;
		m->parallel = rows[r].parallel;
		assert_int_equal(uv_loop_init(&m->loop), 0);
		uv_timer_init(&m->loop, &wd);
		uv_timer_start(&wd, on_watchdog, WATCHDOG_MS, 0);
		while (m->started < RUNS && m->inflight < m->parallel)
			start_next(m);
		while (m->ended < RUNS)
			uv_run(&m->loop, UV_RUN_ONCE);
		uv_close((uv_handle_t *)&wd, NULL);
		uv_run(&m->loop, UV_RUN_DEFAULT);
		assert_int_equal(uv_loop_close(&m->loop), 0);
		for (int i = 0; i < RUNS; i++)
			check_run(m, i);
		free(m);
	}
	assert_int_equal(rmdir(dir), 0);
}

/* The batch's tasks: i prints i and exits with i % 7, but BAD_COMMAND names a missing program and BAD_PREPARE
 * fails in its preparation. */
#define BAD_COMMAND 5
#define BAD_PREPARE 9

struct batch {
	struct many *m;
	char cmd[RUNS][64], out[RUNS][PATH_MAX + 32], err[RUNS][PATH_MAX + 32], journal[RUNS][PATH_MAX + 32];
	char *argv[RUNS][4];
};

static int prepare(void *ctx, size_t i, struct exec_spec *spec, char *err, size_t errlen)
{
	static char sh[] = "/bin/sh", dash_c[] = "-c", missing[] = "/nonexistent/gnomon-test-program";
	struct batch *b = ctx;

	if (i == BAD_PREPARE) {
		snprintf(err, errlen, "prepare refused %zu", i);
		return -EINVAL;
	}
	snprintf(b->cmd[i], sizeof(b->cmd[i]), "echo %zu; exit %zu", i, i % 7);
	b->argv[i][0] = i == BAD_COMMAND ? missing : sh;
	b->argv[i][1] = dash_c;
	b->argv[i][2] = b->cmd[i];
	b->argv[i][3] = NULL;
	exec_spec_init(spec);
	spec->executor = GNOMON_EXECUTOR;
	out_file(b->journal[i], sizeof(b->journal[i]), b->m, (int)i, 2);
	spec->journal = b->journal[i];
	spec->argv = b->argv[i];
	out_file(b->out[i], sizeof(b->out[i]), b->m, (int)i, 0);
	out_file(b->err[i], sizeof(b->err[i]), b->m, (int)i, 1);
	spec->out_path[0] = b->out[i];
	spec->out_path[1] = b->err[i];
	spec->on_exit = on_exit_cb;
	spec->ctx = &b->m->slots[i];
	return 0;
}

static void test_start_many(void **state)
{
	static const unsigned helpers[] = {0, 3};
	char dir[] = "/tmp/gnomon-test-exec-batch-XXXXXX";
	(void)state;

	assert_non_null(mkdtemp(dir));
	for (size_t h = 0; h < sizeof(helpers) / sizeof(helpers[0]); h++) {
		struct many *m = calloc(1, sizeof(*m));
		struct batch *b = calloc(1, sizeof(*b));
		struct exec_spec specs[RUNS];
		struct exec_task *tasks[RUNS];
		struct spawn_pool *pool;
		int rc[RUNS], expected = 0;
		char errs[RUNS][256];
		uv_timer_t wd;

		assert_non_null(m);
		assert_non_null(b);
		assert_int_equal(spawn_pool_new(helpers[h], &pool), 0);
		b->m = m;
		m->dir = dir;
		m->mode = LAZY;
		m->started = m->parallel = RUNS; /* on_exit_cb starts nothing more */
		for (int i = 0; i < RUNS; i++)
			m->slots[i].m = m;
		assert_int_equal(uv_loop_init(&m->loop), 0);
		uv_timer_init(&m->loop, &wd);
		uv_timer_start(&wd, on_watchdog, WATCHDOG_MS, 0);
		exec_start_many(&m->loop, pool, NULL, specs, RUNS, prepare, b, tasks, rc, errs[0], sizeof(errs[0]));
		for (int i = 0; i < RUNS; i++) {
			if (i == BAD_COMMAND) {
				assert_int_equal(rc[i], -ENOENT);
				assert_null(tasks[i]);
				assert_non_null(strstr(errs[i], "/nonexistent/gnomon-test-program"));
			} else if (i == BAD_PREPARE) {
				assert_int_equal(rc[i], -EINVAL);
				assert_null(tasks[i]);
				assert_string_equal(errs[i], "prepare refused 9");
			} else {
				assert_int_equal(rc[i], 0);
				assert_non_null(tasks[i]);
				assert_true(exec_task_pid(tasks[i]) > 0);
				assert_true(exec_task_start_ms(tasks[i]) > 0);
				expected++;
			}
		}
		m->inflight = expected;
		while (m->ended < expected)
			uv_run(&m->loop, UV_RUN_ONCE);
		uv_close((uv_handle_t *)&wd, NULL);
		uv_run(&m->loop, UV_RUN_DEFAULT);
		assert_int_equal(uv_loop_close(&m->loop), 0);
		spawn_pool_free(pool);
		for (int i = 0; i < RUNS; i++) {
			char path[PATH_MAX + 32];
			if (i != BAD_COMMAND && i != BAD_PREPARE) {
				check_run(m, i);
				continue;
			}
			assert_int_equal(m->slots[i].exits, 0);
			out_file(path, sizeof(path), m, i, 0);
			assert_int_equal(access(path, F_OK), -1);
		}
		free(b);
		free(m);
	}
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_in_flight),
		cmocka_unit_test(test_start_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
