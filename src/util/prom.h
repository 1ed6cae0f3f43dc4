/* The Prometheus text exposition format (version 0.0.4): cumulative histograms with fixed buckets, and writers
 * for the lines of a scrape (# HELP and # TYPE, samples with escaped label values, Go-parsable numbers). Values
 * are in base units (seconds). The registry of what gnomon exposes is api/prometheus.c; this is the format. */
#ifndef GNOMON_UTIL_PROM_H
#define GNOMON_UTIL_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* A histogram: counts per upper bound (each observation in the first bucket whose bound is >= it), a sum and a
 * count; the +Inf bucket is the count. */
struct prom_histogram {
	const double *bounds; /* increasing, borrowed */
	size_t nbounds;
	uint64_t *counts;     /* per bound, not cumulative */
	uint64_t count;
	double sum;
};

/* Prometheus's default buckets (seconds), for request latencies. */
extern const double prom_buckets_default[];
extern const size_t prom_buckets_default_len;

void prom_histogram_init(struct prom_histogram *h, const double *bounds, size_t nbounds);
void prom_histogram_clear(struct prom_histogram *h);
void prom_histogram_observe(struct prom_histogram *h, double v);

/* Every writer returns 0 or -E2BIG when out's cap refuses. */
/* "# HELP name help" and "# TYPE name type" (type: counter, gauge, histogram). */
int prom_write_family(struct buf *out, const char *name, const char *type, const char *help)
    __attribute__((warn_unused_result));
/* name{labels} value, labels being what prom_label() wrote (NULL or "": none). */
int prom_write_sample(struct buf *out, const char *name, const char *labels, double value)
    __attribute__((warn_unused_result));
/* The _bucket (cumulative, with le, after labels), _sum and _count lines of a histogram. */
int prom_write_histogram(struct buf *out, const char *name, const char *labels, const struct prom_histogram *h)
    __attribute__((warn_unused_result));
/* Append name="value" (after a comma when out is not empty) with the value escaped as the format says:
 * backslash, double quote and line feed as \\, \" and \n. */
int prom_label(struct buf *out, const char *name, const char *value) __attribute__((warn_unused_result));
/* A number as Prometheus reads it: integers without a fraction, others with as many digits as round-trip, and
 * +Inf, -Inf, NaN. out has room for PROM_NUMBER_MAX bytes. */
#define PROM_NUMBER_MAX 32
void prom_format_number(double v, char *out);

#endif
