/* gnomon: one binary for the server, the agent and the client commands. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "exec/launcher.h"
#include "server/server.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
	{"server", server_main, "run the scheduler, its API and web UI"},
	{"job", cli_job_main, "add, list, show, remove, run or kill jobs on a server"},
	{"runs", cli_runs_main, "list the runs of a job"},
	{"logs", cli_logs_main, "print the captured output of a run"},
	{"schedule", cli_schedule_main, "preview the fire times of a schedule"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: gnomon COMMAND [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
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
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("gnomon %s\n", GNOMON_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "gnomon: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
