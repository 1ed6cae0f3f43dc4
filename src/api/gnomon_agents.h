/* The agent protocol's routes (/api/v1/agent/..., docs/agent-protocol.md) and the operators' view of the agents
 * (/api/v1/agents...): HTTP in and out, over the fleet (runner/runner_remote.h). */
#ifndef GNOMON_API_GNOMON_AGENTS_H
#define GNOMON_API_GNOMON_AGENTS_H

#include <stdbool.h>

#include "api/api.h"

/* The API_AGENT policy: an agent's own API token (role agent: gnomon token create NAME --role agent), or the
 * agents' shared token when the server has one (--agent-token-file; 401 without either or with another); without
 * a shared token, a loopback peer needs none (and anyone else one of role agent: 401). Answers the refusal. */
bool gnomon_agent_allowed(struct api_env *env, struct http_request *req);

void gnomon_agent_register(struct api_env *env, struct http_request *req, const char *const *args);
void gnomon_agent_poll(struct api_env *env, struct http_request *req, const char *const *args);
void gnomon_agent_events(struct api_env *env, struct http_request *req, const char *const *args);
void gnomon_agent_output(struct api_env *env, struct http_request *req, const char *const *args);
void gnomon_list_agents(struct api_env *env, struct http_request *req, const char *const *args);
void gnomon_get_agent(struct api_env *env, struct http_request *req, const char *const *args);
void gnomon_drain_agent(struct api_env *env, struct http_request *req, const char *const *args);
void gnomon_undrain_agent(struct api_env *env, struct http_request *req, const char *const *args);

#endif
