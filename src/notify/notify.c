#include "notify/notify.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job/job.h"
#include "notify/notify_format.h"
#include "notify/notify_payload.h"
#include "notify/notify_send.h"
#include "scheduler/events.h"
#include "history/run_record.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/xmalloc.h"

static const char *const outcome_names[NOTIFY_OUTCOME_COUNT] = {"sent", "failed", "retried"};

struct notify {
	struct events *events;
	struct metrics *metrics;
	struct notify_sender *sender;
	unsigned channels;
	uv_async_t async;  /* the worker has outcomes to count */
	uv_idle_t idle;    /* next loop iteration: hand the notices built during this one to the worker */
	int open_handles;
	struct notice **pending;
	size_t n_pending, cap_pending;
	int64_t dropped;
};

/* A URL option: http or https, no white space. The value is never echoed (webhook URLs hold tokens). */
static int check_url(const char *name, const char *url, char *err, size_t errlen)
{
	if (url == NULL || url[0] == '\0')
		return 0;
	if ((strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) || strpbrk(url, " \t\r\n") != NULL) {
		snprintf(err, errlen, "--%s: expected an http:// or https:// URL", name);
		return -EINVAL;
	}
	return 0;
}

static bool set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* --mail-server host:port, with --mail-from. */
static int check_mail(const struct notify_config *c, char *err, size_t errlen)
{
	const char *colon;
	char *end;
	long port;

	if (!set(c->mail_server)) {
		if (set(c->mail_from) || set(c->mail_user)) {
			snprintf(err, errlen, "--%s: needs --mail-server host:port", set(c->mail_from) ? "mail-from" : "mail-user");
			return -EINVAL;
		}
		return 0;
	}
	colon = strrchr(c->mail_server, ':');
	port = colon ? strtol(colon + 1, &end, 10) : 0;
	if (colon == NULL || colon == c->mail_server || colon[1] == '\0' || *end != '\0' || port < 1 || port > 65535 ||
	    strpbrk(c->mail_server, " \t\r\n/@?#") != NULL) {
		snprintf(err, errlen, "--mail-server: expected host:port, got '%s'", c->mail_server);
		return -EINVAL;
	}
	if (!set(c->mail_from)) {
		snprintf(err, errlen, "--mail-server: needs --mail-from (the sender's address)");
		return -EINVAL;
	}
	if (strpbrk(c->mail_from, "\r\n") != NULL || strchr(c->mail_from, '@') == NULL) {
		snprintf(err, errlen, "--mail-from: expected an e-mail address, got '%s'", c->mail_from);
		return -EINVAL;
	}
	if (c->mail_ssl && c->mail_starttls) {
		snprintf(err, errlen, "--mail-starttls: not with --mail-ssl, which uses SSL from the start");
		return -EINVAL;
	}
	return 0;
}

int notify_config_check(const struct notify_config *c, char *err, size_t errlen)
{
	struct notify_dsn dsn;
	char msg[256];

	if (check_mail(c, err, errlen) < 0 || check_url("slack-url", c->slack_url, err, errlen) < 0 ||
	    check_url("mattermost-url", c->mattermost_url, err, errlen) < 0 ||
	    check_url("http-notification-url", c->http_url, err, errlen) < 0)
		return -EINVAL;
	if (set(c->http_credentials) && strchr(c->http_credentials, ':') == NULL) {
		snprintf(err, errlen, "--http-notification-credentials: expected user:password");
		return -EINVAL;
	}
	if (set(c->raven_dsn)) {
		if (notify_dsn_parse(c->raven_dsn, &dsn, msg, sizeof(msg)) < 0) {
			snprintf(err, errlen, "--raven-dsn: %s", msg);
			return -EINVAL;
		}
		notify_dsn_clear(&dsn);
	}
	return 0;
}

bool notify_config_any(const struct notify_config *c)
{
	return set(c->mail_server) || set(c->slack_url) || set(c->mattermost_url) || set(c->http_url) ||
	    set(c->raven_dsn);
}


/* Chronos's `uris` value: the fetch URIs then the uris, comma-joined. Returns a string the caller frees. */
static char *joined_uris(const struct job *j)
{
	size_t len = 1;
	char *out;

	for (uint32_t i = 0; i < j->n_fetch; i++)
		len += strlen(j->fetch[i].uri) + 1;
	for (uint32_t i = 0; i < j->n_uris; i++)
		len += strlen(j->uris[i]) + 1;
	out = xcalloc(1, len);
	for (uint32_t i = 0; i < j->n_fetch + j->n_uris; i++) {
		if (i > 0)
			strcat(out, ",");
		strcat(out, i < j->n_fetch ? j->fetch[i].uri : j->uris[i - j->n_fetch]);
	}
	return out;
}

/* Copy what the message needs from the job and the run (both only valid during the event). */
static struct notice *notice_from(enum notice_kind kind, const struct job *j, const struct run_record *r,
    const char *reason, bool by_failures)
{
	struct notice *n = notice_new(kind);

	n->when_ms = clock_now_ms();
	notice_set(&n->job, j->name);
	notice_set(&n->owner, j->owner);
	notice_set(&n->command, j->command);
	notice_set(&n->executor, j->executor);
	notice_set(&n->executor_flags, j->executor_flags);
	free(n->uris);
	n->uris = joined_uris(j);
	notice_set(&n->reason, reason);
	n->cpus = j->cpus;
	n->mem = j->mem;
	n->soft_error = j->soft_error;
	n->retries = j->retries;
	n->success_count = j->success_count;
	n->error_count = j->error_count;
	n->errors_since_last_success = j->errors_since_last_success;
	n->last_success_ms = j->last_success_ms;
	n->last_error_ms = j->last_error_ms;
	n->by_failures = kind == NOTICE_DISABLED && by_failures;
	if (r == NULL)
		return n;
	n->has_run = true;
	notice_set(&n->task_id, r->task_id);
	notice_set(&n->status, run_status_name(r->status));
	notice_set(&n->host, r->host);
	notice_set(&n->run_reason, r->reason);
	n->exit_code = r->exit_code;
	n->signal = r->signal;
	n->cpu_user_us = r->cpu_user_us;
	n->cpu_system_us = r->cpu_system_us;
	n->peak_memory_bytes = r->peak_memory_bytes;
	n->out.total = r->stdout_bytes;
	n->err.total = r->stderr_bytes;
	return n;
}

#define FOLD_WINDOW 4

/* One run's end and its failure or recovery are one message: the later event of the pair, in the same loop
 * iteration, folds into the earlier one; so does the end of a finite schedule that a failure's message already
 * tells (the last run of an R1 job failed: "failed!" says it all). Returns true when kind was folded in (nothing
 * more to do). */
static bool fold(struct notify *nf, enum notice_kind kind, bool by_failures, const char *task_id)
{
	/* A run's events come one after the other: only the last few notices can be its own (and a burst of
	 * thousands of jobs stays linear). */
	size_t from = nf->n_pending > FOLD_WINDOW ? nf->n_pending - FOLD_WINDOW : 0;

	for (size_t i = from; i < nf->n_pending; i++) {
		struct notice *p = nf->pending[i];
		if (!p->has_run || strcmp(p->task_id, task_id) != 0)
			continue;
		if (p->kind == NOTICE_FAILED && kind == NOTICE_DISABLED && !by_failures)
			return true;
		if (p->kind == NOTICE_FINISHED && (kind == NOTICE_FAILED || kind == NOTICE_RECOVERED)) {
			p->kind = kind;
			return true;
		}
		if (kind == NOTICE_FINISHED && (p->kind == NOTICE_FAILED || p->kind == NOTICE_RECOVERED))
			return true;
	}
	return false;
}

static bool ends_run(enum run_status s)
{
	return s == RUN_SUCCEEDED || s == RUN_FAILED || s == RUN_KILLED || s == RUN_LOST;
}

static void count_channels(struct notify *nf, unsigned channels, const char *what)
{
	char name[64];
	for (int ch = 0; ch < NOTIFY_CHANNEL_COUNT; ch++) {
		if (!(channels & (1u << ch)))
			continue;
		snprintf(name, sizeof(name), "notify.%s.%s", notify_channel_name((enum notify_channel)ch), what);
		metrics_count(nf->metrics, name, 1);
	}
}

/* Hand the notices of this iteration to the worker; a full queue drops them (counted, logged). */
static void on_idle(uv_idle_t *h)
{
	struct notify *nf = h->data;
	char *to[1];

	uv_idle_stop(&nf->idle);
	for (size_t i = 0; i < nf->n_pending; i++) {
		struct notice *n = nf->pending[i];
		unsigned channels = nf->channels;
		size_t n_to = notify_owner_split(n->owner, to, 1);

		if (n_to > 0)
			free(to[0]);
		else
			channels &= ~(1u << NOTIFY_MAIL); /* no owner: no mail, the other channels still */
		if (channels == 0) {
			notice_free(n);
			continue;
		}
		char job[JOB_NAME_MAX + 1];
		snprintf(job, sizeof(job), "%s", n->job);
		if (notify_sender_push(nf->sender, n, channels) == 0)
			continue;
		count_channels(nf, channels, "dropped");
		metrics_count(nf->metrics, "notify.dropped", 1);
		if (nf->dropped++ % 100 == 0)
			log_warnx_kv(LOG_FIELDS(.event = "notify.dropped", .job = job),
			    "notify: the queue is full; dropped the notification about job '%s' (%lld dropped so far)", job,
			    (long long)nf->dropped);
	}
	nf->n_pending = 0;
}

/* Keep a notice for the worker, handed over on the next loop iteration. */
static void queue_notice(struct notify *nf, struct notice *n)
{
	if (nf->n_pending == nf->cap_pending) {
		nf->cap_pending = nf->cap_pending ? 2 * nf->cap_pending : 16;
		nf->pending = xrealloc(nf->pending, nf->cap_pending * sizeof(*nf->pending));
	}
	nf->pending[nf->n_pending++] = n;
	if (nf->n_pending == 1 && uv_idle_start(&nf->idle, on_idle) < 0)
		log_warnx("notify: cannot start the idle handle");
}

/* An agent was lost: no job, so no owner to mail (the chat, webhook and Sentry channels get it). */
static struct notice *agent_notice(const struct event *ev)
{
	struct notice *n = notice_new(NOTICE_AGENT_LOST);

	n->when_ms = clock_now_ms();
	notice_set(&n->agent, ev->agent);
	notice_set(&n->agent_host, ev->agent_host);
	notice_set(&n->reason, ev->reason);
	return n;
}

/* The subscriber: pick what the job's notifyOn asks for; never more than copying. */
static void on_event(void *ctx, const struct event *ev)
{
	struct notify *nf = ctx;
	const struct job *j = ev->job;
	const struct run_record *r = ev->run;
	enum notice_kind kind;

	if (ev->type == EVENT_AGENT_LOST) {
		queue_notice(nf, agent_notice(ev));
		return;
	}
	if (j == NULL || j->notify_on == JOB_NOTIFY_NEVER)
		return;
	switch (ev->type) {
	case EVENT_JOB_DELETED: kind = NOTICE_DELETED; r = NULL; break;
	case EVENT_JOB_DISABLED: kind = NOTICE_DISABLED; break;
	case EVENT_RETRIES_EXHAUSTED: kind = NOTICE_FAILED; break;
	case EVENT_RUN_SKIPPED: kind = NOTICE_SKIPPED; break;
	case EVENT_JOB_RECOVERED: kind = NOTICE_RECOVERED; break;
	case EVENT_RUN_CHANGED:
		if (j->notify_on != JOB_NOTIFY_ALWAYS || r == NULL || !ends_run(r->status))
			return;
		kind = NOTICE_FINISHED;
		break;
	default:
		return;
	}
	if (r != NULL && fold(nf, kind, ev->by_failures, r->task_id))
		return;
	queue_notice(nf, notice_from(kind, j, r, ev->reason, ev->by_failures));
}

/* Count what the worker reports. */
static void take_counts(struct notify *nf)
{
	struct notify_counts c;
	char name[64];

	memset(&c, 0, sizeof(c));
	notify_sender_take(nf->sender, &c);
	for (int ch = 0; ch < NOTIFY_CHANNEL_COUNT; ch++) {
		for (int o = 0; o < NOTIFY_OUTCOME_COUNT; o++) {
			if (c.n[ch][o] == 0)
				continue;
			snprintf(name, sizeof(name), "notify.%s.%s", notify_channel_name((enum notify_channel)ch),
			    outcome_names[o]);
			metrics_count(nf->metrics, name, c.n[ch][o]);
		}
	}
}

static void on_async(uv_async_t *h)
{
	take_counts(h->data);
}

/* Called on the worker thread. */
static void wake(void *ctx)
{
	struct notify *nf = ctx;
	uv_async_send(&nf->async);
}

static void free_notify(struct notify *nf)
{
	for (size_t i = 0; i < nf->n_pending; i++)
		notice_free(nf->pending[i]);
	free(nf->pending);
	free(nf);
}

static void on_closed(uv_handle_t *h)
{
	struct notify *nf = h->data;
	if (--nf->open_handles == 0)
		free_notify(nf);
}

struct notify *notify_new(uv_loop_t *loop, const struct notify_config *cfg, struct events *ev, struct metrics *m,
    char *err, size_t errlen)
{
	struct notify *nf;

	if (notify_config_check(cfg, err, errlen) < 0)
		return NULL;
	nf = xcalloc(1, sizeof(*nf));
	nf->events = ev;
	nf->metrics = m;
	if (!notify_config_any(cfg))
		return nf; /* nothing to send to: no thread, no handles */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "notify: libcurl could not be initialised");
		free(nf);
		return NULL;
	}
	if (uv_async_init(loop, &nf->async, on_async) < 0 || uv_idle_init(loop, &nf->idle) < 0)
		fatalx("notify: cannot initialise the loop handles");
	nf->async.data = nf->idle.data = nf;
	nf->open_handles = 2;
	nf->sender = notify_sender_start(cfg, wake, nf, err, errlen);
	if (nf->sender == NULL) {
		notify_stop(nf);
		return NULL;
	}
	if (events_subscribe(ev, on_event, nf) < 0) {
		snprintf(err, errlen, "notify: too many event subscribers");
		notify_stop(nf);
		return NULL;
	}
	nf->channels = notify_sender_channels(nf->sender);
	log_info("notifications: %s%s%s%s%s(queue %d, %d retries)", nf->channels & 1u << NOTIFY_MAIL ? "mail " : "",
	    nf->channels & 1u << NOTIFY_SLACK ? "slack " : "", nf->channels & 1u << NOTIFY_MATTERMOST ? "mattermost " : "",
	    nf->channels & 1u << NOTIFY_HTTP ? "http " : "", nf->channels & 1u << NOTIFY_SENTRY ? "sentry " : "",
	    cfg->queue_size, cfg->retries);
	return nf;
}

void notify_stop(struct notify *nf)
{
	if (nf == NULL)
		return;
	if (nf->open_handles == 0) {
		free_notify(nf);
		return;
	}
	events_unsubscribe(nf->events, on_event, nf);
	if (nf->sender != NULL) {
		notify_sender_stop(nf->sender);
		nf->sender = NULL;
	}
	curl_global_cleanup();
	uv_close((uv_handle_t *)&nf->async, on_closed);
	uv_close((uv_handle_t *)&nf->idle, on_closed);
}
