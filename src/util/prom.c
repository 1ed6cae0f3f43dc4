#include "util/prom.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/xmalloc.h"

const double prom_buckets_default[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
const size_t prom_buckets_default_len = sizeof(prom_buckets_default) / sizeof(prom_buckets_default[0]);

void prom_histogram_init(struct prom_histogram *h, const double *bounds, size_t nbounds)
{
	h->bounds = bounds;
	h->nbounds = nbounds;
	h->counts = xcalloc(nbounds ? nbounds : 1, sizeof(*h->counts));
	h->count = 0;
	h->sum = 0;
}

void prom_histogram_clear(struct prom_histogram *h)
{
	free(h->counts);
	h->counts = NULL;
}

void prom_histogram_observe(struct prom_histogram *h, double v)
{
	size_t lo = 0, hi = h->nbounds;

	if (isnan(v))
		return;
	while (lo < hi) { /* the first bound >= v */
		size_t mid = lo + (hi - lo) / 2;
		if (h->bounds[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < h->nbounds)
		h->counts[lo]++;
	h->count++;
	h->sum += v;
}

void prom_format_number(double v, char *out)
{
	if (isnan(v)) {
		strcpy(out, "NaN");
	} else if (isinf(v)) {
		strcpy(out, v > 0 ? "+Inf" : "-Inf");
	} else if (v == floor(v) && fabs(v) < 9007199254740992.0) {
		snprintf(out, PROM_NUMBER_MAX, "%.0f", v);
	} else {
		snprintf(out, PROM_NUMBER_MAX, "%.15g", v);
		if (strtod(out, NULL) != v)
			snprintf(out, PROM_NUMBER_MAX, "%.17g", v);
	}
}

/* HELP text: backslash and line feed escaped. */
static int put_help(struct buf *out, const char *text)
{
	for (const char *p = text; *p; p++) {
		int rc = *p == '\\' ? buf_puts(out, "\\\\") : *p == '\n' ? buf_puts(out, "\\n") : buf_append(out, p, 1);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int prom_write_family(struct buf *out, const char *name, const char *type, const char *help)
{
	if (buf_printf(out, "# HELP %s ", name) < 0 || put_help(out, help) < 0 ||
	    buf_printf(out, "\n# TYPE %s %s\n", name, type) < 0)
		return -E2BIG;
	return 0;
}

int prom_write_sample(struct buf *out, const char *name, const char *labels, double value)
{
	char num[PROM_NUMBER_MAX];

	prom_format_number(value, num);
	if (labels && *labels)
		return buf_printf(out, "%s{%s} %s\n", name, labels, num) < 0 ? -E2BIG : 0;
	return buf_printf(out, "%s %s\n", name, num) < 0 ? -E2BIG : 0;
}

int prom_label(struct buf *out, const char *name, const char *value)
{
	if (buf_printf(out, "%s%s=\"", out->len ? "," : "", name) < 0)
		return -E2BIG;
	for (const char *p = value; *p; p++) {
		int rc = *p == '\\' ? buf_puts(out, "\\\\") : *p == '"' ? buf_puts(out, "\\\"") :
		    *p == '\n' ? buf_puts(out, "\\n") : buf_append(out, p, 1);
		if (rc < 0)
			return rc;
	}
	return buf_puts(out, "\"") < 0 ? -E2BIG : 0;
}

int prom_write_histogram(struct buf *out, const char *name, const char *labels, const struct prom_histogram *h)
{
	struct buf lb;
	char bucket[256], le[PROM_NUMBER_MAX];
	uint64_t cumulative = 0;
	int rc = 0;

	snprintf(bucket, sizeof(bucket), "%s_bucket", name);
	buf_init(&lb, 0);
	for (size_t i = 0; rc == 0 && i <= h->nbounds; i++) {
		buf_reset(&lb);
		if (i < h->nbounds) {
			cumulative += h->counts[i];
			prom_format_number(h->bounds[i], le);
		} else {
			cumulative = h->count;
			strcpy(le, "+Inf");
		}
		if (labels && *labels && buf_puts(&lb, labels) < 0)
			fatalx("unbounded buffer refused data");
		if (prom_label(&lb, "le", le) < 0)
			fatalx("unbounded buffer refused data");
		rc = prom_write_sample(out, bucket, lb.data, (double)cumulative);
	}
	buf_free(&lb);
	if (rc == 0) {
		snprintf(bucket, sizeof(bucket), "%s_sum", name);
		rc = prom_write_sample(out, bucket, labels, h->sum);
	}
	if (rc == 0) {
		snprintf(bucket, sizeof(bucket), "%s_count", name);
		rc = prom_write_sample(out, bucket, labels, (double)h->count);
	}
	return rc;
}
