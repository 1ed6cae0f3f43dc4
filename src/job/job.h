/* The job model: one Chronos job (3.x fields, the 2.x `epsilon` and `async`, gnomon's `retryDelay`,
 * `retryBackoff` and `notifyOn`), its defaults, deep copy, setters, and the checks that need no other job. JSON in and out
 * lives in job_json.h.
 *
 * Ownership and representation, chosen to keep a million idle jobs small:
 * - Scalar strings are `const char *` and never NULL. The empty string and a few very common values ("root",
 *   "UTC", "PT60S", ...) point at shared static storage and cost no allocation; every other value is a heap
 *   copy owned by the job. Read them freely; change them only through job_set_string().
 * - Arrays (`arguments`, `uris`, `parents`, `fetch`, `env`, `constraints`) are each ONE allocation holding the
 *   element array and the bytes of its strings; NULL with a count of 0 when empty. `arguments`, `uris` and
 *   `parents` are also NULL-terminated, so `arguments` can be handed to execv() after the command. Replace a
 *   whole array through its job_set_* function; never free or realloc an element.
 * - `container_json` is the normalised container object as compact JSON text (field order and defaults as
 *   Chronos serializes them), or NULL when the job has no container. Read it with job_container_json().
 * - `last_success_ms`/`last_error_ms` are UTC epoch milliseconds, JOB_TIME_NONE when never; in JSON they are
 *   Chronos's `2014-03-08T16:57:17.507Z` strings ("" when never).
 * - `epsilon` is kept as the ISO 8601 duration text (e.g. "PT60S"); job_duration_parse() converts it. So is
 *   `retry_delay`, "" meaning the server's --failure-retry; job_retry_delay_ms() applies it with the backoff. */
#ifndef GNOMON_JOB_JOB_H
#define GNOMON_JOB_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JOB_NAME_MAX 255          /* bytes */
#define JOB_STRING_MAX 65536      /* bytes in any one string field of the JSON */
#define JOB_JSON_DEPTH_MAX 32     /* nesting of objects and arrays, the job object being depth 1 */
#define JOB_TIME_NONE INT64_MIN   /* last_success_ms / last_error_ms when never */
#define JOB_TIME_BUFSZ 32         /* room for job_time_format() output */
#define JOB_RETRY_DELAY_MAX_MS (INT64_C(7) * 86400000) /* job_retry_delay_ms() never returns more: 7 days */

/* Which events a job sends notifications for (`notifyOn`). */
enum job_notify_on {
	JOB_NOTIFY_FAILURE, /* the default: failed (retries exhausted), disabled, deleted, skipped, recovered */
	JOB_NOTIFY_ALWAYS,  /* those and the end of every run */
	JOB_NOTIFY_NEVER,
	JOB_NOTIFY_INVALID, /* parsed from another value; job_validate() refuses it */
};

/* One entry of `fetch`: a URI the executor downloads before the task runs. */
struct job_fetch {
	const char *uri;
	const char *output_file;  /* "" when not given */
	bool executable;
	bool cache;
	bool extract;             /* Chronos default: true */
};

/* One entry of `environmentVariables`. */
struct job_env {
	const char *name;
	const char *value;
};

/* One entry of `constraints`: [attribute, op, value]; op is kept as given, job_validate() checks it. */
struct job_constraint {
	const char *attribute;
	const char *op;           /* "EQUALS", "LIKE" or "UNLIKE" once validated */
	const char *value;
};

struct job {
	const char *name;
	const char *command;
	const char *executor;
	const char *executor_flags;
	const char *task_info_data;
	const char *owner;              /* comma-separated e-mail addresses */
	const char *owner_name;
	const char *description;
	const char *run_as_user;
	const char *schedule;           /* "" for dependent jobs */
	const char *schedule_time_zone; /* "" for dependent jobs */
	const char *epsilon;            /* ISO 8601 duration, e.g. "PT60S" */
	const char *retry_delay;        /* ISO 8601 duration before a retry; "" = the server's --failure-retry */
	const char *container_json;     /* normalised container object as JSON text, or NULL */

	char **arguments;               /* NULL-terminated; NULL when empty */
	char **uris;                    /* NULL-terminated; NULL when empty */
	char **parents;                 /* NULL-terminated, no duplicates, first-seen order; NULL when empty */
	struct job_fetch *fetch;
	struct job_env *env;
	struct job_constraint *constraints;

	int64_t success_count;
	int64_t error_count;
	int64_t errors_since_last_success;
	int64_t last_success_ms;        /* UTC epoch ms or JOB_TIME_NONE */
	int64_t last_error_ms;          /* UTC epoch ms or JOB_TIME_NONE */
	int64_t max_completion_time;    /* seconds; 0 = no limit */
	double cpus;
	double mem;                     /* MiB */
	double disk;                    /* MiB */
	double retry_backoff;           /* >= 1: retry k waits retry_delay * retry_backoff^(k-1) */

	uint32_t n_arguments;
	uint32_t n_uris;
	uint32_t n_parents;
	uint32_t n_fetch;
	uint32_t n_env;
	uint32_t n_constraints;
	int32_t retries;

	bool dependent : 1;             /* `parents` was present: a DependencyBasedJob, even with 0 parents */
	bool shell : 1;
	bool disabled : 1;
	bool soft_error : 1;
	bool data_processing_job_type : 1;
	bool high_priority : 1;
	bool concurrent : 1;
	bool async : 1;
	unsigned notify_on : 2;         /* enum job_notify_on */
};

/* Server-wide defaults baked into a job when it is parsed (Chronos --mesos_task_cpu/mem/disk, --user,
 * --task_epsilon). Passing NULL where a `const struct job_defaults *` is taken means JOB_DEFAULTS_INIT. */
struct job_defaults {
	double cpus;
	double mem;
	double disk;
	const char *user;
	int64_t epsilon_s;
};
#define JOB_DEFAULTS_INIT {.cpus = 0.1, .mem = 128, .disk = 256, .user = "root", .epsilon_s = 60}

/* Returns a new job with every field at its Chronos default (built-in defaults, empty schedule); caller frees
 * it with job_free(). */
struct job *job_new(void);
void job_free(struct job *j);
/* Returns a deep copy the caller frees with job_free(). */
struct job *job_dup(const struct job *j);
/* True iff the job is dependency-based (its JSON had a `parents` key). */
bool job_is_dependent(const struct job *j);

/* Replace one scalar string field of a job, e.g. job_set_string(&j->command, "ls"); copies value (NULL means
 * ""). The value must be valid UTF-8 and at most JOB_STRING_MAX bytes. */
void job_set_string(const char **field, const char *value);
void job_set_stringn(const char **field, const char *value, size_t len);
/* Replace an array field with a copy of v[0..n-1]. job_set_parents also drops duplicates (first seen kept)
 * and makes the job dependent (schedule and time zone cleared). Fetch, env and constraints are copied alike. */
void job_set_arguments(struct job *j, const char *const *v, size_t n);
void job_set_uris(struct job *j, const char *const *v, size_t n);
/* A job re-posted from GET /jobs carries the compatibility mirror (uris filled from fetch[].uri): when uris is
 * exactly that mirror, drop it, so the job reads as it was posted and is not refused for having both. */
void job_drop_uris_mirror(struct job *j);
void job_set_parents(struct job *j, const char *const *v, size_t n);
void job_set_fetch(struct job *j, const struct job_fetch *v, size_t n);
void job_set_env(struct job *j, const struct job_env *v, size_t n);
void job_set_constraints(struct job *j, const struct job_constraint *v, size_t n);
/* Replace the container with a copy of the normalised JSON text (NULL removes it). Prefer parsing a job. */
void job_set_container_json(struct job *j, const char *text);
/* Turn a job into a schedule-based one with the given schedule (drops parents), e.g. when its parent goes. */
void job_set_schedule(struct job *j, const char *schedule, const char *time_zone);

/* Environment variable i (< j->n_env) as a name/value pair; returns false when i is out of range. */
bool job_env_get(const struct job *j, size_t i, const char **name, const char **value);
/* Returns the arguments joined by single spaces, the caller frees it ("" when none). */
char *job_arguments_join(const struct job *j);

/* Checks that need no other job and no schedule parsing (name, resources, retries, constraints, container
 * enumerations, epsilon, retryDelay, retryBackoff, notifyOn, uris vs fetch). Returns 0 or -EINVAL with the message in err. */
int job_validate(const struct job *j, char *err, size_t errlen) __attribute__((warn_unused_result));

/* "failure", "always" or "never" ("invalid" for JOB_NOTIFY_INVALID). */
const char *job_notify_on_name(unsigned notify_on);

/* Format UTC epoch ms as `2026-01-01T00:00:00.000Z` into out (JOB_TIME_BUFSZ bytes); "" for JOB_TIME_NONE. */
void job_time_format(int64_t ms, char *out);
/* Parse `YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]` (no zone means UTC) into UTC epoch ms; "" gives JOB_TIME_NONE.
 * Returns 0 or -EINVAL (also for an instant outside the years 0000-9999 in UTC, which job_time_format cannot
 * write back). */
int job_time_parse(const char *s, int64_t *ms) __attribute__((warn_unused_result));
/* Parse an ISO 8601 duration `PnYnMnWnDTnHnMnS` (seconds may have a fraction) into milliseconds; a year counts
 * 365 days and a month 30. Returns 0 or -EINVAL (also on overflow or an empty duration such as "P"). */
int job_duration_parse(const char *s, int64_t *ms) __attribute__((warn_unused_result));
/* The shortest non-zero period of an ISO 8601 schedule the API accepts (a job is a process, not a tick). */
#define JOB_PERIOD_MIN_MS 1000
/* The period of an ISO 8601 schedule string (`R5/2024-01-01T00:00:00Z/PT1S`: 1000) in ms as job_duration_parse
 * reads it, for bounds only. Returns 0, or -EINVAL for cron or a period that does not parse. */
int job_schedule_period_ms(const char *schedule, int64_t *ms) __attribute__((warn_unused_result));
/* The job's epsilon in ms: how late a scheduled slot may still start (60 s if it cannot be read). */
int64_t job_epsilon_ms(const struct job *j);
/* The delay in ms before retry `attempt` (1 = the first retry): the job's retryDelay, or default_ms when it has
 * none (or an invalid one), times retryBackoff^(attempt-1); within [0, JOB_RETRY_DELAY_MAX_MS], no overflow. */
int64_t job_retry_delay_ms(const struct job *j, int attempt, int64_t default_ms);

#endif
