#include "util/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The logger's settings are written once by log_init() before any thread starts, then only read. */
static enum log_level threshold = LOG_LEVEL_INFO;
static bool json_lines;

void log_init(enum log_level level, bool json)
{
	threshold = level;
	json_lines = json;
}

int log_level_parse(const char *name, enum log_level *out)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* The length of the UTF-8 sequence at s, 0 when it is not a well-formed one. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] <= 0xdf ? 2 : 0;

	if (s[0] >= 0xf5)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* A JSON string's contents: quotes, backslashes and control characters escaped, bytes that are not UTF-8 (a
 * manual run's arguments may hold anything) written as U+FFFD, so every line parses. */
static void json_escape(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n;
		if (*p == '"' || *p == '\\') {
			fprintf(f, "\\%c", *p++);
		} else if (*p < 0x20) {
			fprintf(f, "\\u%04x", *p++);
		} else if (*p < 0x80) {
			fputc(*p++, f);
		} else if ((n = utf8_len(p)) > 0) {
			fwrite(p, 1, n, f);
			p += n;
		} else {
			fputs("\\ufffd", f);
			p++;
		}
	}
}

/* A text line's message: control characters (a newline in a manual run's arguments) written as escapes, so
 * that one call is one line and no one can forge another. */
static void text_escape(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
}

/* A "key":"value" member of a JSON line, skipped when value is NULL. */
static void json_field(FILE *f, const char *key, const char *value)
{
	if (value == NULL)
		return;
	fprintf(f, ",\"%s\":\"", key);
	json_escape(f, value);
	fputc('"', f);
}

static void vlog(enum log_level level, const struct log_fields *fields, const char *errstr, const char *fmt,
    va_list ap)
{
	static const char *const labels[] = {"error", "warn", "info", "debug"};
	static const struct log_fields none = {0};
	char msg[2048], stamp[32];
	struct timespec ts;
	struct tm tm;

	if (level > threshold)
		return;
	if (fields == NULL)
		fields = &none;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	for (size_t n = strlen(msg); n > 0 && msg[n - 1] == '\n'; n--)
		msg[n - 1] = '\0'; /* a message may end with one */
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	/* the line is made in memory and written at once: stderr is unbuffered, so writing it piece by piece would
	 * cost a system call a piece (measured: most of a 100,000-job bulk put's time) and could interleave */
	char *line = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&line, &len);
	if (f == NULL)
		f = stderr;
	if (json_lines) {
		fprintf(f, "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\"", stamp, ts.tv_nsec / 1000000, labels[level]);
		json_field(f, "event", fields->event);
		json_field(f, "job", fields->job);
		json_field(f, "taskId", fields->task_id);
		json_field(f, "status", fields->status);
		json_field(f, "remote", fields->remote);
		fputs(",\"msg\":\"", f);
		json_escape(f, msg);
		if (errstr) {
			fputs(": ", f);
			json_escape(f, errstr);
		}
		fputs("\"}\n", f);
	} else {
		fprintf(f, "%s.%03ldZ %-5s ", stamp, ts.tv_nsec / 1000000, labels[level]);
		text_escape(f, msg);
		fprintf(f, "%s%s\n", errstr ? ": " : "", errstr ? errstr : "");
	}
	if (f != stderr) {
		if (fclose(f) == 0)
			fwrite(line, 1, len, stderr);
		free(line);
	}
}

#define LOG_BODY(level, errstr) LOG_BODY_KV(level, NULL, errstr)
#define LOG_BODY_KV(level, fields, errstr)                                                                         \
	do {                                                                                                       \
		va_list ap;                                                                                        \
		va_start(ap, fmt);                                                                                 \
		vlog(level, fields, errstr, fmt, ap);                                                              \
		va_end(ap);                                                                                        \
	} while (0)

void log_warnx_kv(const struct log_fields *f, const char *fmt, ...)
{
	LOG_BODY_KV(LOG_LEVEL_WARN, f, NULL);
}

void log_info_kv(const struct log_fields *f, const char *fmt, ...)
{
	LOG_BODY_KV(LOG_LEVEL_INFO, f, NULL);
}

void log_debug_kv(const struct log_fields *f, const char *fmt, ...)
{
	LOG_BODY_KV(LOG_LEVEL_DEBUG, f, NULL);
}

void log_warn(const char *fmt, ...)
{
	const char *e = strerror(errno);
	LOG_BODY(LOG_LEVEL_WARN, e);
}

void log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARN, NULL);
}

void log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_INFO, NULL);
}

void log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_DEBUG, NULL);
}

void fatal(const char *fmt, ...)
{
	const char *e = strerror(errno);
	LOG_BODY(LOG_LEVEL_ERROR, e);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_ERROR, NULL);
	exit(1);
}
