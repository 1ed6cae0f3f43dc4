/* The two shapes the agent protocol's sides share (docs/agent-protocol.md): an assignment (a struct runner_spec
 * as JSON) and a result (a struct runner_result as JSON). Decoding checks every field and names the one at fault
 * in err ("task.cpus: must be a number >= 0"). Any thread. */
#ifndef GNOMON_RUNNER_AGENT_WIRE_H
#define GNOMON_RUNNER_AGENT_WIRE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "runner/runner.h"

#define AGENT_PROTOCOL_VERSION 1
#define AGENT_WIRE_ID_MAX 128      /* bytes of an agent id, name or session */
#define AGENT_WIRE_TEXT_MAX 65536  /* bytes of a command line, argument or environment value */
#define AGENT_WIRE_LIST_MAX 4096   /* arguments or environment variables of one assignment */

/* A decoded assignment: spec points into json (held) and the arrays here; spec.ctx is NULL. */
struct agent_assignment {
	struct runner_spec spec;
	json_t *json;
	const char **args;
	struct runner_env *env;
	char *container; /* the container as compact JSON, or NULL */
};

/* The assignment of s, a new reference. */
json_t *agent_wire_spec_to_json(const struct runner_spec *s);
/* Decode an assignment (j is borrowed; out takes a reference). 0, or -EINVAL with err naming the field under
 * prefix ("task."). */
int agent_wire_spec_from_json(json_t *j, const char *prefix, struct agent_assignment *out, char *err,
    size_t errlen) __attribute__((warn_unused_result));
void agent_assignment_clear(struct agent_assignment *a);

/* The result r, a new reference. */
json_t *agent_wire_result_to_json(const struct runner_result *r);
/* Decode a result. 0, or -EINVAL with err naming the field under prefix ("events[2].result."). */
int agent_wire_result_from_json(const json_t *j, const char *prefix, struct runner_result *out, char *err,
    size_t errlen) __attribute__((warn_unused_result));

const char *agent_wire_end_name(enum runner_end e);
const char *agent_wire_outcome_name(enum runner_outcome o);
int agent_wire_outcome_parse(const char *s, enum runner_outcome *out) __attribute__((warn_unused_result));

/* Is s a valid agent id, name or session: 1 to AGENT_WIRE_ID_MAX bytes of [A-Za-z0-9._:@-]? */
bool agent_wire_name_ok(const char *s);
/* Is s a plausible task id: 1 to 4,096 bytes, no control characters? */
bool agent_wire_task_id_ok(const char *s);

struct cgroup_host;
/* How an agent enforces resources, for its registration and /api/v1/agents: {"enforced": bool, "version": "v1",
 * "v2" or null, "layout": "v1", "v2", "hybrid" or "none", "reason": why not enforced, or null}. */
json_t *agent_wire_cgroups_json(const struct cgroup_host *h);
/* Check an agent's "cgroups" as agent_wire_cgroups_json() writes it; NULL when it is not (an older agent sends
 * none). Returns a new reference. */
json_t *agent_wire_cgroups_check(json_t *j);

#endif
