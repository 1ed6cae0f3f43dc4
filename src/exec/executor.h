/* gnomon-executor: the small program that runs one task for the server and outlives it. It reads the task's
 * spec on fd 0, spawns the task in its own process group and is its parent, captures its output into the
 * spec's files (exec_capture), reports on the events pipe (fd 1) and writes the journal files; the protocol is
 * in executor_proto.h. It links libc only: no libuv, no other library. */
#ifndef GNOMON_EXEC_EXECUTOR_H
#define GNOMON_EXEC_EXECUTOR_H

/* The whole program; returns its exit status (executor_proto.h lists them). Takes no arguments. */
int executor_main(int argc, char **argv);

#endif
