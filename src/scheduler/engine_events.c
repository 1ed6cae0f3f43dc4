/* The engine's side of the events: what a run's change or end means, told to the subscribers (web UI stream,
 * notifications) after it is in the store. */
#include <inttypes.h>
#include <stdio.h>

#include "job/job.h"
#include "scheduler/engine_internal.h"
#include "scheduler/events.h"
#include "scheduler/registry.h"

static void tell(struct engine *e, enum event_type type, const struct jobrec *rec, const struct run_record *run,
    const char *reason)
{
	struct event ev = {
		.type = type,
		.job = rec ? rec->job : NULL,
		.job_name = rec ? rec->job->name : run->job,
		.run = run,
		.reason = reason,
	};
	events_emit(e->cfg.events, &ev);
}

void engine_tell_run(struct engine *e, const struct jobrec *rec, const struct run_record *run)
{
	if (e->cfg.events == NULL)
		return;
	tell(e, EVENT_RUN_CHANGED, rec, run, NULL);
	if (rec)
		tell(e, EVENT_JOB_STATE, rec, NULL, NULL);
}

/* The job was just disabled: by --disable-after-failures, or because its finite schedule ran out. */
static void tell_disabled(struct engine *e, const struct jobrec *rec, const struct run_record *run, bool by_failures)
{
	char why[160];
	struct event ev = {
		.type = EVENT_JOB_DISABLED,
		.job = rec->job,
		.job_name = rec->job->name,
		.run = run,
		.reason = why,
		.by_failures = by_failures,
	};

	if (by_failures)
		snprintf(why, sizeof(why), "%" PRId64 " failures since its last success",
		    rec->job->errors_since_last_success);
	else
		snprintf(why, sizeof(why), "it has exhausted all of its recurrences");
	events_emit(e->cfg.events, &ev);
}

void engine_tell_outcome(struct engine *e, const struct jobrec *rec, const struct run_record *run, bool retrying,
    bool was_disabled, int64_t errors_before)
{
	bool final_failure = (run->status == RUN_FAILED || run->status == RUN_LOST) && !retrying;

	if (e->cfg.events == NULL)
		return;
	tell(e, EVENT_RUN_CHANGED, rec, run, NULL);
	if (run->status == RUN_SKIPPED)
		tell(e, EVENT_RUN_SKIPPED, rec, run, run->reason);
	if (rec == NULL)
		return;
	if (final_failure)
		tell(e, EVENT_RETRIES_EXHAUSTED, rec, run, run->reason);
	if (run->status == RUN_SUCCEEDED && errors_before > 0)
		tell(e, EVENT_JOB_RECOVERED, rec, run, NULL);
	/* the same test as the outcome's: a final failure that reached --disable-after-failures */
	if (!was_disabled && rec->job->disabled)
		tell_disabled(e, rec, run, final_failure && e->cfg.disable_after_failures > 0 &&
		    rec->job->errors_since_last_success >= e->cfg.disable_after_failures);
	tell(e, EVENT_JOB_STATE, rec, NULL, NULL);
}

void engine_tell_skipped(struct engine *e, const struct jobrec *rec, const struct run_record *run)
{
	if (e->cfg.events == NULL)
		return;
	tell(e, EVENT_RUN_CHANGED, rec, run, NULL);
	tell(e, EVENT_RUN_SKIPPED, rec, run, run->reason);
}

void engine_tell_exhausted(struct engine *e, const struct jobrec *rec)
{
	if (e->cfg.events == NULL)
		return;
	tell_disabled(e, rec, NULL, false);
	tell(e, EVENT_JOB_STATE, rec, NULL, NULL);
}
