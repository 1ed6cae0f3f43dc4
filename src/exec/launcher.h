/* The runAsUser launcher: gnomon re-executed as `gnomon __exec-as USER [--cwd DIR] -- ARGV...` by a root server.
 * It drops to USER (supplementary groups, gid, then uid), checks that root cannot be regained, changes to DIR and
 * execs ARGV (searched in the PATH of the environment it was given). main() must hand over to it before reading
 * any configuration: the environment is the task's, not the server's. */
#ifndef GNOMON_EXEC_LAUNCHER_H
#define GNOMON_EXEC_LAUNCHER_H

#define EXEC_LAUNCHER_ARG "__exec-as"

/* argv[1] is EXEC_LAUNCHER_ARG. Never returns: it execs the command, or writes a message on stderr and _exits
 * with 126 when the user, the privilege drop or the directory failed, 127 when the command was not found, 2 for
 * bad usage. */
int exec_launcher_main(int argc, char **argv);

#endif
