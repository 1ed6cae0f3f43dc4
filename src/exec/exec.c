/* Run one task through its executor (exec.h): the start of gnomon-executor (forked by its zygote, exec_zygote.c,
 * else spawned here) with the task's spec, its events read on the loop, its end and its result. The executor (executor.c; the protocol in executor_proto.h) is the task's
 * parent: it spawns it, captures its output into the files, enforces its deadline, kills it on request and
 * journals its result, so that none of it depends on this process staying alive. */
#include "exec/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/cgroup.h"
#include "exec/exec_spawn.h"
#include "exec/exec_zygote.h"
#include "exec/executor_proto.h"
#include "exec/spawn_pool.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define READS_PER_EVENT 8 /* pipe reads per readiness event, so one chatty task cannot starve the loop */

struct exec_task {
	uv_loop_t *loop;
	uv_poll_t pid_poll;        /* the executor's pidfd: readable once it has exited */
	uv_poll_t ev_poll;         /* its events pipe */
	int pidfd;                 /* -1 once closed */
	int ev_fd;                 /* the events pipe's read end; -1 once closed */
	pid_t executor_pid;
	pid_t task_pid;
	bool child;                /* the executor is this process's child (reaped here); else adopted */
	unsigned open_handles;     /* initialised handles whose close callback has not run */
	bool exited;               /* the executor has exited (and was reaped) */
	bool ended;                /* its 'E' frame came: the result is in res */
	bool terminating;          /* SIGTERM was sent: a second kill with a grace does nothing */
	bool finished;             /* exited and the events pipe closed: handles are closing */
	bool delivered;            /* exit_cb called */
	bool abandoned;            /* exec_task_free() on a running task */
	int wait_status;           /* the executor's, once exited */
	char *journal;             /* the spec's journal prefix, for P.result */
	struct executor_reader reader;
	exec_output_cb on_output;
	exec_exit_cb on_exit;
	void *ctx;
	struct exec_result res;
};

/* Every task reads into this buffer: all of them run on the loop thread and a chunk is consumed before the
 * next read, so one buffer serves them all. */
static char readbuf[64 * 1024];

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
	return t->task_pid;
}

int64_t exec_task_start_ms(const struct exec_task *t)
{
	return t->res.start_ms;
}

static int signal_executor(struct exec_task *t, int sig)
{
	if (t->pidfd < 0 || syscall(SYS_pidfd_send_signal, t->pidfd, sig, NULL, 0) < 0)
		return -ESRCH;
	return 0;
}

static void task_free(struct exec_task *t)
{
	executor_reader_free(&t->reader);
	free(t->journal);
	free(t);
}

/* The last step: hand the result over, or free an abandoned task. Nothing may touch t afterwards. */
static void deliver(struct exec_task *t)
{
	if (t->abandoned) {
		task_free(t);
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

int exec_journal_result(const char *journal, struct exec_result *out, char *err, size_t errlen)
{
	char path[4096], text[EXECUTOR_RESULT_MAX];
	struct executor_result r;
	ssize_t n = -1;
	int fd, rc;

	snprintf(path, sizeof(path), "%s.result", journal);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	n = read(fd, text, sizeof(text));
	close(fd);
	if (n <= 0) {
		snprintf(err, errlen, "%s: empty or unreadable", path);
		return -EINVAL;
	}
	if (executor_result_parse(text, (size_t)n, &r, err, errlen) < 0)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	executor_result_to_exec(&r, out);
	return 0;
}

/* The result when no 'E' frame came: the journal's, else a lost status that says why. */
static void result_without_frame(struct exec_task *t)
{
	char err[512];
	int rc = exec_journal_result(t->journal, &t->res, err, sizeof(err));

	if (rc == 0)
		return;
	if (rc != -ENOENT)
		log_warnx("exec: task %d: its journal is unreadable (%s)", (int)t->task_pid, err);
	else
		log_warnx("exec: task %d: its executor (pid %d) ended without a result (wait status %#x)",
		    (int)t->task_pid, (int)t->executor_pid, (unsigned)t->wait_status);
	t->res.exit_code = -1;
	t->res.status_lost = true;
	t->res.user_cpu_us = t->res.system_cpu_us = t->res.max_rss_kib = t->res.peak_mem_bytes = -1;
	t->res.end_ms = clock_now_ms(); /* when this process learned of the end: the best known */
}

/* Once the executor has exited and its events pipe is closed, close what is left; the last close callback
 * delivers. */
static void maybe_finish(struct exec_task *t)
{
	if (t->finished || !t->exited || t->ev_fd >= 0)
		return;
	t->finished = true;
	if (!t->ended)
		result_without_frame(t);
	if (t->open_handles == 0)
		deliver(t);
}

static void close_events(struct exec_task *t)
{
	uv_close((uv_handle_t *)&t->ev_poll, on_handle_closed);
	close(t->ev_fd);
	t->ev_fd = -1;
}

static void on_frame(struct exec_task *t, const struct executor_frame *f)
{
	char err[256];
	struct executor_result r;

	switch (f->h.type) {
	case EXECUTOR_FRAME_OUTPUT:
		if (t->on_output && !t->abandoned)
			t->on_output(t->ctx, (enum exec_stream)f->h.stream, f->payload, f->h.len);
		break;
	case EXECUTOR_FRAME_ENDED:
		if (executor_result_parse(f->payload, f->h.len, &r, err, sizeof(err)) < 0) {
			log_warnx("exec: task %d: a bad result from its executor (%s)", (int)t->task_pid, err);
			break;
		}
		executor_result_to_exec(&r, &t->res);
		t->ended = true;
		break;
	default:
		log_warnx("exec: task %d: an unexpected '%c' frame from its executor", (int)t->task_pid, f->h.type);
		break;
	}
}

/* Read what the events pipe has, up to max reads; false at its end (EOF, an error or a bad frame). */
static bool read_events(struct exec_task *t, int max)
{
	for (int i = 0; i < max; i++) {
		ssize_t n = read(t->ev_fd, readbuf, sizeof(readbuf));
		if (n > 0) {
			const char *p = readbuf;
			size_t len = (size_t)n;
			struct executor_frame f;
			char err[256];
			int rc;
			while ((rc = executor_reader_feed(&t->reader, &p, &len, &f, err, sizeof(err))) == 1)
				on_frame(t, &f);
			if (rc < 0) {
				log_warnx("exec: task %d: its executor's events are unreadable (%s)", (int)t->task_pid, err);
				return false;
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		return false;
	}
	return true;
}

/* Stop watching the executor's exit (its pidfd): it has exited, or its end no longer matters. */
static void close_pidfd(struct exec_task *t)
{
	uv_close((uv_handle_t *)&t->pid_poll, on_handle_closed);
	close(t->pidfd);
	t->pidfd = -1;
	t->exited = true;
}

static void on_events(uv_poll_t *h, int status, int events)
{
	struct exec_task *t = h->data;

	(void)events;
	if (status < 0 || !read_events(t, READS_PER_EVENT)) {
		close_events(t);
		maybe_finish(t);
	} else if (t->ended && !t->child && !t->exited) {
		/* Its 'E' came, after its journal: all that is left of a zygote's executor is its exit, which the
		 * zygote reaps. The task ends now rather than after that exit (half a millisecond a run here). */
		close_pidfd(t);
		close_events(t);
		maybe_finish(t);
	}
}

/* The executor has exited: reap it. */
static void on_pidfd(uv_poll_t *h, int status, int events)
{
	struct exec_task *t = h->data;
	siginfo_t si;
	int rc;

	(void)status;
	(void)events;
	memset(&si, 0, sizeof(si));
	/* An adopted executor is usually another process's child (init's: ECHILD here), but this one's when it is
	 * the reaper of orphans (PID 1 in a container, a subreaper): reaped here then. */
	do
		rc = waitid((idtype_t)P_PIDFD, (id_t)t->pidfd, &si, WEXITED | WNOHANG);
	while (rc < 0 && errno == EINTR);
	if (rc == 0 && si.si_pid == 0 && t->child)
		return; /* not exited yet */
	t->wait_status = rc == 0 && si.si_pid ? (si.si_code == CLD_EXITED ? si.si_status << 8 : si.si_status) : -1;
	close_pidfd(t);
	if (t->ev_fd >= 0) {
		(void)read_events(t, INT32_MAX); /* what is left in the pipe, now that its writer is gone */
		close_events(t);
	}
	maybe_finish(t);
}

int exec_kill(struct exec_task *t, uint64_t grace_ms)
{
	if (t->exited || t->ended || t->abandoned)
		return -ESRCH;
	if (grace_ms > 0 && t->terminating)
		return 0; /* already terminating */
	t->terminating = true;
	/* SIGTERM: the task's group gets SIGTERM, then SIGKILL after the spec's grace; SIGUSR1: SIGKILL now */
	return signal_executor(t, grace_ms > 0 ? SIGTERM : SIGUSR1);
}

/* What exec_task_free() and exec_task_detach() do first: free a delivered task, leave an abandoned one; true when
 * t was still to be delivered and is now abandoned (freed by deliver() once its handles are closed). */
static bool abandon(struct exec_task *t)
{
	if (!t)
		return false;
	if (t->delivered) {
		task_free(t);
		return false;
	}
	if (t->abandoned)
		return false;
	t->abandoned = true;
	return true;
}

void exec_task_detach(struct exec_task *t)
{
	/* its handles close, then it is freed; the executor is told nothing and goes on */
	if (!abandon(t) || t->finished)
		return;
	if (!t->exited)
		close_pidfd(t);
	if (t->ev_fd >= 0)
		close_events(t);
	t->finished = true;
}

int exec_adopt(uv_loop_t *loop, const char *journal, exec_output_cb on_output, exec_exit_cb on_exit, void *ctx,
    struct exec_task **out, char *err, size_t errlen)
{
	struct executor_pidfile pf;
	char path[4096], text[256];
	uint64_t start;
	ssize_t n = -1;
	int fd, rc;
	struct exec_task *t;

	(void)on_output; /* the events pipe was the earlier process's: no output comes here any more */
	*out = NULL;
	snprintf(path, sizeof(path), "%s.pid", journal);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, text, sizeof(text));
		close(fd);
	}
	if (n <= 0 || executor_pidfile_parse(text, (size_t)n, &pf) < 0) {
		snprintf(err, errlen, "no readable %s", path);
		return -ENOENT;
	}
	t = xcalloc(1, sizeof(*t));
	t->pidfd = (int)syscall(SYS_pidfd_open, pf.executor_pid, 0);
	/* the start time read after the pidfd was opened: the pid was not reused (or the pidfd is of the reuser) */
	if (t->pidfd < 0 || executor_proc_start_time(pf.executor_pid, &start) < 0 || start != pf.executor_start) {
		snprintf(err, errlen, "its executor (pid %ld) is gone", (long)pf.executor_pid);
		if (t->pidfd >= 0)
			close(t->pidfd);
		free(t);
		return -ESRCH;
	}
	t->loop = loop;
	t->executor_pid = pf.executor_pid;
	t->task_pid = pf.task_pid;
	t->res.start_ms = pf.start_ms;
	t->ev_fd = -1;
	t->on_exit = on_exit;
	t->ctx = ctx;
	t->journal = xstrdup(journal);
	executor_reader_init(&t->reader);
	if ((rc = uv_poll_init(loop, &t->pid_poll, t->pidfd)) < 0) {
		snprintf(err, errlen, "cannot watch its executor: %s", uv_strerror(rc));
		close(t->pidfd);
		task_free(t);
		return rc;
	}
	t->pid_poll.data = t;
	t->open_handles++;
	if ((rc = uv_poll_start(&t->pid_poll, UV_READABLE, on_pidfd)) < 0) {
		snprintf(err, errlen, "cannot watch its executor: %s", uv_strerror(rc));
		t->abandoned = t->exited = t->finished = true;
		uv_close((uv_handle_t *)&t->pid_poll, on_handle_closed);
		close(t->pidfd);
		t->pidfd = -1;
		return rc;
	}
	*out = t;
	return 0;
}

void exec_task_free(struct exec_task *t)
{
	if (abandon(t))
		(void)signal_executor(t, SIGUSR1);
}

/* One task of exec_start_many() on its way: everything up to the executor's 'S' is done on a pool thread, the
 * handles after it on the loop thread. */
struct starting {
	struct exec_spec *spec;
	struct exec_task *t; /* NULL until started */
	struct exec_account account; /* checked here when the spec has none */
	int ev_fd;           /* the events pipe's read end */
	int pidfd;           /* the executor's, when the zygote forked it; else -1 (opened on the loop thread) */
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

/* A close-on-exec pipe. */
static int make_pipe(int fds[2])
{
	return pipe2(fds, O_CLOEXEC) < 0 ? -errno : 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read exactly n bytes; -EPIPE at an early end. */
static int read_all(int fd, void *buf, size_t n)
{
	char *p = buf;
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EPIPE;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* The executor's first frame, read byte-exact (what follows stays in the pipe for the loop): 'S' or 'F'. */
static int first_frame(int fd, struct executor_frame_header *h, char *payload, size_t cap, char *err, size_t errlen)
{
	uint8_t hdr[EXECUTOR_FRAME_HEADER];
	int rc;

	if ((rc = read_all(fd, hdr, sizeof(hdr))) < 0)
		return rc;
	if ((rc = executor_frame_header_decode(hdr, h, err, errlen)) < 0)
		return rc;
	if (h->len >= cap || (h->type != EXECUTOR_FRAME_STARTED && h->type != EXECUTOR_FRAME_FAILED)) {
		snprintf(err, errlen, "an unexpected first frame '%c'", h->type);
		return -EPROTO;
	}
	if ((rc = read_all(fd, payload, h->len)) < 0)
		return rc;
	payload[h->len] = '\0';
	return 0;
}

static void reap(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* Be done with an executor that is not watched: signal it (through its pidfd when there is one; sig 0: it is
 * exiting by itself), and reap it when it is this process's child (a zygote's child is reaped by the zygote). */
static void executor_drop(pid_t pid, int pidfd, bool child, int sig)
{
	if (sig && pidfd >= 0)
		(void)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
	else if (sig)
		kill(pid, sig);
	if (child)
		reap(pid);
}

/* Start the executor on the spec pipe and the events pipe: forked by the zygote (with a pidfd), else spawned
 * here (*child). 0 with its pid, or a negative errno. */
static int executor_start(const char *path, int spec_fd, int ev_fd, pid_t *pid, int *pidfd, bool *child)
{
	*pidfd = -1;
	*child = false;
	if (exec_zygote_fork(path, spec_fd, ev_fd, pid, pidfd) == 0)
		return 0;
	*child = true;
	return exec_executor_spawn(path, false, spec_fd, ev_fd, pid);
}

/* Encode the executor's spec for a planned task. */
static int encode_spec(const struct exec_spec *spec, const struct spawn_plan *plan, const struct spawn_req *req,
    struct buf *out, char *err, size_t errlen)
{
	struct executor_spec es;
	char self_exe[64];

	executor_spec_init(&es);
	if (plan->launcher) {
		/* the launcher is this binary, which the executor (another one) reaches through /proc while this
		 * process waits for its 'S' */
		snprintf(self_exe, sizeof(self_exe), "/proc/%ld/exe", (long)getpid());
		es.prog = self_exe;
		es.argv = plan->launcher_argv;
	} else {
		es.prog = plan->prog;
		es.argv = req->argv;
		es.cwd = req->cwd;
	}
	es.envp = req->envp;
	es.out_path[0] = spec->out_path[EXEC_STDOUT];
	es.out_path[1] = spec->out_path[EXEC_STDERR];
	es.lazy = spec->lazy_files;
	es.cap_head = spec->cap_head;
	es.cap_tail = spec->cap_tail;
	es.deadline_ms = spec->deadline_ms;
	es.grace_ms = spec->grace_ms;
	es.drain_ms = spec->drain_ms;
	es.journal = spec->journal;
	es.order_path = spec->order_path;
	if (spec->cgroup && spec->cgroup->version != CGROUP_NONE) {
		es.cg_version = spec->cgroup->version;
		for (int c = 0; c < CGROUP_NCTL; c++)
			es.cg_dir[c] = spec->cgroup->dir[c];
		es.mem_limit = spec->cgroup->lim.mem_bytes;
		es.cpu_quota_us = spec->cgroup->lim.cpu_quota_us;
		es.pids_max = spec->cgroup->lim.pids_max;
	}
	es.lease = spec->lease;
	return executor_spec_encode(&es, out, err, errlen);
}

/* The pool's part of a start (any thread): the preparation, the plan, the executor's spawn, its spec and its
 * answer. Touches only its own struct starting and the spec. */
static void start_spawn(void *ctx, size_t i)
{
	struct start_many *many = ctx;
	struct starting *st = &many->st[i];
	const struct exec_spec *spec = st->spec;
	int spec_pipe[2] = {-1, -1}, ev_pipe[2] = {-1, -1};
	struct executor_frame_header h;
	char payload[1024];
	struct exec_task *t;
	struct spawn_req req;
	struct spawn_plan plan;
	struct buf enc;
	pid_t pid = -1;
	int pidfd = -1, rc;
	bool child = false;

	st->ev_fd = st->pidfd = -1;
	if (many->prepare && (st->rc = many->prepare(many->ctx, i, st->spec, st->err, st->errlen)) < 0)
		return;
	if (!spec->argv || !spec->argv[0] || !spec->on_exit || !spec->executor || !spec->journal) {
		snprintf(st->err, st->errlen, "exec: no command, exit callback, executor or journal");
		st->rc = -EINVAL;
		return;
	}
	if (!spec->account &&
	    (st->rc = exec_account_check(many->self, spec->run_as_user, &st->account, st->err, st->errlen)) < 0)
		return;
	req = (struct spawn_req){spec->argv, spec->envp, spec->cwd, spec->account ? spec->account : &st->account, -1, -1};
	if ((st->rc = spawn_plan(&req, &plan, st->err, st->errlen)) < 0)
		return;
	buf_init(&enc, EXECUTOR_SPEC_MAX);
	rc = encode_spec(spec, &plan, &req, &enc, st->err, st->errlen);
	spawn_plan_free(&plan);
	if (rc < 0)
		goto out;
	if ((rc = make_pipe(spec_pipe)) < 0 || (rc = make_pipe(ev_pipe)) < 0) {
		snprintf(st->err, st->errlen, "cannot run '%s': pipe: %s", spec->argv[0], strerror(-rc));
		goto out;
	}
	if ((rc = executor_start(spec->executor, spec_pipe[0], ev_pipe[1], &pid, &pidfd, &child)) < 0) {
		snprintf(st->err, st->errlen, "cannot run '%s': its executor %s: %s", spec->argv[0], spec->executor,
		    strerror(-rc));
		goto out;
	}
	close(spec_pipe[0]);
	close(ev_pipe[1]);
	spec_pipe[0] = ev_pipe[1] = -1;
	/* The executor reads its whole spec before it answers (a write to it cannot fail for want of a reader
	 * unless it died, which its answer then says). */
	(void)write_all(spec_pipe[1], enc.data, enc.len);
	close(spec_pipe[1]);
	spec_pipe[1] = -1;
	if ((rc = first_frame(ev_pipe[0], &h, payload, sizeof(payload), st->err, st->errlen)) < 0) {
		if (rc != -EPROTO)
			snprintf(st->err, st->errlen, "cannot run '%s': its executor ended without starting it",
			    spec->argv[0]);
		rc = -EIO;
		executor_drop(pid, pidfd, child, SIGKILL);
		goto out;
	}
	if (h.type == EXECUTOR_FRAME_FAILED) {
		int errnum = EIO;
		if (executor_failed_parse(payload, h.len, &errnum, st->err, st->errlen) < 0)
			snprintf(st->err, st->errlen, "cannot run '%s': %s", spec->argv[0], payload);
		rc = -errnum;
		executor_drop(pid, pidfd, child, 0);
		goto out;
	}
	t = xcalloc(1, sizeof(*t));
	if (executor_started_parse(payload, h.len, &t->task_pid, &t->res.start_ms) < 0) {
		snprintf(st->err, st->errlen, "cannot run '%s': its executor said '%s'", spec->argv[0], payload);
		free(t);
		rc = -EPROTO;
		executor_drop(pid, pidfd, child, SIGUSR1);
		goto out;
	}
	t->executor_pid = pid;
	t->child = child;
	t->pidfd = -1;
	t->ev_fd = -1;
	st->pidfd = pidfd;
	pidfd = -1;
	st->ev_fd = ev_pipe[0];
	ev_pipe[0] = -1;
	st->t = t;
	rc = 0;
out:
	if (pidfd >= 0)
		close(pidfd);
	buf_free(&enc);
	for (int k = 0; k < 2; k++) {
		if (spec_pipe[k] >= 0)
			close(spec_pipe[k]);
		if (ev_pipe[k] >= 0)
			close(ev_pipe[k]);
	}
	st->rc = rc;
}

/* The loop thread's part of a started task: its handles. */
static int start_watch(uv_loop_t *loop, struct starting *st)
{
	const struct exec_spec *spec = st->spec;
	struct exec_task *t = st->t;
	int rc;

	t->loop = loop;
	t->on_output = spec->on_output;
	t->on_exit = spec->on_exit;
	t->ctx = spec->ctx;
	t->journal = xstrdup(spec->journal);
	executor_reader_init(&t->reader);
	t->ev_fd = st->ev_fd;
	t->pidfd = st->pidfd >= 0 ? st->pidfd : (int)syscall(SYS_pidfd_open, t->executor_pid, 0);
	if (t->pidfd < 0 || fcntl(t->ev_fd, F_SETFL, O_NONBLOCK) < 0) {
		rc = -errno;
		goto fail;
	}
	if ((rc = uv_poll_init(loop, &t->pid_poll, t->pidfd)) < 0)
		goto fail;
	t->pid_poll.data = t;
	t->open_handles++;
	if ((rc = uv_poll_init(loop, &t->ev_poll, t->ev_fd)) < 0)
		goto fail;
	t->ev_poll.data = t;
	t->open_handles++;
	if ((rc = uv_poll_start(&t->pid_poll, UV_READABLE, on_pidfd)) < 0 ||
	    (rc = uv_poll_start(&t->ev_poll, UV_READABLE, on_events)) < 0)
		goto fail;
	return 0;

fail:
	snprintf(st->err, st->errlen, "cannot watch task '%s': %s", spec->argv[0], strerror(-rc));
	/* it started: kill it, and forget it once its executor has reported (it is reaped here if it is ours) */
	executor_drop(t->executor_pid, t->pidfd, t->child, SIGUSR1);
	t->abandoned = t->exited = t->finished = true;
	if (t->open_handles > 0) {
		uv_close((uv_handle_t *)&t->pid_poll, on_handle_closed);
		if (t->open_handles > 1)
			uv_close((uv_handle_t *)&t->ev_poll, on_handle_closed);
	}
	if (t->pidfd >= 0)
		close(t->pidfd);
	close(t->ev_fd);
	t->pidfd = t->ev_fd = -1;
	if (t->open_handles == 0)
		task_free(t);
	return rc;
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
