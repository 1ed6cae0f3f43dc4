/* Unit tests for the pure helpers of `gnomon agents`: "how long ago", amounts used of total, attributes, the
 * table and one agent's details. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli_agents_fmt.h"
#include "cli/cli_table.h"
#include "util/buf.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, 0, &jerr);

	if (!v)
		fail_msg("bad test JSON '%s': %s", text, jerr.text);
	return v;
}

static void test_ago(void **state)
{
	static const struct {
		int64_t ms;
		const char *want;
	} cases[] = {
	    {0, "now"}, {999, "now"}, {1000, "1 s ago"}, {3400, "3 s ago"}, {119999, "119 s ago"},
	    {120000, "2 min ago"}, {7199999, "119 min ago"}, {7200000, "2 h ago"}, {172799999, "47 h ago"},
	    {172800000, "2 d ago"}, {-1, "-"},
	};
	char got[32];

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		cli_agents_ago(cases[i].ms, got, sizeof(got));
		assert_string_equal(got, cases[i].want);
	}
}

static void test_amount(void **state)
{
	static const struct {
		double used, total;
		const char *resource, *want;
	} cases[] = {
	    {0, 4, "cpus", "0/4"},
	    {1.5, 4, "cpus", "1.5/4"},
	    {512, 7936, "mem", "512/7936 MiB"},
	    {512, 15872, "mem", "0.5/15.5 GiB"},
	    {0, 51200, "disk", "0/50 GiB"},
	    {1024, 20971520, "disk", "0.0/20 TiB"},
	};
	char got[64];

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		cli_agents_amount(cases[i].used, cases[i].total, cases[i].resource, got, sizeof(got));
		assert_string_equal(got, cases[i].want);
	}
}

static const char agents[] =
    "[{\"id\":\"embedded\",\"name\":\"build-1\",\"hostname\":\"build-1\",\"state\":\"up\",\"embedded\":true,"
    "\"version\":\"0.1.0\",\"attributes\":{},\"resources\":{\"cpus\":4.0,\"mem\":15872.0,\"disk\":51200.0},"
    "\"used\":{\"cpus\":1.0,\"mem\":512.0,\"disk\":0.0},\"running\":1,\"tasks\":[\"ct:1:0:hello:\"],"
    "\"lastHeardMs\":1767258000000,\"silentMs\":0,\"registeredMs\":1767258000000},"
    "{\"id\":\"5f0c\",\"name\":\"a1\",\"hostname\":\"host-1.example.net\",\"state\":\"draining\",\"embedded\":false,"
    "\"version\":\"0.1.0\",\"attributes\":{\"rack\":\"a\",\"os\":\"debian\"},"
    "\"resources\":{\"cpus\":2.0,\"mem\":7936.0,\"disk\":100.0},\"used\":{\"cpus\":0.0,\"mem\":0.0,\"disk\":0.0},"
    "\"running\":0,\"tasks\":[],\"lastHeardMs\":1767258000000,\"silentMs\":3400,\"registeredMs\":0},"
    "42]";

static void test_table(void **state)
{
	static const char want[] =
	    "NAME     STATE     HOSTNAME            CPUS  MEM           RUNNING  LAST HEARD  ATTRIBUTES\n"
	    "build-1  up        build-1             1/4   0.5/15.5 GiB  1        now         -\n"
	    "a1       draining  host-1.example.net  0/2   0/7936 MiB    0        3 s ago     rack=a,os=debian\n";
	json_t *root = parse(agents), *bad = parse("{\"agents\":[]}");
	struct cli_table *t = cli_agents_table(root, NULL, 0);
	struct buf out;
	char err[128], *got;

	(void)state;
	assert_non_null(t);
	buf_init(&out, 0);
	assert_int_equal(cli_table_render(t, &out), 0);
	got = buf_steal(&out, NULL);
	assert_string_equal(got, want);
	free(got);
	cli_table_free(t);
	assert_null(cli_agents_table(bad, err, sizeof(err)));
	assert_string_equal(err, "unexpected answer from the server: not an array of agents");
	json_decref(bad);
	json_decref(root);
}

static void test_show(void **state)
{
	static const char want[] =
	    "name:        build-1\n"
	    "id:          embedded\n"
	    "state:       up\n"
	    "hostname:    build-1\n"
	    "embedded:    yes\n"
	    "version:     0.1.0\n"
	    "cpus:        1/4\n"
	    "mem:         0.5/15.5 GiB\n"
	    "disk:        0/50 GiB\n"
	    "attributes:  -\n"
	    "last heard:  now\n"
	    "registered:  2026-01-01 09:00:00 UTC\n"
	    "running:     1\n"
	    "  ct:1:0:hello:\n";
	json_t *root = parse(agents), *bad = parse("{\"id\":1}");
	struct buf out;
	char err[128], *got;

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	buf_init(&out, 0);
	assert_int_equal(cli_agents_show_text(json_array_get(root, 0), &out, err, sizeof(err)), 0);
	got = buf_steal(&out, NULL);
	assert_string_equal(got, want);
	free(got);
	buf_init(&out, 0);
	assert_int_equal(cli_agents_show_text(bad, &out, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "unexpected answer from the server: not an agent");
	buf_free(&out);
	json_decref(bad);
	json_decref(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ago),
	    cmocka_unit_test(test_amount),
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_show),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
