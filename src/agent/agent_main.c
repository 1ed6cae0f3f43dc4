/* gnomon-agent's entry point: `gnomon agent` as a program of its own, built from the agent's sources and the few
 * it uses, with the HTTP client without libcurl (net/net_uv.c) and no SQLite or Graphviz, so that an idle agent
 * stays small (docs/architecture.md). `gnomon agent ARGS...` execs it with the same arguments. */
#include <string.h>

#include "agent/agent.h"
#include "exec/launcher.h"

int main(int argc, char **argv)
{
	/* The runAsUser launcher (exec_spawn.c re-executes /proc/self/exe): first, before anything reads the (task's)
	 * environment. */
	if (argc >= 2 && strcmp(argv[1], EXEC_LAUNCHER_ARG) == 0)
		return exec_launcher_main(argc, argv);
	return agent_main(argc, argv);
}
