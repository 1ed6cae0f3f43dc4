/* Private to the in-memory backend (mem_backend.h): the data its state (mem_state.c) and its history
 * (mem_history.c) share, as the SQLite backends share one database. The PostgreSQL backends, whose copy in memory
 * it is (pg_store.h), use it too: a load gives the runs the database's ids, a prune takes out the runs the
 * database removed, by task id, and a claim looks for a task id. It mirrors the SQLite tables: the jobs, their
 * progress and outcome (job_state), the rounds, and one table of runs, open and ended, each with an id from one
 * counter that stands for SQLite's row id (insertion order). A run stays in its job's list and in the list of its
 * status class, both in id order, so that the reads walk only what they return. */
#ifndef GNOMON_STORE_MEM_STORE_H
#define GNOMON_STORE_MEM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "history/run_record.h"
#include "state/state.h"

struct strmap;
struct mem_txn;

/* An item of a mem_set: its key (owned) and its place in the set's array. */
struct mem_entry {
	char *key;
	size_t index;
};

/* Items by key, and an array of them to walk (in no order: a swap takes a removed item's place). */
struct mem_set {
	struct strmap *map;
	struct mem_entry **items;
	size_t n, cap;
};

struct mem_run;

/* A list of runs in id order. */
struct mem_list {
	struct mem_run *head, *tail;
};

struct mem_link {
	struct mem_run *prev, *next;
};

/* What a run is to the reads: open (the state's), failed or lost, skipped, or another end. */
enum mem_class { MEM_OPEN, MEM_FAILED, MEM_SKIPPED, MEM_ENDED, MEM_CLASSES };

/* The runs of one job. */
struct mem_job_runs {
	struct mem_entry e; /* the job's name */
	struct mem_list runs;
};

struct mem_run {
	struct mem_entry e; /* the task id */
	struct run_record r;
	struct mem_job_runs *job;
	enum mem_class cls;
	struct mem_link by_job, by_class;
};

struct mem_job {
	struct mem_entry e; /* the name */
	int64_t seq;        /* creation order */
	char *definition;
};

/* A job_state row: the progress (always there, as last_due_ms is NOT NULL) and maybe the outcome. */
struct mem_progress {
	struct mem_entry e; /* the name */
	int64_t last_due_ms;
	bool has_anchor;
	int64_t anchor_ms, anchor_index;
	char *schedule; /* NULL: the definition's */
	bool has_outcome;
	struct state_outcome outcome;
};

struct mem_round {
	struct mem_entry e; /* "child\x1fparent" */
	char *child, *parent, *task_id;
};

struct mem_token {
	struct mem_entry e; /* the name */
	char *role, *hash;
	int64_t created_ms;
};

struct mem_store {
	int refs; /* the state and the history */
	struct mem_set jobs, progress, rounds, runs, job_runs, tokens;
	struct mem_list classes[MEM_CLASSES];
	int64_t next_seq, next_id;
	uint64_t epoch; /* the leader's, 0: none yet */
	struct state_audit **audit; /* the audit entries (state_audit_dup's copies), in id order */
	size_t n_audit, cap_audit;
	int64_t next_audit_id;
	bool fail_next;
	struct mem_txn *txn; /* the state's open transaction: a history record joins it */
	char error[128];
};

/* The message and status of an injected failure. */
#define MEM_FAIL_MESSAGE "no room left (injected failure)"

struct mem_store *mem_store_new(void);
/* Drop a reference; the last frees the store. */
void mem_store_unref(struct mem_store *m);
/* Whether this write fails (mem_backend_fail_next armed it): consumes the arming, and sets the error. */
bool mem_store_take_failure(struct mem_store *m);

void mem_set_init(struct mem_set *s);
/* Free the set, and each item with free_item. */
void mem_set_free(struct mem_set *s, void (*free_item)(struct mem_entry *e));
void *mem_set_get(const struct mem_set *s, const char *key);
/* Add e (not in the set) under key, which it takes. */
void mem_set_add(struct mem_set *s, struct mem_entry *e, char *key);
/* Take e out of the set (the caller frees it). */
void mem_set_remove(struct mem_set *s, struct mem_entry *e);
/* A copy of the items (the caller frees it) sorted by cmp (NULL: as they are), for a walk that may change the
 * set. */
struct mem_entry **mem_set_sorted(const struct mem_set *s, int (*cmp)(const void *, const void *));
/* qsort's comparison of two struct mem_entry * by key. */
int mem_entry_cmp_key(const void *a, const void *b);

/* The run with task_id, open or ended, or NULL. */
struct mem_run *mem_store_run(const struct mem_store *m, const char *task_id);
/* The id a run written now gets: its own when it exists, else a new one. */
int64_t mem_store_run_id(struct mem_store *m, const char *task_id);
/* SQLite's INSERT of r with id (claim: nothing when the task id is taken), or its upsert: a run that exists keeps
 * its job, due time, attempt, trigger, arguments and parents and takes the rest from r. */
void mem_store_claim_run(struct mem_store *m, const struct run_record *r, int64_t id);
void mem_store_upsert_run(struct mem_store *m, const struct run_record *r, int64_t id);
/* Take run out of every index; the caller frees it with mem_run_free. */
void mem_store_detach_run(struct mem_store *m, struct mem_run *run);
void mem_run_free(struct mem_run *run);
/* Free a struct mem_job, mem_progress, mem_round (by its entry), out of its set. */
void mem_job_free(struct mem_entry *e);
void mem_progress_free(struct mem_entry *e);
void mem_round_free(struct mem_entry *e);
void mem_token_free(struct mem_entry *e);
/* Append a copy of a with the next id (a->id when it has one, as a load from the database gives), and drop the
 * entries made before older_than_ms. */
void mem_store_add_audit(struct mem_store *m, const struct state_audit *a);
void mem_store_prune_audit(struct mem_store *m, int64_t older_than_ms);

/* The state's transaction (mem_state.c): record r in it, as SQLite's history writes into the store's open
 * transaction. */
void mem_txn_record(struct mem_txn *t, const struct run_record *r);

#endif
