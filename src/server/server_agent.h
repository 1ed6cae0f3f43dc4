/* HA's local agent (--zk-hosts with --local-agent): instead of the in-process embedded agent, a gnomon-agent
 * process of its own beside the server, so that the tasks it runs outlive the server (a kill -9 of the leader)
 * and their ends still reach the next leader: the agent keeps its journal, learns the cluster's other instances
 * and reports to whichever leads (docs/architecture.md, "The local agent in a cluster").
 *
 * The agent is started detached (its own session; its parent exits at once, so it is nobody's child): --server
 * this server's own URL on loopback, --data-dir DATA_DIR/agent, --name HOSTNAME:PORT, --attribute server=ADDRESS
 * (this server's advertised address, for jobs that must run beside it), the server's --agent-token-file,
 * --log-level, --keep-work-dirs* and --spawn-threads; its output goes to DATA_DIR/agent.log. A server that finds
 * it running (DATA_DIR/agent/agent.lock held) does not start another; one that finds it gone starts it again,
 * checked every few seconds. */
#ifndef GNOMON_SERVER_SERVER_AGENT_H
#define GNOMON_SERVER_SERVER_AGENT_H

#include <stddef.h>
#include <uv.h>

struct server_agent;
struct server_config;

/* Start the local agent unless it runs, and keep it running. port: this server's HTTP port; address: its
 * advertised one (borrowed, must outlive it). 0, or a negative errno with err. */
int server_agent_start(uv_loop_t *loop, const struct server_config *cfg, int port, const char *address,
    struct server_agent **out, char *err, size_t errlen) __attribute__((warn_unused_result));
/* Stop watching it (the agent goes on), or with --stop-tasks-on-exit stop it too (SIGTERM: its tasks are killed).
 * Its handle is closed: run the loop afterwards. NULL is fine. */
void server_agent_free(struct server_agent *sa);

#endif
