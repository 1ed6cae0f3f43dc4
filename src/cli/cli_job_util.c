#include "cli/cli_job_util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/log.h"
#include "util/strmap.h"
#include "util/xmalloc.h"

enum mark { UNSEEN, ACTIVE, DONE };

/* One job of the batch while ordering it. */
struct node {
	const char *name; /* borrowed from the job */
	json_t *job;
	bool dependent;
	enum mark mark;
};

/* A job being visited: which of its parents to look at next. */
struct frame {
	size_t node;
	size_t next_parent;
};

const char *cli_job_endpoint(const json_t *job)
{
	return json_object_get(job, "parents") ? CLI_PATH_DEPENDENCY : CLI_PATH_ISO8601;
}

static void append_job(json_t *out, json_t *job)
{
	if (json_array_append(out, job) < 0)
		fatalx("json_array_append: out of memory");
}

/* Check every element and index the batch by name. */
static int index_jobs(const json_t *jobs, struct node *nodes, struct strmap *byname, char *err, size_t errlen)
{
	for (size_t i = 0; i < json_array_size(jobs); i++) {
		json_t *job = json_array_get(jobs, i);
		const char *name = json_string_value(json_object_get(job, "name"));
		struct node *prev;

		if (!json_is_object(job)) {
			snprintf(err, errlen, "job #%zu is not a JSON object", i + 1);
			return -EINVAL;
		}
		if (!name || !*name) {
			snprintf(err, errlen, "job #%zu has no \"name\"", i + 1);
			return -EINVAL;
		}
		nodes[i] = (struct node){.name = name, .job = job, .dependent = json_object_get(job, "parents") != NULL};
		if ((prev = strmap_put(byname, name, &nodes[i]))) {
			snprintf(err, errlen, "job '%s' is defined twice (#%zu and #%zu)", name, (size_t)(prev - nodes) + 1,
			    i + 1);
			return -EINVAL;
		}
	}
	return 0;
}

/* Describe the cycle that closes when the job on top of the stack names an active ancestor as parent. */
static void cycle_error(const struct node *nodes, const struct frame *stack, size_t depth, const struct node *again,
    char *err, size_t errlen)
{
	struct buf msg;
	size_t k = 0;
	int rc;

	buf_init(&msg, 0);
	while (k < depth && &nodes[stack[k].node] != again)
		k++;
	rc = buf_puts(&msg, "dependency cycle: ");
	for (; k < depth && rc == 0; k++)
		rc = buf_printf(&msg, "%s -> ", nodes[stack[k].node].name);
	if (rc == 0 && buf_puts(&msg, again->name) == 0)
		snprintf(err, errlen, "%s", msg.data);
	else
		snprintf(err, errlen, "dependency cycle");
	buf_free(&msg);
}

/* Depth-first from one dependent job, appending each job after the batch's dependent parents it names. An
 * explicit stack, so a long chain cannot overflow the C stack. */
static int visit(struct node *nodes, size_t start, const struct strmap *byname, struct frame *stack, json_t *out,
    char *err, size_t errlen)
{
	size_t depth = 0;

	nodes[start].mark = ACTIVE;
	stack[depth++] = (struct frame){.node = start};
	while (depth > 0) {
		struct frame *f = &stack[depth - 1];
		struct node *n = &nodes[f->node];
		const json_t *parents = json_object_get(n->job, "parents");

		if (f->next_parent >= json_array_size(parents)) {
			n->mark = DONE;
			append_job(out, n->job);
			depth--;
			continue;
		}
		const char *pname = json_string_value(json_array_get(parents, f->next_parent++));
		struct node *p = pname ? strmap_get(byname, pname) : NULL;
		if (!p || !p->dependent || p->mark == DONE)
			continue; /* defined elsewhere, schedule-based (sent first), or already placed */
		if (p->mark == ACTIVE) {
			cycle_error(nodes, stack, depth, p, err, errlen);
			return -ELOOP;
		}
		p->mark = ACTIVE;
		stack[depth++] = (struct frame){.node = (size_t)(p - nodes)};
	}
	return 0;
}

json_t *cli_job_order(const json_t *jobs, char *err, size_t errlen)
{
	size_t n = json_array_size(jobs);
	struct node *nodes = xcalloc(n ? n : 1, sizeof(*nodes));
	struct frame *stack = xcalloc(n ? n : 1, sizeof(*stack));
	struct strmap *byname = strmap_new();
	json_t *out = json_array();
	int rc;

	if (!out)
		fatalx("json_array: out of memory");
	if (!json_is_array(jobs)) {
		snprintf(err, errlen, "expected an array of jobs");
		rc = -EINVAL;
		goto out;
	}
	if ((rc = index_jobs(jobs, nodes, byname, err, errlen)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (!nodes[i].dependent)
			append_job(out, nodes[i].job);
	for (size_t i = 0; i < n && rc == 0; i++)
		if (nodes[i].dependent && nodes[i].mark == UNSEEN)
			rc = visit(nodes, i, byname, stack, out, err, errlen);
out:
	if (rc < 0) {
		json_decref(out);
		out = NULL;
	}
	strmap_free(byname);
	free(stack);
	free(nodes);
	return out;
}

/* Append arg to out quoted for a POSIX shell. */
static void shell_quote(struct buf *out, const char *arg)
{
	static const char safe[] = "@%+=:,./-_";
	bool plain = *arg != '\0';
	int rc = 0;

	for (const char *p = arg; plain && *p; p++)
		plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr(safe, *p) != NULL;
	if (plain) {
		rc = buf_puts(out, arg);
	} else {
		rc = buf_puts(out, "'");
		for (const char *p = arg; rc == 0 && *p; p++)
			rc = *p == '\'' ? buf_puts(out, "'\\''") : buf_append(out, p, 1);
		if (rc == 0)
			rc = buf_puts(out, "'");
	}
	if (rc < 0)
		fatalx("unbounded buffer refused data");
}

char *cli_job_join_args(int argc, const char *const argv[])
{
	struct buf out;

	buf_init(&out, 0);
	for (int i = 0; i < argc; i++) {
		if (i > 0 && buf_puts(&out, " ") < 0)
			fatalx("unbounded buffer refused data");
		shell_quote(&out, argv[i]);
	}
	return buf_steal(&out, NULL);
}
