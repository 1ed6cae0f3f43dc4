/* Runs for people to read at a glance (the web UI's timeline, calendar and outcome strips): runs of many jobs
 * over a window with the coming fires, a job's last few runs, and a failed run's last line of stderr. Read-only:
 * computed from what the history, the store and the engine hold. */
#ifndef GNOMON_API_GNOMON_TIMELINE_H
#define GNOMON_API_GNOMON_TIMELINE_H

#include <jansson.h>

#include "api/api.h"

struct jobrec;
struct run_record;

/* GET /api/v1/timeline?from=&to=&fires=&limit= (limit=0: the fires only) plus the job listing's filters (q, name,
 * command, owner, state, result): {from, to, now, runs: [brief run], fires: [{job, at}], truncated} */
void gnomon_timeline(struct api_env *env, struct http_request *req, const char *const *args);
/* The newest n runs of a job (open ones first), brief, newest first (new reference); NULL on a read error. */
json_t *gnomon_job_strip(struct api_env *env, const struct jobrec *rec, int n);
/* Add "stderrLast" to a run's JSON o: the last non-empty line of its stderr, for a failed, lost or killed run that
 * wrote any (nothing otherwise). */
void gnomon_add_stderr_last(struct api_env *env, json_t *o, const struct run_record *r);

#endif
