/* The agent's lease shared with its executors (exec/exec_lease.h): the pure rules in tables, the shared page
 * between a writer and a reader, and gnomon-executor for real (GNOMON_EXECUTOR): a task not started on a lapsed
 * lease, killed when the lease lapses while it runs, left alone while it is renewed. Every wait is for an event
 * (the events pipe's end, the executor's exit) under a watchdog. */
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
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec/exec_lease.h"
#include "exec/executor_proto.h"
#include "util/buf.h"

#ifndef GNOMON_EXECUTOR
#error "GNOMON_EXECUTOR: the path of gnomon-executor, from tests/CMakeLists.txt"
#endif

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define WATCHDOG_MS 20000

extern char **environ;

static char dir[PATH_MAX];

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void test_lapsed_table(void **state)
{
	static const struct {
		uint64_t heard, lease, now;
		bool lapsed;
	} rows[] = {
		{0, 0, 5000, false},        /* no lease yet: nothing lapses */
		{1000, 0, 999999, false},
		{0, 3000, 5000, true},      /* never heard */
		{1000, 3000, 1000, false},
		{1000, 3000, 4000, false},  /* exactly the lease */
		{1000, 3000, 4001, true},
		{5000, 3000, 4000, true},   /* heard "after" now: another boot's page */
		{UINT64_MAX - 10, 5, UINT64_MAX, true},
	};
	(void)state;

	for (size_t i = 0; i < COUNT(rows); i++)
		if (lease_lapsed(rows[i].heard, rows[i].lease, rows[i].now) != rows[i].lapsed)
			fail_msg("row %zu: lapsed should be %d", i, rows[i].lapsed);
}

static void test_lease_for_timeout(void **state)
{
	static const uint64_t rows[][2] = {
		{30000, 29000}, {10000, 9000}, {4000, 3000}, {3000, 2250}, {2000, 1500}, {1000, 750}, {86400000, 86399000},
	};
	(void)state;

	for (size_t i = 0; i < COUNT(rows); i++)
		assert_int_equal(lease_for_timeout(rows[i][0]), rows[i][1]);
}

/* What the agent writes, its executors read; a restarted agent keeps what the last one wrote. */
static void test_page(void **state)
{
	struct exec_lease w, r, w2;
	char path[PATH_MAX + 16], err[512] = "";
	uint64_t silent;
	(void)state;

	snprintf(path, sizeof(path), "%s/%s", dir, LEASE_FILE);
	assert_int_equal(lease_open_reader(&r, path, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, path));
	assert_int_equal(lease_open_writer(&w, path, err, sizeof(err)), 0);
	assert_int_equal(lease_open_reader(&r, path, err, sizeof(err)), 0);
	assert_false(lease_check(&r, 123456, &silent)); /* no lease told yet */
	lease_set(&w, 3000);
	assert_true(lease_check(&r, 123456, &silent));  /* never heard */
	assert_int_equal(silent, 0);
	lease_renew(&w, 100000);
	lease_renew(&w, 99000); /* older: ignored */
	assert_false(lease_check(&r, 103000, &silent));
	assert_int_equal(silent, 3000);
	assert_true(lease_check(&r, 103001, &silent));
	lease_close(&w);
	assert_int_equal(lease_open_writer(&w2, path, err, sizeof(err)), 0);
	assert_false(lease_check(&r, 102000, NULL)); /* the new writer kept both */
	lease_renew(&w2, 200000);
	assert_false(lease_check(&r, 202000, NULL));
	lease_close(&w2);
	lease_close(&r);
	lease_close(&r); /* harmless twice */
	assert_int_equal(unlink(path), 0);
}

/* One executor run to its end: the frame types, the 'F' text, the 'E' result; returns its exit status. */
struct run {
	struct buf types, ended, failed;
	int status;
};

static void run_executor(const struct executor_spec *spec, struct exec_lease *renew, struct run *out)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = {(char *)(uintptr_t)GNOMON_EXECUTOR, NULL}, err[256], chunk[65536];
	struct executor_reader rd;
	struct buf b;
	int in[2], ev[2];
	pid_t pid;
	uint64_t until = mono_ms() + WATCHDOG_MS;

	buf_init(&out->types, 0);
	buf_init(&out->ended, 0);
	buf_init(&out->failed, 0);
	buf_init(&b, 0);
	if (executor_spec_encode(spec, &b, err, sizeof(err)) != 0)
		fail_msg("encode: %s", err);
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(ev, O_CLOEXEC), 0);
	assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
	assert_int_equal(posix_spawn_file_actions_adddup2(&fa, in[0], 0), 0);
	assert_int_equal(posix_spawn_file_actions_adddup2(&fa, ev[1], 1), 0);
	assert_int_equal(posix_spawn(&pid, GNOMON_EXECUTOR, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(ev[1]);
	assert_int_equal(write(in[1], b.data, b.len), (ssize_t)b.len);
	close(in[1]);
	buf_free(&b);
	executor_reader_init(&rd);
	for (;;) {
		struct pollfd p = {ev[0], POLLIN, 0};
		const char *data = chunk;
		struct executor_frame f;
		ssize_t n;
		size_t len;
		int rc;

		if (renew)
			lease_renew(renew, mono_ms());
		if (mono_ms() > until) {
			kill(pid, SIGKILL);
			fail_msg("the executor did not end within %d ms", WATCHDOG_MS);
		}
		if (poll(&p, 1, 50) <= 0)
			continue;
		if ((n = read(ev[0], chunk, sizeof(chunk))) <= 0)
			break;
		len = (size_t)n;
		while ((rc = executor_reader_feed(&rd, &data, &len, &f, err, sizeof(err))) == 1) {
			char c = (char)f.h.type;
			assert_int_equal(buf_append(&out->types, &c, 1), 0);
			if (c == 'E')
				assert_int_equal(buf_append(&out->ended, f.payload, f.h.len), 0);
			if (c == 'F')
				assert_int_equal(buf_append(&out->failed, f.payload, f.h.len), 0);
		}
		assert_int_equal(rc, 0);
	}
	close(ev[0]);
	executor_reader_free(&rd);
	assert_int_equal(waitpid(pid, &out->status, 0), pid);
	assert_true(WIFEXITED(out->status));
	out->status = WEXITSTATUS(out->status);
}

static void run_free(struct run *r)
{
	buf_free(&r->types);
	buf_free(&r->ended);
	buf_free(&r->failed);
}

static char s_sh[] = "/bin/sh", s_c[] = "-c", s_path[] = "PATH=/usr/bin:/bin";
static char *env[] = {s_path, NULL};

static void spec_for(struct executor_spec *s, char **argv, const char *journal, const char *lease)
{
	executor_spec_init(s);
	s->prog = "/bin/sh";
	s->argv = argv;
	s->envp = env;
	s->journal = journal;
	s->lease = lease;
	s->grace_ms = 5000; /* a lapse kills at once all the same */
}

static void test_executor(void **state)
{
	char path[PATH_MAX + 16], journal[PATH_MAX + 16], err[512] = "";
	char cmd_sleep[] = "sleep 30", cmd_short[] = "sleep 1.2; exit 7";
	char *argv_sleep[] = {s_sh, s_c, cmd_sleep, NULL}, *argv_short[] = {s_sh, s_c, cmd_short, NULL};
	struct executor_spec spec;
	struct executor_result res;
	struct exec_lease w;
	struct run r;
	uint64_t t0;
	(void)state;

	snprintf(path, sizeof(path), "%s/%s", dir, LEASE_FILE);
	snprintf(journal, sizeof(journal), "%s/task", dir);
	assert_int_equal(lease_open_writer(&w, path, err, sizeof(err)), 0);
	lease_set(&w, 600);

	/* lapsed before the start: not started */
	lease_renew(&w, mono_ms() - 1000);
	spec_for(&spec, argv_sleep, journal, path);
	run_executor(&spec, NULL, &r);
	assert_int_equal(r.status, EXECUTOR_EXIT_START_FAILED);
	assert_string_equal(r.types.data, "F");
	assert_non_null(strstr(r.failed.data, "lease has lapsed"));
	assert_int_equal(atoi(r.failed.data), ESTALE);
	run_free(&r);

	/* lapsing while it runs: killed at once, whatever its grace */
	t0 = mono_ms();
	lease_renew(&w, t0);
	run_executor(&spec, NULL, &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.types.data[0], 'S');
	assert_int_equal(executor_result_parse(r.ended.data, r.ended.len, &res, err, sizeof(err)), 0);
	assert_true(res.killed && res.lease_lapsed);
	assert_int_equal(res.term_signal, SIGKILL);
	assert_true(res.lease_silent_ms > 600 && res.lease_silent_ms < 600 + 5000);
	assert_true(mono_ms() - t0 < 5000); /* not its grace, nor its 30 s */
	run_free(&r);

	/* renewed all along: it ends as it would have */
	spec_for(&spec, argv_short, journal, path);
	run_executor(&spec, &w, &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(executor_result_parse(r.ended.data, r.ended.len, &res, err, sizeof(err)), 0);
	assert_false(res.killed || res.lease_lapsed);
	assert_int_equal(res.exit_code, 7);
	assert_int_equal(res.lease_silent_ms, 0);
	run_free(&r);

	/* no lease told (a server that does not say its --agent-timeout): never killed for it */
	lease_set(&w, 0);
	lease_renew(&w, mono_ms() - 100000);
	run_executor(&spec, NULL, &r);
	assert_int_equal(executor_result_parse(r.ended.data, r.ended.len, &res, err, sizeof(err)), 0);
	assert_int_equal(res.exit_code, 7);
	run_free(&r);
	lease_close(&w);
	unlink(path);
	for (size_t i = 0; i < 2; i++) {
		char p[PATH_MAX + 32];
		snprintf(p, sizeof(p), "%s.%s", journal, i ? "pid" : "result");
		unlink(p);
	}
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/gnomon-lease-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lapsed_table),
		cmocka_unit_test(test_lease_for_timeout),
		cmocka_unit_test(test_page),
		cmocka_unit_test(test_executor),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
