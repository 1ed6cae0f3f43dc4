/* The fleet's runner (runner_remote.h): placement of each task on the embedded agent or a remote one, the
 * tasks that wait for room, the events, the sweep of silent agents. The protocol's handlers are
 * runner_remote_proto.c, the reconciliation runner_remote_reconcile.c, the operators' view runner_remote_view.c. */
#include "runner/runner_remote.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "runner/agent_wire.h"
#include "runner/runner_remote_internal.h"
#include "util/log.h"
#include "util/strmap.h"
#include "util/xmalloc.h"

#define SWEEP_MS 1000

/* A task's constraints go to placement as they are. */
_Static_assert(sizeof(struct runner_constraint) == sizeof(struct placement_constraint), "constraint layout");
_Static_assert(offsetof(struct runner_constraint, op) == offsetof(struct placement_constraint, op),
    "constraint layout");
_Static_assert(offsetof(struct runner_constraint, value) == offsetof(struct placement_constraint, value),
    "constraint layout");

int64_t remote_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void remote_machine_resources(const char *dir, struct placement_resources *out)
{
	struct statvfs v;

	out->cpus = (double)uv_available_parallelism();
	out->mem = (double)(uv_get_total_memory() >> 20);
	out->disk = 0;
	if (dir && statvfs(dir, &v) == 0)
		out->disk = (double)(((uint64_t)v.f_bavail * v.f_frsize) >> 20);
}

/* ---- tasks ---- */

struct rtask *remote_task_new(struct remote *f, const char *task_id)
{
	struct rtask *t = xcalloc(1, sizeof(*t));

	t->task_id = xstrdup(task_id);
	t->next = f->all;
	if (f->all)
		f->all->prev = t;
	f->all = t;
	strmap_put(f->tasks, t->task_id, t);
	return t;
}

void remote_wait_unlink(struct remote *f, struct rtask *t)
{
	struct rtask *prev = NULL;

	for (struct rtask *x = f->wait_head; x; prev = x, x = x->wnext) {
		if (x != t)
			continue;
		if (prev)
			prev->wnext = x->wnext;
		else
			f->wait_head = x->wnext;
		if (f->wait_tail == x)
			f->wait_tail = prev;
		x->wnext = NULL;
		return;
	}
}

void remote_task_free(struct remote *f, struct rtask *t)
{
	if (t->st == T_WAITING)
		remote_wait_unlink(f, t);
	remote_unreserve(f, t);
	/* events still queued for it go to nobody */
	for (struct pev *e = f->ev_head; e; e = e->next)
		if (e->t == t)
			e->t = NULL;
	if (f->delivering == t)
		f->delivering = NULL;
	strmap_remove(f->tasks, t->task_id);
	if (t->prev)
		t->prev->next = t->next;
	else
		f->all = t->next;
	if (t->next)
		t->next->prev = t->prev;
	json_decref(t->assignment);
	placement_constraints_free(t->cons);
	free(t->result);
	free(t->task_id);
	free(t);
}

void remote_unreserve(struct remote *f, struct rtask *t)
{
	if (!t->reserved || t->agent == NULL)
		return;
	placement_release(&t->agent->pa, &t->need);
	t->reserved = false;
	if (f->wait_head) {
		f->place_soon = true; /* after the events: never from inside a call to the runner */
		remote_kick(f);
	}
}

void remote_reserve(struct rtask *t, struct ragent *a)
{
	t->agent = a;
	placement_reserve(&a->pa, &t->need);
	t->reserved = true;
}

/* ---- events ---- */

static void on_flush(uv_timer_t *h);
static void remote_release(struct runner *r, const struct runner_ref *ref, enum runner_outcome outcome);
static void answer_polls(struct remote *f);

void remote_kick(struct remote *f)
{
	if (!f->closing && !uv_is_active((uv_handle_t *)&f->flush) && uv_timer_start(&f->flush, on_flush, 0, 0) < 0)
		log_warnx("fleet: cannot schedule its events");
}

/* Queue an event made by the caller. */
static void queue_event(struct remote *f, struct pev *e)
{
	if (f->ev_tail)
		f->ev_tail->next = e;
	else
		f->ev_head = e;
	f->ev_tail = e;
	remote_kick(f);
}

void remote_emit(struct remote *f, enum runner_event_type type, struct rtask *t, const char *reason)
{
	struct pev *e = xcalloc(1, sizeof(*e));

	e->type = type;
	e->t = t;
	e->reason = reason ? xstrdup(reason) : NULL;
	queue_event(f, e);
}

void remote_end(struct remote *f, struct rtask *t, const struct runner_result *res)
{
	if (t->st == T_WAITING)
		remote_wait_unlink(f, t);
	remote_unreserve(f, t);
	t->st = T_ENDED;
	if (t->result == NULL)
		t->result = xmalloc(sizeof(*t->result));
	*t->result = *res;
	json_decref(t->assignment);
	t->assignment = NULL;
	remote_emit(f, RUNNER_EVENT_ENDED, t, NULL);
}

void remote_end_lost(struct remote *f, struct rtask *t, enum runner_end end, const char *fmt, ...)
{
	struct runner_result res = {.end = end, .exit_code = -1, .duration_us = -1, .user_cpu_us = -1,
		.system_cpu_us = -1, .max_rss_kib = -1, .end_ms = remote_wall_ms()};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res.reason, sizeof(res.reason), fmt, ap);
	va_end(ap);
	remote_end(f, t, &res);
}

/* A task of a lost agent, ended lost: its late result is told (LATE) when the agent comes back with it. */
static void remember_gone(struct remote *f, const char *task_id)
{
	char **slot = &f->gone_ring[f->gone_next];

	if (strmap_get(f->gone, task_id))
		return;
	if (*slot) {
		strmap_remove(f->gone, *slot);
		free(*slot);
	}
	*slot = xstrdup(task_id);
	strmap_put(f->gone, *slot, slot);
	f->gone_next = (f->gone_next + 1) % REMOTE_GONE_MAX;
}

void remote_late(struct remote *f, struct ragent *a, const char *task_id, const struct runner_result *res)
{
	char **slot = strmap_get(f->gone, task_id);
	struct pev *e;

	if (slot == NULL)
		return;
	strmap_remove(f->gone, task_id); /* told once */
	free(*slot);
	*slot = NULL;
	e = xcalloc(1, sizeof(*e));
	e->type = RUNNER_EVENT_LATE;
	e->late_id = xstrdup(task_id);
	snprintf(e->late_agent, sizeof(e->late_agent), "%s", a->name);
	e->late = *res;
	queue_event(f, e);
}

static void deliver_late(struct remote *f, struct pev *e)
{
	struct runner_event ev = {.type = RUNNER_EVENT_LATE, .task_id = e->late_id, .agent = e->late_agent,
		.result = &e->late};

	if (f->attached)
		f->listener.on_event(f->listener.ctx, &ev);
}

static void deliver(struct remote *f, struct pev *e)
{
	struct rtask *t = e->t;
	struct runner_event ev = {.type = e->type, .task = (struct runner_task *)t, .ctx = t->ctx,
		.task_id = t->task_id, .reason = e->reason};

	if (t->agent) {
		ev.agent = t->agent->name;
		ev.host = t->agent->hostname;
	}
	if (e->type == RUNNER_EVENT_RUNNING) {
		ev.start_ms = t->start_ms;
		ev.pid = t->pid;
	}
	if (e->type == RUNNER_EVENT_ENDED)
		ev.result = t->result;
	if (e->type == RUNNER_EVENT_ENDED && t->agent && !t->agent->local && t->result->end == RUNNER_END_LOST)
		remember_gone(f, t->task_id);
	if (!f->attached)
		return; /* an end is kept (t->result) for the next reconciliation; the rest is moot */
	if (e->type == RUNNER_EVENT_ENDED)
		t->heard = true;
	f->listener.on_event(f->listener.ctx, &ev);
}

/* A task's end was delivered (and the engine did not release it from inside the event). */
static void ended_heard(struct remote *f, struct rtask *t)
{
	struct runner_ref ref = {.task_id = t->task_id, .job = ""};

	if (f->attached && f->rec == NULL && t->ctx == NULL) {
		/* nobody's run (a stray the engine had killed): forgotten, on its agent too */
		remote_release(&f->base, &ref, RUNNER_OUTCOME_LOST);
		return;
	}
	/* an ended task of the embedded agent is the local runner's from now on (its release goes there) */
	if (t->heard && (t->agent == NULL || t->agent->local))
		remote_task_free(f, t);
}

static void on_flush(uv_timer_t *h)
{
	struct remote *f = h->data;
	struct pev *e;

	while ((e = f->ev_head) != NULL) {
		f->ev_head = e->next;
		if (f->ev_head == NULL)
			f->ev_tail = NULL;
		if (e->t) {
			struct rtask *t = e->t;
			f->delivering = t;
			deliver(f, e);
			if (f->delivering == t && e->type == RUNNER_EVENT_ENDED)
				ended_heard(f, t);
			f->delivering = NULL;
		} else if (e->late_id) {
			deliver_late(f, e);
		}
		free(e->late_id);
		free(e->reason);
		free(e);
	}
	if (f->place_soon) {
		f->place_soon = false;
		remote_place_waiting(f);
	}
	answer_polls(f);
}

/* ---- agents and commands ---- */

struct ragent *remote_agent_find(const struct remote *f, const char *id_or_name)
{
	for (struct ragent *a = f->agents; a; a = a->next)
		if (strcmp(a->id, id_or_name) == 0 || strcmp(a->name, id_or_name) == 0)
			return a;
	return NULL;
}

void remote_command(struct remote *f, struct ragent *a, json_t *cmd)
{
	json_array_append_new(a->outbox, cmd);
	remote_kick(f);
}

static void answer_polls(struct remote *f)
{
	for (struct ragent *a = f->agents; a; a = a->next) {
		struct remote_poll *p = a->poll;
		json_t *answer;
		if (p == NULL || json_array_size(a->outbox) == 0)
			continue;
		a->poll = NULL;
		answer = remote_poll_answer(p, json_pack("{s:i, s:I, s:o}", "version", AGENT_PROTOCOL_VERSION, "epoch",
		    (json_int_t)f->epoch, "commands", a->outbox));
		a->outbox = json_array();
		p->fn(p->ctx, answer);
		free(p);
	}
}

/* ---- the runner's operations ---- */

static void remote_attach(struct runner *r, const struct runner_listener *l)
{
	struct remote *f = REMOTE(r);

	if (l) {
		f->listener = *l;
		f->attached = true;
		return;
	}
	f->attached = false;
	memset(&f->listener, 0, sizeof(f->listener));
	remote_reconcile_free(f); /* its engine is gone */
	/* What this fleet knew of the remote agents and their tasks is no longer its to keep: they go to whoever leads
	 * next, and finish or fail there. Kept, it would be taken for their state at this server's next election: a
	 * task still "running" that ended meanwhile, an agent still "up" that polls another server (so its tasks,
	 * which it does not report here, would be called unknown at once), a task ended "lost" by this server's sweep
	 * while it only followed (run again by the retry, while the agent ran it to its end). The next reconciliation
	 * hears it all again from the agents, which register anew (the chaos suite found all three: tests/chaos); as
	 * at a start, a task an agent reports meanwhile is kept for it (not killed as nobody's). */
	f->reconciled = false;
	for (struct rtask *t = f->all, *next; t; t = next) {
		next = t->next;
		t->ctx = NULL;
		if (t->agent && !t->agent->local && t->st != T_WAITING)
			remote_task_free(f, t);
	}
	for (struct ragent *a = f->agents; a; a = a->next) {
		if (a->local || !a->up)
			continue;
		a->up = false;
		a->session[0] = '\0';
		remote_poll_close(a);
		json_decref(a->outbox);
		a->outbox = json_array();
	}
}

static bool epoch_ok(struct remote *f, uint64_t epoch)
{
	if (epoch < f->epoch)
		return false;
	f->epoch = epoch;
	return true;
}

static struct rtask *task_of_spec(struct remote *f, const struct runner_spec *s)
{
	struct rtask *t = remote_task_new(f, s->task_id);

	t->ctx = s->ctx;
	t->need = (struct placement_resources){s->cpus, s->mem, s->disk};
	t->cons = remote_constraints(s);
	t->due_ms = s->due_ms;
	t->start_by_ms = s->start_by_ms;
	t->cap = s->output_cap;
	return t;
}

static void remote_start_many(struct runner *r, const struct runner_spec *specs, size_t n, struct runner_start *out)
{
	struct remote *f = REMOTE(r);
	struct rtask **lt = xcalloc(n, sizeof(*lt));
	struct runner_spec *ls = xcalloc(n, sizeof(*ls));
	size_t *li = xcalloc(n, sizeof(*li)), m = 0;
	char reason[PLACEMENT_REASON_MAX];

	for (size_t i = 0; i < n; i++) {
		const struct runner_spec *s = &specs[i];
		struct rtask *t;
		struct ragent *a;
		memset(&out[i], 0, sizeof(out[i]));
		if (!epoch_ok(f, s->epoch)) {
			out[i].rc = -ESTALE;
			snprintf(out[i].err, sizeof(out[i].err), "epoch %" PRIu64 " is older than %" PRIu64 ", the highest "
			    "this runner has seen", s->epoch, f->epoch);
			continue;
		}
		if (strmap_get(f->tasks, s->task_id)) {
			out[i].rc = -EEXIST;
			snprintf(out[i].err, sizeof(out[i].err), "task %.400s is already held", s->task_id);
			continue;
		}
		t = task_of_spec(f, s);
		out[i].task = (struct runner_task *)t;
		a = remote_choose(f, t, reason, sizeof(reason));
		if (a && a->local) {
			remote_reserve(t, a);
			lt[m] = t;
			ls[m] = *s;
			li[m++] = i;
			continue;
		}
		t->assignment = agent_wire_spec_to_json(s);
		if (a) {
			remote_assign(f, t, a);
			continue;
		}
		remote_wait_push(f, t);
		snprintf(t->reason, sizeof(t->reason), "%s", reason);
		remote_emit(f, RUNNER_EVENT_WAITING, t, reason);
	}
	if (m > 0) {
		struct runner_start *lo = xcalloc(m, sizeof(*lo));
		remote_start_local(f, lt, ls, m, lo);
		for (size_t k = 0; k < m; k++) {
			struct runner_start *o = &out[li[k]];
			*o = lo[k];
			if (lo[k].rc < 0) {
				remote_task_free(f, lt[k]);
				o->task = NULL;
				continue;
			}
			o->task = (struct runner_task *)lt[k];
			o->agent = f->agents->name;
			o->host = f->agents->hostname;
		}
		free(lo);
	}
	free(li);
	free(ls);
	free(lt);
}

static int remote_kill(struct runner *r, struct runner_task *h, uint64_t grace_ms)
{
	struct remote *f = REMOTE(r);
	struct rtask *t = (struct rtask *)h;

	switch (t->st) {
	case T_ENDED:
		return -ESRCH;
	case T_WAITING:
		remote_end_lost(f, t, RUNNER_END_KILLED, "killed before any agent took it");
		return 0;
	default:
		break;
	}
	if (t->local)
		return runner_kill(f->local, t->local, grace_ms);
	remote_command(f, t->agent, json_pack("{s:s, s:s, s:I}", "type", "kill", "taskId", t->task_id, "graceMs",
	    (json_int_t)grace_ms));
	return 0;
}

static void remote_adopt(struct runner *r, struct runner_task *h, void *ctx)
{
	struct rtask *t = (struct rtask *)h;

	(void)r;
	t->ctx = ctx; /* the embedded agent's tasks were adopted by the fleet when it reported them */
}

/* A remote agent's release, sent once its run's output is durable (the output store's durable copy, when it has
 * one): until then the agent keeps the result in its journal and sends it again, its final output first, to
 * whichever server leads after this one. */
struct remote_release {
	struct remote *f;          /* NULL: the fleet was freed */
	char agent[AGENT_ID_BUF];
	char *task_id;
	enum runner_outcome outcome;
	struct remote_release *prev, *next;
};

static void release_send(struct remote *f, const char *agent_id, const char *task_id, enum runner_outcome outcome)
{
	struct ragent *a = remote_agent_find(f, agent_id);

	if (a && a->up && !a->local)
		remote_command(f, a, json_pack("{s:s, s:s, s:s}", "type", "release", "taskId", task_id, "outcome",
		    agent_wire_outcome_name(outcome)));
}

static void release_unlink(struct remote *f, struct remote_release *rr)
{
	if (rr->prev)
		rr->prev->next = rr->next;
	else
		f->releases = rr->next;
	if (rr->next)
		rr->next->prev = rr->prev;
}

/* The run's output is durable (0), or will not be: released, unless this server is deposed (-ESTALE) or stops
 * (-ECANCELED), when the agent keeps the result for the next leader. */
static void on_output_shipped(void *ctx, int status)
{
	struct remote_release *rr = ctx;
	struct remote *f = rr->f;

	if (f) {
		release_unlink(f, rr);
		if (status != -ESTALE && status != -ECANCELED)
			release_send(f, rr->agent, rr->task_id, rr->outcome);
	}
	free(rr->task_id);
	free(rr);
}

static void remote_release(struct runner *r, const struct runner_ref *ref, enum runner_outcome outcome)
{
	struct remote *f = REMOTE(r);
	struct rtask *t = strmap_get(f->tasks, ref->task_id);
	struct run_output_key key = {.task_id = ref->task_id};
	struct remote_release *rr;

	if (t == NULL || t->agent == NULL || t->agent->local) {
		if (t)
			remote_task_free(f, t);
		if (f->local) {
			if (f->output && run_output_ship(f->output, &key, NULL, NULL) < 0)
				log_debug("run %s: its output has no durable copy", ref->task_id);
			runner_release(f->local, ref, outcome);
		}
		return;
	}
	rr = xcalloc(1, sizeof(*rr));
	rr->f = f;
	snprintf(rr->agent, sizeof(rr->agent), "%s", t->agent->id);
	rr->task_id = xstrdup(t->task_id);
	rr->outcome = outcome;
	if (f->output && run_output_ship(f->output, &key, on_output_shipped, rr) == 0) {
		rr->next = f->releases;
		if (f->releases)
			f->releases->prev = rr;
		f->releases = rr;
	} else {
		release_send(f, rr->agent, rr->task_id, outcome);
		free(rr->task_id);
		free(rr);
	}
	remote_task_free(f, t);
}

static void remote_purge(struct runner *r, const struct runner_ref *ref)
{
	struct remote *f = REMOTE(r);

	if (f->local)
		runner_purge(f->local, ref);
}

static void agent_free(struct ragent *a)
{
	remote_poll_close(a);
	json_decref(a->outbox);
	json_decref(a->attrs_json);
	json_decref(a->cgroups);
	free(a->attrs);
	free(a->hostname);
	free(a->version);
	free(a);
}

static void on_closed(uv_handle_t *h)
{
	struct remote *f = h->data;

	if (--f->closing > 0)
		return;
	free(f->data_dir);
	free(f->leader);
	free(f);
}

static void remote_free(struct runner *r)
{
	struct remote *f = REMOTE(r);
	struct pev *e;

	if (f == NULL)
		return;
	remote_reconcile_free(f);
	for (struct remote_release *rr = f->releases; rr; rr = rr->next)
		rr->f = NULL; /* their shipments end later, with nobody to tell */
	while (f->all)
		remote_task_free(f, f->all);
	while ((e = f->ev_head) != NULL) {
		f->ev_head = e->next;
		free(e->late_id);
		free(e->reason);
		free(e);
	}
	for (size_t i = 0; i < REMOTE_GONE_MAX; i++)
		free(f->gone_ring[i]);
	free(f->gone_ring);
	strmap_free(f->gone);
	while (f->agents) {
		struct ragent *a = f->agents;
		f->agents = a->next;
		agent_free(a);
	}
	strmap_free(f->tasks);
	runner_free(f->local);
	f->closing = 2;
	uv_close((uv_handle_t *)&f->flush, on_closed);
	uv_close((uv_handle_t *)&f->sweep, on_closed);
}

/* ---- the embedded agent's events ---- */

static void on_local_event(void *ctx, const struct runner_event *ev)
{
	struct remote *f = ctx;
	struct rtask *t = ev->ctx;

	if (t == NULL)
		return; /* a task reconciliation found that nobody adopted: the engine had it killed */
	switch (ev->type) {
	case RUNNER_EVENT_STARTING:
	case RUNNER_EVENT_WAITING:
	case RUNNER_EVENT_LATE:
		break;
	case RUNNER_EVENT_RUNNING:
		t->st = T_RUNNING;
		t->start_ms = ev->start_ms;
		t->pid = ev->pid;
		remote_emit(f, RUNNER_EVENT_RUNNING, t, NULL);
		break;
	case RUNNER_EVENT_ENDED:
		t->local = NULL;
		remote_end(f, t, ev->result);
		break;
	}
}

static void on_local_output(void *ctx, void *task_ctx, const char *task_id, enum run_stream s, const char *data,
    size_t len)
{
	struct remote *f = ctx;
	struct rtask *t = task_ctx;

	if (t && f->attached && f->listener.on_output)
		f->listener.on_output(f->listener.ctx, t->ctx, task_id, s, data, len);
}

/* ---- the sweep ---- */

static void lose_agent(struct remote *f, struct ragent *a)
{
	uint64_t silent = (uv_now(f->loop) - a->last_heard) / 1000;
	size_t n = 0;

	a->up = false;
	a->session[0] = '\0';
	remote_poll_close(a);
	json_decref(a->outbox);
	a->outbox = json_array();
	for (struct rtask *t = f->all, *next; t; t = next) {
		next = t->next;
		if (t->agent != a || t->st == T_ENDED || t->st == T_WAITING)
			continue;
		if (!f->attached) {
			/* this server does not lead: an agent silent to it serves the leader; its tasks are the leader's
			 * to settle, and this server forgets them rather than call them lost (remote_attach) */
			remote_task_free(f, t);
			continue;
		}
		remote_end_lost(f, t, RUNNER_END_LOST, "its agent %s (%s) stopped answering (silent for %" PRIu64 " s)",
		    a->name, a->hostname, silent);
		n++;
	}
	if (!f->attached) {
		log_info("agent %s (%s): silent to this server for %" PRIu64 " s while it does not lead: forgotten (it "
		    "serves the leader)", a->name, a->hostname, silent);
		return;
	}
	log_warnx_kv(LOG_FIELDS(.event = "agent.lost"), "agent %s (%s) is lost: silent for %" PRIu64 " s; %zu of its "
	    "runs are recorded lost", a->name, a->hostname, silent, n);
	if (f->agent_lost) {
		char why[256];
		snprintf(why, sizeof(why), "silent for %" PRIu64 " s; %zu of its runs were recorded lost and are retried "
		    "per their jobs' policy", silent, n);
		f->agent_lost(f->ctx, a->name, a->hostname, why);
	}
}

static void on_sweep(uv_timer_t *h)
{
	struct remote *f = h->data;
	uint64_t now = uv_now(f->loop);
	int64_t wall = remote_wall_ms();
	struct rtask *t, *next;

	for (struct ragent *a = f->agents; a; a = a->next)
		if (!a->local && a->up && now - a->last_heard > f->agent_timeout_ms)
			lose_agent(f, a);
	/* a start command whose poll answer went astray is sent again (the agent ignores a second copy) */
	for (t = f->all; t; t = t->next) {
		if (t->st == T_ASSIGNED && t->agent && !t->agent->local && t->agent->up && t->assignment &&
		    now - t->sent_at > 2 * f->poll_ms + 5000) {
			t->sent_at = now;
			remote_command(f, t->agent, json_pack("{s:s, s:O}", "type", "start", "task", t->assignment));
		}
	}
	for (t = f->wait_head; t; t = next) {
		next = t->wnext;
		if (t->start_by_ms > 0 && wall > t->start_by_ms)
			remote_end_lost(f, t, RUNNER_END_SKIPPED, "not started: it waited for an agent until %.1f s after its "
			    "due time, more than its epsilon (%s)", (double)(wall - t->due_ms) / 1000, t->reason);
	}
	remote_place_waiting(f);
	remote_reconcile_tick(f);
}

/* ---- creation ---- */

static const struct runner_ops remote_ops = {
	.attach = remote_attach,
	.start_many = remote_start_many,
	.kill = remote_kill,
	.reconcile = remote_reconcile,
	.adopt = remote_adopt,
	.release = remote_release,
	.purge = remote_purge,
	.free = remote_free,
};

int runner_remote_new(uv_loop_t *loop, const struct runner_remote_config *cfg, struct runner **out,
    struct remote **fleet, char *err, size_t errlen)
{
	struct remote *f = xcalloc(1, sizeof(*f));
	struct runner_listener ll = {.on_event = on_local_event, .on_output = on_local_output, .ctx = f};

	f->base.ops = &remote_ops;
	f->loop = loop;
	f->local = cfg->local; /* the fleet's from now on, freed with it even when this fails */
	f->tasks = strmap_new();
	f->gone = strmap_new();
	f->gone_ring = xcalloc(REMOTE_GONE_MAX, sizeof(*f->gone_ring));
	f->data_dir = xstrdup(cfg->data_dir ? cfg->data_dir : ".");
	f->output = cfg->output;
	f->leader = xstrdup(cfg->leader ? cfg->leader : "");
	f->agent_timeout_ms = cfg->agent_timeout_ms ? cfg->agent_timeout_ms : 30000;
	f->poll_ms = cfg->poll_ms ? cfg->poll_ms : 10000;
	f->agent_lost = cfg->agent_lost;
	f->ctx = cfg->ctx;
	uv_timer_init(loop, &f->flush);
	uv_timer_init(loop, &f->sweep);
	f->flush.data = f;
	f->sweep.data = f;
	if (uv_timer_start(&f->sweep, on_sweep, SWEEP_MS, SWEEP_MS) < 0) {
		snprintf(err, errlen, "cannot start the fleet's timer");
		runner_free(&f->base);
		return -EIO;
	}
	uv_unref((uv_handle_t *)&f->sweep);
	if (cfg->local) {
		struct ragent *a = xcalloc(1, sizeof(*a));
		snprintf(a->id, sizeof(a->id), "%s", "embedded");
		snprintf(a->name, sizeof(a->name), "%s", cfg->local_name ? cfg->local_name : "embedded");
		a->hostname = xstrdup(cfg->local_hostname ? cfg->local_hostname : "");
		a->version = xstrdup(GNOMON_VERSION);
		a->local = true;
		a->up = true;
		a->outbox = json_array();
		a->pa = (struct placement_agent){.name = a->name, .hostname = a->hostname, .total = cfg->local_total};
		if (cfg->local_attributes)
			remote_agent_set_attributes(a, json_incref(cfg->local_attributes));
		a->registered_wall = a->last_heard_wall = remote_wall_ms();
		if (cfg->local_cgroups)
			a->cgroups = json_incref(cfg->local_cgroups);
		f->agents = a;
		f->n_agents = 1;
		runner_attach(f->local, &ll);
	}
	*out = &f->base;
	*fleet = f;
	return 0;
}
