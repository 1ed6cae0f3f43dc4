#include "cli/cli_crontab.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schedule/cron.h"
#include "schedule/schedule.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define DESCRIPTION_LINE_MAX 200 /* of the line quoted in a job's description */

/* What the lines before a job set. */
struct env {
	json_t *vars;  /* [{"name", "value"}] in order, the last of a name winning */
	char *mailto;  /* NULL: not set; "": no mail */
	char *cron_tz;
	char *shell;
};

/* Refused lines, gathered into the caller's err. */
struct refusals {
	char *err;
	size_t errlen, used;
	int count;
};

static void refuse(struct refusals *r, size_t line, const char *msg)
{
	int n;

	r->count++;
	if (r->used >= r->errlen)
		return;
	n = snprintf(r->err + r->used, r->errlen - r->used, "%sline %zu: %s", r->used ? "; " : "", line, msg);
	r->used = n < 0 ? r->errlen : r->used + (size_t)n;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

static const char *skip_blanks(const char *p)
{
	while (blank(*p))
		p++;
	return p;
}

/* The next blank-separated word at *p, copied into out (NUL-terminated); false when there is none. */
static bool word(const char **p, char *out, size_t len)
{
	const char *s = skip_blanks(*p), *e = s;
	size_t n;

	while (*e && !blank(*e))
		e++;
	if (e == s)
		return false;
	n = (size_t)(e - s) < len - 1 ? (size_t)(e - s) : len - 1;
	memcpy(out, s, n);
	out[n] = '\0';
	*p = e;
	return true;
}

/* `NAME = VALUE`: true with the name and the value (quotes taken off) when the line is an environment setting. */
static bool env_line(const char *line, char **name, char **value)
{
	const char *p = skip_blanks(line), *n = p, *v, *end;
	size_t vlen;

	while (*p && !blank(*p) && *p != '=')
		p++;
	if (p == n || *skip_blanks(p) != '=')
		return false;
	v = skip_blanks(skip_blanks(p) + 1);
	end = v + strlen(v);
	while (end > v && blank(end[-1]))
		end--;
	vlen = (size_t)(end - v);
	if (vlen >= 2 && (*v == '"' || *v == '\'') && end[-1] == *v) {
		v++;
		vlen -= 2;
	}
	*name = xstrndup(n, (size_t)(p - n));
	*value = xstrndup(v, vlen);
	return true;
}

static void env_set(struct env *e, char *name, char *value)
{
	char **special = strcmp(name, "MAILTO") == 0 ? &e->mailto : strcmp(name, "CRON_TZ") == 0 ? &e->cron_tz
	    : strcmp(name, "SHELL") == 0 ? &e->shell : NULL;
	size_t i;
	json_t *v;

	if (special) {
		free(*special);
		*special = xstrdup(value);
	}
	if (strcmp(name, "CRON_TZ") != 0) { /* the zone is the job's, not its environment's */
		json_array_foreach(e->vars, i, v) {
			if (strcmp(json_string_value(json_object_get(v, "name")), name) == 0) {
				json_array_remove(e->vars, i);
				break;
			}
		}
		json_array_append_new(e->vars, json_pack("{s:s, s:s}", "name", name, "value", value));
	}
	free(name);
	free(value);
}

/* s in single quotes for sh, a ' written '\''. */
static void shell_quote(struct buf *out, const char *s)
{
	if (buf_puts(out, "'") < 0)
		fatalx("out of memory");
	for (; *s; s++)
		if ((*s == '\'' ? buf_puts(out, "'\\''") : buf_append(out, s, 1)) < 0)
			fatalx("out of memory");
	if (buf_puts(out, "'") < 0)
		fatalx("out of memory");
}

/* The job's command from cron's: `\%` a '%'; the first unescaped '%' ends the command, and what follows, each
 * unescaped '%' a newline, is its standard input; a SHELL other than sh runs it. Returns a string to free. */
static char *command(const char *text, const struct env *e)
{
	struct buf cmd, in, out;
	bool input = false;

	buf_init(&cmd, 0);
	buf_init(&in, 0);
	buf_init(&out, 0);
	for (const char *p = text; *p; p++) {
		struct buf *to = input ? &in : &cmd;
		int rc;
		if (p[0] == '\\' && p[1] == '%')
			rc = buf_append(to, ++p, 1);
		else if (*p == '%' && !input)
			input = true, rc = 0;
		else if (*p == '%')
			rc = buf_puts(to, "\n");
		else
			rc = buf_append(to, p, 1);
		if (rc < 0)
			fatalx("out of memory");
	}
	if (input) {
		if (buf_puts(&out, "printf '%s' ") < 0)
			fatalx("out of memory");
		shell_quote(&out, in.data ? in.data : "");
		if (buf_puts(&out, " | (\n") < 0)
			fatalx("out of memory");
	}
	if (e->shell && *e->shell && strcmp(e->shell, "/bin/sh") != 0 && strcmp(e->shell, "sh") != 0) {
		if (buf_puts(&out, e->shell) < 0 || buf_puts(&out, " -c ") < 0)
			fatalx("out of memory");
		shell_quote(&out, cmd.data ? cmd.data : "");
	} else if (buf_puts(&out, cmd.data ? cmd.data : "") < 0) {
		fatalx("out of memory");
	}
	if (input && buf_puts(&out, "\n)") < 0)
		fatalx("out of memory");
	buf_free(&cmd);
	buf_free(&in);
	return buf_steal(&out, NULL);
}

/* A job line (comments and settings are not): the job, or NULL with the message in msg. */
static json_t *job_line(const char *line, size_t no, const struct env *e, const struct cli_crontab_opts *o,
    char *msg, size_t msglen)
{
	char sched[CLI_CRONTAB_LINE_MAX + 8], field[CLI_CRONTAB_LINE_MAX], user[256], name[512], desc[DESCRIPTION_LINE_MAX + 64];
	const char *p = skip_blanks(line);
	struct schedule s;
	char *cmd;
	json_t *job;

	int fields = *p == '@' ? 1 : 5;

	sched[0] = '\0';
	for (int i = 0; i < fields; i++) {
		if (!word(&p, field, sizeof(field))) {
			snprintf(msg, msglen, "expected five time fields (or an @macro), then %sthe command",
			    o->system ? "the user, then " : "");
			return NULL;
		}
		if (i > 0)
			strcat(sched, " ");
		strcat(sched, field);
	}
	if (cron_parse(sched, &s, msg, msglen) < 0)
		return NULL;
	if (o->system && !word(&p, user, sizeof(user))) {
		snprintf(msg, msglen, "no user after the time fields (the system format, --system)");
		return NULL;
	}
	p = skip_blanks(p);
	if (*p == '\0') {
		snprintf(msg, msglen, "no command after the %s", o->system ? "user" : "time fields");
		return NULL;
	}
	cmd = command(p, e);
	snprintf(name, sizeof(name), "%s-%zu", o->prefix, no);
	snprintf(desc, sizeof(desc), "crontab %s line %zu: %.*s", o->label, no, DESCRIPTION_LINE_MAX, skip_blanks(line));
	job = json_pack("{s:s, s:s, s:s, s:b, s:s, s:o}", "name", name, "command", cmd, "schedule", sched, "shell", 1,
	    "description", desc, "environmentVariables", json_deep_copy(e->vars));
	free(cmd);
	if (job == NULL)
		fatalx("json_pack: out of memory");
	if (e->mailto && *e->mailto)
		json_object_set_new(job, "owner", json_string(e->mailto));
	if (e->cron_tz && *e->cron_tz)
		json_object_set_new(job, "scheduleTimeZone", json_string(e->cron_tz));
	if (o->system || o->user)
		json_object_set_new(job, "runAsUser", json_string(o->system ? user : o->user));
	return job;
}

json_t *cli_crontab_jobs(const char *text, size_t len, const struct cli_crontab_opts *opts, char *err,
    size_t errlen)
{
	struct env e = {.vars = json_array()};
	struct refusals r = {.err = err, .errlen = errlen};
	json_t *jobs = json_array();
	char *line = xmalloc(CLI_CRONTAB_LINE_MAX + 1), msg[512];
	size_t no = 0;

	err[0] = '\0';
	for (size_t at = 0; at < len;) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t n = (nl ? (size_t)(nl - text) : len) - at;
		char *name, *value;
		json_t *job, *probe;

		no++;
		if (memchr(text + at, '\0', n)) {
			refuse(&r, no, "a NUL byte");
		} else if (n > CLI_CRONTAB_LINE_MAX) {
			snprintf(msg, sizeof(msg), "longer than %d bytes", CLI_CRONTAB_LINE_MAX);
			refuse(&r, no, msg);
		} else if ((probe = json_stringn(text + at, n)) == NULL) {
			refuse(&r, no, "not UTF-8 text"); /* (jobs are JSON) */
		} else {
			json_decref(probe);
			memcpy(line, text + at, n);
			line[n] = '\0';
			if (n > 0 && line[n - 1] == '\r')
				line[n - 1] = '\0';
			const char *p = skip_blanks(line);
			if (*p == '\0' || *p == '#')
				;
			else if (env_line(line, &name, &value))
				env_set(&e, name, value);
			else if ((job = job_line(line, no, &e, opts, msg, sizeof(msg))) != NULL)
				json_array_append_new(jobs, job);
			else
				refuse(&r, no, msg);
		}
		at += n + (nl != NULL);
	}
	free(line);
	json_decref(e.vars);
	free(e.mailto);
	free(e.cron_tz);
	free(e.shell);
	if (r.count) {
		json_decref(jobs);
		return NULL;
	}
	return jobs;
}

void cli_crontab_prefix(const char *path, char *out, size_t len)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	const char *dot = strrchr(base, '.');
	size_t n = dot && dot > base ? (size_t)(dot - base) : strlen(base);

	if (strcmp(path, "-") == 0 || n == 0) {
		snprintf(out, len, "crontab");
		return;
	}
	if (n >= len)
		n = len - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = isalnum((unsigned char)base[i]) || base[i] == '_' || base[i] == '.' || base[i] == '-' ? base[i]
												: '-';
	out[n] = '\0';
}
