/* Formatting and parsing Chronos task ids (reference section 2, "Task id format"). */
#include "job/task_id.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/xmalloc.h"

char *task_id_strip_semicolons(char *s)
{
	char *w = s;
	for (const char *r = s; *r; r++)
		if (*r != ';')
			*w++ = *r;
	*w = '\0';
	return s;
}

char *task_id_format(int64_t due_ms, int attempt, const char *job_name, const char *arguments)
{
	char *id = xasprintf("ct:%lld:%d:%s:", (long long)due_ms, attempt, job_name);
	size_t head = strlen(id);

	if (arguments != NULL && arguments[0] != '\0') {
		size_t n = strlen(arguments);
		id = xrealloc(id, head + n + 1);
		memcpy(id + head, arguments, n + 1);
		task_id_strip_semicolons(id + head);
	}
	return id;
}

char *task_id_arguments(const struct job *j, const char *override)
{
	return task_id_strip_semicolons(override != NULL ? xstrdup(override) : job_arguments_join(j));
}

/* Read Java's `\d+` as a non-negative number no larger than max; returns false on no digits or overflow. */
static bool read_number(const char **p, int64_t max, int64_t *out)
{
	const char *s = *p;
	int64_t v = 0;

	for (; *s >= '0' && *s <= '9'; s++)
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *s - '0', &v) || v > max)
			return false;
	if (s == *p)
		return false;
	*p = s;
	*out = v;
	return true;
}

/* True if s holds a Java line terminator, which the regex's final `.*` cannot match. */
static bool has_line_terminator(const char *s)
{
	return strpbrk(s, "\n\r") != NULL || strstr(s, "\xc2\x85") != NULL || strstr(s, "\xe2\x80\xa8") != NULL ||
	       strstr(s, "\xe2\x80\xa9") != NULL;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
	       c == '-';
}

int task_id_parse(const char *id, struct task_id *out)
{
	const char *p = id, *name;
	int64_t due, attempt;
	size_t len;

	if (strncmp(p, "ct:", 3) != 0)
		return -EINVAL;
	p += 3;
	if (!read_number(&p, INT64_MAX, &due) || *p++ != ':' || !read_number(&p, INT32_MAX, &attempt) ||
	    *p++ != ':')
		return -EINVAL;
	for (name = p; name_char(*p); p++)
		;
	len = (size_t)(p - name);
	if (len == 0 || len > JOB_NAME_MAX)
		return -EINVAL;
	if (*p == ':')
		p++;
	if (has_line_terminator(p))
		return -EINVAL;
	out->due_ms = due;
	out->attempt = (int)attempt;
	memcpy(out->job_name, name, len);
	out->job_name[len] = '\0';
	out->arguments = p;
	return 0;
}
