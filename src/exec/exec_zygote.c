/* The server's side of the executor fork server (exec_zygote.h; the protocol in executor_proto.h). */
#include "exec/exec_zygote.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec/executor_proto.h"
#include "exec/fdpass.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define ZYGOTE_TIMEOUT_MS 10000 /* for its hello or an answer: longer, it is stuck (and killed) */
#define ZYGOTE_RESTART_MS 1000  /* at most one start of a zygote a second */

/* The zygote of one executor binary. */
struct zygote {
	struct zygote *next;
	char *executor;
	pthread_mutex_t lock; /* the members below, and one request with its answer at a time on sock */
	int sock;             /* our end of its socketpair; -1 while none runs */
	pid_t pid;            /* this process's child; -1 while none runs */
	uint64_t retry_at;    /* CLOCK_MONOTONIC ms: no start before */
	bool failing;         /* the last start failed (said once) */
};

static pthread_mutex_t zygotes_lock = PTHREAD_MUTEX_INITIALIZER;
static struct zygote *zygotes; /* one per executor binary, kept until the process exits */

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The record of executor's zygote; created when create says so, else NULL when there is none. */
static struct zygote *zygote_of(const char *executor, bool create)
{
	struct zygote *z;

	pthread_mutex_lock(&zygotes_lock);
	for (z = zygotes; z && strcmp(z->executor, executor) != 0; z = z->next)
		;
	if (!z && create) {
		z = xcalloc(1, sizeof(*z));
		z->executor = xstrdup(executor);
		pthread_mutex_init(&z->lock, NULL);
		z->sock = -1;
		z->pid = -1;
		z->next = zygotes;
		zygotes = z;
	}
	pthread_mutex_unlock(&zygotes_lock);
	return z;
}

int exec_executor_spawn(const char *path, bool zygote, int fd0, int fd1, pid_t *pid)
{
	char *const argv[] = {(char *)(uintptr_t) "gnomon-executor",
	    zygote ? (char *)(uintptr_t)EXECUTOR_ZYGOTE_ARG : NULL, NULL};
	static char *const envp[] = {NULL};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none;
	int rc;

	sigemptyset(&none);
	if (posix_spawnattr_init(&attr) != 0)
		return -ENOMEM;
	if (posix_spawn_file_actions_init(&fa) != 0) {
		posix_spawnattr_destroy(&attr);
		return -ENOMEM;
	}
	rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	if (!rc)
		rc = posix_spawnattr_setsigmask(&attr, &none);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, fd0, STDIN_FILENO);
	if (!rc)
		rc = fd1 >= 0 ? posix_spawn_file_actions_adddup2(&fa, fd1, STDOUT_FILENO)
			      : posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	/* nothing else of this process: no listening socket, no database, no other task's pipe */
	if (!rc)
		rc = posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
	if (!rc)
		rc = posix_spawn(pid, path, &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return -rc;
}

/* Wait for one message from the zygote, up to ZYGOTE_TIMEOUT_MS, and receive it: its bytes (0: the zygote is
 * gone), or a negative errno (-ETIMEDOUT). */
static ssize_t recv_answer(int sock, struct executor_zygote_msg *m, int *fds, size_t maxfds, size_t *nfds)
{
	struct pollfd p = {sock, POLLIN, 0};
	int rc;

	*nfds = 0;
	do
		rc = poll(&p, 1, ZYGOTE_TIMEOUT_MS);
	while (rc < 0 && errno == EINTR);
	if (rc == 0)
		return -ETIMEDOUT;
	if (rc < 0)
		return -errno;
	return fdpass_recv(sock, m, sizeof(*m), fds, maxfds, nfds);
}

/* Close the connection, kill the zygote and reap it (the executors it forked are not touched). */
static void zygote_stop(struct zygote *z)
{
	close(z->sock);
	z->sock = -1;
	kill(z->pid, SIGKILL);
	while (waitpid(z->pid, NULL, 0) < 0 && errno == EINTR)
		;
	z->pid = -1;
}

/* Spawn the zygote and wait for its hello. 0 or a negative errno with a message in err. */
static int zygote_spawn(struct zygote *z, char *err, size_t errlen)
{
	struct executor_zygote_msg m;
	size_t nfds;
	ssize_t n;
	int sv[2], rc;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		rc = -errno;
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return rc;
	}
	rc = exec_executor_spawn(z->executor, true, sv[1], -1, &z->pid);
	close(sv[1]);
	if (rc < 0) {
		close(sv[0]);
		z->pid = -1;
		snprintf(err, errlen, "%s", strerror(-rc));
		return rc;
	}
	z->sock = sv[0];
	n = recv_answer(z->sock, &m, NULL, 0, &nfds);
	if (n == (ssize_t)sizeof(m) && m.type == EXECUTOR_ZYGOTE_HELLO)
		return 0;
	snprintf(err, errlen, "%s", n < 0 ? strerror((int)-n) : n == 0 ? "it exited at once" : "a bad hello");
	zygote_stop(z);
	return n < 0 ? (int)n : -EPROTO;
}

/* Start z's zygote, saying once that it cannot be. */
static void zygote_start(struct zygote *z)
{
	char err[256];

	z->retry_at = mono_ms() + ZYGOTE_RESTART_MS;
	if (zygote_spawn(z, err, sizeof(err)) < 0) {
		if (!z->failing)
			log_warnx("exec: cannot start the executor fork server '%s %s' (%s): executors are spawned one by "
			    "one (slower) until it can be, tried again at most once a second", z->executor,
			    EXECUTOR_ZYGOTE_ARG, err);
		z->failing = true;
		return;
	}
	if (z->failing)
		log_info("exec: the executor fork server runs again (pid %d)", (int)z->pid);
	z->failing = false;
}

/* The zygote failed a request: stop it; the next start starts another. */
static void zygote_lost(struct zygote *z, const char *why)
{
	log_warnx("exec: the executor fork server (pid %d) is gone (%s): this executor is spawned directly, and the "
	    "next start restarts it", (int)z->pid, why);
	zygote_stop(z);
}

int exec_zygote_fork(const char *executor, int spec_fd, int ev_fd, pid_t *pid, int *pidfd)
{
	struct executor_zygote_msg m = {.type = EXECUTOR_ZYGOTE_FORK};
	const int fds[2] = {spec_fd, ev_fd};
	struct zygote *z;
	int got = -1, rc;
	size_t nfds = 0;
	ssize_t n = 0;

	z = zygote_of(executor, true);
	pthread_mutex_lock(&z->lock);
	if (z->sock < 0 && mono_ms() >= z->retry_at)
		zygote_start(z);
	rc = -EAGAIN;
	if (z->sock < 0)
		goto out;
	if ((rc = fdpass_send(z->sock, &m, sizeof(m), fds, 2)) == 0)
		n = recv_answer(z->sock, &m, &got, 1, &nfds);
	if (rc < 0 || n != (ssize_t)sizeof(m) || m.type != EXECUTOR_ZYGOTE_FORKED || (m.err == 0) != (nfds == 1) ||
	    (m.err == 0 && m.pid <= 0)) {
		zygote_lost(z, rc < 0 ? strerror(-rc) : n < 0 ? strerror((int)-n) : n == 0 ? "its socket closed"
											 : "a bad answer");
		rc = -EAGAIN;
	} else if (m.err != 0) {
		log_warnx("exec: the executor fork server could not fork: %s", strerror(m.err));
		rc = -EAGAIN;
	} else {
		*pid = m.pid;
		*pidfd = got;
		got = -1;
		rc = 0;
	}
	if (got >= 0)
		close(got);
out:
	pthread_mutex_unlock(&z->lock);
	return rc;
}

pid_t exec_zygote_pid(const char *executor)
{
	struct zygote *z = zygote_of(executor, false);
	pid_t pid = -1;

	if (z) {
		pthread_mutex_lock(&z->lock);
		pid = z->pid;
		pthread_mutex_unlock(&z->lock);
	}
	return pid;
}
