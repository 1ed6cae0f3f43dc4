/* The in-memory backend's shared data (mem_store.h): its sets, its runs, its lifetime. */
#include "store/mem_store.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/state_log.h"
#include "util/strmap.h"
#include "util/xmalloc.h"

void mem_set_init(struct mem_set *s)
{
	memset(s, 0, sizeof(*s));
	s->map = strmap_new();
}

void mem_set_free(struct mem_set *s, void (*free_item)(struct mem_entry *e))
{
	for (size_t i = 0; i < s->n; i++)
		free_item(s->items[i]);
	free(s->items);
	strmap_free(s->map);
	memset(s, 0, sizeof(*s));
}

void *mem_set_get(const struct mem_set *s, const char *key)
{
	return strmap_get(s->map, key);
}

void mem_set_add(struct mem_set *s, struct mem_entry *e, char *key)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->items = xrealloc(s->items, s->cap * sizeof(*s->items));
	}
	e->key = key;
	e->index = s->n;
	s->items[s->n++] = e;
	strmap_put(s->map, e->key, e);
}

void mem_set_remove(struct mem_set *s, struct mem_entry *e)
{
	strmap_remove(s->map, e->key);
	s->items[e->index] = s->items[--s->n];
	s->items[e->index]->index = e->index;
}

struct mem_entry **mem_set_sorted(const struct mem_set *s, int (*cmp)(const void *, const void *))
{
	struct mem_entry **copy = xmalloc((s->n ? s->n : 1) * sizeof(*copy));

	if (s->n)
		memcpy(copy, s->items, s->n * sizeof(*copy));
	if (cmp && s->n > 1)
		qsort(copy, s->n, sizeof(*copy), cmp);
	return copy;
}

int mem_entry_cmp_key(const void *a, const void *b)
{
	const struct mem_entry *const *x = a, *const *y = b;
	return strcmp((*x)->key, (*y)->key);
}

void mem_job_free(struct mem_entry *e)
{
	struct mem_job *j = (struct mem_job *)e;
	free(j->e.key);
	free(j->definition);
	free(j);
}

void mem_progress_free(struct mem_entry *e)
{
	struct mem_progress *p = (struct mem_progress *)e;
	free(p->e.key);
	free(p->schedule);
	free(p);
}

void mem_round_free(struct mem_entry *e)
{
	struct mem_round *r = (struct mem_round *)e;
	free(r->e.key);
	free(r->child);
	free(r->parent);
	free(r->task_id);
	free(r);
}

static void free_run(struct mem_entry *e)
{
	mem_run_free((struct mem_run *)e);
}

static void free_job_runs(struct mem_entry *e)
{
	free(e->key);
	free(e);
}

void mem_token_free(struct mem_entry *e)
{
	struct mem_token *t = (struct mem_token *)e;
	free(t->e.key);
	free(t->role);
	free(t->hash);
	free(t);
}

void mem_store_add_audit(struct mem_store *m, const struct state_audit *a)
{
	struct state_audit *c = state_audit_dup(a);

	c->id = a->id > m->next_audit_id ? a->id : m->next_audit_id + 1;
	m->next_audit_id = c->id;
	if (m->n_audit == m->cap_audit) {
		m->cap_audit = m->cap_audit ? 2 * m->cap_audit : 16;
		m->audit = xrealloc(m->audit, m->cap_audit * sizeof(*m->audit));
	}
	m->audit[m->n_audit++] = c;
}

void mem_store_prune_audit(struct mem_store *m, int64_t older_than_ms)
{
	size_t k = 0;

	for (size_t i = 0; i < m->n_audit; i++) {
		if (m->audit[i]->time_ms < older_than_ms)
			state_audit_free(m->audit[i]);
		else
			m->audit[k++] = m->audit[i];
	}
	m->n_audit = k;
}

struct mem_store *mem_store_new(void)
{
	struct mem_store *m = xcalloc(1, sizeof(*m));

	m->refs = 2;
	mem_set_init(&m->jobs);
	mem_set_init(&m->progress);
	mem_set_init(&m->rounds);
	mem_set_init(&m->runs);
	mem_set_init(&m->job_runs);
	mem_set_init(&m->tokens);
	return m;
}

void mem_store_unref(struct mem_store *m)
{
	if (m == NULL || --m->refs > 0)
		return;
	mem_set_free(&m->jobs, mem_job_free);
	mem_set_free(&m->progress, mem_progress_free);
	mem_set_free(&m->rounds, mem_round_free);
	mem_set_free(&m->runs, free_run);
	mem_set_free(&m->job_runs, free_job_runs);
	mem_set_free(&m->tokens, mem_token_free);
	mem_store_prune_audit(m, INT64_MAX);
	free(m->audit);
	free(m);
}

bool mem_store_take_failure(struct mem_store *m)
{
	if (!m->fail_next)
		return false;
	m->fail_next = false;
	snprintf(m->error, sizeof(m->error), "%s", MEM_FAIL_MESSAGE);
	return true;
}

/* Which class a status puts a run in. */
static enum mem_class class_of(enum run_status s)
{
	if (!run_status_is_final(s))
		return MEM_OPEN;
	if (s == RUN_FAILED || s == RUN_LOST)
		return MEM_FAILED;
	return s == RUN_SKIPPED ? MEM_SKIPPED : MEM_ENDED;
}

static struct mem_link *link_of(struct mem_run *run, bool by_job)
{
	return by_job ? &run->by_job : &run->by_class;
}

/* Insert run into l at its place by id: from the tail, where new runs go. */
static void list_insert(struct mem_list *l, struct mem_run *run, bool by_job)
{
	struct mem_run *after = l->tail;
	struct mem_link *k = link_of(run, by_job);

	while (after && after->r.id > run->r.id)
		after = link_of(after, by_job)->prev;
	k->prev = after;
	k->next = after ? link_of(after, by_job)->next : l->head;
	if (k->next)
		link_of(k->next, by_job)->prev = run;
	else
		l->tail = run;
	if (after)
		link_of(after, by_job)->next = run;
	else
		l->head = run;
}

static void list_remove(struct mem_list *l, struct mem_run *run, bool by_job)
{
	struct mem_link *k = link_of(run, by_job);

	if (k->prev)
		link_of(k->prev, by_job)->next = k->next;
	else
		l->head = k->next;
	if (k->next)
		link_of(k->next, by_job)->prev = k->prev;
	else
		l->tail = k->prev;
	k->prev = k->next = NULL;
}

struct mem_run *mem_store_run(const struct mem_store *m, const char *task_id)
{
	return mem_set_get(&m->runs, task_id);
}

int64_t mem_store_run_id(struct mem_store *m, const char *task_id)
{
	struct mem_run *run = mem_store_run(m, task_id);
	return run ? run->r.id : ++m->next_id;
}

/* What SQLite's columns make of a record: no NULL strings, a trigger and a status it can name, a slot count only
 * when positive. */
static void normalize(struct run_record *r)
{
	if (r->trigger >= TRIGGER_COUNT)
		r->trigger = TRIGGER_SCHEDULE;
	if (r->status >= RUN_STATUS_COUNT)
		r->status = RUN_LOST;
	if (r->skipped_slots < 0)
		r->skipped_slots = 0;
	if (r->cpu_user_us < 0)
		r->cpu_user_us = -1;
	if (r->cpu_system_us < 0)
		r->cpu_system_us = -1;
	if (r->peak_memory_bytes < 0)
		r->peak_memory_bytes = -1;
}

static void insert_run(struct mem_store *m, const struct run_record *r, int64_t id)
{
	struct mem_run *run = xcalloc(1, sizeof(*run));
	struct mem_job_runs *jr;

	run_record_init(&run->r);
	run_record_copy(&run->r, r);
	normalize(&run->r);
	run->r.id = id;
	if ((jr = mem_set_get(&m->job_runs, run->r.job)) == NULL) {
		jr = xcalloc(1, sizeof(*jr));
		mem_set_add(&m->job_runs, &jr->e, xstrdup(run->r.job));
	}
	run->job = jr;
	run->cls = class_of(run->r.status);
	mem_set_add(&m->runs, &run->e, xstrdup(run->r.task_id));
	list_insert(&jr->runs, run, true);
	list_insert(&m->classes[run->cls], run, false);
}

void mem_store_claim_run(struct mem_store *m, const struct run_record *r, int64_t id)
{
	if (mem_store_run(m, r->task_id) == NULL)
		insert_run(m, r, id);
}

void mem_store_upsert_run(struct mem_store *m, const struct run_record *r, int64_t id)
{
	struct mem_run *run = mem_store_run(m, r->task_id);
	struct run_record *s;
	enum mem_class cls;

	if (run == NULL) {
		insert_run(m, r, id);
		return;
	}
	s = &run->r;
	s->status = r->status;
	s->not_before_ms = r->not_before_ms;
	s->start_ms = r->start_ms;
	s->end_ms = r->end_ms;
	s->exit_code = r->exit_code;
	s->signal = r->signal;
	s->pid = r->pid;
	s->stdout_bytes = r->stdout_bytes;
	s->stderr_bytes = r->stderr_bytes;
	run_record_set(&s->host, r->host);
	run_record_set(&s->agent, r->agent);
	run_record_set(&s->reason, r->reason);
	s->skipped_from_ms = r->skipped_from_ms;
	s->skipped_to_ms = r->skipped_to_ms;
	s->skipped_slots = r->skipped_slots;
	s->cpu_user_us = r->cpu_user_us;
	s->cpu_system_us = r->cpu_system_us;
	s->peak_memory_bytes = r->peak_memory_bytes;
	normalize(s);
	if ((cls = class_of(s->status)) != run->cls) {
		list_remove(&m->classes[run->cls], run, false);
		run->cls = cls;
		list_insert(&m->classes[cls], run, false);
	}
}

void mem_store_detach_run(struct mem_store *m, struct mem_run *run)
{
	struct mem_job_runs *jr = run->job;

	list_remove(&jr->runs, run, true);
	list_remove(&m->classes[run->cls], run, false);
	mem_set_remove(&m->runs, &run->e);
	if (jr->runs.head == NULL) {
		mem_set_remove(&m->job_runs, &jr->e);
		free_job_runs(&jr->e);
	}
	run->job = NULL;
}

void mem_run_free(struct mem_run *run)
{
	free(run->e.key);
	run_record_clear(&run->r);
	free(run);
}
