/* The fleet's placement (runner_remote.h): which agent takes a task now, the embedded agent's starts, the
 * remote agents' assignments, the tasks that wait for room. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/agent_wire.h"
#include "exec/container.h"
#include "runner/runner_remote_internal.h"
#include "util/log.h"
#include "util/xmalloc.h"

/* ---- placement ---- */

#define NO_RUNTIME "no agent matches " CONTAINER_ATTRIBUTE " "

/* Placement's view of every agent, in list order (index i is the i-th agent). */
static struct placement_agent *view(struct remote *f, struct ragent **by_index)
{
	struct placement_agent *v = xcalloc(f->n_agents + 1, sizeof(*v));
	size_t i = 0;

	uint64_t now = uv_now(f->loop);

	for (struct ragent *a = f->agents; a; a = a->next, i++) {
		a->pa.state = !a->up || a->refusing_until > now ? PLACEMENT_GONE : a->drained ? PLACEMENT_DRAINING :
		    PLACEMENT_USABLE;
		v[i] = a->pa;
		by_index[i] = a;
	}
	return v;
}

struct placement_constraints *remote_constraints(const struct runner_spec *s)
{
	struct placement_constraint *c;
	struct placement_constraints *out;

	if (s->container == NULL)
		return s->n_constraints > 0 ? placement_constraints_new((const struct placement_constraint *)s->constraints,
		    s->n_constraints) : NULL;
	/* only where a runtime is (an agent says which: container_runtime_attributes()) */
	c = xcalloc(s->n_constraints + 1, sizeof(*c));
	if (s->n_constraints > 0)
		memcpy(c, s->constraints, s->n_constraints * sizeof(*c));
	c[s->n_constraints] = (struct placement_constraint){CONTAINER_ATTRIBUTE, "LIKE", ".+"};
	out = placement_constraints_new(c, s->n_constraints + 1);
	free(c);
	return out;
}

/* The implicit constraint of container tasks in words, with why the first agent up that cannot run them says
 * it cannot. */
static void no_runtime(const struct remote *f, char *reason, size_t len)
{
	char rest[PLACEMENT_REASON_MAX];
	size_t n;

	snprintf(rest, sizeof(rest), "%s", strstr(reason, " (") ? strstr(reason, " (") : "");
	n = (size_t)snprintf(reason, len, "no agent can run containers (podman or docker)%s", rest);
	for (const struct ragent *a = f->agents; a && n < len; a = a->next) {
		for (size_t i = 0; a->up && i < a->pa.n_attrs; i++) {
			if (strcmp(a->attrs[i].key, CONTAINER_UNAVAILABLE) == 0) {
				snprintf(reason + n, len - n, "; %.64s: %s", a->name, a->attrs[i].value);
				return;
			}
		}
	}
}

void remote_agent_refused(struct remote *f, struct ragent *a, const char *reason)
{
	a->refusal_backoff = a->refusal_backoff == 0 ? REMOTE_REFUSAL_PAUSE_MS :
	    a->refusal_backoff * 2 > REMOTE_REFUSAL_PAUSE_MAX ? REMOTE_REFUSAL_PAUSE_MAX : a->refusal_backoff * 2;
	a->refusing_until = uv_now(f->loop) + a->refusal_backoff;
	snprintf(a->refusal, sizeof(a->refusal), "%s", reason);
	log_warnx_kv(LOG_FIELDS(.event = "agent.refusing"), "agent %s refused a task: it is sent none for %.1f s",
	    a->name, (double)a->refusal_backoff / 1000);
}

/* When none fits, the first agent passed over because it refused a task, in the reason: instead of placement's
 * "no agents connected" when it is the only one up, else after placement's reason. */
static void refusing(const struct remote *f, char *reason, size_t len)
{
	uint64_t now = uv_now(f->loop);
	size_t n = strcmp(reason, "no agents connected") == 0 ? 0 : strlen(reason);

	for (const struct ragent *a = f->agents; a && n < len; a = a->next) {
		if (a->up && a->refusing_until > now) {
			snprintf(reason + n, len - n, "%sagent %.64s refused a task %.1f s ago, passed over for %.1f s: %.120s",
			    n ? "; " : "", a->name, (double)(now + a->refusal_backoff - a->refusing_until) / 1000,
			    (double)(a->refusing_until - now) / 1000, a->refusal);
			return;
		}
	}
}

struct ragent *remote_choose(struct remote *f, struct rtask *t, char *reason, size_t len)
{
	struct ragent **by = xcalloc(f->n_agents + 1, sizeof(*by)), *a = NULL;
	struct placement_agent *v = view(f, by);
	size_t k;

	if (placement_choose(v, f->n_agents, &t->need, t->cons, &k, reason, len) == 0)
		a = by[k];
	else if (strncmp(reason, NO_RUNTIME, strlen(NO_RUNTIME)) == 0)
		no_runtime(f, reason, len);
	if (a == NULL)
		refusing(f, reason, len);
	free(v);
	free(by);
	return a;
}

/* Send an assigned task to its remote agent. */
void remote_assign(struct remote *f, struct rtask *t, struct ragent *a)
{
	remote_reserve(t, a);
	t->st = T_ASSIGNED;
	t->sent_at = uv_now(f->loop);
	remote_command(f, a, json_pack("{s:s, s:O}", "type", "start", "task", t->assignment));
	remote_emit(f, RUNNER_EVENT_STARTING, t, NULL); /* the engine records the agent before it answers */
	log_info_kv(LOG_FIELDS(.event = "task.assigned", .task_id = t->task_id), "task %s assigned to agent %s",
	    t->task_id, a->name);
}

void remote_start_local(struct remote *f, struct rtask **ts, const struct runner_spec *specs, size_t n,
    struct runner_start *out)
{
	struct runner_spec *ls = xcalloc(n, sizeof(*ls));

	for (size_t i = 0; i < n; i++) {
		ls[i] = specs[i];
		ls[i].ctx = ts[i];
	}
	runner_start_many(f->local, ls, n, out);
	for (size_t i = 0; i < n; i++) {
		ts[i]->local = out[i].task;
		if (out[i].rc == 0) {
			ts[i]->st = out[i].running ? T_RUNNING : T_ASSIGNED;
			ts[i]->start_ms = out[i].start_ms;
			ts[i]->pid = out[i].pid;
		}
	}
	free(ls);
}

/* Place one waiting task now if it fits: 1 placed, 0 it waits (its reason updated). */
static int place_one(struct remote *f, struct rtask *t)
{
	char reason[PLACEMENT_REASON_MAX];
	struct ragent *a = remote_choose(f, t, reason, sizeof(reason));
	struct agent_assignment as;
	struct runner_start st;
	char err[256];

	if (a == NULL) {
		if (strcmp(reason, t->reason) != 0) {
			snprintf(t->reason, sizeof(t->reason), "%s", reason);
			remote_emit(f, RUNNER_EVENT_WAITING, t, reason);
		}
		return 0;
	}
	remote_wait_unlink(f, t);
	t->reason[0] = '\0';
	if (!a->local) {
		remote_assign(f, t, a);
		return 1;
	}
	if (agent_wire_spec_from_json(t->assignment, "", &as, err, sizeof(err)) < 0) {
		remote_end_lost(f, t, RUNNER_END_START_FAILED, "its assignment is unreadable: %s", err);
		return 1;
	}
	remote_reserve(t, a);
	remote_start_local(f, &t, &as.spec, 1, &st);
	agent_assignment_clear(&as);
	if (st.rc < 0) {
		remote_end_lost(f, t, RUNNER_END_START_FAILED, "%s", st.err);
		return 1;
	}
	json_decref(t->assignment);
	t->assignment = NULL;
	if (st.running)
		remote_emit(f, RUNNER_EVENT_RUNNING, t, NULL);
	return 1;
}

void remote_place_waiting(struct remote *f)
{
	struct rtask *t = f->wait_head, *next;

	for (; t; t = next) {
		next = t->wnext;
		(void)place_one(f, t);
	}
}

void remote_wait_push(struct remote *f, struct rtask *t)
{
	t->st = T_WAITING;
	t->agent = NULL;
	t->wnext = NULL;
	if (f->wait_tail)
		f->wait_tail->wnext = t;
	else
		f->wait_head = t;
	f->wait_tail = t;
}
