#include "api/gnomon_graph.h"

#include <gvc.h>
#include <gvplugin.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/chronos_jobs.h"
#include "api/http.h"
#include "job/job.h"
#include "control/control.h"
#include "scheduler/registry.h"
#include "util/log.h"
#include "util/xmalloc.h"

/* Most jobs drawn in one answer. dot's layout runs on the loop thread and grows faster than linearly with the
 * graph: 2,000 jobs take 0.1 to 0.6 s as chains, fan-outs or layered DAGs, and about 2 s when thousands of
 * edges span many ranks; 10,000 would stall the scheduler for much longer. */
#define GRAPH_MAX_JOBS 2000
#define GRAPH_BIG_JOBS 500     /* from here, cap dot's crossing minimisation and network simplex passes */
#define QUOTE_MAX 256          /* longest client-sent name quoted in an error message */
#define SVG_CONTENT_TYPE "image/svg+xml"

/* Node fill by last result (chronos_last_state), and a lighter one for disabled jobs. */
static const struct look {
	const char *last;
	const char *fill;
	const char *fill_disabled;
} looks[] = {
	{"success", "#b7e1b0", "#e6f4e3"},
	{"failure", "#f2a7a7", "#fbe3e3"},
	{"fresh", "#d9d9d9", "#f2f2f2"},
};

/* The jobs to draw: keep[i] for registry slot i (a job's order). */
struct selection {
	bool *keep;
	size_t n;
	const struct jobrec *focus; /* ?job=, drawn highlighted; NULL for the whole graph */
};

enum render_rc { RENDER_OK, RENDER_NO_CONTEXT, RENDER_LAYOUT, RENDER_SVG };

/* The Graphviz plugins gnomon uses, linked in (CMakeLists.txt says why the plugin config is not read). Without
 * a text-layout plugin, label widths come from Graphviz's built-in font metrics, whatever fonts are installed. */
extern gvplugin_library_t gvplugin_dot_layout_LTX_library;
extern gvplugin_library_t gvplugin_core_LTX_library;
static const lt_symlist_t graphviz_plugins[] = {
	{"gvplugin_dot_layout_LTX_library", &gvplugin_dot_layout_LTX_library},
	{"gvplugin_core_LTX_library", &gvplugin_core_LTX_library},
	{NULL, NULL},
};

/* Graphviz 2.4x declares char * for strings it only reads (names and attribute values are copied into its
 * string pool), so const strings reach it through this. */
static char *gv_str(const char *s)
{
	union {
		const char *c;
		char *m;
	} u = {.c = s};
	return u.m;
}

/* Set an attribute of a graph, node or edge, declaring it (default "") if needed. */
static void set(void *obj, const char *name, const char *value)
{
	agsafeset(obj, gv_str(name), gv_str(value), gv_str(""));
}

/* Graphviz's error and warning messages go to our log instead of raw stderr. Graphviz hands over "Error" or
 * "Warning", then ": ", then the message, in three calls (the first two string literals: msg is read-only),
 * and only the message is logged. */
static int graphviz_message(char *msg)
{
	size_t n = strlen(msg);

	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	if (n == 0 || strcmp(msg, ": ") == 0 || strcmp(msg, "Error") == 0 || strcmp(msg, "Warning") == 0)
		return 0;
	log_warnx("graph: Graphviz: %.*s", (int)n, msg);
	return 0;
}

static const struct look *look_of(const char *last)
{
	for (size_t i = 0; i < sizeof(looks) / sizeof(looks[0]); i++)
		if (strcmp(looks[i].last, last) == 0)
			return &looks[i];
	return &looks[sizeof(looks) / sizeof(looks[0]) - 1];
}

/* "/ui/jobs/<name>" (the web UI's page of the job) with every byte outside RFC 3986's unreserved set percent-encoded; the caller frees it. */
static char *job_url(const char *name)
{
	static const char hex[] = "0123456789ABCDEF", prefix[] = "/ui/jobs/";
	char *url = xmalloc(sizeof(prefix) + 3 * strlen(name));
	char *p = url + sizeof(prefix) - 1;

	memcpy(url, prefix, sizeof(prefix) - 1);
	for (const unsigned char *s = (const unsigned char *)name; *s; s++) {
		if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    strchr("-._~", *s) != NULL) {
			*p++ = (char)*s;
		} else {
			*p++ = '%';
			*p++ = hex[*s >> 4];
			*p++ = hex[*s & 15];
		}
	}
	*p = '\0';
	return url;
}

/* A label showing name verbatim: Graphviz reads backslash escapes (\N, \n, \l) in labels, so double them.
 * The caller frees it. */
static char *job_label(const char *name)
{
	char *label = xmalloc(2 * strlen(name) + 1);
	char *p = label;

	for (const char *s = name; *s; s++) {
		if (*s == '\\')
			*p++ = '\\';
		*p++ = *s;
	}
	*p = '\0';
	return label;
}

static void keep_node(void *ctx, struct graph_node *n)
{
	struct selection *sel = ctx;
	const struct jobrec *rec = registry_rec(n);
	if (!sel->keep[rec->order]) {
		sel->keep[rec->order] = true;
		sel->n++;
	}
}

/* Mark the jobs reachable from start by children (down) or by parents (up); start must be marked already. */
static void select_reachable(struct registry *reg, struct selection *sel, const struct jobrec *start, bool down)
{
	graph_reachable(registry_graph(reg), (struct graph_node *)(uintptr_t)&start->node, down, keep_node, sel);
}

/* Choose every job, or focus with its ancestors and descendants. */
static void select_jobs(struct registry *reg, struct selection *sel, const struct jobrec *focus)
{
	sel->keep = xcalloc(registry_slots(reg) + 1, sizeof(*sel->keep));
	sel->focus = focus;
	if (focus != NULL) {
		sel->keep[focus->order] = true;
		sel->n = 1;
		select_reachable(reg, sel, focus, true);
		select_reachable(reg, sel, focus, false);
		return;
	}
	for (size_t i = 0; i < registry_slots(reg); i++) {
		if (registry_slot(reg, i) != NULL) {
			sel->keep[i] = true;
			sel->n++;
		}
	}
}

/* Add a job's node: filled by its last result, bold and double-bordered while running, dashed while queued,
 * lighter when disabled, linked to the job's page in the web UI with its state as tooltip. */
static Agnode_t *add_job_node(const struct control *control, Agraph_t *g, const struct jobrec *rec, bool focus)
{
	const struct job *j = rec->job;
	const char *last = chronos_last_state(j);
	const struct look *look = look_of(last);
	char state[32], tooltip[64], style[64], class[128];
	bool running = strstr(control_job_state(control, rec, state, sizeof(state)), "running") != NULL;
	bool queued = strcmp(state, "queued") == 0;
	Agnode_t *n = agnode(g, gv_str(j->name), 1);
	char *label = job_label(j->name), *url = job_url(j->name);

	snprintf(style, sizeof(style), "rounded,filled%s", running ? ",bold" : queued ? ",dashed" : "");
	snprintf(tooltip, sizeof(tooltip), "%s%s", state, j->disabled ? " (disabled)" : "");
	snprintf(class, sizeof(class), "job %s %s%s%s", last, running ? "running" : queued ? "queued" : "idle",
	    j->disabled ? " disabled" : "", focus ? " focus" : "");
	set(n, "label", label);
	set(n, "URL", url);
	set(n, "tooltip", tooltip);
	set(n, "class", class);
	set(n, "style", style);
	set(n, "fillcolor", j->disabled ? look->fill_disabled : look->fill);
	if (running)
		set(n, "peripheries", "2");
	if (j->disabled) {
		set(n, "color", "#a6a6a6");
		set(n, "fontcolor", "#8c8c8c");
	}
	if (focus) {
		set(n, "color", "#1f5fbf");
		set(n, "penwidth", "3");
	}
	free(url);
	free(label);
	return n;
}

/* The selected jobs as a Graphviz digraph with their edges; the caller closes it with agclose(). */
static Agraph_t *build_graph(const struct control *control, struct registry *reg, const struct selection *sel,
    size_t *nedges)
{
	Agraph_t *g = agopen(gv_str("jobs"), Agdirected, NULL);
	Agnode_t **nodes = xcalloc(registry_slots(reg) + 1, sizeof(*nodes));

	agattr(g, AGNODE, gv_str("shape"), gv_str("box"));
	agattr(g, AGNODE, gv_str("fontname"), gv_str("Helvetica"));
	agattr(g, AGNODE, gv_str("fontsize"), gv_str("11"));
	agattr(g, AGEDGE, gv_str("color"), gv_str("#595959"));
	agattr(g, AGEDGE, gv_str("arrowsize"), gv_str("0.7"));
	if (sel->n > GRAPH_BIG_JOBS) {
		/* A third of the layout time on large graphs, for a few more edge crossings. */
		agattr(g, AGRAPH, gv_str("mclimit"), gv_str("0.1"));
		agattr(g, AGRAPH, gv_str("nslimit"), gv_str("1"));
		agattr(g, AGRAPH, gv_str("nslimit1"), gv_str("1"));
	}
	for (size_t i = 0; i < registry_slots(reg); i++) {
		const struct jobrec *rec = registry_slot(reg, i);
		if (rec != NULL && sel->keep[i])
			nodes[i] = add_job_node(control, g, rec, rec == sel->focus);
	}
	*nedges = 0;
	for (size_t i = 0; i < registry_slots(reg); i++) {
		const struct jobrec *rec = registry_slot(reg, i);
		if (nodes[i] == NULL)
			continue;
		for (uint32_t c = 0; c < rec->node.nchildren; c++) {
			Agnode_t *child = nodes[registry_rec(graph_children(&rec->node)[c])->order];
			if (child != NULL) {
				agedge(g, nodes[i], child, NULL, 1);
				(*nedges)++;
			}
		}
	}
	free(nodes);
	return g;
}

/* Lay g out with dot and render it as SVG into *svg (malloc'd, the caller frees it). One Graphviz context per
 * call: with builtin plugins only, creating one costs a few microseconds. */
static enum render_rc render_svg(Agraph_t *g, char **svg, size_t *len)
{
	GVC_t *gvc = gvContextPlugins(graphviz_plugins, 0);
	enum render_rc rc = RENDER_LAYOUT;
	char *data = NULL;
	unsigned int n = 0;

	if (gvc == NULL)
		return RENDER_NO_CONTEXT;
	if (gvLayout(gvc, g, "dot") != 0)
		goto out;
	rc = RENDER_SVG;
	if (gvRenderData(gvc, g, "svg", &data, &n) != 0 || data == NULL)
		goto out;
	*svg = xmalloc((size_t)n + 1);
	memcpy(*svg, data, n);
	(*svg)[n] = '\0';
	*len = n;
	rc = RENDER_OK;
out:
	gvFreeRenderData(data);
	gvFreeLayout(gvc, g);
	gvFreeContext(gvc);
	return rc;
}

void gnomon_graph_svg(struct api_env *env, struct http_request *req, const char *const *args)
{
	static const char *const failures[] = {
		[RENDER_NO_CONTEXT] = "could not start Graphviz",
		[RENDER_LAYOUT] = "Graphviz could not lay out the graph",
		[RENDER_SVG] = "Graphviz could not render the graph as SVG",
	};
	const char *name = http_request_query(req, "job");
	const struct jobrec *focus = NULL;
	struct selection sel = {0};
	char *svg = NULL;
	size_t len = 0, nedges;
	(void)args;

	if (name != NULL && (focus = registry_get(env->reg, name)) == NULL) {
		http_respond_error(req, 404, "Job '%.*s' not found", QUOTE_MAX, name);
		return;
	}
	select_jobs(env->reg, &sel, focus);
	if (sel.n > GRAPH_MAX_JOBS) {
		if (focus != NULL)
			http_respond_error(req, 400, "job: the neighbourhood of '%s' has %zu jobs, more than the %d drawn "
			    "at once", focus->job->name, sel.n, GRAPH_MAX_JOBS);
		else
			http_respond_error(req, 400, "job: the graph has %zu jobs; ask for one job's neighbourhood with "
			    "?job=NAME (at most %d jobs are drawn at once)", sel.n, GRAPH_MAX_JOBS);
		goto out;
	}
	agseterrf(graphviz_message);
	uint64_t t0 = uv_hrtime();
	Agraph_t *g = build_graph(env->control, env->reg, &sel, &nedges);
	enum render_rc rc = render_svg(g, &svg, &len);
	agclose(g);
	if (rc != RENDER_OK) {
		log_warnx("graph: %s (%zu jobs, %zu edges)", failures[rc], sel.n, nedges);
		http_respond_error(req, 500, "graph: %s", failures[rc]);
		goto out;
	}
	log_debug("graph: drew %zu jobs and %zu edges as %zu bytes of SVG in %.1f ms", sel.n, nedges, len,
	    (double)(uv_hrtime() - t0) / 1e6);
	http_respond(req, 200, SVG_CONTENT_TYPE, svg, len);
out:
	free(sel.keep);
}
