/* exec with real processes on a real libuv loop: exit codes and signals, output files and caps, the live output
 * callback, deadlines, kills, process-group cleanup, start errors, working directory, the child's initial
 * state. Every wait runs the loop until the exit callback, under a watchdog that kills the task and fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <limits.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "exec/exec.h"
#include "exec/exec_env.h"
#include "exec/exec_zygote.h"
#include "util/buf.h"
#include "sys_assert.h"

#define WATCHDOG_MS 20000

struct run {
	bool done;
	struct exec_result res;
	struct buf live[2]; /* what on_output saw */
	struct exec_task *task;
	pid_t pid;
	bool fired;         /* watchdog */
};

static uv_loop_t loop;
static char dir[PATH_MAX];
static char out_path[2][PATH_MAX + 16];
static char journal[PATH_MAX + 16]; /* the executor's journal prefix */
static char path_env[] = "PATH=/usr/local/bin:/usr/bin:/bin";
static char *envp_default[] = {path_env, NULL};

static void on_output(void *ctx, enum exec_stream s, const char *data, size_t len)
{
	struct run *r = ctx;
	assert_true(len > 0);
	assert_int_equal(buf_append(&r->live[s], data, len), 0);
}

static void on_exit_cb(void *ctx, struct exec_task *t, const struct exec_result *res)
{
	struct run *r = ctx;

	assert_ptr_equal(t, r->task);
	assert_false(r->done);
	assert_int_equal(exec_kill(t, 0), -ESRCH);
	r->res = *res;
	r->done = true;
	r->task = NULL;
	exec_task_free(t);
}

static void on_watchdog(uv_timer_t *h)
{
	struct run *r = h->data;
	r->fired = true;
}

/* A spec with the test's files, callbacks and environment. */
static void spec_for(struct exec_spec *spec, struct run *r, char **argv)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->live[0], 0);
	buf_init(&r->live[1], 0);
	exec_spec_init(spec);
	spec->executor = GNOMON_EXECUTOR;
	spec->journal = journal;
	spec->argv = argv;
	spec->envp = envp_default;
	spec->out_path[0] = out_path[0];
	spec->out_path[1] = out_path[1];
	spec->on_output = on_output;
	spec->on_exit = on_exit_cb;
	spec->ctx = r;
}

static void run_start(struct run *r, const struct exec_spec *spec)
{
	char err[256] = "";
	int rc = exec_start(&loop, spec, &r->task, err, sizeof(err));
	if (rc != 0)
		fail_msg("exec_start: %d %s", rc, err);
	r->pid = exec_task_pid(r->task);
	assert_true(r->pid > 0);
}

/* Run the loop until cond(r) holds; on the watchdog, kill the task, let it go and fail. */
static void run_until(struct run *r, bool (*cond)(const struct run *))
{
	uv_timer_t wd;

	uv_timer_init(&loop, &wd);
	wd.data = r;
	uv_timer_start(&wd, on_watchdog, WATCHDOG_MS, 0);
	while (!cond(r) && !r->fired)
		uv_run(&loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&wd, NULL);
	if (!cond(r) && r->task) {
		exec_task_free(r->task);
		r->task = NULL;
	}
	uv_run(&loop, UV_RUN_NOWAIT);
	if (!cond(r))
		fail_msg("watchdog: the task did not end within %d ms", WATCHDOG_MS);
}

static bool is_done(const struct run *r)
{
	return r->done;
}

static void run_wait(struct run *r)
{
	run_until(r, is_done);
}

static void run_free(struct run *r)
{
	buf_free(&r->live[0]);
	buf_free(&r->live[1]);
}

/* Run a shell command to its end with the default spec. */
static void run_shell(struct run *r, const char *cmd)
{
	struct exec_spec spec;
	char **argv = exec_argv_build(cmd, NULL, 0, true);

	spec_for(&spec, r, argv);
	run_start(r, &spec);
	free(argv);
	run_wait(r);
}

static void test_exit_status(void **state)
{
	static const struct {
		const char *cmd;
		int code, sig;
	} rows[] = {
		{"exit 0", 0, 0},
		{"true", 0, 0},
		{"exit 3", 3, 0},
		{"exit 255", 255, 0},
		{"kill -9 $$", -1, SIGKILL},
		{"kill -TERM $$", -1, SIGTERM},
		{"no-such-command-gnomon", 127, 0},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct run r;
		run_shell(&r, rows[i].cmd);
		assert_int_equal(r.res.exit_code, rows[i].code);
		assert_int_equal(r.res.term_signal, rows[i].sig);
		assert_false(r.res.timed_out);
		assert_false(r.res.killed);
		assert_false(r.res.status_lost);
		assert_true(r.res.start_ms > 1600000000000);
		assert_true(r.res.end_ms >= r.res.start_ms);
		assert_true(r.res.duration_us >= 0 && r.res.duration_us < 10000000LL);
		assert_int_equal(r.res.io_error, 0);
		/* the resource use of what was reaped: a shell takes some memory */
		assert_true(r.res.user_cpu_us >= 0 && r.res.system_cpu_us >= 0);
		assert_true(r.res.max_rss_kib > 0);
		run_free(&r);
	}
}

static void test_output_files(void **state)
{
	struct run r;
	(void)state;

	run_shell(&r, "printf 'out\\n'; printf 'err1\\nerr2' >&2; printf 'more out\\n'");
	assert_int_equal(r.res.exit_code, 0);
	assert_file(out_path[0], "out\nmore out\n", 13);
	assert_file(out_path[1], "err1\nerr2", 9);
	assert_int_equal(r.res.stream[0].bytes, 13);
	assert_int_equal(r.res.stream[1].bytes, 9);
	assert_false(r.res.stream[0].truncated);
	assert_int_equal(r.res.stream[0].omitted, 0);
	assert_int_equal(r.live[0].len, 13);
	assert_memory_equal(r.live[0].data, "out\nmore out\n", 13);
	assert_memory_equal(r.live[1].data, "err1\nerr2", 9);
	run_free(&r);

	/* lazy files (the default): a silent stream leaves no file, not even a stale one */
	put_file(out_path[0], "stale\n");
	put_file(out_path[1], "stale\n");
	run_shell(&r, "echo to-stderr >&2");
	assert_absent(out_path[0]);
	assert_file(out_path[1], "to-stderr\n", 10);
	run_free(&r);

	/* eager files: both are created (and truncated) at start */
	{
		struct exec_spec spec;
		char **argv = exec_argv_build(":", NULL, 0, true);
		put_file(out_path[0], "stale\n");
		spec_for(&spec, &r, argv);
		spec.lazy_files = false;
		run_start(&r, &spec);
		free(argv);
		assert_file(out_path[0], "", 0);
		assert_file(out_path[1], "", 0);
		run_wait(&r);
		assert_file(out_path[0], "", 0);
		assert_file(out_path[1], "", 0);
		run_free(&r);
	}
}

/* The file must be the first head bytes of what the task wrote, a marker, and its last tail bytes. */
static void assert_capped(const char *path, const struct buf *all, size_t head, size_t tail)
{
	size_t len, kept = head + tail;
	char *got = slurp(path, &len);

	assert_non_null(got);
	if (all->len <= kept) {
		assert_int_equal(len, all->len);
		assert_memory_equal(got, all->data, all->len);
	} else {
		char marker[64];
		int m = snprintf(marker, sizeof(marker), "\n[gnomon: %zu bytes omitted]\n", all->len - kept);
		assert_int_equal(len, head + (size_t)m + tail);
		assert_memory_equal(got, all->data, head);
		assert_memory_equal(got + head, marker, (size_t)m);
		assert_memory_equal(got + head + (size_t)m, all->data + all->len - tail, tail);
	}
	free(got);
}

static void test_output_caps(void **state)
{
	static const struct {
		const char *cmd;
		size_t head, tail, bytes;
	} rows[] = {
		{"head -c 1048576 /dev/urandom", 65536, 65536, 1048576},
		{"head -c 100000 /dev/urandom", 65536, 65536, 100000},     /* fits: no marker */
		{"head -c 131072 /dev/urandom", 65536, 65536, 131072},     /* exactly head + tail */
		{"head -c 131073 /dev/urandom", 65536, 65536, 131073},     /* one byte omitted */
		{"seq 1 100000", 1000, 777, 588895},                       /* small caps: the ring wraps often */
		{"seq 1 100000", 0, 100, 588895},
		{"seq 1 100000", 100, 0, 588895},
		{"head -c 300000 /dev/urandom >&2", 65536, 65536, 300000}, /* stderr capped alike */
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct exec_spec spec;
		struct run r;
		char **argv = exec_argv_build(rows[i].cmd, NULL, 0, true);
		int s = strstr(rows[i].cmd, ">&2") ? EXEC_STDERR : EXEC_STDOUT;
		size_t kept = rows[i].head + rows[i].tail;

		spec_for(&spec, &r, argv);
		spec.cap_head = rows[i].head;
		spec.cap_tail = rows[i].tail;
		run_start(&r, &spec);
		free(argv);
		run_wait(&r);
		assert_int_equal(r.res.exit_code, 0);
		assert_int_equal(r.res.stream[s].bytes, rows[i].bytes);
		assert_int_equal(r.live[s].len, rows[i].bytes);
		assert_int_equal(r.res.stream[s].omitted, rows[i].bytes > kept ? rows[i].bytes - kept : 0);
		assert_int_equal(r.res.stream[s].truncated, rows[i].bytes > kept);
		assert_capped(out_path[s], &r.live[s], rows[i].head, rows[i].tail);
		assert_int_equal(r.res.stream[!s].bytes, 0);
		assert_absent(out_path[!s]);
		run_free(&r);
	}
}

/* The live callback gets every byte of both streams, in order, matching an independently built copy. */
static void test_live_output(void **state)
{
	struct buf want;
	struct run r;
	(void)state;

	buf_init(&want, 0);
	for (int i = 1; i <= 200000; i++)
		assert_int_equal(buf_printf(&want, "%d\n", i), 0);
	run_shell(&r, "seq 1 200000; seq 1 200000 >&2");
	assert_int_equal(r.live[0].len, want.len);
	assert_memory_equal(r.live[0].data, want.data, want.len);
	assert_int_equal(r.live[1].len, want.len);
	assert_memory_equal(r.live[1].data, want.data, want.len);
	assert_int_equal(r.res.stream[0].bytes, want.len);
	run_free(&r);

	/* discarded streams are still counted and followed */
	{
		struct exec_spec spec;
		char **argv = exec_argv_build("seq 1 200000", NULL, 0, true);
		spec_for(&spec, &r, argv);
		spec.out_path[0] = spec.out_path[1] = NULL;
		run_start(&r, &spec);
		free(argv);
		run_wait(&r);
		assert_int_equal(r.res.stream[0].bytes, want.len);
		assert_memory_equal(r.live[0].data, want.data, want.len);
		run_free(&r);
	}
	buf_free(&want);
}

static void test_deadline(void **state)
{
	struct exec_spec spec;
	struct run r;
	static const char *const args[] = {"30"};
	char **argv = exec_argv_build("sleep", args, 1, false);
	(void)state;

	spec_for(&spec, &r, argv);
	spec.deadline_ms = 300;
	run_start(&r, &spec);
	free(argv);
	run_wait(&r);
	assert_true(r.res.timed_out);
	assert_false(r.res.killed);
	assert_int_equal(r.res.term_signal, SIGTERM);
	assert_int_equal(r.res.exit_code, -1);
	assert_true(r.res.duration_us >= 250000);
	assert_true(r.res.duration_us < 5000000LL);
	run_free(&r);
}

static bool said_ready(const struct run *r)
{
	return r->done || (r->live[0].len && strstr(r->live[0].data, "ready"));
}

/* A shell that ignores SIGTERM ends by SIGKILL once the grace has passed; so does one past its deadline. */
static void test_kill_after_grace(void **state)
{
	static const char *const cmd = "trap '' TERM; echo ready; sleep 30; echo survived";
	(void)state;

	for (int by_deadline = 0; by_deadline < 2; by_deadline++) {
		struct exec_spec spec;
		struct run r;
		char **argv = exec_argv_build(cmd, NULL, 0, true);
		uint64_t t0;

		spec_for(&spec, &r, argv);
		spec.grace_ms = 300;
		spec.deadline_ms = by_deadline ? 1000 : 0;
		run_start(&r, &spec);
		free(argv);
		run_until(&r, said_ready);
		assert_false(r.done);
		t0 = uv_hrtime();
		if (!by_deadline) {
			assert_int_equal(exec_kill(r.task, 300), 0);
			assert_int_equal(exec_kill(r.task, 300), 0); /* twice is fine */
		}
		run_wait(&r);
		assert_int_equal(r.res.term_signal, SIGKILL);
		assert_int_equal(r.res.killed, !by_deadline);
		assert_int_equal(r.res.timed_out, by_deadline);
		if (!by_deadline)
			assert_true(uv_hrtime() - t0 >= 250 * 1000000ull);
		assert_true(r.res.duration_us < 10000000LL);
		assert_null(strstr(r.live[0].data, "survived"));
		assert_group_gone(r.pid);
		run_free(&r);
	}
}

/* exec_kill with no grace and of a task that honours SIGTERM. */
static void test_kill_now(void **state)
{
	static const uint64_t graces[] = {0, 5000};
	(void)state;

	for (size_t i = 0; i < 2; i++) {
		struct exec_spec spec;
		struct run r;
		char **argv = exec_argv_build("echo ready; sleep 30", NULL, 0, true);

		spec_for(&spec, &r, argv);
		run_start(&r, &spec);
		free(argv);
		run_until(&r, said_ready);
		assert_int_equal(exec_kill(r.task, graces[i]), 0);
		run_wait(&r);
		assert_true(r.res.killed);
		assert_int_equal(r.res.term_signal, graces[i] ? SIGTERM : SIGKILL);
		assert_true(r.res.duration_us < 4000000LL);
		run_free(&r);
	}
}

/* A background grandchild holding the output pipes dies with its run: the process group ends up empty. */
static void test_no_process_outlives_run(void **state)
{
	struct run r;
	pid_t gpid;
	(void)state;

	run_shell(&r, "sleep 30 & echo $!");
	assert_int_equal(r.res.exit_code, 0);
	assert_true(r.res.duration_us < 5000000LL);
	gpid = (pid_t)atoi(r.live[0].data);
	assert_true(gpid > 0);
	assert_group_gone(r.pid);
	assert_int_equal(kill(gpid, 0), -1);
	assert_int_equal(errno, ESRCH);
	run_free(&r);
}

/* A process that left the group (setsid) keeps the pipes open: the run still ends, drain_ms after the leader. */
static void test_escaped_process_drain(void **state)
{
	struct exec_spec spec;
	struct run r;
	char **argv = exec_argv_build("setsid sleep 30 & echo $!", NULL, 0, true);
	pid_t escaped;
	(void)state;

	spec_for(&spec, &r, argv);
	spec.drain_ms = 300;
	run_start(&r, &spec);
	free(argv);
	run_wait(&r);
	assert_int_equal(r.res.exit_code, 0);
	escaped = (pid_t)atoi(r.live[0].data);
	assert_true(escaped > 0);
	/* out of the group's reach: still alive, and this test's to clean up */
	assert_int_equal(kill(escaped, 0), 0);
	assert_int_equal(kill(escaped, SIGKILL), 0);
	assert_int_equal(waitpid(escaped, NULL, 0), escaped);
	assert_true(r.res.duration_us < 5000000LL);
	assert_file(out_path[0], r.live[0].data, r.live[0].len);
	run_free(&r);
}

static void expect_start_error(char **argv, char **envp, const char *cwd, int want_rc, const char *want_err)
{
	struct exec_spec spec;
	struct run r;
	struct exec_task *t = NULL;
	char err[256] = "";

	spec_for(&spec, &r, argv);
	if (envp)
		spec.envp = envp;
	spec.cwd = cwd;
	assert_int_equal(exec_start(&loop, &spec, &t, err, sizeof(err)), want_rc);
	assert_null(t);
	assert_string_equal(err, want_err);
	run_free(&r);
}

/* shell: false with a missing executable fails at start with -ENOENT (no process, no callback); the lookup uses
 * the PATH of the task's environment. */
static void test_start_errors(void **state)
{
	static const char *const none[] = {NULL};
	static char path_none[] = "PATH=/nonexistent";
	static char *envp_none[] = {path_none, NULL};
	char **missing = exec_argv_build("no-such-command-gnomon", none, 0, false);
	char **absent = exec_argv_build("/nonexistent/cmd", none, 0, false);
	char **notexec = exec_argv_build("/etc/passwd", none, 0, false);
	char **tru = exec_argv_build("true", none, 0, false);
	struct exec_spec spec;
	struct run r;
	(void)state;

	expect_start_error(missing, NULL, NULL, -ENOENT,
	    "cannot run 'no-such-command-gnomon': No such file or directory");
	expect_start_error(absent, NULL, NULL, -ENOENT, "cannot run '/nonexistent/cmd': No such file or directory");
	expect_start_error(notexec, NULL, NULL, -EACCES, "cannot run '/etc/passwd': Permission denied");
	expect_start_error(tru, envp_none, NULL, -ENOENT, "cannot run 'true': No such file or directory");
	expect_start_error(tru, NULL, "/nonexistent-dir", -ENOENT,
	    "cannot run 'true': working directory '/nonexistent-dir': No such file or directory");

	spec_for(&spec, &r, tru);
	run_start(&r, &spec);
	run_wait(&r);
	assert_int_equal(r.res.exit_code, 0);
	run_free(&r);
	free(missing);
	free(absent);
	free(notexec);
	free(tru);
}

static void test_cwd(void **state)
{
	struct exec_spec spec;
	struct run r;
	char **argv = exec_argv_build("pwd; cat cwd-marker", NULL, 0, true);
	char want[PATH_MAX + 64], marker[PATH_MAX + 16];
	int n;
	(void)state;

	snprintf(marker, sizeof(marker), "%s/cwd-marker", dir);
	put_file(marker, "here\n");
	spec_for(&spec, &r, argv);
	spec.cwd = dir;
	run_start(&r, &spec);
	free(argv);
	run_wait(&r);
	n = snprintf(want, sizeof(want), "%s\nhere\n", dir);
	assert_file(out_path[0], want, (size_t)n);
	unlink(marker);
	run_free(&r);
}

/* Run argv (no shell) and return its stdout. */
static char *run_argv_output(const char *const *argv_in, size_t n, pid_t *pid)
{
	struct exec_spec spec;
	struct run r;
	char **argv = exec_argv_build(argv_in[0], argv_in + 1, n - 1, false);
	char *out;

	spec_for(&spec, &r, argv);
	run_start(&r, &spec);
	free(argv);
	run_wait(&r);
	assert_int_equal(r.res.exit_code, 0);
	*pid = r.pid;
	out = buf_steal(&r.live[0], NULL);
	run_free(&r);
	return out;
}

/* The child starts with every signal at its default and none blocked even when the server ignores or blocks
 * some, stdin on /dev/null, no other descriptor than 0, 1 and 2, in its own process group. */
static void test_child_state(void **state)
{
	static const char *const sigs[] = {"grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"};
	static const char *const in[] = {"readlink", "/proc/self/fd/0"};
	static const char *const stat[] = {"cat", "/proc/self/stat"};
	static const char *const fds[] = {"ls", "/proc/self/fd"};
	struct sigaction ign = {.sa_handler = SIG_IGN}, old_pipe, old_term;
	sigset_t block, old_mask;
	char *out;
	pid_t pid;
	int spid, pgrp, leak;
	(void)state;

	sigaction(SIGPIPE, &ign, &old_pipe);
	sigaction(SIGTERM, &ign, &old_term);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old_mask);

	out = run_argv_output(sigs, 4, &pid);
	assert_string_equal(out, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
	free(out);
	out = run_argv_output(in, 2, &pid);
	assert_string_equal(out, "/dev/null\n");
	free(out);
	/* no descriptor leaks into the task, even one this process forgot to make close-on-exec */
	leak = open("/dev/null", O_RDONLY);
	assert_true(leak > 2);
	out = run_argv_output(fds, 2, &pid);
	assert_string_equal(out, "0\n1\n2\n3\n"); /* 3: ls's own directory */
	free(out);
	close(leak);
	out = run_argv_output(stat, 2, &pid);
	assert_int_equal(sscanf(out, "%d (cat) %*c %*d %d", &spid, &pgrp), 2);
	assert_int_equal(spid, pid);
	assert_int_equal(pgrp, pid);
	free(out);

	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	sigaction(SIGPIPE, &old_pipe, NULL);
	sigaction(SIGTERM, &old_term, NULL);
}

static bool loop_idle(const struct run *r)
{
	(void)r;
	return !uv_loop_alive(&loop);
}

/* exec_task_free() on a running task kills its group and frees it later, with no callback. */
static void test_abandon(void **state)
{
	struct exec_spec spec;
	struct run r;
	static const char *const args[] = {"30"};
	char **argv = exec_argv_build("sleep", args, 1, false);
	uv_timer_t wd;
	(void)state;

	spec_for(&spec, &r, argv);
	run_start(&r, &spec);
	free(argv);
	exec_task_free(r.task);
	exec_task_free(r.task); /* twice is harmless while it winds down */
	r.task = NULL;
	uv_timer_init(&loop, &wd);
	wd.data = &r;
	uv_timer_start(&wd, on_watchdog, WATCHDOG_MS, 0);
	uv_unref((uv_handle_t *)&wd);
	while (!loop_idle(&r) && !r.fired)
		uv_run(&loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&wd, NULL);
	uv_run(&loop, UV_RUN_NOWAIT);
	assert_false(r.fired);
	assert_false(r.done);
	assert_group_gone(r.pid);
	run_free(&r);
}

/* Process pid's state letter and parent, from /proc; false when there is no such process. */
static bool proc_stat(pid_t pid, char *state, pid_t *ppid)
{
	char path[64], text[1024], *p;
	size_t n;
	int ppid_i = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "re")))
		return false;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	if (!(p = strrchr(text, ')')) || sscanf(p + 1, " %c %d", state, &ppid_i) != 2)
		return false;
	*ppid = (pid_t)ppid_i;
	return true;
}

/* Run a task that prints its executor's parent, and return that. */
static pid_t executor_parent(void)
{
	struct run r;
	pid_t pid;

	run_shell(&r, "awk '{print $4}' /proc/$PPID/stat");
	assert_int_equal(r.res.exit_code, 0);
	assert_non_null(r.live[0].data);
	pid = (pid_t)atol(r.live[0].data);
	run_free(&r);
	return pid;
}

/* The processes whose parent is ppid (zombies included). */
static int children_of(pid_t ppid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		pid_t pid = (pid_t)atol(e->d_name), parent;
		char st;
		if (pid > 0 && proc_stat(pid, &st, &parent) && parent == ppid)
			n++;
	}
	closedir(d);
	return n;
}

/* The descriptors open in process pid. */
static int fd_count(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	assert_non_null(d = opendir(path));
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Executors are forked by one zygote, started with the first task and kept for the next. */
static void test_zygote(void **state)
{
	pid_t z = executor_parent();
	(void)state;

	assert_true(z > 0 && z != getpid());
	assert_int_equal(z, exec_zygote_pid(GNOMON_EXECUTOR));
	assert_int_equal(executor_parent(), z);
}

/* After many tasks the zygote has no child left (no zombie executor); while a task runs, it holds none of its
 * descriptors nor any of this process (its socket, /dev/null and stderr). */
static void test_zygote_reaps(void **state)
{
	struct exec_spec spec;
	struct run r;
	static const char *const args[] = {"30"};
	char **argv = exec_argv_build("sleep", args, 1, false);
	pid_t z;
	(void)state;

	for (int i = 0; i < 30; i++) {
		run_shell(&r, "true");
		assert_int_equal(r.res.exit_code, 0);
		run_free(&r);
	}
	z = exec_zygote_pid(GNOMON_EXECUTOR);
	assert_true(z > 0);
	/* a task ends at its executor's 'E', a moment before that executor's exit */
	for (int i = 0; i < 200 && children_of(z) > 0; i++)
		(void)poll(NULL, 0, 10);
	assert_int_equal(children_of(z), 0);
	spec_for(&spec, &r, argv);
	run_start(&r, &spec);
	free(argv);
	assert_int_equal(children_of(z), 1); /* the executor */
	/* the answer's pidfd may still be on its way out when the task's 'S' comes: a moment to close it */
	for (int i = 0; i < 100 && fd_count(z) > 3; i++)
		(void)poll(NULL, 0, 10);
	assert_int_equal(fd_count(z), 3);
	assert_int_equal(exec_kill(r.task, 0), 0);
	run_wait(&r);
	assert_true(r.res.killed);
	run_free(&r);
}

/* The zygote killed: the next start spawns its executor itself (the task runs all the same) and reaps the dead
 * zygote; the start after it starts a new zygote (at most one start a second). */
static void test_zygote_killed(void **state)
{
	pid_t old = exec_zygote_pid(GNOMON_EXECUTOR), z, ppid;
	char st = 0;
	(void)state;

	assert_true(old > 0);
	assert_int_equal(kill(old, SIGKILL), 0);
	for (int i = 0; i < WATCHDOG_MS / 10 && proc_stat(old, &st, &ppid) && st != 'Z'; i++)
		(void)poll(NULL, 0, 10);
	assert_int_equal(st, 'Z'); /* dead, this process's zombie until exec finds it gone */
	assert_int_equal(executor_parent(), getpid());
	assert_false(proc_stat(old, &st, &ppid));
	(void)poll(NULL, 0, 1100);
	z = executor_parent();
	assert_true(z > 0 && z != getpid() && z != old);
	assert_int_equal(z, exec_zygote_pid(GNOMON_EXECUTOR));
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/gnomon-test-exec-XXXXXX");
	if (!mkdtemp(dir) || uv_loop_init(&loop) != 0)
		return -1;
	/* orphaned grandchildren come to this process instead of PID 1 (which may never reap them), so the tests
	 * can reap their zombies and then check that a task's process group is empty */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
		return -1;
	snprintf(out_path[0], sizeof(out_path[0]), "%s/stdout", dir);
	snprintf(out_path[1], sizeof(out_path[1]), "%s/stderr", dir);
	snprintf(journal, sizeof(journal), "%s/task", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(out_path[0]);
	unlink(out_path[1]);
	rmdir(dir);
	uv_run(&loop, UV_RUN_NOWAIT);
	return uv_loop_close(&loop) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_status),
		cmocka_unit_test(test_output_files),
		cmocka_unit_test(test_output_caps),
		cmocka_unit_test(test_live_output),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_kill_after_grace),
		cmocka_unit_test(test_kill_now),
		cmocka_unit_test(test_no_process_outlives_run),
		cmocka_unit_test(test_escaped_process_drain),
		cmocka_unit_test(test_start_errors),
		cmocka_unit_test(test_cwd),
		cmocka_unit_test(test_child_state),
		cmocka_unit_test(test_abandon),
		cmocka_unit_test(test_zygote),
		cmocka_unit_test(test_zygote_reaps),
		cmocka_unit_test(test_zygote_killed),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
