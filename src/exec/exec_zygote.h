/* The server's side of the executor fork server (private to exec; the protocol is in executor_proto.h): one
 * `gnomon-executor --zygote` per executor binary, started at the first task and restarted when it is gone, which
 * forks each task's executor so that no task pays for an exec of gnomon-executor.
 *
 * Threads: exec_start_many()'s spawn threads share one connection per zygote, under a mutex held for a request
 * and its answer only (one fork in the zygote, a few hundred microseconds): the zygote forks one child at a time
 * anyway, so a connection per thread would not fork faster. The spec, the 'S' and everything after go on
 * without it. */
#ifndef GNOMON_EXEC_EXEC_ZYGOTE_H
#define GNOMON_EXEC_EXEC_ZYGOTE_H

#include <stdbool.h>
#include <sys/types.h>

/* Have the zygote of executor fork an executor on the spec pipe's read end and the events pipe's write end (both
 * stay the caller's to close). Returns 0 with its pid and a pidfd of it (close-on-exec; the caller closes it):
 * it is the zygote's child, not this process's. -EAGAIN when there is no zygote to ask (it could not be started,
 * or it died during this request, which is logged once): the caller spawns the executor itself. Any thread. */
int exec_zygote_fork(const char *executor, int spec_fd, int ev_fd, pid_t *pid, int *pidfd)
    __attribute__((warn_unused_result));

/* Spawn gnomon-executor (path) with fd0 as its fd 0 and fd1 as its fd 1 (-1: /dev/null), its fd 2 this
 * process's, nothing else, an empty environment and no signal blocked: a task's executor, or with zygote its fork
 * server. 0 with the pid (this process's child), or a negative errno. Any thread. */
int exec_executor_spawn(const char *path, bool zygote, int fd0, int fd1, pid_t *pid)
    __attribute__((warn_unused_result));

/* For tests: the pid of executor's zygote, -1 when none runs. */
pid_t exec_zygote_pid(const char *executor);

#endif
