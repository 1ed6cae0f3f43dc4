#include "api/chronos_graph.h"

#include <stdlib.h>

#include "api/chronos_jobs.h"
#include "api/http.h"
#include "control/control.h"
#include "job/job.h"
#include "scheduler/registry.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/xmalloc.h"

static void put(struct buf *b, int rc)
{
	if (rc < 0)
		fatalx("graph: unbounded buffer refused data");
	(void)b;
}

/* JGraphT's DOTExporter with integer ids (1-based, in listing order) and names as labels. */
void chronos_graph_dot(struct api_env *env, struct http_request *req, const char *const *args)
{
	struct registry *reg = env->reg;
	uint32_t *ids = xcalloc(registry_slots(reg) + 1, sizeof(*ids));
	uint32_t next = 1;
	struct buf b;
	size_t len;
	(void)args;

	buf_init(&b, 0);
	put(&b, buf_puts(&b, "digraph G {\n"));
	for (size_t i = 0; i < registry_slots(reg); i++) {
		struct jobrec *rec = registry_slot(reg, i);
		if (rec == NULL)
			continue;
		ids[i] = next++;
		put(&b, buf_printf(&b, "  %u [ label = \"%s\" ];\n", ids[i], rec->job->name));
	}
	for (size_t i = 0; i < registry_slots(reg); i++) {
		struct jobrec *rec = registry_slot(reg, i);
		if (rec == NULL)
			continue;
		for (uint32_t c = 0; c < rec->node.nchildren; c++)
			put(&b, buf_printf(&b, "  %u -> %u;\n", ids[i], ids[registry_rec(graph_children(&rec->node)[c])->order]));
	}
	put(&b, buf_puts(&b, "}\n"));
	free(ids);
	char *text = buf_steal(&b, &len);
	http_respond(req, 200, "text/plain", text, len);
}

/* Chronos's Exporter: a node line per job with its last and current state, then a link line per edge. */
void chronos_graph_csv(struct api_env *env, struct http_request *req, const char *const *args)
{
	struct registry *reg = env->reg;
	struct buf b;
	size_t len;
	char state[32];
	(void)args;

	buf_init(&b, 0);
	for (size_t i = 0; i < registry_slots(reg); i++) {
		struct jobrec *rec = registry_slot(reg, i);
		if (rec)
			put(&b, buf_printf(&b, "node,%s,%s,%s\n", rec->job->name, chronos_last_state(rec->job),
			    control_job_state(env->control, rec, state, sizeof(state))));
	}
	for (size_t i = 0; i < registry_slots(reg); i++) {
		struct jobrec *rec = registry_slot(reg, i);
		if (rec == NULL)
			continue;
		for (uint32_t c = 0; c < rec->node.nchildren; c++)
			put(&b, buf_printf(&b, "link,%s,%s\n", rec->job->name, registry_rec(graph_children(&rec->node)[c])->job->name));
	}
	char *text = buf_steal(&b, &len);
	http_respond(req, 200, "text/plain", text, len);
}
