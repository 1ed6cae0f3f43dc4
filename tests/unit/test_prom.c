/* util/prom: numbers as Prometheus reads them, label values and help text escaped, histogram buckets (a value
 * on a bound counts in that bucket: le is "less or equal"), and the exact lines of a histogram. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>

#include "util/prom.h"

static void test_numbers(void **state)
{
	static const struct {
		double v;
		const char *text;
	} rows[] = {
		{0, "0"}, {42, "42"}, {-3, "-3"}, {0.005, "0.005"}, {2.5, "2.5"}, {1767323045.678, "1767323045.678"},
		{0.1 + 0.2, "0.30000000000000004"}, {1e300, "1e+300"}, {INFINITY, "+Inf"},
		{-INFINITY, "-Inf"}, {NAN, "NaN"}, {9007199254740992.0, "9007199254740992"},
	};
	char out[PROM_NUMBER_MAX];
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		prom_format_number(rows[i].v, out);
		assert_string_equal(out, rows[i].text);
	}
}

static void test_labels(void **state)
{
	static const struct {
		const char *value, *text;
	} rows[] = {
		{"plain", "job=\"plain\""},
		{"a\"b", "job=\"a\\\"b\""},
		{"back\\slash", "job=\"back\\\\slash\""},
		{"two\nlines", "job=\"two\\nlines\""},
		{"tab\tand é", "job=\"tab\tand é\""},
		{"", "job=\"\""},
	};
	struct buf b;
	(void)state;

	buf_init(&b, 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		buf_reset(&b);
		assert_int_equal(prom_label(&b, "job", rows[i].value), 0);
		assert_string_equal(b.data, rows[i].text);
	}
	/* a second label follows a comma */
	assert_int_equal(prom_label(&b, "le", "1"), 0);
	assert_string_equal(b.data, "job=\"\",le=\"1\"");
	buf_free(&b);
}

static void test_family_and_samples(void **state)
{
	struct buf b;
	(void)state;

	buf_init(&b, 0);
	assert_int_equal(prom_write_family(&b, "x_total", "counter", "a\\b\nc"), 0);
	assert_int_equal(prom_write_sample(&b, "x_total", "k=\"v\"", 3), 0);
	assert_int_equal(prom_write_sample(&b, "y", NULL, 0.25), 0);
	assert_string_equal(b.data, "# HELP x_total a\\\\b\\nc\n# TYPE x_total counter\nx_total{k=\"v\"} 3\ny 0.25\n");
	buf_free(&b);
	/* a cap is passed on */
	buf_init(&b, 8);
	assert_int_equal(prom_write_sample(&b, "long_name", NULL, 1), -E2BIG);
	buf_free(&b);
}

static void test_histogram(void **state)
{
	static const double bounds[] = {0.1, 1, 10};
	static const double observed[] = {0.05, 0.1, 0.5, 1, 1, 20, NAN};
	struct prom_histogram h;
	struct buf b;
	(void)state;

	prom_histogram_init(&h, bounds, 3);
	for (size_t i = 0; i < sizeof(observed) / sizeof(observed[0]); i++)
		prom_histogram_observe(&h, observed[i]);
	assert_int_equal(h.count, 6); /* NaN is not counted */
	buf_init(&b, 0);
	assert_int_equal(prom_write_histogram(&b, "d_seconds", "route=\"/a\"", &h), 0);
	assert_string_equal(b.data,
	    "d_seconds_bucket{route=\"/a\",le=\"0.1\"} 2\n"
	    "d_seconds_bucket{route=\"/a\",le=\"1\"} 5\n"
	    "d_seconds_bucket{route=\"/a\",le=\"10\"} 5\n"
	    "d_seconds_bucket{route=\"/a\",le=\"+Inf\"} 6\n"
	    "d_seconds_sum{route=\"/a\"} 22.65\n"
	    "d_seconds_count{route=\"/a\"} 6\n");
	buf_reset(&b);
	assert_int_equal(prom_write_histogram(&b, "e", NULL, &h), 0);
	assert_non_null(strstr(b.data, "e_bucket{le=\"+Inf\"} 6\ne_sum 22.65\ne_count 6\n"));
	buf_free(&b);
	prom_histogram_clear(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_family_and_samples),
		cmocka_unit_test(test_histogram),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
