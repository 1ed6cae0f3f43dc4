/* Checks on one job that need neither other jobs nor schedule parsing (only the period's length is read from the
 * schedule); messages start with the field. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job/job.h"
#include "job/job_internal.h"

/* Java's `[\w.-]+` without Unicode classes: ASCII letters, digits, '_', '.' and '-'. */
static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
	       c == '-';
}

static int check_name(const char *name, char *err, size_t errlen)
{
	size_t len = strlen(name);

	if (len == 0) {
		snprintf(err, errlen, "name: required");
		return -EINVAL;
	}
	if (len > JOB_NAME_MAX) {
		snprintf(err, errlen, "name: longer than %d bytes", JOB_NAME_MAX);
		return -EINVAL;
	}
	for (const char *c = name; *c; c++) {
		if (!name_char(*c)) {
			snprintf(err, errlen, "name: '%s' is invalid: use letters, digits, '_', '.' and '-'", name);
			return -EINVAL;
		}
	}
	return 0;
}

static int check_resource(const char *field, double v, char *err, size_t errlen)
{
	if (isfinite(v) && v >= 0)
		return 0;
	snprintf(err, errlen, "%s: must be a finite number >= 0, got %g", field, v);
	return -EINVAL;
}

/* Bound on the work glibc's regcomp does for a constraint's regular expression, in the units of the scan below. */
#define REGEX_COST_MAX 1024
#define REGEX_DEPTH_MAX 32

/* A scan of an ERE estimating regcomp's work. regcomp copies a sub-expression once per counted repetition and
 * twice for '+' (X+ is X X*), so stacked or nested repetitions (`a++++++`, `((a{99}){99}){99}`) grow it
 * exponentially; and the closures it computes grow with repetitions nested in repetitions, so a repetition of
 * something that holds one already (`(l*)*`, `(a*){1,30}`) counts twice its copies. Java's rule (Chronos's
 * patterns are Java's) bounds the stacking: a repetition takes at most one '?' or '+' after it (Java's lazy and
 * possessive forms), so `a**` is refused as Java refuses it. (Measured: patterns at the bound compile within a
 * few milliseconds; `(l******************)**********++++++*`, which a fuzzer found, took 485 ms.) */
struct rx {
	const char *p;
	bool bad; /* a repetition stacked on another past Java's forms */
};

struct rx_cost {
	size_t n;     /* the estimated work */
	bool starred; /* holds a repetition */
};

static struct rx_cost rx_alt(struct rx *r, int depth);

static size_t cost_add(size_t a, size_t b)
{
	return a + b > REGEX_COST_MAX ? REGEX_COST_MAX + 1 : a + b;
}

static size_t cost_mul(size_t a, size_t b)
{
	return b != 0 && a > REGEX_COST_MAX / b ? REGEX_COST_MAX + 1 : a * b;
}

/* Skip a bracket expression such as `[^]a-z[:digit:]]`, the '[' already read. */
static void rx_skip_bracket(struct rx *r)
{
	const char *p = r->p;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	while (*p != '\0' && *p != ']') {
		if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
			const char *end = strchr(p + 2, p[1]);
			p = end != NULL && end[1] == ']' ? end + 2 : p + 1;
		} else {
			p++;
		}
	}
	r->p = *p == ']' ? p + 1 : p;
}

static struct rx_cost rx_atom(struct rx *r, int depth)
{
	char c = *r->p++;

	if (c == '\\' && *r->p != '\0')
		r->p++;
	else if (c == '[')
		rx_skip_bracket(r);
	else if (c == '(') {
		if (depth >= REGEX_DEPTH_MAX)
			return (struct rx_cost){REGEX_COST_MAX + 1, false};
		struct rx_cost in = rx_alt(r, depth + 1);
		if (*r->p == ')')
			r->p++;
		return (struct rx_cost){cost_add(in.n, 1), in.starred};
	}
	return (struct rx_cost){1, false};
}

/* Is the text at p a repetition operator, and how many copies does it make ({m,n}, {m,}, {,n}: the larger bound
 * and one)? */
static bool rx_repetition(const char *p, size_t *copies, const char **after)
{
	if (*p == '*' || *p == '?' || *p == '+') {
		*copies = *p == '+' ? 2 : 1;
		*after = p + 1;
		return true;
	}
	if (*p != '{' || !(isdigit((unsigned char)p[1]) || p[1] == ','))
		return false;
	char *num_end;
	unsigned long m = strtoul(p + 1, &num_end, 10), n = m + 1; /* glibc reads `{,n}` as `{0,n}`: m is 0 */
	const char *end = num_end;
	if (*end == ',' && isdigit((unsigned char)end[1])) {
		n = strtoul(end + 1, &num_end, 10);
		end = num_end;
	}
	unsigned long k = m > n ? m : n;
	*copies = k >= REGEX_COST_MAX ? REGEX_COST_MAX + 1 : (size_t)k + 1;
	*after = strchr(end, '}') != NULL ? strchr(end, '}') + 1 : end;
	return true;
}

/* Apply the repetitions following an atom. */
static struct rx_cost rx_quantifiers(struct rx *r, struct rx_cost atom)
{
	size_t copies;
	const char *after;

	for (int stacked = 0; rx_repetition(r->p, &copies, &after); stacked++) {
		if (stacked == 1 && *r->p != '?' && *r->p != '+')
			r->bad = true;
		if (stacked >= 2)
			r->bad = true;
		if (atom.starred)
			copies = cost_mul(copies, 2);
		atom.n = copies > 1 ? cost_mul(atom.n, copies) : cost_add(atom.n, 1);
		atom.starred = true;
		r->p = after;
	}
	return atom;
}

static struct rx_cost rx_alt(struct rx *r, int depth)
{
	struct rx_cost total = {0, false};

	for (;;) {
		while (*r->p != '\0' && *r->p != '|' && *r->p != ')' && total.n <= REGEX_COST_MAX) {
			struct rx_cost c = rx_quantifiers(r, rx_atom(r, depth));
			total.n = cost_add(total.n, c.n);
			total.starred |= c.starred;
		}
		if (*r->p != '|' || total.n > REGEX_COST_MAX)
			return total;
		r->p++;
	}
}

/* The estimated cost of a whole pattern (REGEX_COST_MAX + 1 past the bound); an unmatched ')' is read as a
 * literal, as glibc does. *stacked: a repetition stacked on another past Java's forms (`a**`). */
static size_t rx_cost(const char *pattern, bool *stacked)
{
	struct rx r = {pattern, false};
	size_t total = 0;

	for (;;) {
		total = cost_add(total, rx_alt(&r, 0).n);
		if (*r.p == '\0' || total > REGEX_COST_MAX)
			break;
		r.p++;
	}
	*stacked = r.bad;
	return total;
}

static int check_constraint(const struct job_constraint *c, size_t i, char *err, size_t errlen)
{
	regex_t re;
	char msg[128], clip[96];
	int rc;

	if (strcmp(c->op, "EQUALS") == 0)
		return 0;
	if (strcmp(c->op, "LIKE") != 0 && strcmp(c->op, "UNLIKE") != 0) {
		snprintf(err, errlen, "constraints[%zu]: unknown operator '%s' (EQUALS, LIKE, UNLIKE)", i,
			 job_clip(c->op, clip, sizeof(clip)));
		return -EINVAL;
	}
	bool stacked;
	size_t cost = rx_cost(c->value, &stacked);
	if (stacked) {
		snprintf(err, errlen, "constraints[%zu]: regular expression '%s' repeats a repetition (as in 'a**'; "
			 "after '*', '+', '?' or '{n}' only one '?' or '+' may follow, as in Java)", i,
			 job_clip(c->value, clip, sizeof(clip)));
		return -EINVAL;
	}
	if (cost > REGEX_COST_MAX) {
		snprintf(err, errlen, "constraints[%zu]: regular expression '%s' is too complex", i,
			 job_clip(c->value, clip, sizeof(clip)));
		return -EINVAL;
	}
	rc = regcomp(&re, c->value, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		regerror(rc, &re, msg, sizeof(msg));
		snprintf(err, errlen, "constraints[%zu]: invalid regular expression '%s': %s", i,
			 job_clip(c->value, clip, sizeof(clip)), msg);
		return -EINVAL;
	}
	regfree(&re);
	return 0;
}

/* The fields that hold numbers: retries, resources, completion time. */
static int check_numbers(const struct job *j, char *err, size_t errlen)
{
	if (j->retries < 0) {
		snprintf(err, errlen, "retries: must be >= 0, got %d", (int)j->retries);
		return -EINVAL;
	}
	if (check_resource("cpus", j->cpus, err, errlen) < 0 || check_resource("mem", j->mem, err, errlen) < 0 ||
	    check_resource("disk", j->disk, err, errlen) < 0)
		return -EINVAL;
	if (j->max_completion_time < 0) {
		snprintf(err, errlen, "maxCompletionTime: must be >= 0, got %lld", (long long)j->max_completion_time);
		return -EINVAL;
	}
	return 0;
}

/* gnomon's extensions: a retry duration ("" = the server's), a backoff factor of at least 1, notifyOn. */
static int check_extensions(const struct job *j, char *err, size_t errlen)
{
	char clip[96];
	int64_t ms;

	if (j->retry_delay[0] != '\0' && job_duration_parse(j->retry_delay, &ms) < 0) {
		snprintf(err, errlen, "retryDelay: expected an ISO 8601 duration such as PT30S, got '%s'",
			 job_clip(j->retry_delay, clip, sizeof(clip)));
		return -EINVAL;
	}
	if (!(isfinite(j->retry_backoff) && j->retry_backoff >= 1)) {
		snprintf(err, errlen, "retryBackoff: must be a number >= 1, got %g", j->retry_backoff);
		return -EINVAL;
	}
	if (j->notify_on == JOB_NOTIFY_INVALID) {
		snprintf(err, errlen, "notifyOn: must be failure, always or never");
		return -EINVAL;
	}
	return 0;
}

/* A period under a second would start a process every few milliseconds and pile up a slot a millisecond while
 * one runs; the schedule parser reports every other problem of the string. */
static int check_period(const struct job *j, char *err, size_t errlen)
{
	char clip[96];
	int64_t ms;

	if (j->dependent || job_schedule_period_ms(j->schedule, &ms) < 0 || ms == 0 || ms >= JOB_PERIOD_MIN_MS)
		return 0;
	snprintf(err, errlen, "schedule: the period of '%s' is shorter than one second: the shortest is PT1S",
		 job_clip(j->schedule, clip, sizeof(clip)));
	return -EINVAL;
}

int job_validate(const struct job *j, char *err, size_t errlen)
{
	char clip[96];
	int64_t ms;

	if (check_name(j->name, err, errlen) < 0)
		return -EINVAL;
	if (j->n_uris > 0 && j->n_fetch > 0) {
		snprintf(err, errlen, "fetch: Tried to add both uri (deprecated) and fetch parameters on %s", j->name);
		return -EINVAL;
	}
	if (check_numbers(j, err, errlen) < 0)
		return -EINVAL;
	for (size_t i = 0; i < j->n_constraints; i++)
		if (check_constraint(&j->constraints[i], i, err, errlen) < 0)
			return -EINVAL;
	if (j->container_json != NULL && job_container_validate(j->container_json, err, errlen) < 0)
		return -EINVAL;
	if (job_duration_parse(j->epsilon, &ms) < 0) {
		snprintf(err, errlen, "epsilon: '%s' is not an ISO 8601 duration such as PT60S",
			 job_clip(j->epsilon, clip, sizeof(clip)));
		return -EINVAL;
	}
	if (check_period(j, err, errlen) < 0)
		return -EINVAL;
	return check_extensions(j, err, errlen);
}
