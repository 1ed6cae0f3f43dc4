/* Run history in the store: one row per attempt of a slot, keyed by its Chronos task id. Rows of runs that
 * have not ended (queued, waiting for a retry, starting, running) are what a restarted server resumes from. */
#ifndef GNOMON_STORE_RUNS_H
#define GNOMON_STORE_RUNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

enum run_status {
	RUN_QUEUED,    /* claimed, waiting for a free runner (or for the previous run of a non-concurrent job) */
	RUN_WAITING,   /* a retry waiting for its delay */
	RUN_STARTING,  /* about to be spawned: if the server dies now, the run is lost */
	RUN_RUNNING,
	RUN_SUCCEEDED,
	RUN_FAILED,
	RUN_KILLED,
	RUN_LOST,
	RUN_SKIPPED,
	RUN_STATUS_COUNT
};

enum run_trigger { TRIGGER_SCHEDULE, TRIGGER_MANUAL, TRIGGER_RETRY, TRIGGER_DEPENDENCY, TRIGGER_COUNT };

#define RUN_TIME_NONE INT64_MIN

/* One attempt as stored. Strings are owned by the record (run_record_clear frees them). */
struct run_record {
	int64_t id;             /* row id, increasing: the history's order; 0 before the first save */
	char *task_id;
	char *job;
	int64_t due_ms;
	int32_t attempt;
	enum run_trigger trigger;
	enum run_status status;
	int64_t not_before_ms;  /* queued/waiting: earliest start */
	int64_t start_ms;       /* RUN_TIME_NONE until started */
	int64_t end_ms;         /* RUN_TIME_NONE until ended */
	int32_t exit_code;      /* -1 when none */
	int32_t signal;         /* 0 when none */
	int64_t pid;            /* 0 when none */
	int64_t stdout_bytes, stderr_bytes;
	char *host;             /* "" when none */
	char *arguments;        /* manual-run arguments, "" when none */
	char *parents;          /* task ids of the parent runs that triggered it, comma-separated */
	char *reason;           /* why it was skipped, lost or failed to start; "" otherwise */
};

const char *run_status_name(enum run_status s);
const char *run_trigger_name(enum run_trigger t);
/* Parse a name back; returns 0 or -EINVAL. */
int run_status_parse(const char *name, enum run_status *out) __attribute__((warn_unused_result));
/* True for the statuses a run ends in. */
bool run_status_is_final(enum run_status s);

void run_record_init(struct run_record *r);
void run_record_clear(struct run_record *r);
/* Replace a string field with a copy of value (NULL means ""). */
void run_record_set(char **field, const char *value);

/* Insert or update the run with r->task_id; fills r->id on insert. */
int store_put_run(struct store *s, struct run_record *r) __attribute__((warn_unused_result));
/* Insert only when no run has that task id (claiming a slot); returns 0, or -EEXIST when it is taken. */
int store_claim_run(struct store *s, struct run_record *r) __attribute__((warn_unused_result));
/* Load one run by task id into r (cleared first); returns 0, -ENOENT or -EIO. */
int store_get_run(struct store *s, const char *task_id, struct run_record *r) __attribute__((warn_unused_result));
/* The same by row id. */
int store_get_run_by_id(struct store *s, int64_t id, struct run_record *r) __attribute__((warn_unused_result));
/* Call fn for every run that has not ended, oldest first. fn's record is borrowed for the call. */
int store_load_open_runs(struct store *s, int (*fn)(void *ctx, const struct run_record *r), void *ctx)
    __attribute__((warn_unused_result));
/* Call fn for the runs of a job, newest first, with id < before (0: from the newest), at most limit. */
int store_list_runs(struct store *s, const char *job, int64_t before, int limit,
    int (*fn)(void *ctx, const struct run_record *r), void *ctx) __attribute__((warn_unused_result));
enum run_recent { RUN_RECENT_FAILURES, RUN_RECENT_SKIPS };
/* Call fn for the newest failed or lost runs (or skipped ones) of any job, newest first, at most limit. */
int store_list_recent_runs(struct store *s, enum run_recent kind, int limit,
    int (*fn)(void *ctx, const struct run_record *r), void *ctx) __attribute__((warn_unused_result));
/* Delete ended runs of a job beyond the newest keep (0: no count limit) and ended runs of any job that ended
 * before older_than_ms (RUN_TIME_NONE: no age limit). Reports the deleted runs' task ids and row ids through fn (may be NULL)
 * so their logs can be removed. Returns the number deleted or a negative errno. */
int store_prune_runs(struct store *s, const char *job, int keep, int64_t older_than_ms,
    void (*fn)(void *ctx, const char *task_id, int64_t id), void *ctx);

/* Retention over the whole history: delete ended runs beyond the newest keep of each job (0: no count limit)
 * and ended runs that ended before older_than_ms (RUN_TIME_NONE: no age limit), reporting each through fn.
 * Returns the number deleted or a negative errno. */
int store_prune_all_runs(struct store *s, int keep, int64_t older_than_ms,
    void (*fn)(void *ctx, const char *task_id, int64_t id), void *ctx);

/* Durations (end - due, in ms, as Chronos's run-time histogram) of the newest succeeded runs of one job, newest
 * first, at most max; job NULL: every job, grouped by job (fn is called once per job with its durations).
 * Returns 0 or a negative errno. */
int store_run_durations(struct store *s, const char *job, int max,
    void (*fn)(void *ctx, const char *job, const int64_t *ms, int n), void *ctx) __attribute__((warn_unused_result));

/* Delete every run of a job (when the job is deleted). */
int store_delete_runs(struct store *s, const char *job) __attribute__((warn_unused_result));

#endif
