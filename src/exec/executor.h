/* gnomon-executor: the small program that runs one task for the server and outlives it (with --zygote, the
 * fork server that forks one such executor per task: executor_zygote.c). It reads the task's spec on fd 0,
 * spawns the task in its own process group and is its parent, captures its output into the spec's files
 * (exec_capture), reports on the events pipe (fd 1) and writes the journal files; the protocol is in
 * executor_proto.h. It links libc only: no libuv, no other library. */
#ifndef GNOMON_EXEC_EXECUTOR_H
#define GNOMON_EXEC_EXECUTOR_H

/* The whole program; returns its exit status (executor_proto.h lists them). No arguments: one task's executor;
 * EXECUTOR_ZYGOTE_ARG: the fork server. */
int executor_main(int argc, char **argv);
/* One task's executor, on fds 0 (its spec) and 1 (its events), 2 open; returns its exit status. */
int executor_run(void);
/* The fork server (executor_zygote.c; executor_proto.h), on its socket at fd 0 (1 and 2 open); arg is its
 * argv[1] (EXECUTOR_ZYGOTE_ARG), which its children blank. Returns its exit status, 0 when its server is gone.
 * Its children exit() with their executor's status, never returning here. */
int executor_zygote_main(char *arg);

#endif
