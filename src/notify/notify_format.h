/* What a notification says: the notice (everything copied from the job and the run on the loop thread), and
 * its texts as Chronos wrote them (subject, message body) plus gnomon's run details and log tail; the owner's
 * addresses; the mail message. Pure: no I/O, no clock (times are passed in). */
#ifndef GNOMON_NOTIFY_NOTIFY_FORMAT_H
#define GNOMON_NOTIFY_NOTIFY_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum notice_kind {
	NOTICE_DELETED,   /* Chronos's JobRemoved */
	NOTICE_DISABLED,  /* Chronos's JobDisabled: recurrences exhausted or too many failures */
	NOTICE_FAILED,    /* Chronos's JobRetriesExhausted */
	NOTICE_SKIPPED,   /* gnomon: a slot was skipped or missed */
	NOTICE_RECOVERED, /* gnomon: the first success after failures */
	NOTICE_FINISHED,  /* gnomon, notifyOn always: any run's end */
	NOTICE_AGENT_LOST, /* gnomon: an agent fell silent past --agent-timeout (agent, agent_host, reason; no job) */
	NOTICE_KIND_COUNT
};

/* One captured output stream's end, as put in a message. */
struct notice_tail {
	char *text;       /* valid UTF-8, no NUL or CR; NULL when not read */
	int64_t total;    /* bytes the run wrote to the stream (what was captured) */
};

/* Everything a notification says. Strings are owned by the notice (never NULL once built); notice_free. */
struct notice {
	enum notice_kind kind;
	int64_t when_ms;              /* when it happened: Chronos's '<now>' */
	char *job, *owner, *command, *executor, *executor_flags, *uris, *reason;
	double cpus, mem;
	bool soft_error;
	bool by_failures;             /* NOTICE_DISABLED: for failures, not exhausted recurrences */
	int32_t retries;
	int64_t success_count, error_count, errors_since_last_success, last_success_ms, last_error_ms;
	bool has_run;                 /* the fields below are set */
	char *task_id, *status, *host, *run_reason;
	char *agent, *agent_host;     /* NOTICE_AGENT_LOST: the agent's name and hostname */
	int32_t exit_code;            /* -1: none */
	int32_t signal;               /* 0: none */
	int64_t cpu_user_us, cpu_system_us, peak_memory_bytes; /* what the run used; <= 0 for the peak: not known */
	struct notice_tail out, err;  /* filled by the sender, which reads the output's tails */
};

/* A new notice with empty strings and no run; the caller fills it and frees it with notice_free(). */
struct notice *notice_new(enum notice_kind kind);
void notice_free(struct notice *n);
/* Replace a string field of a notice with a copy of value (NULL means ""). */
void notice_set(char **field, const char *value);

/* "job.deleted", "run.retries_exhausted", ...: the event's name in payloads. */
const char *notice_kind_name(enum notice_kind kind);
/* True for the kinds that report a failure (Sentry level error). */
bool notice_is_failure(const struct notice *n);

/* Returns the subject the caller frees: Chronos's `[Chronos] job 'x' failed!`, prefixed by `[cluster] ` when
 * cluster is not empty (Chronos put a leading space there when it was unset; gnomon does not); for an agent,
 * `agent a1 (host-1) lost`. */
char *notify_subject(const struct notice *n, const char *cluster);
/* Returns the message body the caller frees: Chronos's text (empty for a deleted job), then the run's status,
 * exit code or signal, reason, host and the tails of its stdout and stderr; for an agent, what became of its
 * runs (`silent for 31 s; 2 of its runs were recorded lost and ...`) and when. */
char *notify_body(const struct notice *n);

/* Keep valid UTF-8 from buf[0..len): invalid bytes become U+FFFD, CR and NUL are dropped, other control
 * characters but tab and newline become '?'. Starts at a character boundary when cut is set (the start of
 * the buffer is not the start of the stream). Returns a string the caller frees. */
char *notify_clean_text(const char *buf, size_t len, bool cut);

/* Split an owner field (addresses separated by commas, semicolons or white space; `Name <a@b>` keeps a@b)
 * into at most max addresses, dropping words without '@' and duplicates. Returns the count; out[i] are copies
 * the caller frees. */
size_t notify_owner_split(const char *owner, char **out, size_t max);

/* Returns the mail message (headers and body, CRLF line ends, lines folded under 998 bytes) the caller
 * frees. A non-ASCII subject is RFC 2047 encoded; date_ms gives the Date header, message_id (`<x@host>`) the
 * Message-ID. */
char *notify_mail_message(const char *from, const char *const *to, size_t n_to, const char *subject, const char *body,
    int64_t date_ms, const char *message_id);

#endif
