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

static void json_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
}

static void vlog(enum log_level level, const char *errstr, const char *fmt, va_list ap)
{
	static const char *const labels[] = {"error", "warn", "info", "debug"};
	char msg[2048], stamp[32];
	struct timespec ts;
	struct tm tm;

	if (level > threshold)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	flockfile(stderr);
	if (json_lines) {
		fprintf(stderr, "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\",\"msg\":\"", stamp, ts.tv_nsec / 1000000,
		    labels[level]);
		json_escape(stderr, msg);
		if (errstr) {
			fputs(": ", stderr);
			json_escape(stderr, errstr);
		}
		fputs("\"}\n", stderr);
	} else {
		fprintf(stderr, "%s.%03ldZ %-5s %s%s%s\n", stamp, ts.tv_nsec / 1000000, labels[level], msg,
		    errstr ? ": " : "", errstr ? errstr : "");
	}
	funlockfile(stderr);
}

#define LOG_BODY(level, errstr)                                                                                    \
	do {                                                                                                       \
		va_list ap;                                                                                        \
		va_start(ap, fmt);                                                                                 \
		vlog(level, errstr, fmt, ap);                                                                      \
		va_end(ap);                                                                                        \
	} while (0)

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
