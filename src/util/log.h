/* Logging to stderr in the OpenBSD style: log_warn adds strerror(errno), log_warnx does not; the *_kv variants
 * add structured fields (the job, the run, the event, the caller) to JSON lines. */
#ifndef GNOMON_UTIL_LOG_H
#define GNOMON_UTIL_LOG_H

#include <stdbool.h>

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Set the threshold and output format; called once from main before anything logs. */
void log_init(enum log_level level, bool json);
/* Parse "error", "warn", "info" or "debug"; returns 0 or -EINVAL. */
int log_level_parse(const char *name, enum log_level *out);

/* What a line is about, beside its message: NULL members are left out. JSON lines (--log-json) carry each as a
 * key of its own ("event", "job", "taskId", "status", "remote") before "msg"; text lines show the message only,
 * which says the same in words. */
struct log_fields {
	const char *event;   /* what happened: "run.started", "run.finished", "job.created", ... */
	const char *job;     /* the job's name */
	const char *task_id; /* the run's Chronos task id */
	const char *status;  /* the run's status (run.finished, run.skipped) */
	const char *remote;  /* the caller's address ("127.0.0.1:53414") of a change made over HTTP */
};
/* A compound literal of fields for the *_kv functions: LOG_FIELDS(.event = "run.started", .job = name). */
#define LOG_FIELDS(...) (&(const struct log_fields){__VA_ARGS__})

void log_warnx_kv(const struct log_fields *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_info_kv(const struct log_fields *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_debug_kv(const struct log_fields *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
