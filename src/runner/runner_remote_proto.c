/* The server's side of the agent protocol (docs/agent-protocol.md): registration with its reconciliation, polls,
 * events, output. The api's handlers parse the HTTP request and call these with its JSON. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "history/run_output_files.h"
#include "runner/agent_wire.h"
#include "runner/runner_remote_internal.h"
#include "util/log.h"
#include "util/strmap.h"
#include "util/xmalloc.h"

#define MAX_TASKS 1024
#define MAX_EVENTS 1024
#define MAX_ATTRS 64

static void fail(struct remote_answer *out, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fail(struct remote_answer *out, int status, const char *fmt, ...)
{
	va_list ap;

	out->status = status;
	out->body = NULL;
	va_start(ap, fmt);
	vsnprintf(out->err, sizeof(out->err), fmt, ap);
	va_end(ap);
}

static bool version_ok(json_t *body, struct remote_answer *out)
{
	json_t *v = json_object_get(body, "version");

	if (!json_is_object(body)) {
		fail(out, 400, "the body must be a JSON object");
		return false;
	}
	if (!json_is_integer(v) || json_integer_value(v) != AGENT_PROTOCOL_VERSION) {
		fail(out, 400, "version: this server speaks version %d of the agent protocol", AGENT_PROTOCOL_VERSION);
		return false;
	}
	return true;
}

static const char *name_field(json_t *body, const char *key, struct remote_answer *out)
{
	const char *s = json_string_value(json_object_get(body, key));

	if (!agent_wire_name_ok(s)) {
		fail(out, 400, "%s: 1 to %d characters of A-Z a-z 0-9 . _ : @ -", key, AGENT_WIRE_ID_MAX);
		return NULL;
	}
	return s;
}

static json_t *ok_body(const struct remote *f)
{
	return json_pack("{s:i, s:I}", "version", AGENT_PROTOCOL_VERSION, "epoch", (json_int_t)f->epoch);
}

/* The agent of a request by its id and session; NULL with a 409 (register again) or 400. */
static struct ragent *session_agent(struct remote *f, json_t *body, struct remote_answer *out)
{
	const char *id = name_field(body, "id", out), *session;
	struct ragent *a;

	if (id == NULL || (session = name_field(body, "session", out)) == NULL)
		return NULL;
	a = remote_agent_find(f, id);
	if (a == NULL || a->local || strcmp(a->id, id) != 0 || !a->up || strcmp(a->session, session) != 0) {
		fail(out, 409, "session: this server does not know session %s of agent %s: register again", session, id);
		return NULL;
	}
	a->last_heard = uv_now(f->loop);
	a->last_heard_wall = remote_wall_ms();
	return a;
}

static void raise_epoch(struct remote *f, json_t *body)
{
	json_t *e = json_object_get(body, "epoch");

	if (json_is_integer(e) && json_integer_value(e) > 0 && (uint64_t)json_integer_value(e) > f->epoch)
		log_warnx("an agent has seen epoch %" JSON_INTEGER_FORMAT ", newer than this server's %" PRIu64
		    ": another leader spoke to it", json_integer_value(e), f->epoch);
}

/* ---- registration ---- */

static int read_resources(json_t *r, struct placement_resources *out, struct remote_answer *ans)
{
	static const char *const keys[] = {"cpus", "mem", "disk"};
	double *v[] = {&out->cpus, &out->mem, &out->disk};

	if (!json_is_object(r)) {
		fail(ans, 400, "resources: must be an object {\"cpus\", \"mem\", \"disk\"}");
		return -EINVAL;
	}
	for (size_t i = 0; i < 3; i++) {
		json_t *x = json_object_get(r, keys[i]);
		if (!json_is_number(x) || json_number_value(x) < 0 || json_number_value(x) > 1e12) {
			fail(ans, 400, "resources.%s: must be a number between 0 and 1e12", keys[i]);
			return -EINVAL;
		}
		*v[i] = json_number_value(x);
	}
	return 0;
}

static int read_attributes(json_t *attrs, struct ragent *a, struct remote_answer *ans)
{
	const char *key;
	json_t *value;

	if (attrs == NULL || json_is_null(attrs))
		attrs = json_object();
	else
		json_incref(attrs);
	if (!json_is_object(attrs) || json_object_size(attrs) > MAX_ATTRS) {
		json_decref(attrs);
		fail(ans, 400, "attributes: must be an object of at most %d string values", MAX_ATTRS);
		return -EINVAL;
	}
	json_object_foreach(attrs, key, value) {
		if (strlen(key) == 0 || strlen(key) > 128 || !json_is_string(value) || json_string_length(value) > 1024) {
			json_decref(attrs);
			fail(ans, 400, "attributes.%.128s: keys of 1 to 128 bytes, values strings of at most 1 KiB", key);
			return -EINVAL;
		}
	}
	remote_agent_set_attributes(a, attrs);
	return 0;
}

void remote_agent_set_attributes(struct ragent *a, json_t *attrs)
{
	const char *key;
	json_t *value;
	size_t i = 0;

	json_decref(a->attrs_json);
	free(a->attrs);
	a->attrs_json = attrs;
	a->attrs = xcalloc(json_object_size(attrs) + 1, sizeof(*a->attrs));
	json_object_foreach(attrs, key, value)
		a->attrs[i++] = (struct placement_attr){key, json_string_value(value)};
	a->pa.attrs = a->attrs;
	a->pa.n_attrs = i;
}

static void new_session(char *out, size_t len)
{
	unsigned char raw[16];

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		/* never in practice: fall back to something unique enough for a session name */
		snprintf(out, len, "s%" PRIx64 "-%d", (uint64_t)remote_wall_ms(), (int)getpid());
		return;
	}
	for (size_t i = 0; i < sizeof(raw) && 2 * i + 2 < len; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

/* One task of a registration's report. */
static int reconcile_one(struct remote *f, struct ragent *a, json_t *rep, size_t i, struct strmap *seen,
    struct remote_answer *out)
{
	const char *id = json_string_value(json_object_get(rep, "taskId"));
	const char *state = json_string_value(json_object_get(rep, "state"));
	struct runner_result res;
	char prefix[64], err[512];
	struct rtask *t;
	bool ended;

	if (!agent_wire_task_id_ok(id)) {
		fail(out, 400, "tasks[%zu].taskId: not a task id", i);
		return -EINVAL;
	}
	if (state == NULL || (strcmp(state, "running") != 0 && strcmp(state, "ended") != 0)) {
		fail(out, 400, "tasks[%zu].state: \"running\" or \"ended\"", i);
		return -EINVAL;
	}
	ended = strcmp(state, "ended") == 0;
	snprintf(prefix, sizeof(prefix), "tasks[%zu].result.", i);
	if (ended && agent_wire_result_from_json(json_object_get(rep, "result"), prefix, &res, err, sizeof(err)) < 0) {
		fail(out, 400, "%s", err);
		return -EINVAL;
	}
	strmap_put(seen, id, (void *)1);
	t = strmap_get(f->tasks, id);
	if (t && t->agent != a && t->st != T_WAITING) {
		/* it went elsewhere meanwhile (this agent was lost): this copy is stopped */
		t = NULL;
	} else if (t == NULL && (!f->reconciled || remote_reconcile_awaits(f, id))) {
		/* a restarted server waits to hear of it: it is this agent's */
		t = remote_task_new(f, id);
		t->agent = a;
		t->st = T_RUNNING;
	} else if (t && t->st == T_WAITING) {
		t = NULL;
	}
	if (t == NULL) {
		if (!ended) {
			remote_command(f, a, json_pack("{s:s, s:s, s:i}", "type", "kill", "taskId", id, "graceMs", 0));
		} else {
			remote_late(f, a, id, &res); /* a run lost with this agent: its result is recorded on it */
			/* (one whose output is being made durable is released once it is: runner_remote.c) */
			if (!f->output || !run_output_shipping(f->output, &(struct run_output_key){id}))
				remote_command(f, a, json_pack("{s:s, s:s, s:s}", "type", "release", "taskId", id, "outcome",
				    "lost"));
		}
		log_warnx_kv(LOG_FIELDS(.event = "task.stray", .task_id = id), "agent %s reports task %s, which no run "
		    "holds: %s", a->name, id, ended ? "it is released" : "it is killed");
		return 0;
	}
	if (t->st == T_ENDED)
		return 0; /* recorded, or about to be: its release comes */
	/* An ended one is recorded when its ended event comes again, after its final output (the protocol). */
	if (t->st == T_ASSIGNED) {
		json_t *pid = json_object_get(rep, "pid"), *start = json_object_get(rep, "startMs");
		t->st = T_RUNNING;
		t->pid = json_is_integer(pid) ? json_integer_value(pid) : 0;
		t->start_ms = json_is_integer(start) ? json_integer_value(start) : ended ? res.start_ms : remote_wall_ms();
		json_decref(t->assignment);
		t->assignment = NULL;
		remote_emit(f, RUNNER_EVENT_RUNNING, t, NULL);
	}
	return 0;
}

void remote_register(struct remote *f, json_t *body, struct remote_answer *out)
{
	const char *id, *name, *host, *version;
	json_t *tasks;
	struct placement_resources total;
	struct ragent *a, *other;
	struct strmap *seen;
	bool fresh = false;

	memset(out, 0, sizeof(*out));
	if (!version_ok(body, out) || (id = name_field(body, "id", out)) == NULL ||
	    (name = name_field(body, "name", out)) == NULL)
		return;
	host = json_string_value(json_object_get(body, "hostname"));
	version = json_string_value(json_object_get(body, "agentVersion"));
	if (host == NULL || strlen(host) == 0 || strlen(host) > 255) {
		fail(out, 400, "hostname: a string of 1 to 255 bytes");
		return;
	}
	if (read_resources(json_object_get(body, "resources"), &total, out) < 0)
		return;
	tasks = json_object_get(body, "tasks");
	if (tasks && !json_is_null(tasks) && (!json_is_array(tasks) || json_array_size(tasks) > MAX_TASKS)) {
		fail(out, 400, "tasks: an array of at most %d", MAX_TASKS);
		return;
	}
	if (strcmp(id, "embedded") == 0) {
		fail(out, 400, "id: \"embedded\" names the server's own agent");
		return;
	}
	if ((other = remote_agent_find(f, name)) != NULL && strcmp(other->id, id) != 0 && other->up) {
		fail(out, 409, "name: agent %s (id %s) is up under this name: give this one another --name", name, other->id);
		return;
	}
	a = remote_agent_find(f, id);
	if (a == NULL || strcmp(a->id, id) != 0) {
		a = xcalloc(1, sizeof(*a));
		snprintf(a->id, sizeof(a->id), "%s", id);
		a->outbox = json_array();
		fresh = true;
	}
	if (read_attributes(json_object_get(body, "attributes"), a, out) < 0) {
		if (fresh) {
			json_decref(a->outbox);
			free(a);
		}
		return;
	}
	if (fresh) {
		/* after the embedded agent, in the order they came */
		struct ragent **p = &f->agents;
		while (*p)
			p = &(*p)->next;
		*p = a;
		f->n_agents++;
	}
	snprintf(a->name, sizeof(a->name), "%s", name);
	free(a->hostname);
	a->hostname = xstrdup(host);
	free(a->version);
	a->version = xstrdup(version ? version : "");
	json_decref(a->cgroups);
	a->cgroups = agent_wire_cgroups_check(json_object_get(body, "cgroups"));
	a->pa.name = a->name;
	a->pa.hostname = a->hostname;
	a->pa.total = total;
	remote_poll_close(a);
	json_decref(a->outbox);
	a->outbox = json_array();
	new_session(a->session, sizeof(a->session));
	a->up = true;
	a->last_heard = uv_now(f->loop);
	a->last_heard_wall = a->registered_wall = remote_wall_ms();
	raise_epoch(f, body);
	seen = strmap_new();
	for (size_t i = 0; tasks && i < json_array_size(tasks); i++) {
		if (reconcile_one(f, a, json_array_get(tasks, i), i, seen, out) < 0) {
			strmap_free(seen);
			a->session[0] = '\0';
			return;
		}
	}
	/* what this server gave it that it no longer has */
	for (struct rtask *t = f->all, *next; t; t = next) {
		next = t->next;
		if (t->agent != a || strmap_get(seen, t->task_id))
			continue;
		if (t->st == T_ASSIGNED && t->assignment) {
			t->sent_at = uv_now(f->loop);
			remote_command(f, a, json_pack("{s:s, s:O}", "type", "start", "task", t->assignment));
		} else if (t->st == T_RUNNING) {
			remote_end_lost(f, t, RUNNER_END_LOST, "its agent %s came back without it", a->name);
		}
	}
	strmap_free(seen);
	log_info_kv(LOG_FIELDS(.event = "agent.registered"), "agent %s (%s, id %s, %s) registered: %.15g cpus, %.15g "
	    "MiB of memory, %.15g MiB of disk, %zu tasks", a->name, a->hostname, a->id, a->version, total.cpus, total.mem,
	    total.disk, tasks ? json_array_size(tasks) : 0);
	a->epoch_told = f->epoch;
	remote_reconcile_agent_came(f, a);
	remote_place_waiting(f);
	out->status = 200;
	out->body = json_pack("{s:i, s:s, s:I, s:I, s:I, s:s}", "version", AGENT_PROTOCOL_VERSION, "session",
	    a->session, "epoch", (json_int_t)f->epoch, "pollMs", (json_int_t)f->poll_ms, "agentTimeoutMs",
	    (json_int_t)f->agent_timeout_ms, "leader", f->leader);
}

/* ---- polls ---- */

uint64_t remote_poll_ms(const struct remote *f)
{
	return f->poll_ms;
}

void remote_poll(struct remote *f, json_t *body, remote_poll_fn fn, void *ctx, struct remote_answer *out,
    struct remote_poll **held)
{
	struct ragent *a;
	struct remote_poll *p;

	memset(out, 0, sizeof(*out));
	*held = NULL;
	if (!version_ok(body, out) || (a = session_agent(f, body, out)) == NULL)
		return;
	raise_epoch(f, body);
	remote_poll_close(a); /* a second poll replaces the first, which is answered with nothing */
	if (json_array_size(a->outbox) > 0) {
		out->status = 200;
		out->body = json_pack("{s:i, s:I, s:o}", "version", AGENT_PROTOCOL_VERSION, "epoch", (json_int_t)f->epoch,
		    "commands", a->outbox);
		a->outbox = json_array();
		return;
	}
	p = xcalloc(1, sizeof(*p));
	p->agent = a;
	p->fn = fn;
	p->ctx = ctx;
	p->loop = f->loop;
	p->arrived = uv_now(f->loop);
	a->poll = p;
	*held = p;
}

json_t *remote_poll_answer(struct remote_poll *p, json_t *answer)
{
	uint64_t now = uv_now(p->loop);

	/* the agent was there when it sent the poll, which it did at most heldMs before this answer: it may count
	 * its lease from then (exec/exec_lease.h), and so does this server, never later than the agent */
	json_object_set_new(answer, "heldMs", json_integer((json_int_t)(now - p->arrived)));
	p->agent->last_heard = now;
	p->agent->last_heard_wall = remote_wall_ms();
	return answer;
}

void remote_poll_close(struct ragent *a)
{
	struct remote_poll *p = a->poll;
	remote_poll_fn fn;
	void *ctx;

	if (p == NULL)
		return;
	fn = p->fn;
	ctx = p->ctx;
	fn(ctx, remote_poll_abandon(p));
}

json_t *remote_poll_abandon(struct remote_poll *p)
{
	json_t *answer = remote_poll_answer(p, json_pack("{s:i, s:[]}", "version", AGENT_PROTOCOL_VERSION, "commands"));

	p->agent->poll = NULL;
	free(p);
	return answer;
}

/* ---- events ---- */

/* The task of an event, which must be this agent's. NULL: none (a reply tells the agent what to do with it). */
static struct rtask *event_task(struct remote *f, struct ragent *a, const char *id, bool ended)
{
	struct rtask *t = strmap_get(f->tasks, id);

	if (t && t->agent == a)
		return t;
	log_warnx_kv(LOG_FIELDS(.event = "task.stray", .task_id = id), "agent %s reports on task %s, which is not "
	    "its: %s", a->name, id, ended ? "released" : "killed");
	if (ended)
		remote_command(f, a, json_pack("{s:s, s:s, s:s}", "type", "release", "taskId", id, "outcome", "lost"));
	else
		remote_command(f, a, json_pack("{s:s, s:s, s:i}", "type", "kill", "taskId", id, "graceMs", 0));
	return NULL;
}

static int one_event(struct remote *f, struct ragent *a, json_t *ev, size_t i, struct remote_answer *out)
{
	const char *type = json_string_value(json_object_get(ev, "type"));
	const char *id = json_string_value(json_object_get(ev, "taskId"));
	struct runner_result res;
	char prefix[64], err[512];
	struct rtask *t;

	if (!agent_wire_task_id_ok(id)) {
		fail(out, 400, "events[%zu].taskId: not a task id", i);
		return -EINVAL;
	}
	if (type && strcmp(type, "running") == 0) {
		json_t *pid = json_object_get(ev, "pid"), *start = json_object_get(ev, "startMs");
		if (!json_is_integer(pid) || !json_is_integer(start)) {
			fail(out, 400, "events[%zu]: running needs pid and startMs (integers)", i);
			return -EINVAL;
		}
		if ((t = event_task(f, a, id, false)) == NULL || t->st != T_ASSIGNED)
			return 0;
		t->st = T_RUNNING;
		a->refusing_until = a->refusal_backoff = 0; /* it starts tasks again */
		t->pid = json_integer_value(pid);
		t->start_ms = json_integer_value(start);
		json_decref(t->assignment);
		t->assignment = NULL;
		remote_emit(f, RUNNER_EVENT_RUNNING, t, NULL);
		return 0;
	}
	if (type && strcmp(type, "ended") == 0) {
		snprintf(prefix, sizeof(prefix), "events[%zu].result.", i);
		if (agent_wire_result_from_json(json_object_get(ev, "result"), prefix, &res, err, sizeof(err)) < 0) {
			fail(out, 400, "%s", err);
			return -EINVAL;
		}
		if ((t = event_task(f, a, id, true)) == NULL) {
			remote_late(f, a, id, &res);
			return 0;
		}
		if (t->st == T_ENDED)
			return 0;
		remote_end(f, t, &res);
		return 0;
	}
	if (type && strcmp(type, "refused") == 0) {
		const char *reason = json_string_value(json_object_get(ev, "reason"));
		if ((t = strmap_get(f->tasks, id)) == NULL || t->agent != a || t->st != T_ASSIGNED)
			return 0;
		log_warnx_kv(LOG_FIELDS(.event = "task.refused", .task_id = id), "agent %s refused task %s: %s", a->name, id,
		    reason ? reason : "no reason given");
		if (json_is_true(json_object_get(ev, "permanent"))) {
			remote_end_lost(f, t, RUNNER_END_START_FAILED, "agent %s refused it: %.200s", a->name,
			    reason ? reason : "no reason given");
			return 0;
		}
		/* placed again at once, on another agent: this one is sent nothing for a while */
		remote_agent_refused(f, a, reason ? reason : "no reason given");
		remote_unreserve(f, t);
		remote_wait_push(f, t);
		snprintf(t->reason, sizeof(t->reason), "agent %.64s refused it: %.200s", a->name, reason ? reason : "?");
		remote_emit(f, RUNNER_EVENT_WAITING, t, t->reason);
		f->place_soon = true;
		remote_kick(f);
		return 0;
	}
	fail(out, 400, "events[%zu].type: running, ended or refused", i);
	return -EINVAL;
}

void remote_events(struct remote *f, json_t *body, struct remote_answer *out)
{
	json_t *events;
	struct ragent *a;

	memset(out, 0, sizeof(*out));
	if (!version_ok(body, out) || (a = session_agent(f, body, out)) == NULL)
		return;
	events = json_object_get(body, "events");
	if (!json_is_array(events) || json_array_size(events) > MAX_EVENTS) {
		fail(out, 400, "events: an array of at most %d", MAX_EVENTS);
		return;
	}
	for (size_t i = 0; i < json_array_size(events); i++)
		if (one_event(f, a, json_array_get(events, i), i, out) < 0)
			return;
	out->status = 200;
	out->body = ok_body(f);
}

/* ---- output ---- */

int remote_output(struct remote *f, const struct remote_output *o, char *err, size_t errlen)
{
	struct ragent *a = o->id ? remote_agent_find(f, o->id) : NULL;
	struct run_output_key key = {.task_id = o->task_id};
	struct rtask *t;
	char path[4096], tmp[4200];
	int fd, flags;

	if (a == NULL || a->local || !a->up || o->session == NULL || strcmp(a->session, o->session) != 0) {
		snprintf(err, errlen, "session: this server does not know this agent's session: register again");
		return 409;
	}
	a->last_heard = uv_now(f->loop);
	a->last_heard_wall = remote_wall_ms();
	if (!agent_wire_task_id_ok(o->task_id) || (t = strmap_get(f->tasks, o->task_id)) == NULL || t->agent != a) {
		snprintf(err, errlen, "taskId: agent %s holds no such task here", a->name);
		return 404;
	}
	if (o->stream < 0 || o->stream > RUN_ORDER || o->offset < 0 || (o->stream == RUN_ORDER && o->offset != 0)) {
		snprintf(err, errlen, "stream and offset: stdout or stderr, from 0 (order: whole, offset 0)");
		return 400;
	}
	if (o->stream == RUN_ORDER && !o->final && t->order_final)
		return 204; /* a live record after the final one: the final one stays */
	run_output_files_path(f->data_dir, &key, (enum run_stream)o->stream, path, sizeof(path));
	if (o->stream == RUN_ORDER) {
		snprintf(tmp, sizeof(tmp), "%s.part", path);
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	} else if (!o->final) {
		if (o->offset != t->out_len[o->stream] || (uint64_t)o->offset + o->len > t->cap)
			return 204; /* out of order, or past the head: live followers miss it, the final copy has it */
		flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC;
		fd = open(path, t->out_len[o->stream] == 0 ? flags | O_TRUNC : flags, 0600);
	} else if (t->out_len[o->stream] != INT64_MAX && (int64_t)o->len < t->out_len[o->stream]) {
		/* A final copy shorter than what came live (in order, within the head) was cut to a request's size
		 * (the head and tail it would hold are at least as long as the live head): the live copy, a longer
		 * prefix of the same stream, stays. */
		t->out_len[o->stream] = INT64_MAX;
		return 204;
	} else {
		snprintf(tmp, sizeof(tmp), "%s.part", path);
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	}
	if (fd < 0) {
		snprintf(err, errlen, "cannot write the output of %s: %s", o->task_id, strerror(errno));
		return 507;
	}
	for (size_t done = 0; done < o->len;) {
		ssize_t w = write(fd, o->data + done, o->len - done);
		if (w < 0) {
			snprintf(err, errlen, "cannot write the output of %s: %s", o->task_id, strerror(errno));
			close(fd);
			return 507;
		}
		done += (size_t)w;
	}
	if (close(fd) < 0) {
		snprintf(err, errlen, "cannot write the output of %s: %s", o->task_id, strerror(errno));
		return 507;
	}
	if (o->final || o->stream == RUN_ORDER) { /* a whole file: the final copy, or the live order record so far */
		if (o->len == 0) {
			unlink(tmp); /* a quiet stream has no file, as on the embedded agent */
			unlink(path);
		} else if (rename(tmp, path) < 0) {
			snprintf(err, errlen, "cannot write the output of %s: %s", o->task_id, strerror(errno));
			return 507;
		}
		if (o->stream != RUN_ORDER)
			t->out_len[o->stream] = INT64_MAX; /* no live chunk after the final copy */
		else if (o->final)
			t->order_final = true;
	} else {
		if (f->output) /* a follower elsewhere reads it from the durable copy */
			run_output_chunk(f->output, &key, (enum run_stream)o->stream, o->offset, o->data, o->len);
		t->out_len[o->stream] += (int64_t)o->len;
	}
	return 204;
}
