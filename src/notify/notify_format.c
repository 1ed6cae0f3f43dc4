#include "notify/notify_format.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "job/job.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define MAIL_LINE_MAX 998 /* RFC 5322: bytes in a line, without its CRLF */

static const char *const kind_names[NOTICE_KIND_COUNT] = {
	[NOTICE_DELETED] = "job.deleted",
	[NOTICE_DISABLED] = "job.disabled",
	[NOTICE_FAILED] = "run.retries_exhausted",
	[NOTICE_SKIPPED] = "run.skipped",
	[NOTICE_RECOVERED] = "job.recovered",
	[NOTICE_FINISHED] = "run.finished",
	[NOTICE_AGENT_LOST] = "agent.lost",
};

struct notice *notice_new(enum notice_kind kind)
{
	struct notice *n = xcalloc(1, sizeof(*n));
	char **strings[] = {&n->job, &n->owner, &n->command, &n->executor, &n->executor_flags, &n->uris,
		&n->reason, &n->task_id, &n->status, &n->host, &n->run_reason, &n->agent, &n->agent_host};

	n->kind = kind;
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		*strings[i] = xstrdup("");
	n->exit_code = -1;
	n->last_success_ms = n->last_error_ms = JOB_TIME_NONE;
	return n;
}

void notice_free(struct notice *n)
{
	if (n == NULL)
		return;
	free(n->job);
	free(n->owner);
	free(n->command);
	free(n->executor);
	free(n->executor_flags);
	free(n->uris);
	free(n->reason);
	free(n->task_id);
	free(n->status);
	free(n->host);
	free(n->run_reason);
	free(n->agent);
	free(n->agent_host);
	free(n->out.text);
	free(n->err.text);
	free(n);
}

void notice_set(char **field, const char *value)
{
	char *copy = xstrdup(value != NULL ? value : "");
	free(*field);
	*field = copy;
}

const char *notice_kind_name(enum notice_kind kind)
{
	return (unsigned)kind < NOTICE_KIND_COUNT ? kind_names[kind] : "unknown";
}

bool notice_is_failure(const struct notice *n)
{
	return n->kind == NOTICE_FAILED || n->kind == NOTICE_DISABLED || n->kind == NOTICE_AGENT_LOST ||
	    (n->kind == NOTICE_FINISHED && strcmp(n->status, "succeeded") != 0);
}

/* Append formatted text; the buffers here have no limit, so appending cannot fail. */
static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[512];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		if (buf_append(b, small, (size_t)n) < 0)
			fatalx("notify: unbounded buffer refused an append");
		return;
	}
	char *big = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	if (buf_append(b, big, (size_t)n) < 0)
		fatalx("notify: unbounded buffer refused an append");
	free(big);
}

static char *finish(struct buf *b)
{
	return buf_steal(b, NULL);
}

char *notify_subject(const struct notice *n, const char *cluster)
{
	struct buf b;

	buf_init(&b, 0);
	if (cluster != NULL && cluster[0] != '\0')
		put(&b, "[%s] ", cluster);
	switch (n->kind) {
	case NOTICE_DELETED: put(&b, "[Chronos] Your job '%s' was deleted!", n->job); break;
	case NOTICE_DISABLED: put(&b, "[Chronos] job '%s' disabled", n->job); break;
	case NOTICE_FAILED: put(&b, "[Chronos] job '%s' failed!", n->job); break;
	case NOTICE_SKIPPED: put(&b, "[Chronos] job '%s' skipped a run", n->job); break;
	case NOTICE_RECOVERED: put(&b, "[Chronos] job '%s' recovered", n->job); break;
	case NOTICE_AGENT_LOST: put(&b, "agent %s (%s) lost", n->agent, n->agent_host); break;
	case NOTICE_FINISHED:
	case NOTICE_KIND_COUNT: put(&b, "[Chronos] job '%s' run %s", n->job, n->status); break;
	}
	return finish(&b);
}

/* One output stream's tail: a header line, then the text. */
static void put_tail(struct buf *b, const char *stream, const struct notice_tail *t)
{
	size_t shown = t->text != NULL ? strlen(t->text) : 0;

	if (t->text == NULL) {
		put(b, "\n--- %s: not available ---\n", stream);
		return;
	}
	if (t->total <= 0 || shown == 0) {
		put(b, "\n--- %s: empty ---\n", stream);
		return;
	}
	if ((int64_t)shown < t->total)
		put(b, "\n--- %s: last %zu of %lld bytes ---\n", stream, shown, (long long)t->total);
	else
		put(b, "\n--- %s: %lld bytes ---\n", stream, (long long)t->total);
	put(b, "%s%s", t->text, t->text[shown - 1] == '\n' ? "" : "\n");
}

/* gnomon's addition to every message about a run: what happened to it and the end of its output. */
static void put_run(struct buf *b, const struct notice *n)
{
	const char *abbrev = n->signal > 0 ? sigabbrev_np(n->signal) : NULL;

	put(b, "\nStatus: %s\n", n->status);
	if (n->signal > 0)
		put(b, "Signal: %d%s%s\n", (int)n->signal, abbrev ? " SIG" : "", abbrev ? abbrev : "");
	else if (n->exit_code >= 0)
		put(b, "Exit code: %d\n", (int)n->exit_code);
	if (n->run_reason[0] != '\0')
		put(b, "Reason: %s\n", n->run_reason);
	if (n->host[0] != '\0')
		put(b, "Host: %s\n", n->host);
	if (n->peak_memory_bytes > 0 && n->cpu_user_us >= 0 && n->cpu_system_us >= 0)
		put(b, "Used: %.2f s CPU (%.2f s user, %.2f s system), %.1f MiB peak memory\n",
		    (double)(n->cpu_user_us + n->cpu_system_us) / 1e6, (double)n->cpu_user_us / 1e6,
		    (double)n->cpu_system_us / 1e6, (double)n->peak_memory_bytes / 1048576.0);
	if (strcmp(n->status, "skipped") == 0)
		return;
	put_tail(b, "stdout", &n->out);
	put_tail(b, "stderr", &n->err);
}

char *notify_body(const struct notice *n)
{
	char when[JOB_TIME_BUFSZ], last[JOB_TIME_BUFSZ];
	struct buf b;

	buf_init(&b, 0);
	job_time_format(n->when_ms, when);
	switch (n->kind) {
	case NOTICE_DELETED:
		return finish(&b); /* Chronos sent no body */
	case NOTICE_DISABLED:
		if (n->by_failures)
			put(&b, "\nFailed at '%s', %lld failures since last success\nTask id: %s\n", when,
			    (long long)n->errors_since_last_success, n->task_id);
		else
			put(&b, "Job '%s' has exhausted all of its recurrences and has been disabled.\nPlease consider "
				"either removing your job, or updating its schedule and re-enabling it.\n", n->job);
		break;
	case NOTICE_FAILED:
		put(&b, "\n'%s'. Retries attempted: %d.\nTask id: %s\n", when, (int)n->retries, n->task_id);
		break;
	case NOTICE_SKIPPED:
		put(&b, "\nA run was skipped at '%s'%s%s.\nTask id: %s\n", when, n->reason[0] ? ": " : "", n->reason,
		    n->task_id);
		break;
	case NOTICE_RECOVERED:
		job_time_format(n->last_error_ms, last);
		put(&b, "\nSucceeded at '%s' after failing%s%s%s.\nTask id: %s\n", when, last[0] ? " (last error at '" : "",
		    last, last[0] ? "')" : "", n->task_id);
		break;
	case NOTICE_AGENT_LOST:
		put(&b, "%s\nLost at '%s'.\n", n->reason, when);
		break;
	case NOTICE_FINISHED:
	case NOTICE_KIND_COUNT:
		put(&b, "\nRun %s at '%s'.\nTask id: %s\n", n->status, when, n->task_id);
		break;
	}
	if (n->has_run)
		put_run(&b, n);
	return finish(&b);
}

/* Length of the UTF-8 sequence at s (at most len bytes), or 0 when it is not a valid one. */
static size_t utf8_len(const unsigned char *s, size_t len)
{
	size_t need;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (need > len)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (need == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return need;
}

char *notify_clean_text(const char *buf, size_t len, bool cut)
{
	const unsigned char *s = (const unsigned char *)buf;
	char *out = xmalloc(len * 3 + 1), *o = out;
	size_t i = 0;

	while (cut && i < len && i < 3 && (s[i] & 0xc0) == 0x80)
		i++;
	while (i < len) {
		size_t n = utf8_len(s + i, len - i);
		if (n == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		if (n == 1 && (s[i] == '\r' || s[i] == '\0' || s[i] == 0x7f)) {
			i++;
			continue;
		}
		if (n == 1 && s[i] < 0x20 && s[i] != '\n' && s[i] != '\t')
			*o++ = '?';
		else
			memcpy(o, s + i, n), o += n;
		i += n;
	}
	*o = '\0';
	return out;
}

size_t notify_owner_split(const char *owner, char **out, size_t max)
{
	const char *p = owner;
	size_t n = 0;

	while (*p != '\0' && n < max) {
		size_t len = strcspn(p, ", ;\t\r\n");
		const char *w = p;
		p += len;
		p += strspn(p, ", ;\t\r\n");
		if (len > 0 && w[0] == '<') {
			w++;
			len--;
		}
		if (len > 0 && w[len - 1] == '>')
			len--;
		if (len < 3 || memchr(w, '@', len) == NULL || memchr(w, '<', len) || memchr(w, '>', len) ||
		    memchr(w, '"', len))
			continue;
		bool dup = false;
		for (size_t i = 0; i < n && !dup; i++)
			dup = strlen(out[i]) == len && memcmp(out[i], w, len) == 0;
		if (!dup)
			out[n++] = xstrndup(w, len);
	}
	return n;
}

/* Base64 of s[0..len) appended to b (for RFC 2047 encoded words). */
static void put_base64(struct buf *b, const unsigned char *s, size_t len)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)s[i] << 16 | (i + 1 < len ? (unsigned)s[i + 1] << 8 : 0) |
		    (i + 2 < len ? s[i + 2] : 0);
		put(b, "%c%c%c%c", alphabet[v >> 18 & 63], alphabet[v >> 12 & 63],
		    i + 1 < len ? alphabet[v >> 6 & 63] : '=', i + 2 < len ? alphabet[v & 63] : '=');
	}
}

/* The Subject header: as is when printable ASCII, else UTF-8 encoded words of at most 45 bytes each. */
static void put_subject(struct buf *b, const char *subject)
{
	const unsigned char *s = (const unsigned char *)subject;
	size_t len = strlen(subject), i = 0;
	bool plain = true;

	for (size_t k = 0; k < len; k++)
		plain = plain && s[k] >= 0x20 && s[k] < 0x7f;
	if (plain) {
		put(b, "Subject: %s\r\n", subject);
		return;
	}
	put(b, "Subject:");
	while (i < len) {
		size_t chunk = 0;
		while (i + chunk < len) {
			size_t n = utf8_len(s + i + chunk, len - i - chunk);
			if (n == 0)
				n = 1;
			if (chunk + n > 45)
				break;
			chunk += n;
		}
		put(b, " =?UTF-8?B?");
		put_base64(b, s + i, chunk);
		put(b, "?=%s", i + chunk < len ? "\r\n" : "");
		i += chunk;
	}
	put(b, "\r\n");
}

char *notify_mail_message(const char *from, const char *const *to, size_t n_to, const char *subject, const char *body,
    int64_t date_ms, const char *message_id)
{
	char date[64];
	time_t t = (time_t)(date_ms / 1000);
	struct tm tm;
	struct buf b;
	const char *p;

	buf_init(&b, 0);
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	put(&b, "Date: %s\r\nFrom: %s\r\nTo: ", date, from);
	for (size_t i = 0; i < n_to; i++)
		put(&b, "%s%s", i ? ",\r\n " : "", to[i]);
	put(&b, "\r\nMessage-ID: %s\r\n", message_id);
	put_subject(&b, subject);
	put(&b, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
		"\r\n");
	/* The body, with CRLF line ends and no line longer than the limit. */
	for (p = body; *p != '\0';) {
		size_t len = strcspn(p, "\n");
		while (len > MAIL_LINE_MAX) {
			size_t cut = MAIL_LINE_MAX;
			while (cut > 0 && ((unsigned char)p[cut] & 0xc0) == 0x80)
				cut--;
			put(&b, "%.*s\r\n", (int)cut, p);
			p += cut;
			len -= cut;
		}
		put(&b, "%.*s\r\n", (int)len, p);
		p += len;
		if (*p == '\n')
			p++;
	}
	return finish(&b);
}
