/* gnomon: one binary for the server, the agent and the client commands. */
#include <stdio.h>
#include <string.h>

#include "agent/agent.h"
#include "cli/cli.h"
#include "exec/launcher.h"
#include "server/server.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: gnomon server [options]\n"
		     "       gnomon agent --server URL[,URL...] [options]\n"
		     "       gnomon [--server URL] [--json] COMMAND [ARGS...]\n\n"
		     "commands:\n"
		     "  server     Run the scheduler, its API and web UI\n"
		     "  agent      Run the tasks that servers assign to this machine\n");
	cli_print_usage(out);
	fprintf(out, "\n`gnomon COMMAND --help` describes each one.\n");
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
		return agent_main(argc - 1, argv + 1);
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
