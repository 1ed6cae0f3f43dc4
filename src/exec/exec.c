#include "exec/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/exec_capture.h"
#include "exec/exec_spawn.h"
#include "exec/spawn_pool.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define READS_PER_EVENT 8 /* pipe reads per readiness event, so one chatty task cannot starve the loop */

enum timer_use { TIMER_IDLE, TIMER_DEADLINE, TIMER_GRACE, TIMER_DRAIN };

struct exec_task {
	uv_loop_t *loop;
	uv_poll_t pid_poll;
	uv_poll_t pipe_poll[2];
	uv_timer_t timer;
	int pidfd;                 /* -1 once closed */
	int pipe_fd[2];            /* read ends; -1 once closed */
	struct exec_capture cap[2];
	pid_t pid;
	unsigned open_handles;     /* initialised handles whose close callback has not run */
	enum timer_use timer_use;
	bool timer_inited;
	bool reaped;
	bool finished;             /* reaped and both streams closed: handles are closing */
	bool delivered;            /* exit_cb called */
	bool abandoned;            /* exec_task_free() on a running task */
	uint64_t start_ns;         /* uv_hrtime() at spawn */
	uint64_t grace_ms, drain_ms;
	exec_output_cb on_output;
	exec_exit_cb on_exit;
	void *ctx;
	struct exec_result res;
};

/* Every task reads into this buffer: all of them run on the loop thread and a chunk is consumed before the
 * next read, so one buffer serves them all. */
static char readbuf[64 * 1024];


static void signal_group(struct exec_task *t, int sig)
{
	if (kill(-t->pid, sig) < 0 && errno != ESRCH)
		log_warn("exec: kill(-%d, %d)", (int)t->pid, sig);
}

void exec_spec_init(struct exec_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	spec->cap_head = EXEC_CAP_DEFAULT;
	spec->cap_tail = EXEC_CAP_DEFAULT;
	spec->grace_ms = EXEC_GRACE_DEFAULT_MS;
	spec->drain_ms = EXEC_DRAIN_DEFAULT_MS;
	spec->lazy_files = true;
}

pid_t exec_task_pid(const struct exec_task *t)
{
	return t->pid;
}

int64_t exec_task_start_ms(const struct exec_task *t)
{
	return t->res.start_ms;
}

/* The last step: hand the result over, or free an abandoned task. Nothing may touch t afterwards. */
static void deliver(struct exec_task *t)
{
	if (t->abandoned) {
		free(t);
		return;
	}
	t->delivered = true;
	t->on_exit(t->ctx, t, &t->res);
}

static void on_handle_closed(uv_handle_t *h)
{
	struct exec_task *t = h->data;

	if (--t->open_handles == 0 && t->finished)
		deliver(t);
}

/* Once the leader is reaped and both streams are closed, close what is left; the last close callback
 * delivers. */
static void maybe_finish(struct exec_task *t)
{
	if (t->finished || !t->reaped || t->pipe_fd[0] >= 0 || t->pipe_fd[1] >= 0)
		return;
	t->finished = true;
	if (t->timer_inited)
		uv_close((uv_handle_t *)&t->timer, on_handle_closed);
	if (t->open_handles == 0)
		deliver(t);
}

static void arm_timer(struct exec_task *t, enum timer_use use, uint64_t ms);

/* SIGTERM the group and SIGKILL it after grace_ms (at once when 0). */
static void terminate(struct exec_task *t, uint64_t grace_ms)
{
	if (grace_ms == 0) {
		signal_group(t, SIGKILL);
		if (t->timer_inited)
			uv_timer_stop(&t->timer);
		t->timer_use = TIMER_IDLE;
		return;
	}
	signal_group(t, SIGTERM);
	signal_group(t, SIGCONT);
	arm_timer(t, TIMER_GRACE, grace_ms);
}

/* A stream ended (EOF, error or drain timeout): stop watching it and complete its file. */
static void close_stream(struct exec_task *t, int s)
{
	struct exec_capture *c = &t->cap[s];

	uv_close((uv_handle_t *)&t->pipe_poll[s], on_handle_closed);
	close(t->pipe_fd[s]);
	t->pipe_fd[s] = -1;
	capture_finish(c);
	t->res.stream[s].bytes = c->total;
	t->res.stream[s].omitted = capture_omitted(c);
	t->res.stream[s].truncated = t->res.stream[s].omitted > 0;
	if (c->error && !t->res.io_error)
		t->res.io_error = c->error;
}

enum read_state { READ_BLOCKED, READ_MORE, READ_END };

/* Read what a stream has, up to max reads. */
static enum read_state read_stream(struct exec_task *t, int s, int max)
{
	for (int i = 0; i < max; i++) {
		ssize_t n = read(t->pipe_fd[s], readbuf, sizeof(readbuf));
		if (n > 0) {
			capture_feed(&t->cap[s], readbuf, (size_t)n);
			if (t->on_output && !t->abandoned)
				t->on_output(t->ctx, (enum exec_stream)s, readbuf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return READ_BLOCKED;
		if (n < 0)
			log_warn("exec: reading the output of task %d", (int)t->pid);
		return READ_END;
	}
	return READ_MORE;
}

static void on_pipe(uv_poll_t *h, int status, int events)
{
	struct exec_task *t = h->data;
	int s = h == &t->pipe_poll[EXEC_STDERR] ? EXEC_STDERR : EXEC_STDOUT;

	(void)events;
	if (status < 0 || read_stream(t, s, READS_PER_EVENT) == READ_END) {
		close_stream(t, s);
		maybe_finish(t);
	}
}

/* Record how the leader ended, and what it used (ru NULL: not known). */
static void record_status(struct exec_task *t, const siginfo_t *si, const struct rusage *ru)
{
	t->res.end_ms = clock_now_ms();
	t->res.duration_us = (int64_t)((uv_hrtime() - t->start_ns) / 1000);
	t->res.exit_code = -1;
	t->res.user_cpu_us = t->res.system_cpu_us = t->res.max_rss_kib = -1;
	if (ru) {
		t->res.user_cpu_us = (int64_t)ru->ru_utime.tv_sec * 1000000 + ru->ru_utime.tv_usec;
		t->res.system_cpu_us = (int64_t)ru->ru_stime.tv_sec * 1000000 + ru->ru_stime.tv_usec;
		t->res.max_rss_kib = ru->ru_maxrss;
	}
	if (si->si_code == CLD_EXITED) {
		t->res.exit_code = si->si_status;
	} else if (si->si_code == CLD_KILLED || si->si_code == CLD_DUMPED) {
		t->res.term_signal = si->si_status;
		t->res.core_dumped = si->si_code == CLD_DUMPED;
	}
}

/* The pidfd is readable: the leader has exited. Kill what is left of its group while the zombie leader still
 * holds the group id (so it cannot have been reused), then reap it. */
static void on_pidfd(uv_poll_t *h, int status, int events)
{
	struct exec_task *t = h->data;
	struct rusage ru;
	siginfo_t si;
	int rc;

	(void)status;
	(void)events;
	memset(&si, 0, sizeof(si));
	memset(&ru, 0, sizeof(ru));
	do
		rc = waitid((idtype_t)P_PIDFD, (id_t)t->pidfd, &si, WEXITED | WNOHANG | WNOWAIT);
	while (rc < 0 && errno == EINTR);
	if (rc == 0 && si.si_pid == 0)
		return; /* not exited yet */
	if (rc == 0) {
		signal_group(t, SIGKILL);
		/* The system call, not glibc's waitid(), which has no room for the resource use. */
		do
			rc = (int)syscall(SYS_waitid, P_PIDFD, t->pidfd, &si, WEXITED | WNOHANG, &ru);
		while (rc < 0 && errno == EINTR);
	}
	if (rc < 0) {
		log_warn("exec: cannot reap task %d", (int)t->pid);
		memset(&si, 0, sizeof(si));
		t->res.status_lost = true;
	}
	record_status(t, &si, rc < 0 ? NULL : &ru);
	t->reaped = true;
	uv_close((uv_handle_t *)&t->pid_poll, on_handle_closed);
	close(t->pidfd);
	t->pidfd = -1;
	if (t->timer_inited)
		uv_timer_stop(&t->timer);
	t->timer_use = TIMER_IDLE;
	if (t->pipe_fd[0] >= 0 || t->pipe_fd[1] >= 0)
		arm_timer(t, TIMER_DRAIN, t->drain_ms);
	maybe_finish(t);
}

static void on_timer(uv_timer_t *h)
{
	struct exec_task *t = h->data;
	enum timer_use use = t->timer_use;

	t->timer_use = TIMER_IDLE;
	switch (use) {
	case TIMER_DEADLINE:
		t->res.timed_out = true;
		terminate(t, t->grace_ms);
		break;
	case TIMER_GRACE:
		if (!t->reaped)
			signal_group(t, SIGKILL);
		break;
	case TIMER_DRAIN:
		/* processes that left the group hold the pipes: take what is there and stop */
		for (int s = 0; s < 2; s++) {
			if (t->pipe_fd[s] < 0)
				continue;
			(void)read_stream(t, s, READS_PER_EVENT);
			close_stream(t, s);
		}
		maybe_finish(t);
		break;
	case TIMER_IDLE:
		break;
	}
}

static void arm_timer(struct exec_task *t, enum timer_use use, uint64_t ms)
{
	uint64_t now, lag;

	if (!t->timer_inited) {
		uv_timer_init(t->loop, &t->timer);
		t->timer.data = t;
		t->timer_inited = true;
		t->open_handles++;
	}
	/* libuv counts from the time cached at the start of this loop iteration; count from now instead */
	now = uv_hrtime() / 1000000;
	lag = now > uv_now(t->loop) ? now - uv_now(t->loop) : 0;
	t->timer_use = use;
	uv_timer_start(&t->timer, on_timer, ms + lag, 0);
}

int exec_kill(struct exec_task *t, uint64_t grace_ms)
{
	if (t->reaped || t->abandoned)
		return -ESRCH;
	t->res.killed = true;
	if (t->timer_use == TIMER_GRACE && grace_ms > 0)
		return 0; /* already terminating */
	terminate(t, grace_ms);
	return 0;
}

void exec_task_free(struct exec_task *t)
{
	if (!t)
		return;
	if (t->delivered) {
		free(t);
		return;
	}
	if (t->abandoned)
		return;
	t->abandoned = true;
	if (!t->reaped)
		signal_group(t, SIGKILL);
}

/* Open the output files, or with lazy files remove stale ones; -1 for a stream discarded or created later. */
static int open_outputs(const struct exec_spec *spec, int files[2], char *err, size_t errlen)
{
	static const char *const names[] = {"stdout", "stderr"};

	for (int s = 0; s < 2; s++) {
		const char *path = spec->out_path[s];
		if (!path)
			continue;
		if (spec->lazy_files) {
			if (unlink(path) < 0 && errno != ENOENT)
				log_warn("exec: cannot remove '%s'", path);
			continue;
		}
		files[s] = capture_open(path);
		if (files[s] < 0) {
			int rc = files[s];
			files[s] = -1;
			snprintf(err, errlen, "%s file '%s': %s", names[s], path, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* A close-on-exec pipe whose write end is not 0, 1 or 2, so the child's dup2 onto them cannot clash. */
static int make_pipe(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	if (fds[1] <= STDERR_FILENO) {
		int fd = fcntl(fds[1], F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
		int rc = fd < 0 ? -errno : 0;
		close(fds[1]);
		fds[1] = fd;
		if (rc < 0) {
			close(fds[0]);
			fds[0] = -1;
			return rc;
		}
	}
	return 0;
}

/* Watch the leader's pidfd and both pipes. */
static int watch(struct exec_task *t)
{
	uv_poll_t *polls[3] = {&t->pid_poll, &t->pipe_poll[0], &t->pipe_poll[1]};
	int fds[3], rc;

	t->pidfd = (int)syscall(SYS_pidfd_open, t->pid, 0);
	if (t->pidfd < 0)
		return -errno;
	fds[0] = t->pidfd;
	fds[1] = t->pipe_fd[0];
	fds[2] = t->pipe_fd[1];
	for (int i = 0; i < 3; i++) {
		rc = uv_poll_init(t->loop, polls[i], fds[i]);
		if (rc < 0)
			return rc;
		polls[i]->data = t;
		t->open_handles++;
	}
	rc = uv_poll_start(&t->pid_poll, UV_READABLE, on_pidfd);
	for (int s = 0; s < 2 && rc == 0; s++)
		rc = uv_poll_start(&t->pipe_poll[s], UV_READABLE, on_pipe);
	return rc;
}

/* The task started but cannot be watched: kill and reap it here, then drop it once its handles are closed. */
static void unwind(struct exec_task *t)
{
	uv_poll_t *polls[3] = {&t->pid_poll, &t->pipe_poll[0], &t->pipe_poll[1]};
	unsigned inited = t->open_handles;

	signal_group(t, SIGKILL);
	while (waitpid(t->pid, NULL, 0) < 0 && errno == EINTR)
		;
	for (unsigned i = 0; i < inited && i < 3; i++)
		uv_close((uv_handle_t *)polls[i], on_handle_closed);
	if (t->pidfd >= 0)
		close(t->pidfd);
	for (int s = 0; s < 2; s++) {
		close(t->pipe_fd[s]);
		capture_finish(&t->cap[s]);
	}
	t->abandoned = t->reaped = t->finished = true;
	if (inited == 0)
		free(t);
}

/* One task of exec_start_many() on its way: everything up to the spawn is done on a pool thread, the handles
 * after it on the loop thread. */
struct starting {
	struct exec_spec *spec;
	struct exec_task *t; /* NULL until spawned */
	struct exec_account account; /* checked here when the spec has none */
	int files[2];
	int rc;
	char *err;
	size_t errlen;
};

/* The tasks of one exec_start_many() call, and how to prepare them. */
struct start_many {
	struct starting *st;
	const struct exec_user *self; /* the server's account */
	exec_prepare_fn prepare;
	void *ctx;
};

/* The pool's part of a start (any thread): the preparation, the plan, the output files, the pipes and the
 * spawn. Touches only its own struct starting and the spec. */
static void start_spawn(void *ctx, size_t i)
{
	struct start_many *many = ctx;
	struct starting *st = &many->st[i];
	const struct exec_spec *spec = st->spec;
	int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
	struct spawn_req req;
	struct spawn_plan plan;
	struct exec_task *t;
	pid_t pid;
	int rc;

	st->files[0] = st->files[1] = -1;
	if (many->prepare && (st->rc = many->prepare(many->ctx, i, st->spec, st->err, st->errlen)) < 0)
		return;
	if (!spec->argv || !spec->argv[0] || !spec->on_exit) {
		snprintf(st->err, st->errlen, "exec: no command or no exit callback");
		st->rc = -EINVAL;
		return;
	}
	if (!spec->account &&
	    (st->rc = exec_account_check(many->self, spec->run_as_user, &st->account, st->err, st->errlen)) < 0)
		return;
	req = (struct spawn_req){spec->argv, spec->envp, spec->cwd, spec->account ? spec->account : &st->account, -1, -1};
	rc = spawn_plan(&req, &plan, st->err, st->errlen);
	if (rc < 0) {
		st->rc = rc;
		return;
	}
	rc = open_outputs(spec, st->files, st->err, st->errlen);
	if (rc == 0 && ((rc = make_pipe(out_pipe)) < 0 || (rc = make_pipe(err_pipe)) < 0))
		snprintf(st->err, st->errlen, "cannot run '%s': pipe: %s", spec->argv[0], strerror(-rc));
	if (rc < 0) {
		spawn_plan_free(&plan);
		goto fail;
	}
	req.out_fd = out_pipe[1];
	req.err_fd = err_pipe[1];

	t = xcalloc(1, sizeof(*t));
	t->res.start_ms = clock_now_ms();
	t->start_ns = uv_hrtime();
	rc = spawn_run(&req, &plan, &pid, st->err, st->errlen);
	close(out_pipe[1]);
	close(err_pipe[1]);
	out_pipe[1] = err_pipe[1] = -1;
	if (rc < 0) {
		free(t);
		goto fail;
	}
	t->pid = pid;
	t->pidfd = -1;
	t->pipe_fd[0] = out_pipe[0];
	t->pipe_fd[1] = err_pipe[0];
	st->t = t;
	st->rc = 0;
	return;

fail:
	for (int k = 0; k < 2; k++) {
		if (st->files[k] >= 0)
			close(st->files[k]);
		st->files[k] = -1;
		if (out_pipe[k] >= 0)
			close(out_pipe[k]);
		if (err_pipe[k] >= 0)
			close(err_pipe[k]);
	}
	st->rc = rc;
}

/* The loop thread's part of a spawned task: its capture, its handles and its deadline. */
static int start_watch(uv_loop_t *loop, struct starting *st)
{
	const struct exec_spec *spec = st->spec;
	struct exec_task *t = st->t;
	int rc;

	t->loop = loop;
	for (int s = 0; s < 2; s++) {
		if (spec->lazy_files && spec->out_path[s])
			capture_init_lazy(&t->cap[s], spec->out_path[s], spec->cap_head, spec->cap_tail);
		else
			capture_init(&t->cap[s], st->files[s], spec->cap_head, spec->cap_tail);
	}
	t->grace_ms = spec->grace_ms;
	t->drain_ms = spec->drain_ms;
	t->on_output = spec->on_output;
	t->on_exit = spec->on_exit;
	t->ctx = spec->ctx;
	rc = watch(t);
	if (rc < 0) {
		snprintf(st->err, st->errlen, "cannot watch task '%s': %s", spec->argv[0], strerror(-rc));
		unwind(t);
		return rc;
	}
	if (spec->deadline_ms)
		arm_timer(t, TIMER_DEADLINE, spec->deadline_ms);
	return 0;
}

void exec_start_many(uv_loop_t *loop, struct spawn_pool *pool, const struct exec_user *self, struct exec_spec *specs,
    size_t n, exec_prepare_fn prepare, void *ctx, struct exec_task **out, int *rc, char *errs, size_t errlen)
{
	struct starting one, *st = n == 1 ? &one : xcalloc(n, sizeof(*st));
	struct exec_user me;
	struct start_many many = {st, self, prepare, ctx};

	if (self == NULL) {
		exec_user_self(&me);
		many.self = &me;
	}

	for (size_t i = 0; i < n; i++) {
		st[i] = (struct starting){.spec = &specs[i], .err = errs + i * errlen, .errlen = errlen};
		if (errlen > 0)
			st[i].err[0] = '\0';
	}
	spawn_pool_run(pool, n, start_spawn, &many);
	for (size_t i = 0; i < n; i++) {
		out[i] = NULL;
		rc[i] = st[i].rc == 0 ? start_watch(loop, &st[i]) : st[i].rc;
		if (rc[i] == 0)
			out[i] = st[i].t;
	}
	if (st != &one)
		free(st);
}

int exec_start(uv_loop_t *loop, const struct exec_spec *spec, struct exec_task **out, char *err, size_t errlen)
{
	struct exec_spec copy = *spec;
	int rc;

	exec_start_many(loop, NULL, NULL, &copy, 1, NULL, NULL, out, &rc, err, errlen);
	return rc;
}
