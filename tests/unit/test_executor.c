/* gnomon-executor for real (its path comes from CMake as GNOMON_EXECUTOR): the spec on its stdin, the frames
 * on its events pipe, its exit status, the task's files and the journal in a temporary directory. Every wait is
 * for an event (a frame, the pipe's end, the executor's exit) under a generous watchdog; on a failure the
 * teardown kills what is left. */
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
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec/cgroup.h"
#include "exec/exec_order.h"
#include "exec/executor_proto.h"
#include "exec/fdpass.h"
#include "history/run_merge.h"
#include "util/buf.h"
#include "util/xmalloc.h"
#include "sys_assert.h"

#ifndef GNOMON_EXECUTOR
#error "GNOMON_EXECUTOR: the path of gnomon-executor, from tests/CMakeLists.txt"
#endif

#define WATCHDOG_MS 20000
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define BYTES(s) s, sizeof(s) - 1

extern char **environ;

/* One executor run, as the server would see it. */
struct ex {
	pid_t pid;            /* the executor */
	int events;           /* the events pipe's read end; -1 once closed */
	struct executor_reader reader;
	struct buf types;     /* the type of every frame, in order */
	struct buf out[2];    /* the 'O' payloads of each stream */
	struct buf ended;     /* the 'E' payload */
	pid_t task_pid;       /* from 'S' */
	int64_t start_ms;
	int f_errno;          /* from 'F' */
	char f_msg[512];
	int status;           /* the executor's wait status, once it exited */
	bool exited;
	int pidfd;            /* of an executor the zygote forked (its status is the zygote's), else -1 */
};

/* A fork server (gnomon-executor --zygote) the test started: executors come from it while `through` is set. */
struct zy {
	pid_t pid;
	int sock; /* the server's end of its socket */
};

static char dir[PATH_MAX];
static char out_path[2][PATH_MAX + 16], order_path[PATH_MAX + 16], journal[PATH_MAX + 16];
static struct ex *current; /* killed by the teardown if a test fails midway */
static bool start_ignoring; /* start the executor with SIGCHLD, SIGTERM, SIGUSR1 and SIGINT ignored */
static bool gone_first;     /* close the events pipe's read end before the spec is sent: the server died */
static struct zy *through;  /* ex_start asks this zygote for the executor instead of spawning it */
static struct zy *live_zygote; /* stopped by the teardown if a test fails midway */

static char s_sh[] = "sh", s_c[] = "-c", s_path[] = "PATH=/usr/local/bin:/usr/bin:/bin";
static char *sh_argv[] = {s_sh, s_c, NULL, NULL};
static char *env_default[] = {s_path, NULL};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A spec that runs cmd with sh -c, with the test's files and journal. */
static void spec_shell(struct executor_spec *s, const char *cmd)
{
	executor_spec_init(s);
	sh_argv[2] = (char *)(uintptr_t)cmd;
	s->prog = "/bin/sh";
	s->argv = sh_argv;
	s->envp = env_default;
	s->out_path[0] = out_path[0];
	s->out_path[1] = out_path[1];
	s->journal = journal;
}

/* Receive a message from the zygote within the watchdog: its length (0 at its end). */
static ssize_t zy_recv(struct zy *z, struct executor_zygote_msg *m, int *fds, size_t maxfds, size_t *nfds)
{
	struct pollfd p = {z->sock, POLLIN, 0};

	assert_int_equal(poll(&p, 1, WATCHDOG_MS), 1);
	return fdpass_recv(z->sock, m, sizeof(*m), fds, maxfds, nfds);
}

/* Start gnomon-executor --zygote on a socketpair, as the server does, and take its hello. */
static void zy_start(struct zy *z)
{
	char *argv[] = {(char *)(uintptr_t)GNOMON_EXECUTOR, (char *)(uintptr_t)EXECUTOR_ZYGOTE_ARG, NULL};
	posix_spawn_file_actions_t fa;
	struct executor_zygote_msg m;
	size_t nfds;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
	assert_int_equal(posix_spawn_file_actions_adddup2(&fa, sv[1], 0), 0);
	assert_int_equal(posix_spawn_file_actions_addclosefrom_np(&fa, 3), 0); /* as the server starts it */
	assert_int_equal(posix_spawn(&z->pid, GNOMON_EXECUTOR, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(sv[1]);
	z->sock = sv[0];
	live_zygote = z;
	assert_int_equal(zy_recv(z, &m, NULL, 0, &nfds), sizeof(m));
	assert_int_equal(m.type, EXECUTOR_ZYGOTE_HELLO);
	assert_int_equal(m.pid, z->pid);
}

/* Close the socket (the server is gone) and reap the zygote: its exit status. */
static int zy_stop(struct zy *z)
{
	int status = -1;

	if (z->sock >= 0)
		close(z->sock);
	z->sock = -1;
	live_zygote = NULL;
	assert_int_equal(waitpid(z->pid, &status, 0), z->pid);
	return status;
}

/* Have the zygote fork the executor of x on its spec pipe's read end and its events pipe's write end. */
static void zy_fork(struct zy *z, struct ex *x, int spec_fd, int ev_fd)
{
	struct executor_zygote_msg m = {.type = EXECUTOR_ZYGOTE_FORK};
	const int fds[2] = {spec_fd, ev_fd};
	size_t nfds;

	assert_int_equal(fdpass_send(z->sock, &m, sizeof(m), fds, 2), 0);
	assert_int_equal(zy_recv(z, &m, &x->pidfd, 1, &nfds), sizeof(m));
	assert_int_equal(m.type, EXECUTOR_ZYGOTE_FORKED);
	assert_int_equal(m.err, 0);
	assert_int_equal(nfds, 1);
	assert_true(m.pid > 0);
	x->pid = m.pid;
}

/* The descriptors open in process pid, as a string of their numbers ("0 1 2"). The caller frees it. */
static char *fds_of(pid_t pid)
{
	char path[64], *list = NULL;
	int fds[64], n = 0;
	struct buf b;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	assert_non_null(d = opendir(path));
	for (struct dirent *e; (e = readdir(d)) && n < 64;)
		if (e->d_name[0] != '.')
			fds[n++] = atoi(e->d_name);
	closedir(d);
	buf_init(&b, 0);
	for (int v = 0; v < 1024; v++)
		for (int i = 0; i < n; i++)
			if (fds[i] == v) {
				char num[16];
				snprintf(num, sizeof(num), "%s%d", b.len ? " " : "", v);
				assert_int_equal(buf_append(&b, num, strlen(num)), 0);
			}
	assert_int_equal(buf_append(&b, "", 1), 0);
	list = xstrdup(b.data);
	buf_free(&b);
	return list;
}

/* Start the executor and hand it raw spec bytes. */
static void ex_start_raw(struct ex *x, const char *spec, size_t len)
{
	posix_spawn_file_actions_t fa;
	int in[2], ev[2], rc;
	char *argv[] = {(char *)(uintptr_t)GNOMON_EXECUTOR, NULL};
	static const int ignored[] = {SIGCHLD, SIGTERM, SIGUSR1, SIGINT};
	struct sigaction ign = {.sa_handler = SIG_IGN}, old[COUNT(ignored)];

	memset(x, 0, sizeof(*x));
	x->pidfd = -1;
	executor_reader_init(&x->reader);
	buf_init(&x->types, 0);
	buf_init(&x->out[0], 0);
	buf_init(&x->out[1], 0);
	buf_init(&x->ended, 0);
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(ev, O_CLOEXEC), 0);
	if (through) {
		zy_fork(through, x, in[0], ev[1]);
		goto started;
	}
	assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
	assert_int_equal(posix_spawn_file_actions_adddup2(&fa, in[0], 0), 0);
	assert_int_equal(posix_spawn_file_actions_adddup2(&fa, ev[1], 1), 0);
	/* start_ignoring: the executor inherits these signals ignored (no child of this process can end meanwhile) */
	for (size_t i = 0; start_ignoring && i < COUNT(ignored); i++)
		sigaction(ignored[i], &ign, &old[i]);
	rc = posix_spawn(&x->pid, GNOMON_EXECUTOR, &fa, NULL, argv, environ);
	for (size_t i = 0; start_ignoring && i < COUNT(ignored); i++)
		sigaction(ignored[i], &old[i], NULL);
	assert_int_equal(rc, 0);
	posix_spawn_file_actions_destroy(&fa);
started:
	current = x;
	close(in[0]);
	close(ev[1]);
	x->events = ev[0];
	if (gone_first) {
		close(x->events);
		x->events = -1;
	}
	while (len > 0) {
		ssize_t n = write(in[1], spec, len);
		assert_true(n > 0);
		spec += n;
		len -= (size_t)n;
	}
	close(in[1]);
}

static void ex_start(struct ex *x, const struct executor_spec *spec)
{
	struct buf b;
	char err[256];

	buf_init(&b, 0);
	if (executor_spec_encode(spec, &b, err, sizeof(err)) != 0)
		fail_msg("encode: %s", err);
	ex_start_raw(x, b.data, b.len);
	buf_free(&b);
}

static void on_frame(struct ex *x, const struct executor_frame *f)
{
	char c = (char)f->h.type;

	assert_int_equal(buf_append(&x->types, &c, 1), 0);
	switch (f->h.type) {
	case EXECUTOR_FRAME_STARTED:
		assert_int_equal(executor_started_parse(f->payload, f->h.len, &x->task_pid, &x->start_ms), 0);
		break;
	case EXECUTOR_FRAME_FAILED:
		assert_int_equal(
		    executor_failed_parse(f->payload, f->h.len, &x->f_errno, x->f_msg, sizeof(x->f_msg)), 0);
		break;
	case EXECUTOR_FRAME_OUTPUT:
		assert_true(f->h.len > 0);
		assert_int_equal(buf_append(&x->out[f->h.stream], f->payload, f->h.len), 0);
		break;
	case EXECUTOR_FRAME_ENDED:
		assert_int_equal(buf_append(&x->ended, f->payload, f->h.len), 0);
		break;
	}
}

/* Read the events pipe for at most ms; false once it is at its end (or closed). */
static bool ex_pump(struct ex *x, int ms)
{
	struct pollfd p = {x->events, POLLIN, 0};
	struct executor_frame f;
	char chunk[70000], err[128];
	const char *data = chunk;
	size_t len;
	ssize_t n;
	int rc;

	if (x->events < 0)
		return false;
	if (poll(&p, 1, ms) <= 0)
		return true;
	n = read(x->events, chunk, sizeof(chunk));
	if (n < 0 && errno == EINTR)
		return true;
	assert_true(n >= 0);
	if (n == 0) {
		assert_false(executor_reader_partial(&x->reader));
		close(x->events);
		x->events = -1;
		return false;
	}
	len = (size_t)n;
	while ((rc = executor_reader_feed(&x->reader, &data, &len, &f, err, sizeof(err))) == 1)
		on_frame(x, &f);
	if (rc < 0)
		fail_msg("%s", err);
	return true;
}

/* Kill what a run left (the executor and the task's group) and reap the executor. */
static void ex_kill(struct ex *x)
{
	if (x->task_pid > 0)
		kill(-x->task_pid, SIGKILL);
	if (!x->exited && x->pid > 0) {
		kill(x->pid, SIGKILL);
		waitpid(x->pid, NULL, 0);
		x->exited = true;
	}
}

/* Read frames until cond holds; fail (after killing the run) past the watchdog or at the pipe's end. */
static void ex_until(struct ex *x, bool (*cond)(const struct ex *x))
{
	uint64_t until = now_ms() + WATCHDOG_MS;

	while (!cond(x)) {
		if (now_ms() > until || !ex_pump(x, 100)) {
			ex_kill(x);
			fail_msg("the awaited frame did not come (frames so far: '%s')",
			    x->types.data ? x->types.data : "");
		}
	}
}

static bool started(const struct ex *x)
{
	return x->task_pid > 0;
}

static bool said_ready(const struct ex *x)
{
	return x->out[0].data && strstr(x->out[0].data, "ready");
}

/* Read every frame to the pipe's end, then wait for the executor's exit; returns its exit status (-1 for one
 * the zygote forked: the zygote reaps it). */
static int ex_wait(struct ex *x)
{
	uint64_t until = now_ms() + WATCHDOG_MS;
	int pidfd = x->pidfd >= 0 ? x->pidfd : (int)syscall(SYS_pidfd_open, x->pid, 0);
	bool gone = false;

	assert_true(pidfd >= 0);
	while (ex_pump(x, 100) && now_ms() < until)
		;
	while (!gone && now_ms() < until) {
		struct pollfd p = {pidfd, POLLIN, 0};
		gone = poll(&p, 1, 100) == 1;
	}
	close(pidfd);
	if (x->pidfd >= 0) {
		x->pidfd = -1;
		x->exited = gone;
		if (!gone) {
			ex_kill(x);
			fail_msg("the executor did not exit within %d ms", WATCHDOG_MS);
		}
		current = NULL;
		return -1;
	}
	if (waitpid(x->pid, &x->status, WNOHANG) != x->pid) {
		ex_kill(x);
		fail_msg("the executor did not exit within %d ms", WATCHDOG_MS);
	}
	x->exited = true;
	current = NULL;
	if (!WIFEXITED(x->status))
		fail_msg("the executor ended by signal %d", WTERMSIG(x->status));
	return WEXITSTATUS(x->status);
}

static void ex_free(struct ex *x)
{
	if (x->events >= 0)
		close(x->events);
	if (x->pidfd >= 0)
		close(x->pidfd);
	executor_reader_free(&x->reader);
	buf_free(&x->types);
	buf_free(&x->out[0]);
	buf_free(&x->out[1]);
	buf_free(&x->ended);
}

/* "<journal>.<suffix>" */
static const char *jpath(const char *suffix)
{
	static char p[PATH_MAX + 32];

	snprintf(p, sizeof(p), "%s.%s", journal, suffix);
	return p;
}

static void assert_no_journal(void)
{
	assert_absent(jpath("pid"));
	assert_absent(jpath("pid.tmp"));
	assert_absent(jpath("result"));
	assert_absent(jpath("result.tmp"));
}

/* Run a spec to its end: the executor exits 0 after 'S', 'O'... and 'E'; P.result is the 'E' payload. */
static void run_spec(struct ex *x, const struct executor_spec *spec, struct executor_result *res)
{
	char err[128] = "", *text;
	size_t len;

	ex_start(x, spec);
	assert_int_equal(ex_wait(x), 0);
	assert_true(x->types.len >= 2);
	assert_int_equal(x->types.data[0], 'S');
	assert_int_equal(x->types.data[x->types.len - 1], 'E');
	assert_int_equal(strspn(x->types.data + 1, "O"), x->types.len - 2);
	text = slurp(jpath("result"), &len);
	assert_non_null(text);
	assert_int_equal(len, x->ended.len);
	assert_memory_equal(text, x->ended.data, len);
	free(text);
	assert_absent(jpath("result.tmp"));
	if (executor_result_parse(x->ended.data, x->ended.len, res, err, sizeof(err)) != 0)
		fail_msg("result: %s", err);
	assert_int_equal(res->task_pid, x->task_pid);
	assert_int_equal(res->start_ms, x->start_ms);
	assert_true(res->end_ms >= res->start_ms);
	assert_true(res->duration_us >= 0);
}

static void run_shell(struct ex *x, const char *cmd, struct executor_result *res)
{
	struct executor_spec spec;

	spec_shell(&spec, cmd);
	run_spec(x, &spec, res);
}

/* Exit codes and signals, as the server's exec reports them. */
static void test_exit_status(void **state)
{
	static const struct {
		const char *cmd;
		int code, sig;
	} rows[] = {
		{"exit 0", 0, 0},
		{"exit 3", 3, 0},
		{"exit 255", 255, 0},
		{"kill -SEGV $$", -1, SIGSEGV},
		{"kill -TERM $$", -1, SIGTERM},
		{"kill -KILL $$", -1, SIGKILL},
	};
	(void)state;

	for (size_t i = 0; i < COUNT(rows); i++) {
		struct executor_result res;
		struct ex x;

		run_shell(&x, rows[i].cmd, &res);
		assert_int_equal(res.exit_code, rows[i].code);
		assert_int_equal(res.term_signal, rows[i].sig);
		assert_false(res.timed_out || res.killed);
		assert_int_equal(res.io_error, 0);
		assert_true(res.start_ms > 1600000000000);
		assert_true(res.max_rss_kib > 0 && res.user_cpu_us >= 0 && res.system_cpu_us >= 0);
		assert_int_equal(res.stdout_bytes + res.stderr_bytes, 0);
		ex_free(&x);
	}
}

/* What `seq 1 n` writes, in a buffer to free. */
static void seq_output(struct buf *all, int n)
{
	buf_init(all, 0);
	for (int i = 1; i <= n; i++)
		assert_int_equal(buf_printf(all, "%d\n", i), 0);
}

/* What exec_capture writes: the head, the marker when bytes were dropped, the tail. */
static void expect_capped(struct buf *want, const struct buf *all, size_t head, size_t tail)
{
	buf_init(want, 0);
	assert_int_equal(buf_append(want, "", 0), 0);
	if (all->len <= head + tail) {
		assert_int_equal(buf_append(want, all->data, all->len), 0);
		return;
	}
	assert_int_equal(buf_append(want, all->data, head), 0);
	assert_int_equal(buf_printf(want, "\n[gnomon: %zu bytes omitted]\n", all->len - head - tail), 0);
	assert_int_equal(buf_append(want, all->data + all->len - tail, tail), 0);
}

/* Both streams into capped files, counted; the 'O' frames carry everything the task wrote, with its stream. */
static void test_output_capture(void **state)
{
	static const struct {
		size_t head, tail;
	} caps[] = {{100, 50}, {0, 7}, {9, 0}, {65536, 65536}, {1, 100000}};
	struct buf all;
	(void)state;

	seq_output(&all, 2000);
	for (size_t i = 0; i < COUNT(caps); i++) {
		struct executor_spec spec;
		struct executor_result res;
		struct buf want;
		size_t kept;
		struct ex x;

		spec_shell(&spec, "seq 1 2000; seq 1 2000 >&2");
		spec.cap_head = caps[i].head;
		spec.cap_tail = caps[i].tail;
		run_spec(&x, &spec, &res);
		assert_int_equal(res.exit_code, 0);
		expect_capped(&want, &all, caps[i].head, caps[i].tail);
		assert_file(out_path[0], want.data, want.len);
		assert_file(out_path[1], want.data, want.len);
		assert_int_equal(res.stdout_bytes, all.len);
		assert_int_equal(res.stderr_bytes, all.len);
		kept = caps[i].head + caps[i].tail;
		assert_int_equal(res.stdout_omitted, all.len > kept ? all.len - kept : 0);
		assert_int_equal(res.stderr_omitted, res.stdout_omitted);
		/* 9 KiB of output cannot fill the pipe to this reader: no frame was dropped */
		for (int s = 0; s < 2; s++) {
			assert_int_equal(x.out[s].len, all.len);
			assert_memory_equal(x.out[s].data, all.data, all.len);
		}
		buf_free(&want);
		ex_free(&x);
	}
	buf_free(&all);
}

/* The order record (spec key order) of a task that writes to its streams in turn (a pause after each write, so
 * that the executor reads each before the next comes), under caps that keep all of it or cut each stream's
 * middle: its runs add up to each file, and with the files they give the lines in the order they came, the
 * markers where the dropped bytes were. A quiet task leaves no record; a discarded stream is not in it. */
static void test_order_record(void **state)
{
	static const struct {
		size_t head, tail;
		bool discard_err;
		const char *cmd, *merged;
	} rows[] = {
		{100, 100, false, "for i in 1 2 3; do echo o$i; sleep 0.02; echo e$i >&2; sleep 0.02; done",
		    "1 o1\n2 e1\n1 o2\n2 e2\n1 o3\n2 e3\n"},
		{3, 3, false, "for i in 1 2 3; do echo o$i; sleep 0.02; echo e$i >&2; sleep 0.02; done",
		    "1 o1\n2 e1\n1 \n1 [gnomon: 3 bytes omitted]\n1 o3\n2 \n2 [gnomon: 3 bytes omitted]\n2 e3\n"},
		{100, 100, false, "echo e1 >&2; sleep 0.02; echo o1; sleep 0.02; echo e2 >&2", "2 e1\n1 o1\n2 e2\n"},
		{100, 100, true, "echo e1 >&2; sleep 0.02; echo o1; sleep 0.02; echo e2 >&2", "1 o1\n"},
		{100, 100, false, "true", NULL},
	};
	(void)state;

	for (size_t i = 0; i < COUNT(rows); i++) {
		struct executor_spec spec;
		struct executor_result res;
		char *data[2], *order;
		size_t len[2], order_len;
		uint64_t sum[2] = {0, 0};
		struct buf merged;
		struct ex x;

		spec_shell(&spec, rows[i].cmd);
		spec.cap_head = rows[i].head;
		spec.cap_tail = rows[i].tail;
		spec.order_path = order_path;
		if (rows[i].discard_err)
			spec.out_path[1] = NULL;
		run_spec(&x, &spec, &res);
		assert_int_equal(res.exit_code, 0);
		order = slurp(order_path, &order_len);
		if (!rows[i].merged) {
			assert_null(order);
			ex_free(&x);
			continue;
		}
		assert_non_null(order);
		assert_int_equal(order_len % ORDER_ENTRY_SIZE, 0);
		for (int s = 0; s < 2; s++) {
			data[s] = slurp(out_path[s], &len[s]);
			if (!data[s]) {
				data[s] = xstrdup("");
				len[s] = 0;
			}
		}
		for (size_t k = 0; k < order_len; k += ORDER_ENTRY_SIZE) {
			uint32_t e = order_entry_get((const uint8_t *)order + k);
			sum[(e & ORDER_STREAM_BIT) ? 1 : 0] += e & ~ORDER_STREAM_BIT;
		}
		assert_int_equal(sum[0], len[0]);
		assert_int_equal(sum[1], len[1]);
		buf_init(&merged, 0);
		assert_int_equal(run_merge(order, order_len, (const char *const *)data, len, &merged), 0);
		assert_string_equal(merged.data, rows[i].merged);
		buf_free(&merged);
		free(order);
		free(data[0]);
		free(data[1]);
		unlink(out_path[1]);
		ex_free(&x);
	}
}

/* A megabyte through the default caps, and a discarded stream still counted and forwarded. */
static void test_output_large(void **state)
{
	struct executor_spec spec;
	struct executor_result res;
	struct buf all, want;
	struct ex x;
	(void)state;

	seq_output(&all, 150000);
	spec_shell(&spec, "seq 1 150000");
	spec.out_path[1] = NULL;
	run_spec(&x, &spec, &res);
	expect_capped(&want, &all, 65536, 65536);
	assert_file(out_path[0], want.data, want.len);
	assert_int_equal(res.stdout_bytes, all.len);
	assert_int_equal(res.stdout_omitted, all.len - 131072);
	assert_int_equal(x.out[0].len, all.len); /* every byte forwarded, however far this reader lags */
	assert_memory_equal(x.out[0].data, all.data, all.len);
	buf_free(&want);
	ex_free(&x);

	unlink(out_path[0]);
	spec_shell(&spec, "seq 1 150000; echo e >&2");
	spec.out_path[0] = NULL;
	run_spec(&x, &spec, &res);
	assert_absent(out_path[0]);
	assert_int_equal(res.stdout_bytes, all.len);
	assert_int_equal(res.stdout_omitted, all.len - 131072);
	assert_file(out_path[1], "e\n", 2);
	ex_free(&x);
	buf_free(&all);
}

/* A server that reads slowly: the executor forwards every byte, in order (it stops reading the task's output
 * while a frame waits for room, so the task waits for the reader), the files get everything too, and 'E' comes
 * last. */
static void test_events_backpressure(void **state)
{
	struct executor_spec spec;
	struct executor_result res;
	struct buf all, want;
	char err[128];
	struct ex x;
	(void)state;

	seq_output(&all, 150000);
	spec_shell(&spec, "seq 1 150000; seq 1 150000 >&2");
	ex_start(&x, &spec);
	/* 2 ms per read of at most 70 KB: a megabyte a stream takes 30 reads or more, long after the 64 KiB pipe
	 * has filled (an executor that dropped frames then loses some) */
	while (ex_pump(&x, 100))
		usleep(2000);
	assert_int_equal(ex_wait(&x), 0);
	assert_int_equal(x.types.data[0], 'S');
	assert_int_equal(x.types.data[x.types.len - 1], 'E');
	assert_int_equal(executor_result_parse(x.ended.data, x.ended.len, &res, err, sizeof(err)), 0);
	assert_int_equal(res.stdout_bytes, all.len);
	assert_int_equal(res.stderr_bytes, all.len);
	for (int s = 0; s < 2; s++) {
		assert_int_equal(x.out[s].len, all.len);
		assert_memory_equal(x.out[s].data, all.data, all.len);
	}
	expect_capped(&want, &all, 65536, 65536);
	assert_file(out_path[0], want.data, want.len);
	assert_file(out_path[1], want.data, want.len);
	buf_free(&want);
	buf_free(&all);
	ex_free(&x);
}

/* Lazy files: a silent stream leaves no file, not even a stale one; eager ones are both created. */
static void test_lazy_files(void **state)
{
	struct executor_spec spec;
	struct executor_result res;
	struct ex x;
	(void)state;

	put_file(out_path[0], "stale\n");
	put_file(out_path[1], "stale\n");
	run_shell(&x, "echo to-stderr >&2", &res);
	assert_absent(out_path[0]);
	assert_file(out_path[1], "to-stderr\n", 10);
	assert_int_equal(res.stdout_bytes, 0);
	assert_int_equal(res.stderr_bytes, 10);
	assert_string_equal(x.types.data, "SOE");
	ex_free(&x);

	put_file(out_path[0], "stale\n");
	spec_shell(&spec, "true");
	spec.lazy = false;
	run_spec(&x, &spec, &res);
	assert_file(out_path[0], "", 0);
	assert_file(out_path[1], "", 0);
	assert_string_equal(x.types.data, "SE");
	ex_free(&x);
}

/* The .pid journal file names the live executor (with its start time) and the task, which is its child, in a
 * process group of its own, in a session the executor leads. */
static void test_pid_file(void **state)
{
	struct executor_spec spec;
	struct executor_pidfile pf;
	struct executor_result res;
	char *text, stat[1024], err[128];
	uint64_t start;
	size_t len;
	int ppid, pgrp, session;
	struct ex x;
	FILE *f;
	(void)state;

	spec_shell(&spec, "echo ready; exec sleep 30");
	ex_start(&x, &spec);
	ex_until(&x, said_ready);
	text = slurp(jpath("pid"), &len);
	assert_non_null(text);
	assert_int_equal(executor_pidfile_parse(text, len, &pf), 0);
	free(text);
	assert_absent(jpath("pid.tmp"));
	assert_int_equal(pf.executor_pid, x.pid);
	assert_int_equal(pf.task_pid, x.task_pid);
	assert_int_equal(pf.start_ms, x.start_ms);
	assert_int_equal(executor_proc_start_time(x.pid, &start), 0);
	assert_int_equal(pf.executor_start, start);
	snprintf(stat, sizeof(stat), "/proc/%d/stat", (int)x.task_pid);
	f = fopen(stat, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%*d (%*[^)]) %*c %d %d %d", &ppid, &pgrp, &session), 3);
	fclose(f);
	assert_int_equal(ppid, x.pid);
	assert_int_equal(pgrp, x.task_pid);
	assert_int_equal(session, x.pid);
	assert_absent(jpath("result"));

	assert_int_equal(kill(x.pid, SIGUSR1), 0);
	assert_int_equal(ex_wait(&x), 0);
	assert_int_equal(executor_result_parse(x.ended.data, x.ended.len, &res, err, sizeof(err)), 0);
	assert_true(res.killed);
	ex_free(&x);
}

/* The deadline: timed_out, SIGTERM to the group. */
static void test_deadline(void **state)
{
	struct executor_spec spec;
	struct executor_result res;
	struct ex x;
	(void)state;

	spec_shell(&spec, "exec sleep 30");
	spec.deadline_ms = 200;
	spec.grace_ms = 100;
	run_spec(&x, &spec, &res);
	assert_true(res.timed_out);
	assert_false(res.killed);
	assert_int_equal(res.exit_code, -1);
	assert_int_equal(res.term_signal, SIGTERM);
	ex_free(&x);

	/* a task that ignores SIGTERM gets SIGKILL once the grace has passed */
	spec_shell(&spec, "trap '' TERM; sleep 30");
	spec.deadline_ms = 200;
	spec.grace_ms = 100;
	run_spec(&x, &spec, &res);
	assert_true(res.timed_out);
	assert_int_equal(res.term_signal, SIGKILL);
	ex_free(&x);
}

/* SIGTERM and SIGUSR1 to the executor: the task is killed, with the grace or at once, and the result says so. */
static void test_kill_signals(void **state)
{
	static const struct {
		const char *cmd;
		int sig, sends;
		uint64_t grace_ms;
		int want_sig;
	} rows[] = {
		{"echo ready; exec sleep 30", SIGTERM, 1, 60000, SIGTERM},          /* honours SIGTERM */
		{"trap '' TERM; echo ready; sleep 30; echo survived", SIGTERM, 1, 300, SIGKILL}, /* after the grace */
		{"trap '' TERM; echo ready; sleep 30; echo survived", SIGUSR1, 1, 60000, SIGKILL}, /* at once */
	};
	(void)state;

	for (size_t i = 0; i < COUNT(rows); i++) {
		struct executor_spec spec;
		struct executor_result res;
		char err[128];
		struct ex x;

		spec_shell(&spec, rows[i].cmd);
		spec.grace_ms = rows[i].grace_ms;
		ex_start(&x, &spec);
		ex_until(&x, said_ready);
		for (int k = 0; k < rows[i].sends; k++)
			assert_int_equal(kill(x.pid, rows[i].sig), 0);
		assert_int_equal(ex_wait(&x), 0);
		assert_int_equal(executor_result_parse(x.ended.data, x.ended.len, &res, err, sizeof(err)), 0);
		assert_true(res.killed);
		assert_false(res.timed_out);
		assert_int_equal(res.exit_code, -1);
		assert_int_equal(res.term_signal, rows[i].want_sig);
		assert_null(strstr(x.out[0].data, "survived"));
		assert_group_gone(x.task_pid);
		ex_free(&x);
	}
}

/* SIGTERM again and again does not put off the SIGKILL: the grace runs from the first one. */
static void test_sigterm_repeated(void **state)
{
	struct executor_spec spec;
	struct executor_result res;
	char err[128];
	uint64_t until;
	bool ended = false;
	int pidfd;
	struct ex x;
	(void)state;

	spec_shell(&spec, "trap '' TERM; echo ready; sleep 30");
	spec.grace_ms = 300;
	ex_start(&x, &spec);
	ex_until(&x, said_ready);
	pidfd = (int)syscall(SYS_pidfd_open, x.pid, 0);
	assert_true(pidfd >= 0);
	/* a SIGTERM every 50 ms: were each one to restart the grace, the task would outlive the watchdog */
	for (until = now_ms() + WATCHDOG_MS; now_ms() < until;) {
		struct pollfd p = {pidfd, POLLIN, 0};
		assert_int_equal(kill(x.pid, SIGTERM), 0);
		if ((ended = poll(&p, 1, 50) == 1))
			break;
	}
	close(pidfd);
	assert_true(ended); /* while the SIGTERMs kept coming */
	assert_int_equal(ex_wait(&x), 0);
	assert_int_equal(executor_result_parse(x.ended.data, x.ended.len, &res, err, sizeof(err)), 0);
	assert_true(res.killed);
	assert_int_equal(res.term_signal, SIGKILL);
	ex_free(&x);
}

/* When the leader exits, what is left of its group is killed: no process of the task outlives it. */
static void test_group_killed(void **state)
{
	struct executor_result res;
	pid_t bg;
	struct ex x;
	(void)state;

	run_shell(&x, "sleep 30 & echo $!", &res);
	assert_int_equal(res.exit_code, 0);
	bg = (pid_t)atoi(x.out[0].data);
	assert_true(bg > 0);
	assert_group_gone(x.task_pid);
	assert_int_equal(kill(bg, 0), -1);
	assert_int_equal(errno, ESRCH);
	ex_free(&x);
}

/* Dispositions inherited from whoever started the executor do not matter: an ignored SIGCHLD would have the
 * kernel reap the task before its status is read, ignored SIGTERM and SIGUSR1 would not reach the signalfd. */
static void test_inherited_dispositions(void **state)
{
	static const int sigs[] = {SIGTERM, SIGUSR1};
	struct executor_result res;
	char err[128];
	struct ex x;
	(void)state;

	start_ignoring = true;
	run_shell(&x, "exit 5", &res);
	assert_int_equal(res.exit_code, 5);
	assert_true(res.max_rss_kib > 0);
	ex_free(&x);
	for (size_t i = 0; i < COUNT(sigs); i++) {
		struct executor_spec spec;
		spec_shell(&spec, "echo ready; exec sleep 30");
		ex_start(&x, &spec);
		ex_until(&x, said_ready);
		assert_int_equal(kill(x.pid, sigs[i]), 0);
		assert_int_equal(ex_wait(&x), 0);
		assert_int_equal(executor_result_parse(x.ended.data, x.ended.len, &res, err, sizeof(err)), 0);
		assert_true(res.killed);
		assert_int_equal(res.term_signal, sigs[i] == SIGTERM ? SIGTERM : SIGKILL);
		ex_free(&x);
	}
	start_ignoring = false;
}

/* SIGINT and SIGHUP (a terminal's signals) are ignored: the task runs on to its own end. */
static void test_ignored_signals(void **state)
{
	struct executor_spec spec;
	struct executor_result res;
	char err[128];
	struct ex x;
	char go[PATH_MAX + 8];
	(void)state;

	snprintf(go, sizeof(go), "%s/go", dir);
	spec_shell(&spec, "echo ready; while [ ! -e go ]; do sleep 0.01; done; exit 4");
	spec.cwd = dir;
	ex_start(&x, &spec);
	ex_until(&x, said_ready);
	assert_int_equal(kill(x.pid, SIGINT), 0);
	assert_int_equal(kill(x.pid, SIGHUP), 0);
	assert_int_equal(kill(x.pid, SIGPIPE), 0);
	put_file(go, ""); /* after the signals: a signal is delivered before kill() returns to its sender */
	assert_int_equal(ex_wait(&x), 0);
	assert_int_equal(executor_result_parse(x.ended.data, x.ended.len, &res, err, sizeof(err)), 0);
	assert_int_equal(res.exit_code, 4);
	assert_false(res.killed);
	unlink(go);
	ex_free(&x);
}

/* A process that left the group (setsid) holds the pipes: the executor still ends, drain_ms after the leader,
 * with what was written until then, and leaves that process alone. */
static void test_escaped_process(void **state)
{
	struct executor_spec spec;
	struct executor_result res;
	char path[PATH_MAX + 16];
	pid_t escaped;
	struct ex x;
	(void)state;

	/* the leader ends only once the other process has left its group (else the group's SIGKILL may catch it) */
	spec_shell(&spec, "setsid sh -c 'echo $$ > escaped; exec sleep 30' & "
			  "while [ ! -s escaped ]; do sleep 0.01; done; cat escaped");
	spec.cwd = dir;
	spec.drain_ms = 300;
	run_spec(&x, &spec, &res);
	assert_int_equal(res.exit_code, 0);
	escaped = (pid_t)atoi(x.out[0].data);
	assert_true(escaped > 0);
	assert_int_equal(kill(escaped, 0), 0); /* still alive: this test's to clean up (its subreaper) */
	assert_int_equal(kill(escaped, SIGKILL), 0);
	assert_int_equal(waitpid(escaped, NULL, 0), escaped);
	assert_file(out_path[0], x.out[0].data, x.out[0].len);
	assert_int_equal(res.stdout_bytes, x.out[0].len);
	snprintf(path, sizeof(path), "%s/escaped", dir);
	unlink(path);
	ex_free(&x);
}

/* The server is gone (the events pipe's read end closed after 'S'): the executor carries on, captures the
 * output and journals the result. */
static void test_server_gone(void **state)
{
	struct executor_spec spec;
	struct executor_result res;
	struct buf all;
	char *text, err[128], go[PATH_MAX + 8];
	size_t len;
	struct ex x;
	(void)state;

	seq_output(&all, 30000);
	snprintf(go, sizeof(go), "%s/go", dir);
	spec_shell(&spec, "while [ ! -e go ]; do sleep 0.01; done; seq 1 30000; exit 7");
	spec.cwd = dir;
	spec.cap_head = spec.cap_tail = 1 << 20;
	ex_start(&x, &spec);
	ex_until(&x, started);
	close(x.events);
	x.events = -1;
	put_file(go, ""); /* the task writes only now: the executor meets EPIPE */
	assert_int_equal(ex_wait(&x), 0);
	text = slurp(jpath("result"), &len);
	assert_non_null(text);
	assert_int_equal(executor_result_parse(text, len, &res, err, sizeof(err)), 0);
	free(text);
	assert_int_equal(res.exit_code, 7);
	assert_int_equal(res.task_pid, x.task_pid);
	assert_int_equal(res.stdout_bytes, all.len);
	assert_file(out_path[0], all.data, all.len);
	unlink(go);
	buf_free(&all);
	ex_free(&x);
}

/* A server that died after sending the spec (before the spawn): its successor may already have looked for the
 * task and found no journal, so the task does not start: exit 3, no journal, nothing of the task ran. */
static void test_server_gone_before_the_spawn(void **state)
{
	struct executor_spec spec;
	char marker[PATH_MAX + 8];
	struct ex x;
	(void)state;

	snprintf(marker, sizeof(marker), "%s/ran", dir);
	spec_shell(&spec, "touch ran");
	spec.cwd = dir;
	gone_first = true;
	ex_start(&x, &spec);
	gone_first = false;
	assert_int_equal(ex_wait(&x), EXECUTOR_EXIT_START_FAILED);
	assert_absent(marker);
	assert_no_journal();
	ex_free(&x);
}

/* The fork server: the executor it forks for a request runs the task as a spawned one does (frames, files,
 * journal) as the zygote's child; the zygote holds none of the task's descriptors meanwhile, leaves no zombie
 * once it ended, answers a request without its two descriptors with EPROTO, and exits at its socket's end. */
static void test_zygote(void **state)
{
	struct executor_zygote_msg m = {.type = EXECUTOR_ZYGOTE_FORK};
	struct executor_spec spec;
	struct executor_result res;
	char err[128], want[32], go[PATH_MAX + 8], *text, *fds;
	uint64_t until;
	size_t len, nfds;
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC), got = -1;
	struct zy z;
	struct ex x;
	(void)state;

	snprintf(go, sizeof(go), "%s/go", dir);
	zy_start(&z);
	through = &z;
	spec_shell(&spec, "while [ ! -e go ]; do sleep 0.01; done; awk '{print $4}' /proc/$PPID/stat; exit 6");
	spec.cwd = dir;
	ex_start(&x, &spec);
	through = NULL;
	ex_until(&x, started);
	/* a request with one descriptor instead of two; its answer also tells that the fork's is done with */
	assert_int_equal(fdpass_send(z.sock, &m, sizeof(m), &devnull, 1), 0);
	assert_int_equal(zy_recv(&z, &m, &got, 1, &nfds), sizeof(m));
	assert_int_equal(m.type, EXECUTOR_ZYGOTE_FORKED);
	assert_int_equal(m.err, EPROTO);
	assert_int_equal(nfds, 0);
	close(devnull);
	fds = fds_of(z.pid);
	assert_string_equal(fds, "0 1 2"); /* its socket, stdout and stderr: not the task's pipes, not the pidfd */
	free(fds);
	put_file(go, "");
	assert_int_equal(ex_wait(&x), -1);
	assert_int_equal(x.types.data[0], 'S');
	assert_int_equal(x.types.data[x.types.len - 1], 'E');
	snprintf(want, sizeof(want), "%d\n", (int)z.pid); /* the executor's parent */
	assert_string_equal(x.out[0].data, want);
	assert_file(out_path[0], want, strlen(want));
	text = slurp(jpath("result"), &len);
	assert_non_null(text);
	assert_int_equal(executor_result_parse(text, len, &res, err, sizeof(err)), 0);
	free(text);
	assert_int_equal(res.exit_code, 6);
	assert_int_equal(res.task_pid, x.task_pid);
	/* reaped by the zygote as it exited: not left a zombie */
	for (until = now_ms() + WATCHDOG_MS; kill(x.pid, 0) == 0 && now_ms() < until;)
		(void)poll(NULL, 0, 10);
	assert_int_equal(kill(x.pid, 0), -1);
	ex_free(&x);
	assert_int_equal(zy_stop(&z), 0); /* exited 0 */
}

/* The server gone while executors the zygote forked are on their way: one whose spec came after its server's
 * end does not start the task; one running goes on after the zygote exited at its socket's end (it is in a
 * session of its own, not the zygote's), and journals its result. */
static void test_zygote_server_gone(void **state)
{
	struct executor_spec spec;
	struct executor_result res;
	char marker[PATH_MAX + 8], go[PATH_MAX + 8], err[128], *text;
	size_t len;
	struct zy z;
	struct ex x;
	(void)state;

	snprintf(marker, sizeof(marker), "%s/ran", dir);
	snprintf(go, sizeof(go), "%s/go", dir);
	zy_start(&z);
	through = &z;
	spec_shell(&spec, "touch ran");
	spec.cwd = dir;
	gone_first = true;
	ex_start(&x, &spec);
	gone_first = false;
	assert_int_equal(ex_wait(&x), -1);
	assert_absent(marker);
	assert_no_journal();
	ex_free(&x);

	spec_shell(&spec, "while [ ! -e go ]; do sleep 0.01; done; echo done; exit 5");
	spec.cwd = dir;
	ex_start(&x, &spec);
	through = NULL;
	ex_until(&x, started);
	close(x.events);
	x.events = -1;
	assert_int_equal(zy_stop(&z), 0);
	assert_int_equal(kill(x.pid, 0), 0); /* the executor outlived its zygote */
	assert_int_equal(kill(x.task_pid, 0), 0);
	put_file(go, "");
	assert_int_equal(ex_wait(&x), -1);
	text = slurp(jpath("result"), &len);
	assert_non_null(text);
	assert_int_equal(executor_result_parse(text, len, &res, err, sizeof(err)), 0);
	free(text);
	assert_int_equal(res.exit_code, 5);
	assert_file(out_path[0], "done\n", 5);
	ex_free(&x);
}

/* A bad spec: an 'F' frame with EINVAL and the decoder's message, exit 2, no journal. */
static void test_bad_spec(void **state)
{
	static const struct {
		const char *data;
		size_t len;
		const char *msg;
	} rows[] = {
		{BYTES("prog\0/bin/true\0arg\0true\0colour\0blue\0"), "spec: unknown key 'colour'"},
		{BYTES(""), "spec: missing 'prog'"},
		{BYTES("prog\0/bin/true"), "spec: truncated record 'prog': its value has no end"},
	};
	(void)state;

	for (size_t i = 0; i < COUNT(rows); i++) {
		struct buf spec;
		struct ex x;

		buf_init(&spec, 0);
		assert_int_equal(buf_append(&spec, rows[i].data, rows[i].len), 0);
		if (i == 0) { /* with this test's journal, to see that none is written */
			assert_int_equal(buf_append(&spec, "journal\0", 8), 0);
			assert_int_equal(buf_append(&spec, journal, strlen(journal) + 1), 0);
		}
		ex_start_raw(&x, spec.data, spec.len);
		buf_free(&spec);
		assert_int_equal(ex_wait(&x), 2);
		assert_string_equal(x.types.data, "F");
		assert_int_equal(x.f_errno, EINVAL);
		assert_string_equal(x.f_msg, rows[i].msg);
		assert_no_journal();
		ex_free(&x);
	}
}

/* The task cannot start: an 'F' frame with the errno and exec's message, exit 3, no journal, no files. The same
 * when P.pid cannot be written: the task, started, is killed then. */
static void test_spawn_failure(void **state)
{
	static char s_nope[] = "nope", s_file[] = "file";
	static char *argv_nope[] = {s_nope, NULL}, *argv_file[] = {s_file, NULL};
	static const struct {
		const char *prog, *cwd, *out, *journal;
		char **argv;
		int err;
		const char *msg;
	} rows[] = {
		{"/nonexistent/nope", NULL, NULL, NULL, argv_nope, ENOENT, "cannot run 'nope': No such file or directory"},
		{"/etc/passwd", NULL, NULL, NULL, argv_file, EACCES, "cannot run 'file': Permission denied"},
		{"/bin/true", "/nonexistent-dir", NULL, NULL, argv_file, ENOENT,
		    "cannot run 'file': working directory '/nonexistent-dir': No such file or directory"},
		{"/bin/true", NULL, "/nonexistent-dir/out", NULL, argv_file, ENOENT,
		    "stdout file '/nonexistent-dir/out': No such file or directory"},
		{"/bin/true", NULL, NULL, "/nonexistent-dir/j", argv_file, ENOENT,
		    "journal '/nonexistent-dir/j.pid': No such file or directory"},
	};
	(void)state;

	for (size_t i = 0; i < COUNT(rows); i++) {
		struct executor_spec spec;
		struct ex x;

		spec_shell(&spec, "");
		spec.prog = rows[i].prog;
		spec.argv = rows[i].argv;
		spec.cwd = rows[i].cwd;
		if (rows[i].out) {
			spec.lazy = false;
			spec.out_path[0] = rows[i].out;
		}
		if (rows[i].journal)
			spec.journal = rows[i].journal;
		ex_start(&x, &spec);
		assert_int_equal(ex_wait(&x), 3);
		assert_string_equal(x.types.data, "F");
		assert_int_equal(x.f_errno, rows[i].err);
		assert_string_equal(x.f_msg, rows[i].msg);
		assert_no_journal();
		assert_absent(out_path[1]);
		ex_free(&x);
	}
}

/* Run argv with the given environment and return its stdout (the caller frees it). */
static char *run_argv(const char *prog, char **argv, char **envp, const char *cwd)
{
	struct executor_spec spec;
	struct executor_result res;
	struct ex x;
	char *out;

	spec_shell(&spec, "");
	spec.prog = prog;
	spec.argv = argv;
	spec.envp = envp;
	spec.cwd = cwd;
	run_spec(&x, &spec, &res);
	assert_int_equal(res.exit_code, 0);
	assert_int_equal(x.out[0].len, res.stdout_bytes);
	out = buf_steal(&x.out[0], NULL);
	ex_free(&x);
	return out;
}

/* The task's environment is exactly the spec's (none of the executor's), its argv and working directory too,
 * and it starts with no signal blocked or ignored although the executor blocks and ignores some. */
static void test_task_state(void **state)
{
	static char s_env[] = "env", s_a[] = "A=1", s_b[] = "B=two words", s_e[] = "EMPTY=", s_pwd[] = "pwd",
		    s_grep[] = "grep", s_re[] = "-E", s_pat[] = "^Sig(Blk|Ign)", s_status[] = "/proc/self/status",
		    s_printf[] = "printf", s_fmt[] = "[%s]", s_sp[] = "a b", s_nl[] = "", s_x[] = "x";
	static char *argv_env[] = {s_env, NULL}, *env3[] = {s_a, s_b, s_e, NULL}, *env0[] = {NULL};
	static char *argv_pwd[] = {s_pwd, NULL}, *argv_grep[] = {s_grep, s_re, s_pat, s_status, NULL};
	static char *argv_printf[] = {s_printf, s_fmt, s_sp, s_nl, s_x, NULL};
	static const struct {
		const char *prog;
		char **argv, **envp;
		bool in_dir;
		const char *want; /* NULL: the test's directory */
	} rows[] = {
		{"/usr/bin/env", argv_env, env3, false, "A=1\nB=two words\nEMPTY=\n"},
		{"/usr/bin/env", argv_env, env0, false, ""},
		{"/bin/pwd", argv_pwd, env0, true, NULL},
		{"/usr/bin/printf", argv_printf, env0, false, "[a b][][x]"},
		{"/bin/grep", argv_grep, env0, false, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n"},
	};
	char want[PATH_MAX + 2];
	(void)state;

	snprintf(want, sizeof(want), "%s\n", dir);
	for (size_t i = 0; i < COUNT(rows); i++) {
		char *out = run_argv(rows[i].prog, rows[i].argv, rows[i].envp, rows[i].in_dir ? dir : NULL);
		assert_string_equal(out, rows[i].want ? rows[i].want : want);
		free(out);
	}
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/gnomon-test-executor-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	/* the tasks' orphans (an escaped process, a task whose executor died) come to this process */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
		return -1;
	snprintf(out_path[0], sizeof(out_path[0]), "%s/stdout", dir);
	snprintf(out_path[1], sizeof(out_path[1]), "%s/stderr", dir);
	snprintf(order_path, sizeof(order_path), "%s/order", dir);
	snprintf(journal, sizeof(journal), "%s/task", dir);
	return 0;
}

/* After each test: kill what a failed one left, and empty the directory. */
static int clean(void **state)
{
	static const char *const suffixes[] = {"pid", "pid.tmp", "result", "result.tmp"};
	static const char *const files[] = {"go", "escaped"}; /* the tests' own */
	(void)state;

	if (current) {
		ex_kill(current);
		current = NULL;
	}
	if (live_zygote) {
		kill(live_zygote->pid, SIGKILL);
		(void)zy_stop(live_zygote);
	}
	through = NULL;
	gone_first = false;
	start_ignoring = false;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	unlink(out_path[0]);
	unlink(out_path[1]);
	unlink(order_path);
	for (size_t i = 0; i < COUNT(files); i++) {
		char p[PATH_MAX + 16];
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
	for (size_t i = 0; i < COUNT(suffixes); i++)
		unlink(jpath(suffixes[i]));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return rmdir(dir);
}

/* Whether pid runs: not gone, and not a zombie (this test is a subreaper: its orphans' zombies wait for it). */
static bool alive(pid_t pid)
{
	char path[64], *text, *paren;
	bool zombie;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((text = slurp(path, NULL)) == NULL)
		return false;
	paren = strrchr(text, ')');
	zombie = paren && paren[1] == ' ' && paren[2] == 'Z';
	free(text);
	if (zombie)
		(void)waitpid(pid, NULL, WNOHANG);
	return !zombie;
}

/* The task in a cgroup of its own (cgroup.h), where the host lets this test make one (root, cgroups writable;
 * else skipped): a memory hog is killed at the limit and the result says so, with the cgroup's peak and CPU
 * times; a process that left the task's group with setsid dies with the task; the cgroup is gone after. */
static void test_cgroup(void **state)
{
	char sub[64], bufs[CGROUP_NCTL][PATH_MAX], cmd[PATH_MAX + 256], pidfile[PATH_MAX + 16], *text;
	struct cgroup_host h;
	struct cgroup_limits lim;
	struct executor_spec spec;
	struct executor_result res;
	struct cgroup_spec cg;
	struct ex x;
	pid_t escaped;
	(void)state;

	snprintf(sub, sizeof(sub), "test-executor-%d", (int)getpid());
	if (cgroup_host_detect(sub, &h) < 0) {
		fprintf(stderr, "no writable cgroups here (%s): skipped\n", h.why);
		skip();
	}
	cgroup_limits_of(1, 32, 20, &lim);
	cgroup_spec_of(&h, "task", &lim, bufs, &cg);
	snprintf(pidfile, sizeof(pidfile), "%s/escaped.pid", dir);
	snprintf(cmd, sizeof(cmd), "setsid sleep 100 & echo $! > %s; "
	    "python3 -c 'b = bytearray(b\"x\") * (100 << 20)'", pidfile);
	spec_shell(&spec, cmd);
	spec.cg_version = cg.version;
	for (int c = 0; c < CGROUP_NCTL; c++)
		spec.cg_dir[c] = cg.dir[c];
	spec.mem_limit = lim.mem_bytes;
	spec.cpu_quota_us = lim.cpu_quota_us;
	spec.pids_max = lim.pids_max;
	run_spec(&x, &spec, &res);
	ex_free(&x);
	assert_true(res.cgroup);
	assert_true(res.oom_killed);
	assert_int_equal(res.mem_limit, 32 << 20);
	assert_true(res.exit_code != 0 || res.term_signal == SIGKILL);
	assert_true(res.peak_mem_bytes > 0 && res.peak_mem_bytes <= 32 << 20);
	assert_true(res.user_cpu_us >= 0 && res.system_cpu_us >= 0);
	text = slurp(pidfile, NULL);
	assert_non_null(text);
	escaped = (pid_t)atoi(text);
	free(text);
	assert_int_equal(unlink(pidfile), 0);
	assert_true(escaped > 0);
	for (int i = 0; i < 200 && alive(escaped); i++)
		usleep(10000);
	assert_false(alive(escaped));
	for (int c = 0; c < CGROUP_NCTL; c++)
		if (cg.dir[c])
			assert_int_equal(access(cg.dir[c], F_OK), -1);
	cgroup_host_release(&h);
	assert_int_equal(access(h.dir[CGROUP_MEMORY], F_OK), -1);
}

/* cgroup v2's paths of the executor, on this hybrid host's v2 tree (no controllers in it, so no limits): the task
 * enters its cgroup before its exec, the executor steps back into DIR/executors, cgroup.kill ends a process that
 * left the task's group with setsid, cpu.stat gives the CPU times, and the cgroup is removed. Skipped where that
 * tree is not there or not writable. */
static void test_cgroup_v2(void **state)
{
	char base[PATH_MAX], task[PATH_MAX + 16], leaf[PATH_MAX + 16], cmd[PATH_MAX + 256], pidfile[PATH_MAX + 16];
	char *text;
	struct executor_spec spec;
	struct executor_result res;
	struct ex x;
	pid_t escaped;
	(void)state;

	snprintf(base, sizeof(base), "/sys/fs/cgroup/unified/test-executor-%d", (int)getpid());
	snprintf(leaf, sizeof(leaf), "%s/%s", base, CGROUP_EXECUTORS);
	snprintf(task, sizeof(task), "%s/task", base);
	if (access("/sys/fs/cgroup/unified", W_OK) != 0 ||
	    mkdir(base, 0755) != 0) {
		fprintf(stderr, "no writable cgroup v2 tree at /sys/fs/cgroup/unified: skipped\n");
		skip();
	}
	assert_int_equal(mkdir(leaf, 0755), 0);
	snprintf(pidfile, sizeof(pidfile), "%s/escaped.pid", dir);
	snprintf(cmd, sizeof(cmd), "setsid sleep 100 & echo $! > %s; timeout 0.3 sh -c 'while :; do :; done'; true",
	    pidfile);
	spec_shell(&spec, cmd);
	spec.cg_version = CGROUP_V2;
	for (int c = 0; c < CGROUP_NCTL; c++)
		spec.cg_dir[c] = task;
	run_spec(&x, &spec, &res);
	ex_free(&x);
	assert_true(res.cgroup);
	assert_false(res.oom_killed);
	assert_int_equal(res.exit_code, 0);
	assert_true(res.user_cpu_us > 100000); /* cpu.stat's user_usec: the busy loop's 0.3 s, most of it */
	assert_true(res.peak_mem_bytes != 0);  /* memory.peak needs the memory controller: max RSS stands in */
	text = slurp(pidfile, NULL);
	assert_non_null(text);
	escaped = (pid_t)atoi(text);
	free(text);
	assert_int_equal(unlink(pidfile), 0);
	for (int i = 0; i < 200 && alive(escaped); i++)
		usleep(10000);
	assert_false(alive(escaped));
	assert_int_equal(access(task, F_OK), -1);
	assert_int_equal(rmdir(leaf), 0); /* the executor stepped out: nothing in it any more */
	assert_int_equal(rmdir(base), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_exit_status, clean),
		cmocka_unit_test_teardown(test_output_capture, clean),
		cmocka_unit_test_teardown(test_order_record, clean),
		cmocka_unit_test_teardown(test_output_large, clean),
		cmocka_unit_test_teardown(test_events_backpressure, clean),
		cmocka_unit_test_teardown(test_lazy_files, clean),
		cmocka_unit_test_teardown(test_pid_file, clean),
		cmocka_unit_test_teardown(test_deadline, clean),
		cmocka_unit_test_teardown(test_kill_signals, clean),
		cmocka_unit_test_teardown(test_sigterm_repeated, clean),
		cmocka_unit_test_teardown(test_group_killed, clean),
		cmocka_unit_test_teardown(test_inherited_dispositions, clean),
		cmocka_unit_test_teardown(test_ignored_signals, clean),
		cmocka_unit_test_teardown(test_escaped_process, clean),
		cmocka_unit_test_teardown(test_server_gone, clean),
		cmocka_unit_test_teardown(test_server_gone_before_the_spawn, clean),
		cmocka_unit_test_teardown(test_zygote, clean),
		cmocka_unit_test_teardown(test_zygote_server_gone, clean),
		cmocka_unit_test_teardown(test_bad_spec, clean),
		cmocka_unit_test_teardown(test_spawn_failure, clean),
		cmocka_unit_test_teardown(test_task_state, clean),
		cmocka_unit_test_teardown(test_cgroup, clean),
		cmocka_unit_test_teardown(test_cgroup_v2, clean),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
