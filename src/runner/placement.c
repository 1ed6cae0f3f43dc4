/* Placement of tasks on agents: the fit, the choice and the reason when nothing fits (placement.h). */
#include "runner/placement.h"

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xmalloc.h"

#define CLIP_MAX 64 /* bytes of a name or constraint field kept in a reason */

enum op { OP_EQUALS, OP_LIKE, OP_UNLIKE };

struct constraint {
	char *attribute;
	char *op_text;
	char *value;
	char *error;     /* why it matches nothing (bad op or regex), else NULL */
	enum op op;
	bool compiled;   /* re holds a compiled regex (LIKE, UNLIKE) */
	regex_t re;
};

struct placement_constraints {
	size_t n;
	struct constraint v[];
};

static const char *nz(const char *s)
{
	return s ? s : "";
}

static void compile_one(struct constraint *k)
{
	char msg[96];
	int rc;

	if (strcmp(k->op_text, "EQUALS") == 0) {
		k->op = OP_EQUALS;
		return;
	}
	if (strcmp(k->op_text, "LIKE") == 0)
		k->op = OP_LIKE;
	else if (strcmp(k->op_text, "UNLIKE") == 0)
		k->op = OP_UNLIKE;
	else {
		k->error = xstrdup("unknown operator");
		return;
	}
	/* not REG_NOSUB: the match's offsets tell a full match, and ask glibc for the longest one */
	rc = regcomp(&k->re, k->value, REG_EXTENDED);
	if (rc != 0) {
		regerror(rc, &k->re, msg, sizeof(msg));
		k->error = xstrdup(msg);
		return;
	}
	k->compiled = true;
}

struct placement_constraints *placement_constraints_new(const struct placement_constraint *v, size_t n)
{
	struct placement_constraints *c = xcalloc(1, sizeof(*c) + n * sizeof(c->v[0]));

	c->n = n;
	for (size_t i = 0; i < n; i++) {
		struct constraint *k = &c->v[i];
		k->attribute = xstrdup(nz(v[i].attribute));
		k->op_text = xstrdup(nz(v[i].op));
		k->value = xstrdup(nz(v[i].value));
		compile_one(k);
	}
	return c;
}

void placement_constraints_free(struct placement_constraints *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++) {
		struct constraint *k = &c->v[i];
		if (k->compiled)
			regfree(&k->re);
		free(k->attribute);
		free(k->op_text);
		free(k->value);
		free(k->error);
	}
	free(c);
}

/* The agent's value of attribute key: its own first, then the synthetic hostname; NULL when absent. */
static const char *attribute_of(const struct placement_agent *a, const char *key)
{
	for (size_t i = 0; i < a->n_attrs; i++)
		if (a->attrs[i].key != NULL && strcmp(a->attrs[i].key, key) == 0)
			return a->attrs[i].value;
	return strcmp(key, "hostname") == 0 ? a->hostname : NULL;
}

/* Whether the regex matches all of s (leftmost-longest: a full match, if any, is the one regexec reports). */
static bool full_match(const regex_t *re, const char *s)
{
	regmatch_t m;

	return regexec(re, s, 1, &m, 0) == 0 && m.rm_so == 0 && (size_t)m.rm_eo == strlen(s);
}

static bool satisfies(const struct placement_agent *a, const struct constraint *k)
{
	const char *s = attribute_of(a, k->attribute);

	if (s == NULL || k->error != NULL)
		return false;
	switch (k->op) {
	case OP_EQUALS:
		return strcmp(s, k->value) == 0;
	case OP_LIKE:
		return full_match(&k->re, s);
	case OP_UNLIKE:
		return !full_match(&k->re, s);
	}
	return false;
}

bool placement_matches(const struct placement_agent *a, const struct placement_constraints *c)
{
	for (size_t i = 0; c != NULL && i < c->n; i++)
		if (!satisfies(a, &c->v[i]))
			return false;
	return true;
}

/* Resource k of r: 0 cpus, 1 mem, 2 disk. */
static double resource(const struct placement_resources *r, int k)
{
	return k == 0 ? r->cpus : k == 1 ? r->mem : r->disk;
}

/* What is free of resource k on a, never below 0 (nor NaN). */
static double free_of(const struct placement_agent *a, int k)
{
	double f = resource(&a->total, k) - resource(&a->used, k);

	return f > 0 ? f : 0;
}

static bool covers(const struct placement_agent *a, const struct placement_resources *need, int k)
{
	return free_of(a, k) + PLACEMENT_EPSILON >= resource(need, k);
}

static bool fits(const struct placement_agent *a, const struct placement_resources *need)
{
	return covers(a, need, 0) && covers(a, need, 1) && covers(a, need, 2);
}

/* Whether a goes before b: fewer running tasks, then more free memory. */
static bool less_loaded(const struct placement_agent *a, const struct placement_agent *b)
{
	if (a->running != b->running)
		return a->running < b->running;
	return free_of(a, 1) > free_of(b, 1);
}

/* s cut to CLIP_MAX bytes (on a UTF-8 boundary, then "...") in buf, which holds CLIP_MAX + 4. */
static const char *clip(const char *s, char *buf)
{
	size_t len = strlen(nz(s)), keep = CLIP_MAX - 3;

	if (len <= CLIP_MAX)
		return nz(s);
	while (keep > 0 && ((unsigned char)s[keep] & 0xC0) == 0x80)
		keep--;
	snprintf(buf, CLIP_MAX + 4, "%.*s...", (int)keep, s);
	return buf;
}

/* "rack EQUALS b", each part clipped. */
static void describe_constraint(const struct constraint *k, char *out, size_t outlen)
{
	char a[CLIP_MAX + 4], o[CLIP_MAX + 4], v[CLIP_MAX + 4];

	snprintf(out, outlen, "%s %s %s", clip(k->attribute, a), clip(k->op_text, o), clip(k->value, v));
}

/* The amount of resource k, as reasons say it: "4 cpus", "1 cpu", "2048 MiB of memory", "10 MiB of disk". */
static void describe_amount(int k, double v, char *out, size_t outlen)
{
	static const char *const unit[] = {" cpus", " MiB of memory", " MiB of disk"};

	snprintf(out, outlen, "%.15g%s", v, k == 0 && v == 1 ? " cpu" : unit[k]);
}

/* The agents counted for a reason, and the wording that follows from them. */
struct census {
	size_t usable;
	size_t draining;
	size_t matching;      /* usable ones that satisfy the constraints */
	const char *who;      /* "" or " matching the constraints" */
	char tail[40];        /* "" or " (2 draining)" */
	char inner[40];       /* "" or "; 2 draining", inside a parenthesis of the reason */
};

/* No usable agent satisfies the constraints: name the first one that none satisfies, or say they conflict. */
static void explain_constraints(const struct placement_agent *agents, size_t n, const struct placement_constraints *c,
    const struct census *cs, char *reason, size_t reason_len)
{
	char what[3 * (CLIP_MAX + 4)];

	for (size_t i = 0; i < c->n; i++) {
		bool anyone = false;
		for (size_t j = 0; j < n && !anyone; j++)
			anyone = agents[j].state == PLACEMENT_USABLE && satisfies(&agents[j], &c->v[i]);
		if (!anyone) {
			describe_constraint(&c->v[i], what, sizeof(what));
			snprintf(reason, reason_len, "no agent matches %s%s", what, cs->tail);
			return;
		}
	}
	snprintf(reason, reason_len, "no agent matches all %zu constraints at once%s", c->n, cs->tail);
}

/* The usable agents that satisfy the constraints lack resources: name the one none has enough of (first of cpus,
 * memory, disk), with the most free, or the ones no agent has together. */
static void explain_resources(const struct placement_agent *agents, size_t n, const struct placement_resources *need,
    const struct placement_constraints *c, const struct census *cs, char *reason, size_t reason_len)
{
	size_t lack[3] = {0, 0, 0}, most[3] = {n, n, n};
	char amount[3][64], name[CLIP_MAX + 4];
	int ks[3] = {0, 1, 2}, m = 0;

	for (size_t j = 0; j < n; j++) {
		const struct placement_agent *a = &agents[j];
		if (a->state != PLACEMENT_USABLE || !placement_matches(a, c))
			continue;
		for (int k = 0; k < 3; k++) {
			lack[k] += !covers(a, need, k);
			if (most[k] == n || free_of(a, k) > free_of(&agents[most[k]], k))
				most[k] = j;
		}
	}
	for (int k = 0; k < 3; k++)
		describe_amount(k, resource(need, k), amount[k], sizeof(amount[k]));
	for (int k = 0; k < 3; k++) {
		if (lack[k] < cs->matching)
			continue;
		char most_free[64];
		snprintf(most_free, sizeof(most_free), "%.15g%s", free_of(&agents[most[k]], k), k == 0 ? "" : " MiB");
		snprintf(reason, reason_len, "no agent%s has %s free (most free: %s on %s%s)", cs->who, amount[k],
		    most_free, clip(agents[most[k]].name, name), cs->inner);
		return;
	}
	/* every matching agent lacks something and no resource is lacked by all: two or three are lacked by some */
	for (int k = 0; k < 3; k++)
		if (lack[k] > 0)
			ks[m++] = k;
	if (m == 3)
		snprintf(reason, reason_len, "no agent%s has %s, %s and %s free at once%s", cs->who, amount[0],
		    amount[1], amount[2], cs->tail);
	else
		snprintf(reason, reason_len, "no agent%s has %s and %s free at once%s", cs->who, amount[ks[0]],
		    amount[ks[1]], cs->tail);
}

/* Why no agent fits (placement.h, at the top). */
static void explain(const struct placement_agent *agents, size_t n, const struct placement_resources *need,
    const struct placement_constraints *c, char *reason, size_t reason_len)
{
	struct census cs = {.who = c != NULL && c->n > 0 ? " matching the constraints" : ""};
	char what[3 * (CLIP_MAX + 4)], err[CLIP_MAX + 4];

	for (size_t i = 0; c != NULL && i < c->n; i++) {
		if (c->v[i].error != NULL) {
			describe_constraint(&c->v[i], what, sizeof(what));
			snprintf(reason, reason_len, "invalid constraint %s: %s", what, clip(c->v[i].error, err));
			return;
		}
	}
	for (size_t j = 0; j < n; j++) {
		cs.usable += agents[j].state == PLACEMENT_USABLE;
		cs.draining += agents[j].state == PLACEMENT_DRAINING;
		cs.matching += agents[j].state == PLACEMENT_USABLE && placement_matches(&agents[j], c);
	}
	if (cs.usable == 0) {
		if (cs.draining == 0)
			snprintf(reason, reason_len, "no agents connected");
		else
			snprintf(reason, reason_len, "no agent is accepting tasks (%zu draining)", cs.draining);
		return;
	}
	if (cs.draining > 0) {
		snprintf(cs.tail, sizeof(cs.tail), " (%zu draining)", cs.draining);
		snprintf(cs.inner, sizeof(cs.inner), "; %zu draining", cs.draining);
	}
	if (cs.matching == 0)
		explain_constraints(agents, n, c, &cs, reason, reason_len);
	else
		explain_resources(agents, n, need, c, &cs, reason, reason_len);
}

int placement_choose(const struct placement_agent *agents, size_t n, const struct placement_resources *need,
    const struct placement_constraints *c, size_t *chosen, char *reason, size_t reason_len)
{
	size_t best = n;

	/* the cheap tests first: the regexes run only for an agent that would be the best so far */
	for (size_t i = 0; i < n; i++) {
		const struct placement_agent *a = &agents[i];
		if (a->state != PLACEMENT_USABLE || !fits(a, need))
			continue;
		if (best < n && !less_loaded(a, &agents[best]))
			continue;
		if (placement_matches(a, c))
			best = i;
	}
	if (best < n) {
		*chosen = best;
		return 0;
	}
	explain(agents, n, need, c, reason, reason_len);
	return -EAGAIN;
}

void placement_reserve(struct placement_agent *a, const struct placement_resources *need)
{
	a->used.cpus += need->cpus;
	a->used.mem += need->mem;
	a->used.disk += need->disk;
	a->running++;
}

/* used - need, 0 when that is below PLACEMENT_EPSILON (drift) or NaN. */
static double release_one(double used, double need)
{
	double left = used - need;

	return left > PLACEMENT_EPSILON ? left : 0;
}

void placement_release(struct placement_agent *a, const struct placement_resources *need)
{
	a->used.cpus = release_one(a->used.cpus, need->cpus);
	a->used.mem = release_one(a->used.mem, need->mem);
	a->used.disk = release_one(a->used.disk, need->disk);
	if (a->running > 0)
		a->running--;
}
