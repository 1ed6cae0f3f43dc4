/* One attempt of a run slot as it is recorded: the vocabulary that the history (ended runs, history.h) and the
 * state (the open runs a restarted server resumes from, state/state.h) share. A run is named by its Chronos task
 * id everywhere; `id` is the SQLite backends' own order, which nothing outside them may require. */
#ifndef GNOMON_HISTORY_RUN_RECORD_H
#define GNOMON_HISTORY_RUN_RECORD_H

#include <stdbool.h>
#include <stdint.h>

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
	int64_t id;             /* the SQLite row id (its insertion order), 0 before the first save: an extra field
	                         * of the API's answers, never a run's name */
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
	char *agent;            /* the name of the agent that ran it; "" when none (or not yet placed) */
	char *arguments;        /* manual-run arguments, "" when none */
	char *parents;          /* task ids of the parent runs that triggered it, comma-separated */
	char *reason;           /* why it was skipped, lost or failed to start; "" otherwise */
	/* skipped: the slots the record covers (the first and last due time, how many: at least that many when a
	 * cron job's count reached its cap, as the reason says); RUN_TIME_NONE and 0 otherwise, and for skipped
	 * records written before these fields existed (their reason text says it) */
	int64_t skipped_from_ms, skipped_to_ms;
	int64_t skipped_slots;
	/* what it used (issue 14): CPU time in user and system mode, peak memory; -1 when not known (a run that has
	 * not ended, or ran where nobody could tell) */
	int64_t cpu_user_us, cpu_system_us, peak_memory_bytes;
};

const char *run_status_name(enum run_status s);
const char *run_trigger_name(enum run_trigger t);
/* Parse a name back; returns 0 or -EINVAL. */
int run_status_parse(const char *name, enum run_status *out) __attribute__((warn_unused_result));
int run_trigger_parse(const char *name, enum run_trigger *out) __attribute__((warn_unused_result));
/* True for the statuses a run ends in. */
bool run_status_is_final(enum run_status s);

void run_record_init(struct run_record *r);
void run_record_clear(struct run_record *r);
/* Replace a string field with a copy of value (NULL means ""). */
void run_record_set(char **field, const char *value);
/* Make dst (initialised, or cleared) a deep copy of src. */
void run_record_copy(struct run_record *dst, const struct run_record *src);

#endif
