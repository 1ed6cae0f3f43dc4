#include "history/run_record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/xmalloc.h"

static const char *const status_names[RUN_STATUS_COUNT] = {
	"queued", "waiting", "starting", "running", "succeeded", "failed", "killed", "lost", "skipped",
};
static const char *const trigger_names[TRIGGER_COUNT] = {"schedule", "manual", "retry", "dependency"};

const char *run_status_name(enum run_status s)
{
	return s < RUN_STATUS_COUNT ? status_names[s] : "unknown";
}

const char *run_trigger_name(enum run_trigger t)
{
	return t < TRIGGER_COUNT ? trigger_names[t] : "unknown";
}

/* The index of name in names[n], or -EINVAL. */
static int parse_name(const char *const *names, int n, const char *name)
{
	for (int i = 0; name && i < n; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -EINVAL;
}

int run_status_parse(const char *name, enum run_status *out)
{
	int i = parse_name(status_names, RUN_STATUS_COUNT, name);
	if (i < 0)
		return i;
	*out = (enum run_status)i;
	return 0;
}

int run_trigger_parse(const char *name, enum run_trigger *out)
{
	int i = parse_name(trigger_names, TRIGGER_COUNT, name);
	if (i < 0)
		return i;
	*out = (enum run_trigger)i;
	return 0;
}

bool run_status_is_final(enum run_status s)
{
	return s >= RUN_SUCCEEDED;
}

void run_record_init(struct run_record *r)
{
	memset(r, 0, sizeof(*r));
	r->not_before_ms = RUN_TIME_NONE;
	r->start_ms = RUN_TIME_NONE;
	r->end_ms = RUN_TIME_NONE;
	r->exit_code = -1;
	r->skipped_from_ms = RUN_TIME_NONE;
	r->skipped_to_ms = RUN_TIME_NONE;
	r->cpu_user_us = r->cpu_system_us = r->peak_memory_bytes = -1;
}

void run_record_clear(struct run_record *r)
{
	free(r->task_id);
	free(r->job);
	free(r->host);
	free(r->agent);
	free(r->arguments);
	free(r->parents);
	free(r->reason);
	run_record_init(r);
}

void run_record_set(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value ? value : "");
}

void run_record_copy(struct run_record *dst, const struct run_record *src)
{
	run_record_clear(dst);
	*dst = *src;
	dst->task_id = xstrdup(src->task_id ? src->task_id : "");
	dst->job = xstrdup(src->job ? src->job : "");
	dst->host = xstrdup(src->host ? src->host : "");
	dst->agent = xstrdup(src->agent ? src->agent : "");
	dst->arguments = xstrdup(src->arguments ? src->arguments : "");
	dst->parents = xstrdup(src->parents ? src->parents : "");
	dst->reason = xstrdup(src->reason ? src->reason : "");
}
