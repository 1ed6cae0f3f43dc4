/* gnomon-executor --zygote: the fork server that saves the server an exec of gnomon-executor per task
 * (executor_proto.h has the protocol). It is small and single-threaded, so a fork() of it is cheap; each child
 * becomes one task's executor (executor_run()) on the two pipes the server passed. */
#include "exec/executor.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "exec/executor_proto.h"
#include "exec/fdpass.h"

#define SOCK_FD STDIN_FILENO

static char *zygote_arg; /* argv[1], blanked in each child: ps shows an executor as one, not as the zygote */

/* Answer a request: the executor's pid and pidfd, or an errno. False when the server is gone. */
static bool answer(pid_t pid, int pidfd, int err)
{
	struct executor_zygote_msg m = {.type = EXECUTOR_ZYGOTE_FORKED, .pid = (int32_t)pid, .err = err};

	return fdpass_send(SOCK_FD, &m, sizeof(m), &pidfd, pidfd >= 0 ? 1 : 0) == 0;
}

/* In the child: the spec pipe on fd 0 (over the socket), the events pipe on fd 1, nothing else beyond fd 2, the
 * signals as a spawned executor finds them, a process group of its own; then the executor. Never returns.
 *
 * The group, not a session of its own as a spawned executor makes: the zygote's session already has no terminal
 * and nothing of the server, and a setsid() costs more than the fork (with the scheduler's autogroups, the
 * default of most distributions, each session gets a task group of its own: 2 ms a run, measured). Signals to
 * the server's group or session do not reach it, nor do those to the zygote's group. */
static _Noreturn void become_executor(const int fds[2])
{
	sigset_t none;

	(void)setpgid(0, 0);
	memset(zygote_arg, 0, strlen(zygote_arg));
	if (dup2(fds[0], STDIN_FILENO) < 0 || dup2(fds[1], STDOUT_FILENO) < 0)
		_exit(EXECUTOR_EXIT_START_FAILED);
	(void)syscall(SYS_close_range, STDERR_FILENO + 1, ~0U, 0);
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	exit(executor_run());
}

/* Fork the executor of one request and answer it. False when the server is gone. */
static bool fork_one(const int fds[2])
{
	pid_t pid = fork();
	int pidfd = -1, err = 0;
	bool ok;

	if (pid == 0)
		become_executor(fds);
	close(fds[0]);
	close(fds[1]);
	if (pid < 0)
		err = errno;
	/* SIGCHLD is ignored: a child that already exited is gone, pid and all; this pidfd is the child's */
	else if ((pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) < 0)
		err = errno;
	ok = answer(err ? 0 : pid, pidfd, err);
	if (pidfd >= 0)
		close(pidfd);
	return ok;
}

int executor_zygote_main(char *arg)
{
	struct sigaction ign = {.sa_handler = SIG_IGN};
	struct executor_zygote_msg m = {.type = EXECUTOR_ZYGOTE_HELLO, .pid = (int32_t)getpid()};
	sigset_t none;

	zygote_arg = arg;
	/* out of the server's session (a Ctrl-C for it is not for this one) and its children reaped by the kernel */
	(void)setsid();
	sigaction(SIGCHLD, &ign, NULL);
	sigaction(SIGPIPE, &ign, NULL);
	sigaction(SIGHUP, &ign, NULL);
	sigaction(SIGINT, &ign, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (fdpass_send(SOCK_FD, &m, sizeof(m), NULL, 0) < 0)
		return EXIT_FAILURE;
	for (;;) {
		int fds[FDPASS_MAX];
		size_t nfds = 0;
		ssize_t n = fdpass_recv(SOCK_FD, &m, sizeof(m), fds, FDPASS_MAX, &nfds);
		if (n == 0)
			return EXIT_SUCCESS; /* the server is gone; the executors forked carry on */
		if (n < 0)
			return EXIT_FAILURE;
		if (n == (ssize_t)sizeof(m) && m.type == EXECUTOR_ZYGOTE_FORK && nfds == 2) {
			if (!fork_one(fds))
				return EXIT_SUCCESS;
			continue;
		}
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
		if (!answer(0, -1, EPROTO))
			return EXIT_SUCCESS;
	}
}
