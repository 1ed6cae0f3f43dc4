#include "exec/exec_env.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xmalloc.h"

#define ENV_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define ENV_LANG "C.UTF-8"

enum env_kind { ENV_FIXED, ENV_DEFAULT, ENV_JOB };

struct env_entry {
	const char *name;
	const char *value;
	enum env_kind kind;
};

struct env_list {
	struct env_entry *v;
	size_t n, cap;
};

static const char *nz(const char *s)
{
	return s ? s : "";
}

/* Add or replace a variable following the precedence of exec_env_build(). */
static void env_add(struct env_list *l, const char *name, const char *value, enum env_kind kind)
{
	if (!name || !*name || strchr(name, '='))
		return;
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->v[i].name, name) != 0)
			continue;
		if (l->v[i].kind != ENV_FIXED && kind == ENV_JOB) {
			l->v[i].value = nz(value);
			l->v[i].kind = ENV_JOB;
		}
		return;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 32;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = (struct env_entry){name, nz(value), kind};
}

/* Pack NAME=value strings (sep '=') or plain strings (name only) into one NULL-terminated vector. */
static char **pack(const struct env_entry *v, size_t n, int sep)
{
	size_t bytes = (n + 1) * sizeof(char *);
	char **out, *p;

	for (size_t i = 0; i < n; i++)
		bytes += strlen(v[i].name) + (sep ? 1 + strlen(v[i].value) : 0) + 1;
	out = xmalloc(bytes);
	p = (char *)(out + n + 1);
	for (size_t i = 0; i < n; i++) {
		size_t ln = strlen(v[i].name);
		out[i] = p;
		memcpy(p, v[i].name, ln);
		p += ln;
		if (sep) {
			size_t lv = strlen(v[i].value);
			*p++ = (char)sep;
			memcpy(p, v[i].value, lv);
			p += lv;
		}
		*p++ = '\0';
	}
	out[n] = NULL;
	return out;
}

char **exec_env_build(const struct exec_env_input *in)
{
	struct env_list l = {0};
	char mem[32], cpu[32], disk[32], runtime[24], attempt[16];
	const char *home = in->home && *in->home ? in->home : "/";
	char **out;

	exec_format_double(in->mem, mem, sizeof(mem));
	exec_format_double(in->cpus, cpu, sizeof(cpu));
	exec_format_double(in->disk, disk, sizeof(disk));
	snprintf(runtime, sizeof(runtime), "%" PRId64, in->run_time_ms);
	snprintf(attempt, sizeof(attempt), "%" PRIu32, in->attempt);

	env_add(&l, "mesos_task_id", in->task_id, ENV_FIXED);
	env_add(&l, "MESOS_TASK_ID", in->task_id, ENV_FIXED);
	env_add(&l, "CHRONOS_JOB_OWNER", in->job_owner, ENV_FIXED);
	env_add(&l, "CHRONOS_JOB_NAME", in->job_name, ENV_FIXED);
	env_add(&l, "HOST", in->hostname, ENV_FIXED);
	env_add(&l, "CHRONOS_RESOURCE_MEM", mem, ENV_FIXED);
	env_add(&l, "CHRONOS_RESOURCE_CPU", cpu, ENV_FIXED);
	env_add(&l, "CHRONOS_RESOURCE_DISK", disk, ENV_FIXED);
	env_add(&l, "CHRONOS_JOB_RUN_TIME", runtime, ENV_FIXED);
	env_add(&l, "CHRONOS_JOB_RUN_ATTEMPT", attempt, ENV_FIXED);
	env_add(&l, "GNOMON_TASK_ID", in->task_id, ENV_FIXED);
	for (size_t i = 0; i < in->n_extra; i++)
		env_add(&l, in->extra[i].name, in->extra[i].value, ENV_FIXED);

	env_add(&l, "PATH", ENV_PATH, ENV_DEFAULT);
	env_add(&l, "HOME", home, ENV_DEFAULT);
	env_add(&l, "USER", in->user, ENV_DEFAULT);
	env_add(&l, "LOGNAME", in->user, ENV_DEFAULT);
	env_add(&l, "LANG", ENV_LANG, ENV_DEFAULT);

	for (size_t i = 0; i < in->n_job_env; i++)
		env_add(&l, in->job_env[i].name, in->job_env[i].value, ENV_JOB);

	out = pack(l.v, l.n, '=');
	free(l.v);
	return out;
}

char **exec_argv_build(const char *command, const char *const *args, size_t nargs, bool shell)
{
	struct env_entry v[3], *list;
	char **out;

	if (shell) {
		size_t len = strlen(nz(command)) + 1;
		char *line, *p;

		for (size_t i = 0; i < nargs; i++)
			len += 1 + strlen(nz(args[i]));
		line = p = xmalloc(len);
		p = stpcpy(p, nz(command));
		for (size_t i = 0; i < nargs; i++) {
			*p++ = ' ';
			p = stpcpy(p, nz(args[i]));
		}
		v[0] = (struct env_entry){"/bin/sh", NULL, ENV_FIXED};
		v[1] = (struct env_entry){"-c", NULL, ENV_FIXED};
		v[2] = (struct env_entry){line, NULL, ENV_FIXED};
		out = pack(v, 3, 0);
		free(line);
		return out;
	}
	list = xcalloc(nargs + 1, sizeof(*list));
	list[0].name = nz(command);
	for (size_t i = 0; i < nargs; i++)
		list[i + 1].name = nz(args[i]);
	out = pack(list, nargs + 1, 0);
	free(list);
	return out;
}

/* The shortest decimal digits that read back as a (> 0): digits without trailing zeros, a = d.ddd x 10^exp. */
static void shortest_digits(double a, char *digits, size_t len, int *exp10)
{
	char tmp[40], *e;
	size_t n = 0;

	for (int prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, a);
		if (strtod(tmp, NULL) == a)
			break;
	}
	e = strchr(tmp, 'e');
	*exp10 = e ? atoi(e + 1) : 0;
	for (const char *p = tmp; *p && p != e && n + 1 < len; p++)
		if (*p >= '0' && *p <= '9')
			digits[n++] = *p;
	while (n > 1 && digits[n - 1] == '0')
		n--;
	digits[n] = '\0';
}

void exec_format_double(double v, char *out, size_t outlen)
{
	char d[24], body[64];
	const char *sign = signbit(v) ? "-" : "";
	double a = fabs(v);
	int exp10, nd;

	if (isnan(v)) {
		snprintf(out, outlen, "NaN");
		return;
	}
	if (isinf(v) || a == 0) {
		snprintf(out, outlen, "%s%s", sign, isinf(v) ? "Infinity" : "0.0");
		return;
	}
	shortest_digits(a, d, sizeof(d), &exp10);
	nd = (int)strlen(d);
	if (a >= 1e-3 && a < 1e7) {
		if (exp10 >= 0) {
			/* integer part: the first exp10+1 digits, padded with zeros; fraction: the rest or "0" */
			int ni = exp10 + 1;
			snprintf(body, sizeof(body), "%.*s%.*s.%s", nd < ni ? nd : ni, d, nd < ni ? ni - nd : 0,
			    "0000000", nd > ni ? d + ni : "0");
		} else {
			snprintf(body, sizeof(body), "0.%.*s%s", -exp10 - 1, "00", d);
		}
	} else {
		snprintf(body, sizeof(body), "%c.%sE%d", d[0], nd > 1 ? d + 1 : "0", exp10);
	}
	snprintf(out, outlen, "%s%s", sign, body);
}
