/* The JSON bodies the HTTP channels post: Slack/Mattermost `{"text"}`, the generic webhook (Chronos's fields,
 * all strings, plus the run's), a Sentry store-API event; and the Sentry DSN with its auth header. Pure. */
#ifndef GNOMON_NOTIFY_NOTIFY_PAYLOAD_H
#define GNOMON_NOTIFY_NOTIFY_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

struct notice;

/* A parsed Sentry DSN `scheme://public[:secret]@host[:port][/path]/project`. */
struct notify_dsn {
	char *store_url;  /* scheme://host[:port][/path]/api/<project>/store/ */
	char *public_key;
	char *secret_key; /* "" when the DSN has none */
	char *project;
};

/* Parse a DSN into d (cleared first); returns 0 or -EINVAL with a message. */
int notify_dsn_parse(const char *dsn, struct notify_dsn *d, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void notify_dsn_clear(struct notify_dsn *d);
/* Returns the X-Sentry-Auth header value the caller frees (sentry_version 7, the key, the secret if any). */
char *notify_sentry_auth(const struct notify_dsn *d, int64_t now_s);

/* Each returns compact JSON text the caller frees. */
/* {"text": "<subject>: <body>"}, or the subject alone when the body is empty. */
char *notify_chat_json(const char *subject, const char *body);
/* Chronos's HTTP payload (subject, message when not empty, to when there are addresses, job, command, cpus,
 * ...; every value a string) then event, and with a run taskId, status, exitCode, signal, reason, host,
 * stdoutTail, stderrTail. */
char *notify_webhook_json(const struct notice *n, const char *subject, const char *body, const char *to);
/* A Sentry event: event_id (32 hex digits), timestamp, level, logger, platform, server_name, message
 * `subject\n\nbody`, tags owner/job/command, extra as Chronos's RavenClient plus the run's fields. */
char *notify_sentry_json(const struct notice *n, const char *subject, const char *body, const char *event_id,
    int64_t now_ms, const char *server_name);

#endif
