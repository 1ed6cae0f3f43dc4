/* Notifications: what the engine and the API tell through the event hub, sent to the job's owners by mail and
 * to Slack, Mattermost, an HTTP webhook and Sentry. On the loop thread a subscriber picks the events a job's
 * notifyOn asks for and copies what the message needs into a bounded queue (full: dropped and counted); a
 * worker thread delivers with libcurl, retrying transient errors with exponential backoff, and its results
 * come back to the loop thread, which counts them in the metrics. The scheduler never waits on it. */
#ifndef GNOMON_NOTIFY_NOTIFY_H
#define GNOMON_NOTIFY_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct events;
struct metrics;
struct notify;
struct run_output;

/* The settings; strings are borrowed for the calls that take them ("" means unset). */
struct notify_config {
	const char *cluster_name;        /* subject prefix `[name] ` */
	const char *hostname;            /* Sentry's server_name, the Message-ID's host */
	struct run_output *output;       /* the runs' captured output, for log tails (borrowed; NULL: none) */
	const char *mail_server;         /* host:port */
	const char *mail_from;
	const char *mail_user;
	const char *mail_password;
	bool mail_ssl;                   /* SSL on connect (smtps) */
	bool mail_starttls;              /* require STARTTLS on a plain connection */
	const char *slack_url;
	const char *mattermost_url;
	const char *http_url;            /* the generic JSON webhook */
	const char *http_credentials;    /* user:password for Basic auth */
	const char *raven_dsn;           /* Sentry */
	int queue_size;                  /* notifications queued or being delivered at most */
	int64_t timeout_ms;              /* one attempt of one delivery */
	int retries;                     /* more attempts after a transient error */
	int64_t retry_delay_ms;          /* before the first retry; doubles each time */
	size_t tail_bytes;               /* of the end of each output stream put in a message */
};

/* Check the settings (one line naming the option on error: `--mail-server: ...`). Returns 0 or -EINVAL. */
int notify_config_check(const struct notify_config *cfg, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* True when at least one channel is configured. */
bool notify_config_any(const struct notify_config *cfg);

/* Subscribe to ev and start the worker (only when a channel is configured). Counters go to m (borrowed, loop
 * thread). Returns NULL with err when the settings are invalid or the worker cannot start. */
struct notify *notify_new(uv_loop_t *loop, const struct notify_config *cfg, struct events *ev, struct metrics *m,
    char *err, size_t errlen);
/* Unsubscribe, stop the worker (a delivery in progress is abandoned; bounded by --notify-timeout at worst)
 * and close the loop handles; the notify is freed once they are closed (keep running the loop). NULL: no-op. */
void notify_stop(struct notify *n);

#endif
