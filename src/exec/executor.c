#include "exec/executor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec/cgroup.h"
#include "exec/exec.h"
#include "exec/exec_capture.h"
#include "exec/exec_lease.h"
#include "exec/exec_order.h"
#include "exec/exec_spawn.h"
#include "exec/executor_proto.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define EVENTS_FD STDOUT_FILENO
#define READS_PER_WAKEUP 8 /* pipe reads per stream and poll(), so one stream cannot starve the other */
#define NS_PER_MS 1000000ull

struct executor {
	struct executor_spec spec;
	int events;           /* the events pipe (fd 1); -1 once the server is gone */
	int sigfd;
	int pidfd;            /* -1 once the leader is reaped */
	int pipe_fd[2];       /* read ends of the task's stdout and stderr; -1 once closed */
	struct exec_capture cap[2];
	struct exec_order order; /* the streams' arrival order (spec key order) */
	pid_t pid;
	uint64_t start_ns;    /* CLOCK_MONOTONIC at the spawn */
	uint64_t deadline_at, grace_at, drain_at; /* CLOCK_MONOTONIC ns; 0: not armed */
	uint64_t lease_at;    /* CLOCK_MONOTONIC ns of the next look at the lease; 0: none (or the task is reaped) */
	struct exec_lease lease; /* its agent's (spec key lease), page NULL: none */
	size_t out_len, out_off;                  /* the frame in out, and how much of it is written */
	struct executor_result res;
	struct cgroup_spec cg; /* the task's cgroup, version NONE: none */
	bool cg_made;          /* created: removed at the end */
	char out[EXECUTOR_FRAME_HEADER + EXECUTOR_FRAME_MAX];
	char readbuf[EXECUTOR_FRAME_MAX];
};

/* The one executor of this process (executor_run() runs once per process). Static, so that its two 64 KiB
 * buffers cost only the pages a run touches: zeroed by calloc, every page of them faulted in, which a forked
 * executor paid on every run. */
static struct executor the_executor;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int64_t real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ms after base (CLOCK_MONOTONIC ns), saturating. */
static uint64_t at_ms(uint64_t base, uint64_t ms)
{
	return ms > (UINT64_MAX - base) / NS_PER_MS ? UINT64_MAX : base + ms * NS_PER_MS;
}

static uint64_t after_ms(uint64_t ms)
{
	return at_ms(mono_ns(), ms);
}

/* Write what is left of the frame in x->out without blocking (the rest waits for room: the task's output is not
 * read meanwhile); EPIPE or another error means the server is gone for good. */
static void flush_frame(struct executor *x)
{
	while (x->events >= 0 && x->out_off < x->out_len) {
		ssize_t n = write(x->events, x->out + x->out_off, x->out_len - x->out_off);
		if (n > 0) {
			x->out_off += (size_t)n;
		} else if (n < 0 && errno == EAGAIN) {
			break;
		} else if (n < 0 && errno != EINTR) {
			x->events = -1; /* fd 1 stays open, unused: nothing can take its number */
		}
	}
	if (x->events < 0 || x->out_off == x->out_len)
		x->out_len = x->out_off = 0;
}

/* Put a frame in x->out; false when the previous one is still being flushed. */
static bool queue_frame(struct executor *x, char type, int stream, const char *payload, size_t len)
{
	struct executor_frame_header h = {(uint8_t)type, (uint8_t)stream, (uint32_t)len};

	if (x->events < 0 || x->out_len > 0)
		return false;
	executor_frame_header_encode((uint8_t *)x->out, &h);
	memcpy(x->out + EXECUTOR_FRAME_HEADER, payload, len);
	x->out_len = EXECUTOR_FRAME_HEADER + len;
	x->out_off = 0;
	return true;
}

/* Wait until the frame in x->out is written whole, or the server is gone. */
static void flush_frame_blocking(struct executor *x)
{
	while (x->events >= 0 && x->out_len > 0) {
		struct pollfd p = {x->events, POLLOUT, 0};
		ssize_t n = write(x->events, x->out + x->out_off, x->out_len - x->out_off);
		if (n > 0)
			x->out_off += (size_t)n;
		else if (n < 0 && errno == EAGAIN)
			(void)poll(&p, 1, -1);
		else if (n < 0 && errno != EINTR)
			x->events = -1;
		if (x->events < 0 || x->out_off == x->out_len)
			x->out_len = x->out_off = 0;
	}
}

/* A frame that is never dropped while the server reads: 'S', 'F', 'E'. */
static void send_frame(struct executor *x, char type, const char *payload, size_t len)
{
	flush_frame_blocking(x);
	if (queue_frame(x, type, 0, payload, len))
		flush_frame_blocking(x);
}

/* An output chunk for live followers. The output is read only while no frame waits for room (read_stream), so
 * none is dropped while the server reads, but at the drain's end. */
static void send_output(struct executor *x, int stream, const char *data, size_t len)
{
	if (queue_frame(x, EXECUTOR_FRAME_OUTPUT, stream, data, len))
		flush_frame(x);
}

/* Report a failure to start; returns the exit status that goes with it. */
static int fail(struct executor *x, int status, int errnum, const char *msg)
{
	char payload[1024];
	size_t n = executor_failed_format(payload, sizeof(payload), errnum, msg);

	send_frame(x, EXECUTOR_FRAME_FAILED, payload, n);
	return status;
}

/* Signal the task's process group, and with a cgroup every process in it (those that left the group too). */
static void signal_group(const struct executor *x, int sig)
{
	if (kill(-x->pid, sig) < 0 && errno != ESRCH)
		log_warn("executor: kill(-%d, %d)", (int)x->pid, sig);
	if (x->cg_made && sig == SIGKILL)
		cgroup_task_kill(&x->cg);
	else if (x->cg_made)
		cgroup_task_signal(&x->cg, sig);
}

/* Write P.<name> through P.<name>.tmp and a rename. 0 or a negative errno. */
static int write_journal(const char *prefix, const char *name, const char *data, size_t len)
{
	char *tmp = xasprintf("%s.%s.tmp", prefix, name), *path = xasprintf("%s.%s", prefix, name);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), rc = 0;

	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	while (len > 0 && rc == 0) {
		ssize_t n = write(fd, data, len);
		if (n > 0) {
			data += n;
			len -= (size_t)n;
		} else if (n < 0 && errno != EINTR) {
			rc = -errno;
		}
	}
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
out:
	if (rc < 0)
		log_warnx("executor: cannot write '%s': %s", path, strerror(-rc));
	free(tmp);
	free(path);
	return rc;
}

/* SIGTERM the group and SIGKILL it after grace_ms (at once when 0); the deadline no longer matters. */
static void terminate(struct executor *x, uint64_t grace_ms)
{
	x->deadline_at = 0;
	if (grace_ms == 0) {
		signal_group(x, SIGKILL);
		x->grace_at = 0;
		return;
	}
	signal_group(x, SIGTERM);
	signal_group(x, SIGCONT);
	x->grace_at = after_ms(grace_ms);
}

/* Both streams ended: complete the order record with their markers. */
static void finish_order(struct executor *x)
{
	char marker[64];
	size_t len[2];

	for (int s = 0; s < 2; s++)
		len[s] = x->spec.out_path[s] ? capture_marker(&x->cap[s], marker, sizeof(marker)) : 0;
	exec_order_finish(&x->order, len);
	if (x->order.error && !x->res.io_error)
		x->res.io_error = x->order.error;
}

/* A stream ended (EOF, error or the drain's end): complete its file and count it. */
static void close_stream(struct executor *x, int s)
{
	struct exec_capture *c = &x->cap[s];

	close(x->pipe_fd[s]);
	x->pipe_fd[s] = -1;
	capture_finish(c);
	if (s == 0) {
		x->res.stdout_bytes = c->total;
		x->res.stdout_omitted = capture_omitted(c);
	} else {
		x->res.stderr_bytes = c->total;
		x->res.stderr_omitted = capture_omitted(c);
	}
	if (c->error && !x->res.io_error)
		x->res.io_error = c->error;
	if (x->pipe_fd[0] < 0 && x->pipe_fd[1] < 0)
		finish_order(x);
}

/* Read what a stream has (a few chunks at most), into its file and to the server; close it at its end. While
 * a frame waits for room in the events pipe nothing is read (the task blocks on its full pipe, as it would
 * writing to a slow reader), but at the drain's end (last), when what is left goes to the file alone. */
static void read_stream(struct executor *x, int s, bool last)
{
	for (int i = 0; i < READS_PER_WAKEUP; i++) {
		ssize_t n;
		if (x->out_len > 0 && !last)
			return;
		n = read(x->pipe_fd[s], x->readbuf, sizeof(x->readbuf));
		if (n > 0) {
			capture_feed(&x->cap[s], x->readbuf, (size_t)n);
			if (x->spec.out_path[s])
				exec_order_feed(&x->order, s, (size_t)n);
			if (x->out_len == 0)
				send_output(x, s, x->readbuf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0)
			log_warn("executor: reading the output of task %d", (int)x->pid);
		close_stream(x, s);
		return;
	}
}

/* Record how the leader ended and what it used (ru NULL: its status was lost). */
static void record_status(struct executor *x, int status, const struct rusage *ru)
{
	struct executor_result *r = &x->res;

	r->end_ms = real_ms();
	r->duration_us = (int64_t)((mono_ns() - x->start_ns) / 1000);
	r->exit_code = -1;
	r->user_cpu_us = r->system_cpu_us = r->max_rss_kib = -1;
	if (!ru)
		return;
	r->user_cpu_us = (int64_t)ru->ru_utime.tv_sec * 1000000 + ru->ru_utime.tv_usec;
	r->system_cpu_us = (int64_t)ru->ru_stime.tv_sec * 1000000 + ru->ru_stime.tv_usec;
	r->max_rss_kib = ru->ru_maxrss;
	if (WIFEXITED(status)) {
		r->exit_code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		r->term_signal = WTERMSIG(status);
		r->core_dumped = WCOREDUMP(status);
	}
}

/* The pidfd is readable: the leader has exited. Kill what is left of its group while the zombie leader still
 * holds the group id (so that it cannot have been reused), then reap it with its resource use. */
static void reap(struct executor *x)
{
	struct rusage ru;
	siginfo_t si;
	int rc, status = 0;

	memset(&si, 0, sizeof(si));
	do
		rc = waitid(P_PID, (id_t)x->pid, &si, WEXITED | WNOHANG | WNOWAIT);
	while (rc < 0 && errno == EINTR);
	if (rc == 0 && si.si_pid == 0)
		return; /* not exited yet */
	if (rc == 0) {
		signal_group(x, SIGKILL);
		do
			rc = wait4(x->pid, &status, 0, &ru);
		while (rc < 0 && errno == EINTR);
	}
	if (rc < 0)
		log_warn("executor: cannot reap task %d", (int)x->pid);
	record_status(x, status, rc < 0 ? NULL : &ru);
	close(x->pidfd);
	x->pidfd = -1;
	x->deadline_at = x->grace_at = x->lease_at = 0;
	if (x->pipe_fd[0] >= 0 || x->pipe_fd[1] >= 0)
		x->drain_at = after_ms(x->spec.drain_ms);
}

/* Signals to the executor: SIGTERM kills the task with the grace, SIGUSR1 at once; SIGCHLD only wakes it. */
static void read_signals(struct executor *x)
{
	struct signalfd_siginfo si;

	while (read(x->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (x->pidfd < 0 || (si.ssi_signo != SIGTERM && si.ssi_signo != SIGUSR1))
			continue; /* the leader is reaped: nothing left to kill */
		x->res.killed = true;
		if (si.ssi_signo == SIGUSR1)
			terminate(x, 0);
		else if (x->grace_at == 0)
			terminate(x, x->spec.grace_ms);
	}
}

/* The agent's lease: once it has lapsed the task is killed at once, before a server calls it lost and runs it
 * elsewhere (exec_lease.h); else the next look. */
static void check_lease(struct executor *x, uint64_t now)
{
	uint64_t silent;

	x->lease_at = 0;
	if (x->pidfd < 0)
		return;
	if (!lease_check(&x->lease, now / NS_PER_MS, &silent)) {
		x->lease_at = at_ms(now, LEASE_CHECK_MS);
		return;
	}
	x->res.killed = x->res.lease_lapsed = true;
	x->res.lease_silent_ms = (int64_t)silent;
	terminate(x, 0);
}

/* Fire the timers that are due. */
static void run_timers(struct executor *x)
{
	uint64_t now = mono_ns();

	if (x->deadline_at && now >= x->deadline_at) {
		x->res.timed_out = true;
		terminate(x, x->spec.grace_ms);
	}
	if (x->lease_at && now >= x->lease_at)
		check_lease(x, now);
	if (x->grace_at && now >= x->grace_at) {
		x->grace_at = 0;
		if (x->pidfd >= 0)
			signal_group(x, SIGKILL);
	}
	if (x->drain_at && now >= x->drain_at) {
		/* processes that left the group hold the pipes: take what is there and stop */
		x->drain_at = 0;
		for (int s = 0; s < 2; s++) {
			if (x->pipe_fd[s] >= 0)
				read_stream(x, s, true);
			if (x->pipe_fd[s] >= 0)
				close_stream(x, s);
		}
	}
}

/* poll()'s timeout: until the next timer, -1 for none. */
static int next_timeout(const struct executor *x)
{
	uint64_t at[4] = {x->deadline_at, x->grace_at, x->drain_at, x->lease_at}, next = 0, now = mono_ns(), ms;

	for (int i = 0; i < 4; i++)
		if (at[i] && (!next || at[i] < next))
			next = at[i];
	if (!next)
		return -1;
	if (next <= now)
		return 0;
	ms = (next - now + NS_PER_MS - 1) / NS_PER_MS;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* Watch the task until the leader is reaped and both streams are closed. */
static void run_loop(struct executor *x)
{
	while (x->pidfd >= 0 || x->pipe_fd[0] >= 0 || x->pipe_fd[1] >= 0) {
		bool waiting = x->out_len > 0; /* a frame waits for room: the output is not read meanwhile */
		struct pollfd p[5] = {
			{x->sigfd, POLLIN, 0},
			{x->pidfd, POLLIN, 0},
			{waiting ? -1 : x->pipe_fd[0], POLLIN, 0},
			{waiting ? -1 : x->pipe_fd[1], POLLIN, 0},
			{waiting ? x->events : -1, POLLOUT, 0},
		};

		if (poll(p, 5, next_timeout(x)) < 0 && errno != EINTR) {
			log_warn("executor: poll");
			(void)poll(NULL, 0, 10); /* cannot happen; do not spin if it does */
			continue;
		}
		if (p[0].revents)
			read_signals(x);
		for (int s = 0; s < 2; s++)
			if (p[2 + s].revents && x->pipe_fd[s] >= 0)
				read_stream(x, s, false);
		if (p[4].revents)
			flush_frame(x);
		if (p[1].revents && x->pidfd >= 0)
			reap(x);
		run_timers(x);
	}
}

/* Set up the signals: a session of its own, terminal signals ignored, the others read through a signalfd.
 * Dispositions that matter are reset first: an ignored SIGCHLD (inherited through exec) would reap the task
 * before its status could be read. Returns the signalfd or -errno. */
static int setup_signals(void)
{
	static const int ignored[] = {SIGPIPE, SIGINT, SIGHUP}, read_ones[] = {SIGTERM, SIGUSR1, SIGCHLD};
	struct sigaction ign = {.sa_handler = SIG_IGN}, dfl = {.sa_handler = SIG_DFL};
	sigset_t set;
	int fd;

	/* fails when it already leads a session, or a process group: one forked by the zygote leads a group of its
	 * own in the zygote's session, which has no terminal and nothing else in it (executor_zygote.c) */
	(void)setsid();
	sigemptyset(&set);
	for (size_t i = 0; i < 3; i++) {
		sigaction(ignored[i], &ign, NULL);
		sigaction(read_ones[i], &dfl, NULL);
		sigaddset(&set, read_ones[i]);
	}
	sigprocmask(SIG_BLOCK, &set, NULL);
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* fds 0, 1 and 2 open (on /dev/null where they were closed), so that nothing opened later takes their numbers. */
static void hold_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF && open("/dev/null", O_RDWR) < 0)
			_exit(EXECUTOR_EXIT_NOMEM);
}

/* Read the spec from fd 0 and decode it. 0, or -EINVAL with a message in err. */
static int read_spec(struct executor_spec *spec, char *err, size_t errlen)
{
	struct buf b;
	char chunk[16384];
	int rc = 0;

	buf_init(&b, EXECUTOR_SPEC_MAX);
	for (;;) {
		ssize_t n = read(STDIN_FILENO, chunk, sizeof(chunk));
		if (n > 0 && buf_append(&b, chunk, (size_t)n) == 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) { /* a non-blocking pipe: wait for it */
			struct pollfd p = {STDIN_FILENO, POLLIN, 0};
			(void)poll(&p, 1, -1);
			continue;
		}
		if (n > 0)
			snprintf(err, errlen, "spec: over the limit of %zu bytes", EXECUTOR_SPEC_MAX);
		else if (n < 0)
			snprintf(err, errlen, "spec: cannot read it: %s", strerror(errno));
		else
			rc = executor_spec_decode(b.data ? b.data : "", b.len, spec, err, errlen);
		if (n != 0)
			rc = -EINVAL;
		break;
	}
	buf_free(&b);
	return rc;
}

/* A close-on-exec pipe whose read end does not block. */
static int make_pipe(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) < 0) {
		int rc = -errno;
		close(fds[0]);
		close(fds[1]);
		return rc;
	}
	return 0;
}

/* Set up the captures: eager files opened now, lazy ones' stale files removed. 0 or -errno with a message. */
static int open_outputs(struct executor *x, char *err, size_t errlen)
{
	static const char *const names[] = {"stdout", "stderr"};

	for (int s = 0; s < 2; s++) {
		const char *path = x->spec.out_path[s];
		int fd = -1;
		if (path && x->spec.lazy) {
			if (unlink(path) < 0 && errno != ENOENT)
				log_warn("executor: cannot remove '%s'", path);
			capture_init_lazy(&x->cap[s], path, x->spec.cap_head, x->spec.cap_tail);
			continue;
		}
		if (path && (fd = capture_open(path)) < 0) {
			snprintf(err, errlen, "%s file '%s': %s", names[s], path, strerror(-fd));
			return fd;
		}
		capture_init(&x->cap[s], fd, x->spec.cap_head, x->spec.cap_tail);
	}
	exec_order_init(&x->order, x->spec.order_path, x->spec.cap_head, x->spec.cap_tail);
	return 0;
}

/* Create the task's cgroup, if it has one, and move this process into it for the spawn (the task inherits it;
 * the caller steps back out after). 0 or -errno with a message. */
static int enter_cgroup(struct executor *x, char *err, size_t errlen)
{
	const struct executor_spec *s = &x->spec;
	int rc;

	if (s->cg_version == CGROUP_NONE)
		return 0;
	x->cg.version = (unsigned)s->cg_version;
	for (int c = 0; c < CGROUP_NCTL; c++)
		x->cg.dir[c] = s->cg_dir[c];
	x->cg.lim = (struct cgroup_limits){s->mem_limit, s->cpu_quota_us, s->pids_max};
	x->cg_made = true;
	if ((rc = cgroup_task_create(&x->cg, err, errlen)) < 0 || (rc = cgroup_task_enter(&x->cg, err, errlen)) < 0)
		return rc;
	return 0;
}

/* Create the pipes and spawn the task (exec_spawn.c, as the server does, without its PATH lookup). 0 or -errno
 * with a message; the pipes' write ends are closed either way. */
static int spawn(struct executor *x, char *err, size_t errlen)
{
	static const struct exec_account self; /* run directly, not through the launcher */
	int out[2] = {-1, -1}, errp[2] = {-1, -1}, rc;
	struct spawn_plan plan = {.prog = x->spec.prog};
	struct spawn_req req = {x->spec.argv, x->spec.envp, x->spec.cwd, &self, -1, -1};

	if ((rc = make_pipe(out)) < 0 || (rc = make_pipe(errp)) < 0) {
		snprintf(err, errlen, "cannot run '%s': pipe: %s", x->spec.argv[0], strerror(-rc));
		if (out[0] >= 0) {
			close(out[0]);
			close(out[1]);
		}
		return rc;
	}
	req.out_fd = out[1];
	req.err_fd = errp[1];
	x->pipe_fd[0] = out[0];
	x->pipe_fd[1] = errp[0];
	x->res.start_ms = real_ms();
	x->start_ns = mono_ns();
	rc = enter_cgroup(x, err, errlen);
	if (rc == 0)
		rc = spawn_run(&req, &plan, &x->pid, err, errlen);
	else
		spawn_plan_free(&plan);
	if (x->cg_made)
		cgroup_task_leave(&x->cg);
	close(out[1]);
	close(errp[1]);
	return rc;
}

/* Start the task and journal it; 0, or the exit status of a failure already reported. */
static int start(struct executor *x)
{
	char err[512], pidtext[128];
	struct executor_pidfile pf = {getpid(), 0, 0, 0};
	int rc;

	/* A server that died after sending the spec cannot have learned of this task, and its successor may already
	 * be looking for it (it finds no journal yet): the task does not start. From the spawn on, P.pid follows
	 * within moments, long before a restarted server reconciles. */
	struct pollfd gone = {x->events, 0, 0};
	if (x->events >= 0 && poll(&gone, 1, 0) == 1 && (gone.revents & (POLLERR | POLLHUP)))
		return fail(x, EXECUTOR_EXIT_START_FAILED, EPIPE, "its server is gone: not started");
	/* a result left by an earlier task of this journal is not this one's */
	snprintf(err, sizeof(err), "%s.result", x->spec.journal);
	if (unlink(err) < 0 && errno != ENOENT)
		log_warn("executor: cannot remove '%s'", err);
	if (x->spec.lease) {
		uint64_t silent;
		if ((rc = lease_open_reader(&x->lease, x->spec.lease, err, sizeof(err))) < 0)
			return fail(x, EXECUTOR_EXIT_START_FAILED, -rc, err);
		if (lease_check(&x->lease, mono_ns() / NS_PER_MS, &silent)) {
			snprintf(err, sizeof(err), "its agent's lease has lapsed (no server heard for %.1f s): not started",
			    (double)silent / 1000);
			return fail(x, EXECUTOR_EXIT_START_FAILED, ESTALE, err);
		}
	}
	if ((rc = open_outputs(x, err, sizeof(err))) < 0 || (rc = spawn(x, err, sizeof(err))) < 0)
		return fail(x, EXECUTOR_EXIT_START_FAILED, -rc, err);
	x->res.task_pid = pf.task_pid = x->pid;
	pf.start_ms = x->res.start_ms;
	x->pidfd = (int)syscall(SYS_pidfd_open, x->pid, 0);
	if (x->pidfd < 0)
		snprintf(err, sizeof(err), "cannot watch task '%s': %s", x->spec.argv[0], strerror(rc = errno));
	else if ((rc = -executor_proc_start_time(0, &pf.executor_start)) > 0)
		snprintf(err, sizeof(err), "cannot read the executor's start time: %s", strerror(rc));
	else if ((rc = -write_journal(x->spec.journal, "pid", pidtext,
	    executor_pidfile_format(&pf, pidtext, sizeof(pidtext)))) > 0)
		snprintf(err, sizeof(err), "journal '%s.pid': %s", x->spec.journal, strerror(rc));
	if (rc > 0) {
		signal_group(x, SIGKILL);
		while (waitpid(x->pid, NULL, 0) < 0 && errno == EINTR)
			;
		if (x->pidfd >= 0)
			close(x->pidfd);
		x->pidfd = -1;
		return fail(x, EXECUTOR_EXIT_START_FAILED, rc, err);
	}
	if (x->spec.deadline_ms)
		x->deadline_at = at_ms(x->start_ns, x->spec.deadline_ms);
	if (x->lease.page)
		x->lease_at = after_ms(LEASE_CHECK_MS);
	rc = (int)executor_started_format(pidtext, sizeof(pidtext), x->pid, x->res.start_ms);
	send_frame(x, EXECUTOR_FRAME_STARTED, pidtext, (size_t)rc);
	return 0;
}

/* What the run used: its cgroup's counters when it had one (every process of the run), else the leader's
 * rusage. The cgroup is removed then (everything left in it killed first). */
static void record_usage(struct executor *x)
{
	struct executor_result *r = &x->res;
	struct cgroup_usage u;

	r->peak_mem_bytes = r->max_rss_kib >= 0 ? r->max_rss_kib * 1024 : -1;
	r->mem_limit = (int64_t)x->spec.mem_limit;
	if (!x->cg_made)
		return;
	cgroup_task_kill(&x->cg);
	cgroup_task_usage(&x->cg, &u);
	r->cgroup = true;
	r->oom_killed = u.oom_killed;
	if (u.user_us >= 0 && u.system_us >= 0) {
		r->user_cpu_us = u.user_us;
		r->system_cpu_us = u.system_us;
	}
	if (u.peak_bytes >= 0)
		r->peak_mem_bytes = u.peak_bytes;
	cgroup_task_remove(&x->cg);
	x->cg_made = false;
}

/* The task ended and its output is in: journal the result and report it. */
static int finish(struct executor *x)
{
	char text[EXECUTOR_RESULT_MAX];
	size_t n;
	int rc;

	record_usage(x);
	n = executor_result_format(&x->res, text, sizeof(text));
	rc = write_journal(x->spec.journal, "result", text, n);

	send_frame(x, EXECUTOR_FRAME_ENDED, text, n);
	return rc < 0 ? EXECUTOR_EXIT_NO_RESULT : EXECUTOR_EXIT_ENDED;
}

int executor_main(int argc, char **argv)
{
	hold_std_fds();
	if (argc == 2 && strcmp(argv[1], EXECUTOR_ZYGOTE_ARG) == 0)
		return executor_zygote_main(argv[1]);
	if (argc > 1) {
		fprintf(stderr, "usage: %s [%s] < spec (see src/exec/executor_proto.h)\n", argv[0], EXECUTOR_ZYGOTE_ARG);
		return EXECUTOR_EXIT_BAD_SPEC;
	}
	return executor_run();
}

int executor_run(void)
{
	struct executor *x;
	char err[512];
	int status;

	x = &the_executor;
	x->pipe_fd[0] = x->pipe_fd[1] = x->pidfd = x->lease.fd = -1;
	x->events = EVENTS_FD;
	executor_spec_init(&x->spec);
	capture_init(&x->cap[0], -1, 0, 0);
	capture_init(&x->cap[1], -1, 0, 0);
	exec_order_init(&x->order, NULL, 0, 0);
	if (fcntl(EVENTS_FD, F_SETFL, fcntl(EVENTS_FD, F_GETFL) | O_NONBLOCK) < 0)
		x->events = -1;
	x->sigfd = setup_signals();
	if (x->sigfd < 0) {
		snprintf(err, sizeof(err), "signalfd: %s", strerror(-x->sigfd));
		status = fail(x, EXECUTOR_EXIT_START_FAILED, -x->sigfd, err);
	} else if (read_spec(&x->spec, err, sizeof(err)) < 0) {
		status = fail(x, EXECUTOR_EXIT_BAD_SPEC, EINVAL, err);
	} else if ((status = start(x)) == 0) {
		run_loop(x);
		status = finish(x);
	}
	for (int s = 0; s < 2; s++) {
		if (x->pipe_fd[s] >= 0)
			close(x->pipe_fd[s]);
		capture_finish(&x->cap[s]);
	}
	exec_order_free(&x->order);
	if (x->cg_made)
		cgroup_task_remove(&x->cg); /* a start that failed */
	if (x->sigfd >= 0)
		close(x->sigfd);
	lease_close(&x->lease);
	executor_spec_free(&x->spec);
	return status;
}
