/* Launch throughput of exec against a raw posix_spawn + waitpid loop in the same process, /bin/true each time,
 * one at a time and 8 at a time. Prints the rates; checks only that every task succeeded. The count comes from
 * GNOMON_EXEC_BENCH_N (default 300, kept small for the test suite; the numbers quoted use 5000). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <limits.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "exec/exec.h"
#include "exec/exec_env.h"

extern char **environ;

struct bench {
	uv_loop_t loop;
	const char *dir;    /* where output files go; NULL: discard the output */
	bool lazy;
	int n, started, ended, failed, inflight, parallel;
	int seq;            /* file names, unique over the whole benchmark */
};

static int count(void)
{
	const char *s = getenv("GNOMON_EXEC_BENCH_N");
	return s && atoi(s) > 0 ? atoi(s) : 300;
}

static double now_s(void)
{
	return (double)uv_hrtime() / 1e9;
}

static void report(const char *what, int n, double secs)
{
	printf("exec bench: %-50s %6d tasks in %7.3f s: %8.0f tasks/s\n", what, n, secs, n / secs);
	fflush(stdout);
}

/* posix_spawn /bin/true n times, keeping parallel in flight, reaping with waitpid. */
static double raw_loop(int n, int parallel)
{
	static char true_path[] = "/bin/true";
	static char *argv[] = {true_path, NULL};
	double t0 = now_s();
	int started = 0, ended = 0;

	while (ended < n) {
		while (started < n && started - ended < parallel) {
			pid_t pid;
			assert_int_equal(posix_spawn(&pid, true_path, NULL, NULL, argv, environ), 0);
			started++;
		}
		int status;
		assert_true(waitpid(-1, &status, 0) > 0);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		ended++;
	}
	return now_s() - t0;
}

static void start_one(struct bench *b);

static void on_exit_cb(void *ctx, struct exec_task *t, const struct exec_result *res)
{
	struct bench *b = ctx;

	b->ended++;
	b->inflight--;
	b->failed += res->exit_code != 0;
	exec_task_free(t);
	while (b->started < b->n && b->inflight < b->parallel)
		start_one(b);
}

/* Start the next task the way the scheduler would: environment built, new output files per run. */
static void start_one(struct bench *b)
{
	static char true_path[] = "/bin/true";
	static char *argv[] = {true_path, NULL};
	char out[PATH_MAX + 32], err[PATH_MAX + 32], task_id[64], msg[256];
	struct exec_env_input in = {.job_name = "bench", .user = "root", .home = "/root", .mem = 128, .cpus = 0.1,
	    .disk = 256};
	struct exec_spec spec;
	struct exec_task *t;
	char **envp;

	snprintf(task_id, sizeof(task_id), "ct:%d:0:bench:", b->started);
	in.task_id = task_id;
	envp = exec_env_build(&in);
	snprintf(out, sizeof(out), "%s/%d.out", b->dir, b->seq);
	snprintf(err, sizeof(err), "%s/%d.err", b->dir, b->seq++);
	if (!b->dir)
		out[0] = err[0] = '\0';
	exec_spec_init(&spec);
	spec.argv = argv;
	spec.envp = envp;
	spec.out_path[0] = out[0] ? out : NULL;
	spec.out_path[1] = err[0] ? err : NULL;
	spec.lazy_files = b->lazy;
	spec.on_exit = on_exit_cb;
	spec.ctx = b;
	if (exec_start(&b->loop, &spec, &t, msg, sizeof(msg)) != 0)
		fail_msg("exec_start: %s", msg);
	free(envp);
	b->started++;
	b->inflight++;
}

static double exec_loop(struct bench *b, int n, int parallel)
{
	double t0 = now_s();

	b->n = n;
	b->started = b->ended = b->failed = b->inflight = 0;
	b->parallel = parallel;
	while (b->started < n && b->inflight < parallel)
		start_one(b);
	uv_run(&b->loop, UV_RUN_DEFAULT);
	assert_int_equal(b->ended, n);
	assert_int_equal(b->failed, 0);
	return now_s() - t0;
}

/* Remove the output files of the benchmark. */
static void clean_dir(const char *dir, int n)
{
	for (int i = 0; i < n; i++) {
		char p[PATH_MAX + 32];
		snprintf(p, sizeof(p), "%s/%d.out", dir, i);
		unlink(p);
		snprintf(p, sizeof(p), "%s/%d.err", dir, i);
		unlink(p);
	}
	assert_int_equal(rmdir(dir), 0);
}

#define ROUNDS 5

/* Every variant runs n/ROUNDS tasks per round, rounds interleaved, so that drift of the machine hits them all. */
static void test_throughput(void **state)
{
	char disk[] = "/tmp/gnomon-bench-exec-XXXXXX", shm[] = "/dev/shm/gnomon-bench-exec-XXXXXX";
	const char *shm_dir = mkdtemp(shm), *disk_dir = mkdtemp(disk);
	const struct {
		const char *what, *dir;
		bool lazy, raw;
	} variants[] = {
		{"raw posix_spawn + waitpid", NULL, false, true},
		{"exec, output discarded", NULL, true, false},
		{"exec, lazy files on tmpfs", shm_dir, true, false},
		{"exec, lazy files on /tmp", disk_dir, true, false},
		{"exec, eager files on tmpfs", shm_dir, false, false},
		{"exec, eager files on /tmp", disk_dir, false, false},
	};
	enum { NV = sizeof(variants) / sizeof(variants[0]) };
	double secs[2][NV] = {{0}};
	struct bench b = {0};
	char what[128];
	int per_round = count() / ROUNDS > 0 ? count() / ROUNDS : 1;
	(void)state;

	assert_non_null(shm_dir);
	assert_non_null(disk_dir);
	assert_int_equal(uv_loop_init(&b.loop), 0);
	for (int round = 0; round < ROUNDS; round++) {
		for (int p = 0; p < 2; p++) {
			for (size_t v = 0; v < NV; v++) {
				b.dir = variants[v].dir;
				b.lazy = variants[v].lazy;
				secs[p][v] += variants[v].raw ? raw_loop(per_round, p ? 8 : 1)
							      : exec_loop(&b, per_round, p ? 8 : 1);
			}
		}
	}
	for (int p = 0; p < 2; p++) {
		for (size_t v = 0; v < NV; v++) {
			snprintf(what, sizeof(what), "%s, %d at a time", variants[v].what, p ? 8 : 1);
			report(what, per_round * ROUNDS, secs[p][v]);
		}
	}
	assert_int_equal(uv_loop_close(&b.loop), 0);
	clean_dir(shm_dir, b.seq);
	clean_dir(disk_dir, b.seq);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_throughput),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
