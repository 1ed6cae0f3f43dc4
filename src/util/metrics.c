#include "util/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/strmap.h"
#include "util/xmalloc.h"

#define RESERVOIR_MAX 1028   /* Codahale's default reservoir size */
#define TICK_MS 5000         /* Codahale's EWMA tick */

enum kind { KIND_COUNTER, KIND_HISTOGRAM, KIND_TIMER };

/* An exponentially weighted moving average of a rate, as Codahale's EWMA. */
struct ewma {
	double rate;
	int initialised;
};

struct metric {
	char *name;
	enum kind kind;
	int64_t count;
	int64_t *samples; /* ring of the last RESERVOIR_MAX samples, grown on demand */
	uint32_t nsamples, capsamples, next;
	int64_t uncounted;      /* events since the last EWMA tick */
	int64_t last_tick_ms;
	struct ewma m1, m5, m15;
};

struct metrics {
	struct strmap *by_name;
	struct metric **all;
	size_t n, cap;
	int64_t started_ms;
};

struct metrics *metrics_new(int64_t now_ms)
{
	struct metrics *m = xcalloc(1, sizeof(*m));
	m->by_name = strmap_new();
	m->started_ms = now_ms;
	return m;
}

void metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->all[i]->name);
		free(m->all[i]->samples);
		free(m->all[i]);
	}
	free(m->all);
	strmap_free(m->by_name);
	free(m);
}

static struct metric *get(struct metrics *m, const char *name, enum kind kind, int64_t now_ms)
{
	struct metric *x = strmap_get(m->by_name, name);
	if (x)
		return x;
	x = xcalloc(1, sizeof(*x));
	x->name = xstrdup(name);
	x->kind = kind;
	x->last_tick_ms = now_ms;
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 32;
		m->all = xrealloc(m->all, m->cap * sizeof(*m->all));
	}
	m->all[m->n++] = x;
	strmap_put(m->by_name, x->name, x);
	return x;
}

void metrics_count(struct metrics *m, const char *name, int64_t delta)
{
	get(m, name, KIND_COUNTER, m->started_ms)->count += delta;
}

/* Keep the last RESERVOIR_MAX samples: append until full, then overwrite the oldest. */
static void add_sample(struct metric *x, int64_t v)
{
	if (x->nsamples < RESERVOIR_MAX) {
		if (x->nsamples == x->capsamples) {
			x->capsamples = x->capsamples ? x->capsamples * 2 : 16;
			if (x->capsamples > RESERVOIR_MAX)
				x->capsamples = RESERVOIR_MAX;
			x->samples = xrealloc(x->samples, x->capsamples * sizeof(*x->samples));
		}
		x->samples[x->nsamples++] = v;
	} else {
		x->samples[x->next] = v;
		x->next = (x->next + 1) % RESERVOIR_MAX;
	}
	x->count++;
}

void metrics_histogram(struct metrics *m, const char *name, int64_t value)
{
	add_sample(get(m, name, KIND_HISTOGRAM, m->started_ms), value);
}

static void ewma_tick(struct ewma *e, double alpha, int64_t count)
{
	double instant = (double)count / (TICK_MS / 1000.0);
	if (e->initialised) {
		e->rate += alpha * (instant - e->rate);
	} else {
		e->rate = instant;
		e->initialised = 1;
	}
}

/* Advance the moving averages to now, one 5-second tick at a time (bounded: after an hour idle they are 0). */
static void tick(struct metric *x, int64_t now_ms)
{
	static const double interval_min = TICK_MS / 60000.0;
	int64_t ticks = (now_ms - x->last_tick_ms) / TICK_MS;
	if (ticks <= 0)
		return;
	if (ticks > 720)
		ticks = 720;
	for (int64_t i = 0; i < ticks; i++) {
		ewma_tick(&x->m1, 1 - exp(-interval_min / 1.0), i == 0 ? x->uncounted : 0);
		ewma_tick(&x->m5, 1 - exp(-interval_min / 5.0), i == 0 ? x->uncounted : 0);
		ewma_tick(&x->m15, 1 - exp(-interval_min / 15.0), i == 0 ? x->uncounted : 0);
	}
	x->uncounted = 0;
	x->last_tick_ms += ((now_ms - x->last_tick_ms) / TICK_MS) * TICK_MS;
}

void metrics_timer(struct metrics *m, const char *name, int64_t nanos, int64_t now_ms)
{
	struct metric *x = get(m, name, KIND_TIMER, now_ms);
	tick(x, now_ms);
	x->uncounted++;
	add_sample(x, nanos);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Sorted copy of a metric's samples; the caller frees it. */
static int64_t *sorted(const struct metric *x)
{
	int64_t *s = xmalloc((x->nsamples ? x->nsamples : 1) * sizeof(*s));
	memcpy(s, x->samples, x->nsamples * sizeof(*s));
	qsort(s, x->nsamples, sizeof(*s), cmp_i64);
	return s;
}

/* Codahale's quantile over a sorted snapshot: position p*(n+1), linear interpolation. */
double metrics_quantile(const int64_t *s, uint32_t n, double p)
{
	if (n == 0)
		return 0;
	double pos = p * (n + 1);
	if (pos < 1)
		return (double)s[0];
	if (pos >= n)
		return (double)s[n - 1];
	double lower = (double)s[(int)pos - 1], upper = (double)s[(int)pos];
	return lower + (pos - floor(pos)) * (upper - lower);
}

double metrics_histogram_quantile(const struct metrics *m, const char *name, double p)
{
	const struct metric *x = strmap_get(m->by_name, name);
	if (x == NULL || x->nsamples == 0)
		return 0;
	int64_t *s = sorted(x);
	double q = metrics_quantile(s, x->nsamples, p);
	free(s);
	return q;
}

int64_t metrics_histogram_count(const struct metrics *m, const char *name)
{
	const struct metric *x = strmap_get(m->by_name, name);
	return x ? x->count : 0;
}

/* The snapshot fields shared by histograms and timers, each value multiplied by scale. */
static json_t *snapshot_json(const struct metric *x, double scale)
{
	int64_t *s = sorted(x);
	uint32_t n = x->nsamples;
	double sum = 0, var = 0, mean;
	for (uint32_t i = 0; i < n; i++)
		sum += (double)s[i];
	mean = n ? sum / n : 0;
	for (uint32_t i = 0; i < n; i++)
		var += ((double)s[i] - mean) * ((double)s[i] - mean);
	json_t *o = json_pack("{s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "count", (json_int_t)x->count,
	    "max", n ? (double)s[n - 1] * scale : 0.0, "mean", mean * scale, "min", n ? (double)s[0] * scale : 0.0,
	    "p50", metrics_quantile(s, n, 0.5) * scale, "p75", metrics_quantile(s, n, 0.75) * scale,
	    "p95", metrics_quantile(s, n, 0.95) * scale,
	    "p98", metrics_quantile(s, n, 0.98) * scale, "p99", metrics_quantile(s, n, 0.99) * scale,
	    "p999", metrics_quantile(s, n, 0.999) * scale, "stddev", n > 1 ? sqrt(var / (n - 1)) * scale : 0.0);
	free(s);
	return o;
}

json_t *metrics_to_json(struct metrics *m, json_t *gauges, int64_t now_ms)
{
	json_t *counters = json_object(), *histograms = json_object(), *timers = json_object();
	double uptime_s = (double)(now_ms - m->started_ms) / 1000.0;

	for (size_t i = 0; i < m->n; i++) {
		struct metric *x = m->all[i];
		switch (x->kind) {
		case KIND_COUNTER:
			json_object_set_new(counters, x->name, json_pack("{s:I}", "count", (json_int_t)x->count));
			break;
		case KIND_HISTOGRAM:
			json_object_set_new(histograms, x->name, snapshot_json(x, 1.0));
			break;
		case KIND_TIMER: {
			tick(x, now_ms);
			json_t *t = snapshot_json(x, 1e-9);
			json_object_set_new(t, "m15_rate", json_real(x->m15.rate));
			json_object_set_new(t, "m1_rate", json_real(x->m1.rate));
			json_object_set_new(t, "m5_rate", json_real(x->m5.rate));
			json_object_set_new(t, "mean_rate", json_real(uptime_s > 0 ? (double)x->count / uptime_s : 0));
			json_object_set_new(t, "duration_units", json_string("seconds"));
			json_object_set_new(t, "rate_units", json_string("calls/second"));
			json_object_set_new(timers, x->name, t);
			break;
		}
		}
	}
	return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "version", "3.0.0", "gauges", gauges, "counters", counters,
	    "histograms", histograms, "meters", json_object(), "timers", timers);
}
