/* Text views of the agents for `gnomon agents`: the table, one agent's details, the line a drain prints. Pure:
 * JSON in (GET /api/v1/agents), text out; "how long ago" comes from the server's silentMs, not a clock. */
#ifndef GNOMON_CLI_CLI_AGENTS_FMT_H
#define GNOMON_CLI_CLI_AGENTS_FMT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cli/cli_table.h"
#include "util/buf.h"

/* How long ago: "now" (under a second), "3 s ago", "5 min ago", "2 h ago", "4 d ago"; "-" when negative. */
void cli_agents_ago(int64_t ms, char *out, size_t len);
/* Used of total resources: "1/4" (cpus), "0.5/7.8 GiB" (mem, disk: MiB, shown in the total's unit). */
void cli_agents_amount(double used, double total, const char *resource, char *out, size_t len);
/* An agent's attributes as "k=v,k2=v2" in the server's order ("-" when none). Returns a string the caller frees. */
char *cli_agents_attributes(const json_t *agent);
/* The `agents` table from GET /api/v1/agents: NAME, STATE, HOSTNAME, CPUS, MEM, RUNNING, LAST HEARD, ATTRIBUTES.
 * Returns a table the caller frees, or NULL with a message in err when the answer is not an array. */
struct cli_table *cli_agents_table(const json_t *answer, char *err, size_t errlen);
/* `agents show`: one "field: value" line per detail of GET /api/v1/agents/{id}, then its running task ids, one
 * a line. Returns 0, -EINVAL with a message in err when the answer is not an agent, or -E2BIG at out's limit. */
int cli_agents_show_text(const json_t *agent, struct buf *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
