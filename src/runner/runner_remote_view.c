/* The operators' view of the fleet: /api/v1/agents, drain, the gauges. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "runner/runner_remote_internal.h"
#include "util/xmalloc.h"

static json_t *resources(const struct placement_resources *r)
{
	return json_pack("{s:f, s:f, s:f}", "cpus", r->cpus, "mem", r->mem, "disk", r->disk);
}

static const char *state_of(const struct ragent *a)
{
	if (!a->up)
		return "lost";
	return a->drained ? "draining" : "up";
}

static json_t *agent_json(const struct remote *f, const struct ragent *a)
{
	json_t *attrs = json_object(), *tasks = json_array(), *refusal;
	uint64_t now = uv_now(f->loop);

	for (size_t i = 0; i < a->pa.n_attrs; i++)
		json_object_set_new(attrs, a->attrs[i].key, json_string(a->attrs[i].value));
	for (const struct rtask *t = f->all; t; t = t->next)
		if (t->agent == a && (t->st == T_ASSIGNED || t->st == T_RUNNING))
			json_array_append_new(tasks, json_string(t->task_id));
	json_t *out = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:o, s:o, s:o, s:i, s:o, s:I, s:I, s:I, s:o}",
	    "id", a->id, "name", a->name, "hostname", a->hostname, "state", state_of(a), "embedded", a->local,
	    "version", a->version, "attributes", attrs, "resources", resources(&a->pa.total),
	    "used", resources(&a->pa.used), "running", (int)a->pa.running, "tasks", tasks,
	    "lastHeardMs", (json_int_t)a->last_heard_wall,
	    "silentMs", (json_int_t)(a->local ? 0 : now - a->last_heard), "registeredMs", (json_int_t)a->registered_wall,
	    "cgroups", a->cgroups ? json_incref(a->cgroups) : json_null());

	/* sent no task for a while: it refused one (a full disk, say) */
	json_object_set_new(out, "refusingMs", json_integer(a->refusing_until > now ? (json_int_t)(a->refusing_until -
	    now) : 0));
	refusal = a->refusal[0] ? json_string(a->refusal) : NULL; /* NULL too when its cut split a character */
	json_object_set_new(out, "refusal", refusal ? refusal : json_null());
	return out;
}

json_t *remote_agents_json(const struct remote *f)
{
	json_t *list = json_array();

	for (const struct ragent *a = f->agents; a; a = a->next)
		json_array_append_new(list, agent_json(f, a));
	return list;
}

json_t *remote_agent_json(const struct remote *f, const char *id)
{
	const struct ragent *a = remote_agent_find(f, id);

	return a ? agent_json(f, a) : NULL;
}

int remote_drain(struct remote *f, const char *id, bool drain)
{
	struct ragent *a = remote_agent_find(f, id);

	if (a == NULL)
		return -ENOENT;
	a->drained = drain;
	if (!drain)
		remote_place_waiting(f); /* an API call: not inside a call to the runner */
	return 0;
}

void remote_counts(const struct remote *f, struct remote_counts *out)
{
	memset(out, 0, sizeof(*out));
	for (const struct ragent *a = f->agents; a; a = a->next) {
		if (!a->up)
			out->lost++;
		else if (a->drained)
			out->draining++;
		else
			out->up++;
	}
	for (const struct rtask *t = f->wait_head; t; t = t->wnext)
		out->waiting++;
}
