/* gnomon: one binary for the server, the agent and the client commands. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "exec/launcher.h"
#include "server/server.h"
#include "server/server_migrate.h"
#include "util/self_path.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: gnomon server [options]\n"
		     "       gnomon agent --server URL[,URL...] [options]\n"
		     "       gnomon [--server URL] [--json] COMMAND [ARGS...]\n\n"
		     "commands:\n"
		     "  server     Run the scheduler, its API and web UI\n"
		     "  agent      Run the tasks that servers assign to this machine\n"
		     "  migrate    Copy a standalone server's data dir into PostgreSQL (--from DIR --to postgres://...)\n");
	cli_print_usage(out);
	fprintf(out, "\n`gnomon COMMAND --help` describes each one.\n");
}

/* `gnomon agent ARGS...`: exec gnomon-agent ARGS..., the agent's own program beside this one (it links neither
 * libcurl nor SQLite nor Graphviz: an idle agent is a few MiB, docs/architecture.md). Returns only on failure. */
static int exec_agent(char **argv)
{
	char err[512], *path;

	if (self_path_beside("gnomon-agent", &path, err, sizeof(err)) < 0) {
		fprintf(stderr, "gnomon agent: %s\n", err);
		return 1;
	}
	argv[0] = path; /* argv[0] was "agent" */
	execv(path, argv);
	fprintf(stderr, "gnomon agent: cannot run %s (the agent's program, built and installed beside gnomon): %s\n",
	    path, strerror(errno));
	free(path);
	return 1;
}

int main(int argc, char **argv)
{
	/* The runAsUser launcher: first, before anything reads the (task's) environment. */
	if (argc >= 2 && strcmp(argv[1], EXEC_LAUNCHER_ARG) == 0)
		return exec_launcher_main(argc, argv);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "server") == 0)
		return server_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "agent") == 0)
		return exec_agent(argv + 1);
	if (strcmp(argv[1], "migrate") == 0)
		return server_migrate_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("gnomon %s\n", GNOMON_VERSION);
		return 0;
	}
	/* A client command, with or without global options before it. */
	return cli_main(argc, argv, usage);
}
