/* The notification worker: a thread that formats queued notices and delivers them with libcurl's multi
 * interface (several transfers at once, so one slow receiver does not hold the others), retries transient
 * errors (connect failures, timeouts, HTTP 429 and 5xx, SMTP 4xx) with exponential backoff, and counts the
 * outcomes for the loop thread. Only notify.c uses it. */
#ifndef GNOMON_NOTIFY_NOTIFY_SEND_H
#define GNOMON_NOTIFY_NOTIFY_SEND_H

#include <stddef.h>
#include <stdint.h>

struct notice;
struct notify_config;
struct notify_sender;

enum notify_channel { NOTIFY_MAIL, NOTIFY_SLACK, NOTIFY_MATTERMOST, NOTIFY_HTTP, NOTIFY_SENTRY, NOTIFY_CHANNEL_COUNT };
enum notify_outcome { NOTIFY_SENT, NOTIFY_FAILED, NOTIFY_RETRIED, NOTIFY_OUTCOME_COUNT };

/* "mail", "slack", "mattermost", "http", "sentry". */
const char *notify_channel_name(enum notify_channel ch);

/* Outcomes since the last take, per channel. */
struct notify_counts {
	int64_t n[NOTIFY_CHANNEL_COUNT][NOTIFY_OUTCOME_COUNT];
};

/* Copy the settings (cfg must have passed notify_config_check) and start the thread; wake(ctx) is called on
 * the worker thread when there are outcomes to take. Returns NULL with err when it cannot start. */
struct notify_sender *notify_sender_start(const struct notify_config *cfg, void (*wake)(void *ctx), void *ctx,
    char *err, size_t errlen);
/* The channels configured, as a bit mask of 1 << enum notify_channel. */
unsigned notify_sender_channels(const struct notify_sender *s);
/* Queue a notice for the channels in the mask; takes ownership of n. Returns 0, or -ENOSPC (n freed) when the
 * queue is full: queued and in-delivery notices are bounded by the queue size. Any thread. */
int notify_sender_push(struct notify_sender *s, struct notice *n, unsigned channels);
/* Move the outcomes counted since the last call into out (added). Any thread. */
void notify_sender_take(struct notify_sender *s, struct notify_counts *out);
/* Stop the thread promptly, abandoning what is queued or in delivery (logged), and free everything. */
void notify_sender_stop(struct notify_sender *s);

#endif
