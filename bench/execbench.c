/* Launch rate of gnomon's exec module (src/exec), /bin/true each time, started the way the scheduler starts a
 * run: environment built, new output files per run. Compiled by bench/exec at run time against
 * build/libgnomon_core.a; prints one JSON object on stdout, shaped like `spawnref rate` so the two compare.
 *
 *   execbench N K discard       N runs, K in flight, output discarded
 *   execbench N K lazy DIR      output files in DIR, created at a stream's first byte (none for /bin/true)
 *   execbench N K eager DIR     output files in DIR, both created at the start
 *
 * Exits 1 if a run could not start or did not exit 0. */
#define _GNU_SOURCE
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "exec/exec.h"
#include "exec/exec_env.h"

struct bench {
	uv_loop_t loop;
	const char *dir; /* NULL: discard the output */
	bool lazy;
	long n, started, ended, failed, inflight, parallel;
};

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

/* Start the next run: its own environment and output files, as the scheduler makes them. */
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

	snprintf(task_id, sizeof(task_id), "ct:%ld:0:bench:", b->started);
	in.task_id = task_id;
	envp = exec_env_build(&in);
	exec_spec_init(&spec);
	if (b->dir) {
		snprintf(out, sizeof(out), "%s/%ld.out", b->dir, b->started);
		snprintf(err, sizeof(err), "%s/%ld.err", b->dir, b->started);
		spec.out_path[0] = out;
		spec.out_path[1] = err;
	}
	spec.argv = argv;
	spec.envp = envp;
	spec.lazy_files = b->lazy;
	spec.on_exit = on_exit_cb;
	spec.ctx = b;
	if (exec_start(&b->loop, &spec, &t, msg, sizeof(msg)) != 0) {
		fprintf(stderr, "execbench: exec_start: %s\n", msg);
		exit(1);
	}
	free(envp);
	b->started++;
	b->inflight++;
}

/* Remove the output files the runs left in dir. */
static void clean_dir(const char *dir, long n)
{
	char p[PATH_MAX + 32];

	for (long i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/%ld.out", dir, i);
		unlink(p);
		snprintf(p, sizeof(p), "%s/%ld.err", dir, i);
		unlink(p);
	}
}

int main(int argc, char **argv)
{
	struct bench b = {0};
	const char *mode = argc >= 4 ? argv[3] : "";
	bool files = strcmp(mode, "lazy") == 0 || strcmp(mode, "eager") == 0;
	uint64_t t0;
	double s;

	if (!((argc == 4 && strcmp(mode, "discard") == 0) || (argc == 5 && files)) || atol(argv[1]) < 1 ||
	    atol(argv[2]) < 1) {
		fprintf(stderr, "usage: execbench N K discard | execbench N K lazy|eager DIR\n");
		return 2;
	}
	b.n = atol(argv[1]);
	b.parallel = atol(argv[2]);
	b.dir = files ? argv[4] : NULL;
	b.lazy = strcmp(mode, "eager") != 0;
	if (uv_loop_init(&b.loop) != 0)
		return 1;
	t0 = uv_hrtime();
	while (b.started < b.n && b.inflight < b.parallel)
		start_one(&b);
	uv_run(&b.loop, UV_RUN_DEFAULT);
	s = (double)(uv_hrtime() - t0) / 1e9;
	if (b.dir)
		clean_dir(b.dir, b.n);
	if (uv_loop_close(&b.loop) != 0 || b.ended != b.n || b.failed) {
		fprintf(stderr, "execbench: %ld of %ld runs ended, %ld failed\n", b.ended, b.n, b.failed);
		return 1;
	}
	printf("{\"runs\": %ld, \"in_flight\": %ld, \"seconds\": %.6f, \"rate\": %.1f}\n", b.n, b.parallel, s,
	    (double)b.n / s);
	return 0;
}
