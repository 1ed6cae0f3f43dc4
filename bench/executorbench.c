/* What gnomon-executor costs per run: N runs of /bin/true through it (spec written on its stdin, events read to
 * their end, the executor reaped; the journal's two files written in DIR), against N posix_spawn + waitpid of
 * /bin/true itself, one at a time. Compiled by bench/executor at run time (cc -O2); prints one JSON object.
 *
 *   executorbench EXECUTOR DIR N
 *
 * It also times the executor's start alone: N runs with an empty spec (an 'F' frame, exit 2, no task); and both
 * again with each executor forked by its fork server (gnomon-executor --zygote, as the server does: the request
 * and its answer over the socket, the executor's end seen through the pidfd it answers).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* executor_proto.h's struct executor_zygote_msg */
struct zmsg {
	uint8_t type;
	uint8_t zero[3];
	int32_t pid;
	int32_t err;
};

static int zsock = -1; /* the fork server's socket: through() asks it for the executor */

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "executorbench: %s: %s\n", what, strerror(err));
	exit(1);
}

static void reap(pid_t pid, int want)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid", errno);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != want) {
		fprintf(stderr, "executorbench: exit status %d, not %d\n", st, want);
		exit(1);
	}
}

static void direct(void)
{
	static char *const argv[] = {"true", NULL};
	pid_t pid;
	int rc = posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ);
	if (rc)
		die("posix_spawn /bin/true", rc);
	reap(pid, 0);
}

/* A message with descriptors to the fork server, or from it (its pidfd in *fd). */
static void zmsg_io(struct zmsg *m, int *fd, int nfds, bool send)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(2 * sizeof(int))];
	} ctl;
	struct iovec iov = {m, sizeof(*m)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
	    .msg_controllen = CMSG_SPACE(nfds * sizeof(int))};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	if (send) {
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fd, nfds * sizeof(int));
		if (sendmsg(zsock, &msg, 0) != (ssize_t)sizeof(*m))
			die("sendmsg to the fork server", errno);
		return;
	}
	if (recvmsg(zsock, &msg, MSG_CMSG_CLOEXEC) != (ssize_t)sizeof(*m) || m->err ||
	    !(c = CMSG_FIRSTHDR(&msg)) || c->cmsg_type != SCM_RIGHTS)
		die("the fork server's answer", m->err ? m->err : EPROTO);
	memcpy(fd, CMSG_DATA(c), sizeof(int));
}

/* Start the fork server of executor on zsock, and take its hello. */
static void zygote_start(const char *executor)
{
	char *const argv[] = {(char *)executor, "--zygote", NULL};
	posix_spawn_file_actions_t fa;
	struct zmsg m;
	int sv[2], rc;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		die("socketpair", errno);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
	rc = posix_spawn(&pid, executor, &fa, NULL, argv, environ);
	if (rc)
		die(executor, rc);
	posix_spawn_file_actions_destroy(&fa);
	close(sv[1]);
	zsock = sv[0];
	if (recv(zsock, &m, sizeof(m), 0) != (ssize_t)sizeof(m) || m.type != 'H')
		die("the fork server's hello", EPROTO);
}

/* One run through the executor, as the server would do it; it must exit with want after a first frame of type
 * first (and an 'E' frame for a run). Through the fork server (zsock), its exit status is the zygote's: only
 * the frames are checked. */
static void through(const char *executor, const char *spec, size_t len, int want, char first)
{
	char events[8192];
	size_t cap = sizeof(events);
	char *const argv[] = {(char *)executor, NULL};
	posix_spawn_file_actions_t fa;
	int in[2], ev[2], rc;
	size_t got = 0, pos;
	ssize_t n;
	char last = 0;
	pid_t pid = -1;
	int pidfd = -1;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(ev, O_CLOEXEC) < 0)
		die("pipe2", errno);
	if (zsock >= 0) {
		struct zmsg m = {.type = 'R'};
		int fds[2] = {in[0], ev[1]};
		zmsg_io(&m, fds, 2, true);
		zmsg_io(&m, &pidfd, 1, false);
	} else {
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, in[0], 0);
		posix_spawn_file_actions_adddup2(&fa, ev[1], 1);
		rc = posix_spawn(&pid, executor, &fa, NULL, argv, environ);
		if (rc)
			die(executor, rc);
		posix_spawn_file_actions_destroy(&fa);
	}
	close(in[0]);
	close(ev[1]);
	if (write(in[1], spec, len) != (ssize_t)len)
		die("write spec", errno);
	close(in[1]);
	while ((n = read(ev[0], events + got, cap - got)) > 0)
		got += (size_t)n;
	close(ev[0]);
	if (pidfd >= 0) {
		struct pollfd p = {pidfd, POLLIN, 0};
		while (poll(&p, 1, -1) < 0)
			if (errno != EINTR)
				die("poll", errno);
		close(pidfd);
	} else {
		reap(pid, want);
	}
	/* walk the frames: whole ones, the run's last an 'E' */
	for (pos = 0; pos + 8 <= got; pos += 8 + (uint8_t)events[pos + 4] + ((size_t)(uint8_t)events[pos + 5] << 8))
		last = events[pos];
	if (got < 8 || events[0] != first || pos != got || (first == 'S' && last != 'E')) {
		fprintf(stderr, "executorbench: unexpected events (%zu bytes)\n", got);
		exit(1);
	}
}

/* The time of n runs through the executor: of /bin/true with the spec, of the executor alone without (len 0). */
static int64_t timed(const char *executor, const char *spec, size_t len, long n)
{
	int64_t t0 = now_ns();

	for (long i = 0; i < n; i++)
		through(executor, spec, len, len ? 0 : 2, len ? 'S' : 'F');
	return now_ns() - t0;
}

/* Append a KEY\0VALUE\0 record. */
static size_t put(char *p, const char *key, const char *value)
{
	size_t k = strlen(key) + 1, v = strlen(value) + 1;
	memcpy(p, key, k);
	memcpy(p + k, value, v);
	return k + v;
}

int main(int argc, char **argv)
{
	char spec[4096], journal[2048];
	size_t len = 0;
	long n;
	int64_t t0, t_direct, t_through, t_alone, t_zygote, t_zalone;

	if (argc != 4 || (n = atol(argv[3])) < 1) {
		fprintf(stderr, "usage: executorbench EXECUTOR DIR N\n");
		return 2;
	}
	snprintf(journal, sizeof(journal), "%s/task", argv[2]);
	len += put(spec + len, "prog", "/bin/true");
	len += put(spec + len, "arg", "true");
	len += put(spec + len, "env", "PATH=/usr/bin:/bin");
	len += put(spec + len, "journal", journal);

	t0 = now_ns();
	for (long i = 0; i < n; i++)
		direct();
	t_direct = now_ns() - t0;
	t_through = timed(argv[1], spec, len, n);
	t_alone = timed(argv[1], "", 0, n);
	zygote_start(argv[1]);
	t_zygote = timed(argv[1], spec, len, n);
	t_zalone = timed(argv[1], "", 0, n);
	close(zsock); /* the fork server exits */
	printf("{\"runs\": %ld, \"direct_s\": %.6f, \"executor_s\": %.6f, \"alone_s\": %.6f, \"zygote_s\": %.6f, "
	       "\"zygote_alone_s\": %.6f}\n",
	    n, (double)t_direct / 1e9, (double)t_through / 1e9, (double)t_alone / 1e9, (double)t_zygote / 1e9,
	    (double)t_zalone / 1e9);
	return 0;
}
