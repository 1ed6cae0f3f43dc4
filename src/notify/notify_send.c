#include "notify/notify_send.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "notify/notify.h"
#include "notify/notify_format.h"
#include "notify/notify_payload.h"
#include "history/run_output.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define MAX_ACTIVE 16            /* transfers at once */
#define MAX_ACTIVE_PER_CHANNEL 4 /* so a receiver that hangs leaves room for the others */
#define MAX_RECIPIENTS 50
#define RETRY_DELAY_MAX_MS 300000
#define IDLE_WAIT_MS 60000
#define MAX_PREPARED 64          /* notices formatted (log tails read) at once; the rest wait as they came */

static const char *const channel_names[NOTIFY_CHANNEL_COUNT] = {"mail", "slack", "mattermost", "http", "sentry"};

/* One notice on its way: queued, then delivered on each of its channels. */
struct item {
	struct item *next;
	struct notice *n;
	unsigned channels;
	int remaining; /* deliveries not finished */
};

/* One notice to one channel: the request, built once, and its attempts. */
struct delivery {
	struct delivery *next;
	struct item *item;
	enum notify_channel ch;
	int attempts;
	int64_t due_ms; /* monotonic: when to try (again) */
	char *body;
	size_t body_len, sent;
	struct curl_slist *headers, *rcpt;
	CURL *easy;
	char errbuf[CURL_ERROR_SIZE];
};

struct notify_sender {
	/* Settings: written before the thread starts, then only read. */
	struct run_output *output; /* the runs' captured output (tail: any thread) */
	char *cluster, *hostname, *mail_url, *mail_from, *mail_from_addr, *mail_user, *mail_password;
	char *url[NOTIFY_CHANNEL_COUNT], *http_credentials;
	bool mail_starttls;
	struct notify_dsn dsn;
	unsigned channels;
	size_t queue_size, tail_bytes;
	int retries;
	int64_t timeout_ms, retry_delay_ms;
	void (*wake)(void *ctx);
	void *wake_ctx;
	CURLM *multi;
	uv_thread_t thread;

	uv_mutex_t lock; /* guards what follows */
	struct item *head, *tail;
	size_t in_flight;
	bool stop;
	struct notify_counts counts;

	/* The worker's own. */
	struct item *backlog, *backlog_tail; /* taken from the queue, not formatted yet */
	size_t n_prepared;
	struct delivery *waiting, *active;
	int n_active, active_ch[NOTIFY_CHANNEL_COUNT];
	uint64_t seq;
	bool counted;
};

const char *notify_channel_name(enum notify_channel ch)
{
	return (unsigned)ch < NOTIFY_CHANNEL_COUNT ? channel_names[ch] : "unknown";
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/* Read the last bytes of a run's stream into t (total already holds what the run wrote). */
static void read_tail(const struct notify_sender *s, const struct notice *n, enum run_stream stream,
    struct notice_tail *t)
{
	size_t len;
	int64_t size;
	char *buf;
	int rc;

	free(t->text);
	t->text = NULL;
	if (s->tail_bytes == 0 || s->output == NULL)
		return;
	buf = xmalloc(s->tail_bytes);
	rc = run_output_tail(s->output, &(struct run_output_key){n->task_id}, stream, buf, s->tail_bytes, &len,
	    &size);
	if (rc < 0 && t->total == 0) {
		t->text = xstrdup(""); /* nothing written, so nothing stored */
	} else if (rc == 0) {
		t->text = notify_clean_text(buf, len, size > (int64_t)len);
		if (t->total < size)
			t->total = size;
	}
	free(buf);
}

static void count(struct notify_sender *s, enum notify_channel ch, enum notify_outcome o)
{
	uv_mutex_lock(&s->lock);
	s->counts.n[ch][o]++;
	uv_mutex_unlock(&s->lock);
	s->counted = true;
}

/* 32 hex digits for a Sentry event id. */
static void event_id(struct notify_sender *s, char out[33])
{
	unsigned char raw[16];
	if (getrandom(raw, sizeof(raw), GRND_NONBLOCK) != (ssize_t)sizeof(raw)) {
		uint64_t a = (uint64_t)clock_now_ms() ^ ((uint64_t)getpid() << 40), b = ++s->seq;
		memcpy(raw, &a, 8);
		memcpy(raw + 8, &b, 8);
	}
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

/* Build the request of one channel; NULL when the notice has nothing for it (mail without addresses). */
static struct delivery *build(struct notify_sender *s, struct item *it, enum notify_channel ch, const char *subject,
    const char *body, char **to, size_t n_to, const char *to_joined)
{
	struct delivery *d;
	const struct notice *n = it->n;

	if (ch == NOTIFY_MAIL && n_to == 0)
		return NULL;
	d = xcalloc(1, sizeof(*d));
	d->item = it;
	d->ch = ch;
	d->due_ms = mono_ms();
	switch (ch) {
	case NOTIFY_MAIL: {
		char *mid = xasprintf("<gnomon.%lld.%llu@%s>", (long long)clock_now_ms(), (unsigned long long)++s->seq,
		    s->hostname);
		d->body = notify_mail_message(s->mail_from, (const char *const *)to, n_to, subject, body, clock_now_ms(), mid);
		free(mid);
		for (size_t i = 0; i < n_to; i++) {
			char *addr = xasprintf("<%s>", to[i]);
			struct curl_slist *l = curl_slist_append(d->rcpt, addr);
			free(addr);
			if (l == NULL)
				fatalx("out of memory building a mail");
			d->rcpt = l;
		}
		break;
	}
	case NOTIFY_SLACK:
	case NOTIFY_MATTERMOST:
		d->body = notify_chat_json(subject, body);
		break;
	case NOTIFY_HTTP:
		d->body = notify_webhook_json(n, subject, body, to_joined);
		break;
	case NOTIFY_SENTRY:
	case NOTIFY_CHANNEL_COUNT: {
		char id[33], *auth = notify_sentry_auth(&s->dsn, clock_now_ms() / 1000), *hdr = xasprintf("X-Sentry-Auth: %s", auth);
		event_id(s, id);
		d->body = notify_sentry_json(n, subject, body, id, clock_now_ms(), s->hostname);
		d->headers = curl_slist_append(d->headers, hdr);
		if (d->headers == NULL)
			fatalx("out of memory building a request");
		free(hdr);
		free(auth);
		break;
	}
	}
	d->body_len = strlen(d->body);
	if (ch != NOTIFY_MAIL) {
		struct curl_slist *l = curl_slist_append(d->headers, "Content-Type: application/json");
		if (l != NULL)
			l = curl_slist_append(l, "Expect:");
		if (l == NULL)
			fatalx("out of memory building a request");
		d->headers = l;
	}
	return d;
}

/* Turn a queued notice into its deliveries (reading the run's log tails here, off the loop thread). */
static void prepare(struct notify_sender *s, struct item *it)
{
	struct notice *n = it->n;
	char *to[MAX_RECIPIENTS], *subject, *body, *joined;
	size_t n_to = notify_owner_split(n->owner, to, MAX_RECIPIENTS), len = 1;

	it->remaining = 0;
	s->n_prepared++;

	if (n->has_run) {
		read_tail(s, n, RUN_STDOUT, &n->out);
		read_tail(s, n, RUN_STDERR, &n->err);
	}
	subject = notify_subject(n, s->cluster);
	body = notify_body(n);
	for (size_t i = 0; i < n_to; i++)
		len += strlen(to[i]) + 1;
	joined = xcalloc(1, len);
	for (size_t i = 0; i < n_to; i++) {
		if (i > 0)
			strcat(joined, ",");
		strcat(joined, to[i]);
	}
	for (int ch = 0; ch < NOTIFY_CHANNEL_COUNT; ch++) {
		if (!(it->channels & (1u << ch)))
			continue;
		struct delivery *d = build(s, it, (enum notify_channel)ch, subject, body, to, n_to, joined);
		if (d == NULL)
			continue;
		d->next = s->waiting;
		s->waiting = d;
		it->remaining++;
	}
	for (size_t i = 0; i < n_to; i++)
		free(to[i]);
	free(joined);
	free(subject);
	free(body);
}

/* A notice is done with: free it and make room in the queue. */
static void item_free(struct notify_sender *s, struct item *it)
{
	if (it->remaining >= 0)
		s->n_prepared--;
	notice_free(it->n);
	free(it);
	uv_mutex_lock(&s->lock);
	s->in_flight--;
	uv_mutex_unlock(&s->lock);
}

/* A delivery is over (sent, failed for good or abandoned): release it, and its notice after the last one. */
static void delivery_free(struct notify_sender *s, struct delivery *d)
{
	struct item *it = d->item;

	if (d->easy != NULL) {
		curl_multi_remove_handle(s->multi, d->easy);
		curl_easy_cleanup(d->easy);
	}
	curl_slist_free_all(d->headers);
	curl_slist_free_all(d->rcpt);
	free(d->body);
	free(d);
	if (--it->remaining == 0)
		item_free(s, it);
}

static size_t discard(char *ptr, size_t size, size_t nmemb, void *arg)
{
	(void)ptr;
	(void)arg;
	return size * nmemb;
}

static size_t read_body(char *buf, size_t size, size_t nitems, void *arg)
{
	struct delivery *d = arg;
	size_t n = d->body_len - d->sent;

	if (n > size * nitems)
		n = size * nitems;
	memcpy(buf, d->body + d->sent, n);
	d->sent += n;
	return n;
}

#define SETOPT(e, opt, val) ok = ok && curl_easy_setopt((e), (opt), (val)) == CURLE_OK

/* Start one attempt; false when libcurl refuses (counted as a transient failure by the caller). */
static bool start(struct notify_sender *s, struct delivery *d)
{
	CURL *e = curl_easy_init();
	bool ok = e != NULL;

	if (!ok)
		return false;
	d->errbuf[0] = '\0';
	d->sent = 0;
	SETOPT(e, CURLOPT_NOSIGNAL, 1L);
	SETOPT(e, CURLOPT_PRIVATE, d);
	SETOPT(e, CURLOPT_ERRORBUFFER, d->errbuf);
	SETOPT(e, CURLOPT_TIMEOUT_MS, (long)s->timeout_ms);
	SETOPT(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(s->timeout_ms < 10000 ? s->timeout_ms : 10000));
	SETOPT(e, CURLOPT_USERAGENT, "gnomon/" GNOMON_VERSION);
	SETOPT(e, CURLOPT_WRITEFUNCTION, discard);
	if (d->ch == NOTIFY_MAIL) {
		SETOPT(e, CURLOPT_URL, s->mail_url);
		SETOPT(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
		SETOPT(e, CURLOPT_MAIL_FROM, s->mail_from_addr);
		SETOPT(e, CURLOPT_MAIL_RCPT, d->rcpt);
		SETOPT(e, CURLOPT_UPLOAD, 1L);
		SETOPT(e, CURLOPT_READFUNCTION, read_body);
		SETOPT(e, CURLOPT_READDATA, d);
		SETOPT(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)d->body_len);
		SETOPT(e, CURLOPT_USE_SSL, (long)(s->mail_starttls ? CURLUSESSL_ALL : CURLUSESSL_NONE));
		SETOPT(e, CURLOPT_SERVER_RESPONSE_TIMEOUT, (long)(s->timeout_ms + 999) / 1000);
		SETOPT(e, CURLOPT_FORBID_REUSE, 1L); /* QUIT now, not when the worker stops */
		if (s->mail_user[0] != '\0') {
			SETOPT(e, CURLOPT_USERNAME, s->mail_user);
			SETOPT(e, CURLOPT_PASSWORD, s->mail_password);
		}
	} else {
		SETOPT(e, CURLOPT_URL, d->ch == NOTIFY_SENTRY ? s->dsn.store_url : s->url[d->ch]);
		SETOPT(e, CURLOPT_PROTOCOLS_STR, "http,https");
		SETOPT(e, CURLOPT_POSTFIELDS, d->body);
		SETOPT(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)d->body_len);
		SETOPT(e, CURLOPT_HTTPHEADER, d->headers);
		if (d->ch == NOTIFY_HTTP && s->http_credentials[0] != '\0') {
			SETOPT(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
			SETOPT(e, CURLOPT_USERPWD, s->http_credentials);
		}
	}
	if (!ok || curl_multi_add_handle(s->multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		return false;
	}
	d->easy = e;
	d->next = s->active;
	s->active = d;
	s->n_active++;
	s->active_ch[d->ch]++;
	return true;
}

enum verdict { SENT, TRANSIENT, PERMANENT };

/* What an attempt's result means: transient for connection trouble, timeouts, HTTP 429/5xx, SMTP 4xx. */
static enum verdict classify(enum notify_channel ch, CURLcode rc, long code)
{
	if (rc == CURLE_OK)
		return ch == NOTIFY_MAIL || (code >= 200 && code < 300) ? SENT :
		    code == 429 || code >= 500 ? TRANSIENT : PERMANENT;
	if (ch == NOTIFY_MAIL && code >= 400)
		return code < 500 ? TRANSIENT : PERMANENT;
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_FAILED_INIT:
	case CURLE_OUT_OF_MEMORY:
		return TRANSIENT;
	default:
		return PERMANENT;
	}
}

/* Retry k (1 = the first) waits retry_delay * 2^(k-1), capped. */
static int64_t backoff(const struct notify_sender *s, int k)
{
	int64_t ms = s->retry_delay_ms;
	for (int i = 1; i < k && ms < RETRY_DELAY_MAX_MS; i++)
		ms *= 2;
	return ms < RETRY_DELAY_MAX_MS ? ms : RETRY_DELAY_MAX_MS;
}

/* Count an attempt's end: sent, retried later, or failed for good (logged). */
static void conclude(struct notify_sender *s, struct delivery *d, CURLcode rc, long code)
{
	enum verdict v = classify(d->ch, rc, code);
	char why[CURL_ERROR_SIZE + 64];

	d->attempts++;
	if (v == SENT) {
		log_debug_kv(LOG_FIELDS(.event = "notify.sent", .job = d->item->n->job), "notify: %s: sent for job '%s'",
		    channel_names[d->ch], d->item->n->job);
		count(s, d->ch, NOTIFY_SENT);
		delivery_free(s, d);
		return;
	}
	if (rc == CURLE_OK)
		snprintf(why, sizeof(why), "HTTP %ld", code);
	else if (code > 0)
		snprintf(why, sizeof(why), "%s (last reply %ld)", d->errbuf[0] ? d->errbuf : curl_easy_strerror(rc), code);
	else
		snprintf(why, sizeof(why), "%s", d->errbuf[0] ? d->errbuf : curl_easy_strerror(rc));
	if (v == TRANSIENT && d->attempts <= s->retries) {
		int64_t wait = backoff(s, d->attempts);
		log_debug_kv(LOG_FIELDS(.event = "notify.retry", .job = d->item->n->job),
		    "notify: %s: attempt %d for job '%s' failed (%s); retrying in %lld ms", channel_names[d->ch],
		    d->attempts, d->item->n->job, why, (long long)wait);
		count(s, d->ch, NOTIFY_RETRIED);
		d->due_ms = mono_ms() + wait;
		d->next = s->waiting;
		s->waiting = d;
		return;
	}
	log_warnx_kv(LOG_FIELDS(.event = "notify.failed", .job = d->item->n->job),
	    "notify: %s: could not deliver the notification about job '%s' after %d attempt%s: %s",
	    channel_names[d->ch], d->item->n->job, d->attempts, d->attempts == 1 ? "" : "s", why);
	count(s, d->ch, NOTIFY_FAILED);
	delivery_free(s, d);
}

/* Collect the transfers libcurl has finished. */
static void collect(struct notify_sender *s)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(s->multi, &left)) != NULL) {
		struct delivery *d, **pp;
		CURLcode rc = msg->data.result;
		char *priv = NULL;
		long code = 0;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		d = (struct delivery *)(void *)priv;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
		for (pp = &s->active; *pp != NULL && *pp != d; pp = &(*pp)->next)
			;
		if (d == NULL || *pp == NULL)
			continue;
		*pp = d->next;
		s->n_active--;
		s->active_ch[d->ch]--;
		curl_multi_remove_handle(s->multi, d->easy);
		curl_easy_cleanup(d->easy);
		d->easy = NULL;
		conclude(s, d, rc, code);
	}
}

/* Start the waiting deliveries that are due, within the limits; returns ms until the next one is due. */
static int64_t start_due(struct notify_sender *s)
{
	int64_t now = mono_ms(), next = IDLE_WAIT_MS;
	struct delivery **pp = &s->waiting;

	while (*pp != NULL) {
		struct delivery *d = *pp;
		bool room = s->n_active < MAX_ACTIVE && s->active_ch[d->ch] < MAX_ACTIVE_PER_CHANNEL;
		if (!room || d->due_ms > now) {
			if (room && d->due_ms - now < next)
				next = d->due_ms - now;
			pp = &d->next;
			continue;
		}
		*pp = d->next;
		if (!start(s, d)) {
			d->next = NULL;
			conclude(s, d, CURLE_FAILED_INIT, 0);
			pp = &s->waiting; /* conclude may have put it back at the head */
		}
	}
	return next;
}

/* Give up on everything at shutdown; returns how many notices were not finished. */
static size_t abandon(struct notify_sender *s, struct item *queued)
{
	size_t n = 0;

	if (s->backlog_tail != NULL) {
		s->backlog_tail->next = queued;
		queued = s->backlog;
		s->backlog = s->backlog_tail = NULL;
	}
	while (queued != NULL) {
		struct item *next = queued->next;
		item_free(s, queued);
		queued = next;
		n++;
	}
	while (s->active != NULL || s->waiting != NULL) {
		struct delivery **list = s->active != NULL ? &s->active : &s->waiting, *d = *list;
		*list = d->next;
		if (d->item->remaining == 1)
			n++;
		delivery_free(s, d);
	}
	return n;
}

static void worker(void *arg)
{
	struct notify_sender *s = arg;

	for (;;) {
		struct item *batch;
		bool stop;
		int running;
		int64_t wait;

		uv_mutex_lock(&s->lock);
		stop = s->stop;
		batch = s->head;
		s->head = s->tail = NULL;
		uv_mutex_unlock(&s->lock);
		if (stop) {
			size_t n = abandon(s, batch);
			if (n > 0)
				log_warnx("notify: %zu notification%s not delivered at shutdown", n, n == 1 ? "" : "s");
			return;
		}
		if (batch != NULL) {
			if (s->backlog_tail != NULL)
				s->backlog_tail->next = batch;
			else
				s->backlog = batch;
			while (batch->next != NULL)
				batch = batch->next;
			s->backlog_tail = batch;
		}
		while (s->backlog != NULL && s->n_prepared < MAX_PREPARED) {
			struct item *it = s->backlog;
			s->backlog = it->next;
			if (s->backlog == NULL)
				s->backlog_tail = NULL;
			it->next = NULL;
			prepare(s, it);
			if (it->remaining == 0)
				item_free(s, it);
		}
		start_due(s);
		curl_multi_perform(s->multi, &running);
		collect(s);
		wait = start_due(s);
		if (s->backlog != NULL && s->n_prepared < MAX_PREPARED)
			wait = 0; /* room to format more */
		if (s->counted) {
			s->counted = false;
			s->wake(s->wake_ctx);
		}
		curl_multi_poll(s->multi, NULL, 0, (int)wait, NULL);
	}
}

/* Copy a setting, "" for NULL. */
static char *dup_opt(const char *s)
{
	return xstrdup(s != NULL ? s : "");
}

/* The address inside `Name <a@b>`, or the whole value. */
static char *mail_address(const char *from)
{
	const char *lt = strchr(from, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	return lt && gt ? xasprintf("%.*s", (int)(gt - lt + 1), lt) : xasprintf("<%s>", from);
}

static void settings_free(struct notify_sender *s)
{
	free(s->cluster);
	free(s->hostname);
	free(s->mail_url);
	free(s->mail_from);
	free(s->mail_from_addr);
	free(s->mail_user);
	free(s->mail_password);
	for (int i = 0; i < NOTIFY_CHANNEL_COUNT; i++)
		free(s->url[i]);
	free(s->http_credentials);
	notify_dsn_clear(&s->dsn);
}

struct notify_sender *notify_sender_start(const struct notify_config *cfg, void (*wake)(void *ctx), void *ctx,
    char *err, size_t errlen)
{
	struct notify_sender *s = xcalloc(1, sizeof(*s));

	s->cluster = dup_opt(cfg->cluster_name);
	s->hostname = dup_opt(cfg->hostname);
	s->output = cfg->output;
	s->mail_from = dup_opt(cfg->mail_from);
	s->mail_from_addr = mail_address(s->mail_from);
	s->mail_user = dup_opt(cfg->mail_user);
	s->mail_password = dup_opt(cfg->mail_password);
	s->mail_starttls = cfg->mail_starttls;
	s->mail_url = xasprintf("%s://%s", cfg->mail_ssl ? "smtps" : "smtp", cfg->mail_server ? cfg->mail_server : "");
	s->url[NOTIFY_SLACK] = dup_opt(cfg->slack_url);
	s->url[NOTIFY_MATTERMOST] = dup_opt(cfg->mattermost_url);
	s->url[NOTIFY_HTTP] = dup_opt(cfg->http_url);
	s->http_credentials = dup_opt(cfg->http_credentials);
	s->queue_size = cfg->queue_size > 0 ? (size_t)cfg->queue_size : 1;
	s->tail_bytes = cfg->tail_bytes;
	s->retries = cfg->retries;
	s->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 1;
	s->retry_delay_ms = cfg->retry_delay_ms;
	s->wake = wake;
	s->wake_ctx = ctx;
	if (cfg->mail_server && cfg->mail_server[0])
		s->channels |= 1u << NOTIFY_MAIL;
	for (int ch = NOTIFY_SLACK; ch <= NOTIFY_HTTP; ch++)
		if (s->url[ch][0] != '\0')
			s->channels |= 1u << ch;
	if (cfg->raven_dsn && cfg->raven_dsn[0]) {
		if (notify_dsn_parse(cfg->raven_dsn, &s->dsn, err, errlen) < 0)
			goto fail;
		s->channels |= 1u << NOTIFY_SENTRY;
	}
	s->multi = curl_multi_init();
	if (s->multi == NULL) {
		snprintf(err, errlen, "notify: cannot create a libcurl multi handle");
		goto fail;
	}
	if (uv_mutex_init(&s->lock) != 0) {
		snprintf(err, errlen, "notify: cannot create a mutex");
		goto fail;
	}
	if (uv_thread_create(&s->thread, worker, s) != 0) {
		uv_mutex_destroy(&s->lock);
		snprintf(err, errlen, "notify: cannot start the worker thread");
		goto fail;
	}
	return s;
fail:
	if (s->multi != NULL)
		curl_multi_cleanup(s->multi);
	settings_free(s);
	free(s);
	return NULL;
}

unsigned notify_sender_channels(const struct notify_sender *s)
{
	return s->channels;
}

int notify_sender_push(struct notify_sender *s, struct notice *n, unsigned channels)
{
	struct item *it;

	uv_mutex_lock(&s->lock);
	if (s->stop || s->in_flight >= s->queue_size) {
		uv_mutex_unlock(&s->lock);
		notice_free(n);
		return -ENOSPC;
	}
	s->in_flight++;
	it = xcalloc(1, sizeof(*it));
	it->remaining = -1; /* not prepared */
	it->n = n;
	it->channels = channels & s->channels;
	if (s->tail != NULL)
		s->tail->next = it;
	else
		s->head = it;
	s->tail = it;
	uv_mutex_unlock(&s->lock);
	curl_multi_wakeup(s->multi);
	return 0;
}

void notify_sender_take(struct notify_sender *s, struct notify_counts *out)
{
	uv_mutex_lock(&s->lock);
	for (int ch = 0; ch < NOTIFY_CHANNEL_COUNT; ch++)
		for (int o = 0; o < NOTIFY_OUTCOME_COUNT; o++)
			out->n[ch][o] += s->counts.n[ch][o];
	memset(&s->counts, 0, sizeof(s->counts));
	uv_mutex_unlock(&s->lock);
}

void notify_sender_stop(struct notify_sender *s)
{
	if (s == NULL)
		return;
	uv_mutex_lock(&s->lock);
	s->stop = true;
	uv_mutex_unlock(&s->lock);
	curl_multi_wakeup(s->multi);
	uv_thread_join(&s->thread);
	uv_mutex_destroy(&s->lock);
	curl_multi_cleanup(s->multi);
	settings_free(s);
	free(s);
}
