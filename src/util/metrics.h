/* Codahale-style metrics (counters, gauges, histograms, timers) rendered as the JSON of Dropwizard's
 * MetricsServlet, which Chronos's /metrics served. Owned by the loop thread. */
#ifndef GNOMON_API_METRICS_H
#define GNOMON_API_METRICS_H

#include <jansson.h>
#include <stdint.h>

struct metrics;

struct metrics *metrics_new(int64_t now_ms);
void metrics_free(struct metrics *m);

void metrics_count(struct metrics *m, const char *name, int64_t delta);
/* Record one sample in a histogram (value as given) or a timer (value in nanoseconds). */
void metrics_histogram(struct metrics *m, const char *name, int64_t value);
void metrics_timer(struct metrics *m, const char *name, int64_t nanos, int64_t now_ms);

/* Codahale's quantile (p in [0,1]) of n sorted values; 0 when n is 0. */
double metrics_quantile(const int64_t *sorted, uint32_t n, double p);

/* Percentiles of a histogram's samples: p in [0,1]. Returns 0 when empty. */
double metrics_histogram_quantile(const struct metrics *m, const char *name, double p);
int64_t metrics_histogram_count(const struct metrics *m, const char *name);

/* The registry as {"version", "gauges", "counters", "histograms", "meters", "timers"}; gauges come from the
 * caller (a new reference that is stolen). Returns a new reference. */
json_t *metrics_to_json(struct metrics *m, json_t *gauges, int64_t now_ms);

#endif
