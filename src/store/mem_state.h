/* Private to the in-memory backend (mem_backend.h): its state's constructor, and its reads (mem_state_read.c),
 * which the state's ops table (mem_state.c) names; mem_state_store() is the PostgreSQL backends' way to their
 * copy's store (pg_store.h). */
#ifndef GNOMON_STORE_MEM_STATE_H
#define GNOMON_STORE_MEM_STATE_H

#include "store/mem_store.h"
#include "state/state.h"

/* A state over m, which it holds a reference of. */
struct state *mem_state_new(struct mem_store *m);
struct mem_store *mem_state_store(struct state *s);

int mem_state_load_jobs(struct state *s, state_job_fn fn, void *ctx);
/* The job name as mem_state_load_jobs gives it (borrowed: until the next write), or false: none. */
bool mem_state_get_job(struct state *s, const char *name, struct state_job *out);
int mem_state_load_progress(struct state *s, state_progress_fn fn, void *ctx);
int mem_state_load_open_runs(struct state *s, state_run_fn fn, void *ctx);
int mem_state_list_open_runs(struct state *s, const char *job, state_run_fn fn, void *ctx);
int mem_state_get_open_run(struct state *s, const char *task_id, struct run_record *out);
int mem_state_load_rounds(struct state *s, state_round_fn fn, void *ctx);
int mem_state_list_audit(struct state *s, const struct state_audit_query *q, state_audit_fn fn, void *ctx);
int mem_state_load_tokens(struct state *s, state_token_fn fn, void *ctx);

#endif
