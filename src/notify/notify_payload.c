#include "notify/notify_payload.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job/job.h"
#include "notify/notify_format.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define GNOMON_CLIENT "gnomon/" GNOMON_VERSION

/* Set a string member; the strings here are valid UTF-8 (cleaned or validated), so jansson takes them. */
static void set_str(json_t *o, const char *key, const char *value)
{
	json_t *v = json_string(value != NULL ? value : "");
	if (v == NULL)
		v = json_string("(not valid UTF-8)");
	if (v == NULL || json_object_set_new(o, key, v) < 0)
		fatalx("out of memory building a notification");
}

static json_t *new_object(void)
{
	json_t *o = json_object();
	if (o == NULL)
		fatalx("out of memory building a notification");
	return o;
}

static char *dump(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (s == NULL)
		fatalx("out of memory dumping a notification");
	return s;
}

/* A double as Java's Double.toString writes the usual values (0.1, 128.0): the shortest that reads back. */
static void java_double(double v, char *out, size_t len)
{
	if (!isfinite(v)) {
		snprintf(out, len, "%s", isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(out, len, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			break;
	}
	if (strpbrk(out, ".eEn") == NULL && strlen(out) + 2 < len)
		strcat(out, ".0");
}

static void set_double(json_t *o, const char *key, double v)
{
	char buf[64];
	java_double(v, buf, sizeof(buf));
	set_str(o, key, buf);
}

static void set_int(json_t *o, const char *key, long long v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%lld", v);
	set_str(o, key, buf);
}

static void set_time(json_t *o, const char *key, int64_t ms)
{
	char buf[JOB_TIME_BUFSZ];
	job_time_format(ms, buf);
	set_str(o, key, buf);
}

/* The job's fields as Chronos's HttpClient and RavenClient put them (every value a string). */
static void put_job_fields(json_t *o, const struct notice *n, bool with_identity)
{
	if (with_identity) {
		set_str(o, "job", n->job);
		set_str(o, "command", n->command);
	}
	set_double(o, "cpus", n->cpus);
	set_str(o, "softError", n->soft_error ? "true" : "false");
	set_int(o, "errorCount", n->error_count);
	set_int(o, "errorsSinceLastSuccess", n->errors_since_last_success);
	set_str(o, "executor", n->executor);
	set_str(o, "executorFlags", n->executor_flags);
	set_time(o, "lastError", n->last_error_ms);
	set_time(o, "lastSuccess", n->last_success_ms);
	set_double(o, "mem", n->mem);
	set_int(o, "retries", n->retries);
	set_int(o, "successCount", n->success_count);
	set_str(o, "uris", n->uris);
}

/* gnomon's additions: the event and, for a run, what became of it and the end of its output. */
static void put_run_fields(json_t *o, const struct notice *n)
{
	set_str(o, "event", notice_kind_name(n->kind));
	if (n->reason[0] != '\0')
		set_str(o, "reason", n->reason);
	if (!n->has_run)
		return;
	set_str(o, "taskId", n->task_id);
	set_str(o, "status", n->status);
	if (n->exit_code >= 0)
		set_int(o, "exitCode", n->exit_code);
	else
		set_str(o, "exitCode", "");
	if (n->signal > 0)
		set_int(o, "signal", n->signal);
	else
		set_str(o, "signal", "");
	set_str(o, "host", n->host);
	if (n->run_reason[0] != '\0' && strcmp(n->run_reason, n->reason) != 0)
		set_str(o, "runReason", n->run_reason);
	if (n->peak_memory_bytes > 0 && n->cpu_user_us >= 0 && n->cpu_system_us >= 0) {
		set_double(o, "cpuUserSeconds", (double)n->cpu_user_us / 1e6);
		set_double(o, "cpuSystemSeconds", (double)n->cpu_system_us / 1e6);
		set_int(o, "peakMemoryBytes", n->peak_memory_bytes);
	}
	set_str(o, "stdoutTail", n->out.text);
	set_str(o, "stderrTail", n->err.text);
}

/* An agent's event has no job: the event, the agent, its host and what became of its runs. */
static void put_agent_fields(json_t *o, const struct notice *n)
{
	set_str(o, "event", notice_kind_name(n->kind));
	set_str(o, "agent", n->agent);
	set_str(o, "hostname", n->agent_host);
	set_str(o, "reason", n->reason);
}

char *notify_chat_json(const char *subject, const char *body)
{
	json_t *o = new_object();
	char *text = body[0] != '\0' ? xasprintf("%s: %s", subject, body) : xstrdup(subject);

	set_str(o, "text", text);
	free(text);
	return dump(o);
}

char *notify_webhook_json(const struct notice *n, const char *subject, const char *body, const char *to)
{
	json_t *o = new_object();

	set_str(o, "subject", subject);
	if (body[0] != '\0')
		set_str(o, "message", body);
	if (to != NULL && to[0] != '\0')
		set_str(o, "to", to);
	if (n->kind == NOTICE_AGENT_LOST) {
		put_agent_fields(o, n);
		return dump(o);
	}
	put_job_fields(o, n, true);
	put_run_fields(o, n);
	return dump(o);
}

char *notify_sentry_json(const struct notice *n, const char *subject, const char *body, const char *event_id,
    int64_t now_ms, const char *server_name)
{
	json_t *o = new_object(), *tags = new_object(), *extra = new_object();
	char *message = body[0] != '\0' ? xasprintf("%s\n\n%s", subject, body) : xstrdup(subject);
	const char *level = notice_is_failure(n) ? "error" : n->kind == NOTICE_SKIPPED ? "warning" : "info";

	set_str(o, "event_id", event_id);
	set_time(o, "timestamp", now_ms);
	set_str(o, "level", level);
	set_str(o, "logger", "gnomon");
	set_str(o, "platform", "other");
	set_str(o, "server_name", server_name);
	set_str(o, "message", message);
	free(message);
	if (n->kind == NOTICE_AGENT_LOST) {
		set_str(tags, "agent", n->agent);
		set_str(tags, "event", notice_kind_name(n->kind));
		put_agent_fields(extra, n);
	} else {
		set_str(tags, "owner", n->owner);
		set_str(tags, "job", n->job);
		set_str(tags, "command", n->command);
		set_str(tags, "event", notice_kind_name(n->kind));
		put_job_fields(extra, n, false);
		put_run_fields(extra, n);
	}
	if (json_object_set_new(o, "tags", tags) < 0 || json_object_set_new(o, "extra", extra) < 0)
		fatalx("out of memory building a notification");
	return dump(o);
}

void notify_dsn_clear(struct notify_dsn *d)
{
	free(d->store_url);
	free(d->public_key);
	free(d->secret_key);
	free(d->project);
	memset(d, 0, sizeof(*d));
}

/* True when s[0..len) is made of characters that need no escaping in a URL or a header. */
static bool plain_token(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
			s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}

int notify_dsn_parse(const char *dsn, struct notify_dsn *d, char *err, size_t errlen)
{
	const char *scheme_end = strstr(dsn, "://"), *auth, *at, *host, *slash, *project, *colon;
	size_t scheme_len;

	memset(d, 0, sizeof(*d));
	if (scheme_end == NULL)
		goto bad;
	scheme_len = (size_t)(scheme_end - dsn);
	if (!((scheme_len == 4 && strncmp(dsn, "http", 4) == 0) || (scheme_len == 5 && strncmp(dsn, "https", 5) == 0)))
		goto bad;
	auth = scheme_end + 3;
	at = strchr(auth, '@');
	slash = strchr(auth, '/');
	if (at == NULL || (slash != NULL && slash < at))
		goto bad;
	host = at + 1;
	slash = strchr(host, '/');
	project = strrchr(host, '/');
	if (slash == NULL || slash == host || project == NULL || strpbrk(dsn, " \t\r\n?#") != NULL)
		goto bad;
	project++;
	if (!plain_token(project, strlen(project)))
		goto bad;
	colon = memchr(auth, ':', (size_t)(at - auth));
	if (!plain_token(auth, (size_t)((colon ? colon : at) - auth)) ||
	    (colon != NULL && !plain_token(colon + 1, (size_t)(at - colon - 1))))
		goto bad;
	d->public_key = xstrndup(auth, (size_t)((colon ? colon : at) - auth));
	d->secret_key = colon ? xstrndup(colon + 1, (size_t)(at - colon - 1)) : xstrdup("");
	d->project = xstrdup(project);
	/* scheme://host[:port] + the path before the project + /api/<project>/store/ */
	d->store_url = xasprintf("%.*s%.*s/api/%s/store/", (int)(auth - dsn), dsn, (int)(project - 1 - host), host,
	    project);
	return 0;
bad:
	notify_dsn_clear(d);
	snprintf(err, errlen, "expected a Sentry DSN such as https://KEY@HOST/PROJECT (not shown: it holds a key)");
	return -EINVAL;
}

char *notify_sentry_auth(const struct notify_dsn *d, int64_t now_s)
{
	return xasprintf("Sentry sentry_version=7, sentry_client=%s, sentry_timestamp=%lld, sentry_key=%s%s%s",
	    GNOMON_CLIENT, (long long)now_s, d->public_key, d->secret_key[0] ? ", sentry_secret=" : "", d->secret_key);
}
