/* GET /metrics/prometheus: what operators alert on, in the Prometheus text format (util/prom.h). Runs are
 * observed through the event hub (a run's start gives its lateness, its final record its status and duration),
 * requests through the HTTP server's done hook, and the rest is read at scrape time from the registry and the
 * engine. The per-job series are streamed, so a million jobs never make one big buffer. */
#ifndef GNOMON_API_PROMETHEUS_H
#define GNOMON_API_PROMETHEUS_H

#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"

struct prometheus;

/* Start observing the runs told to events (before the engine starts, so that runs recovered at start-up count).
 * per_job: include gnomon_job_last_{success,failure}_timestamp_seconds. Returns 0 or -ENOSPC (too many
 * subscribers). */
int prometheus_new(struct events *events, bool per_job, struct prometheus **out) __attribute__((warn_unused_result));
/* Stop observing and free; NULL is fine. Not while a scrape is being streamed (the HTTP server is stopped). */
void prometheus_free(struct prometheus *p);
/* A request routed to method and route (the route's pattern, so that the label's values stay few) is finished
 * after nanos. */
void prometheus_observe_request(struct prometheus *p, const char *method, const char *route, uint64_t nanos);
/* GET /metrics/prometheus */
void prometheus_handle(struct api_env *env, struct http_request *req, const char *const *args);

#endif
