/* Unit tests for the pure helpers of `gnomon runs`, `gnomon logs` and `gnomon schedule preview`: durations, times
 * with their zone, the EXIT cell, the runs table and preview lines. */
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

#include "cli/cli_cmd.h"
#include "cli/cli_runs_fmt.h"
#include "cli/cli_table.h"
#include "cli/cli_time.h"
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

static void test_duration(void **state)
{
	static const struct {
		int64_t ms;
		const char *want;
	} cases[] = {
	    {0, "0ms"},
	    {1, "1ms"},
	    {999, "999ms"},
	    {1000, "1.0s"},
	    {1999, "1.9s"},
	    {9999, "9.9s"},
	    {10000, "10s"},
	    {59999, "59s"},
	    {60000, "1m00s"},
	    {65000, "1m05s"},
	    {3599999, "59m59s"},
	    {3600000, "1h00m00s"},
	    {7387000, "2h03m07s"},
	    {86399999, "23h59m59s"},
	    {86400000, "1d00h00m"},
	    {(3 * 24 + 4) * 3600000 + 5 * 60000 + 59000, "3d04h05m"},
	    {-1, "-"},
	    {INT64_MIN, "-"},
	};
	char got[32];

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		cli_runs_duration(cases[i].ms, got, sizeof(got));
		assert_string_equal(got, cases[i].want);
	}
}

/* Set TZ for a case; restore_tz() puts back the caller's. */
static char *saved_tz;

static void set_tz(const char *tz)
{
	if (!saved_tz)
		saved_tz = strdup(getenv("TZ") ? getenv("TZ") : "");
	setenv("TZ", tz, 1);
	tzset();
}

static void restore_tz(void)
{
	if (saved_tz && *saved_tz)
		setenv("TZ", saved_tz, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved_tz);
	saved_tz = NULL;
}

/* Local times carry their zone: its abbreviation, across DST, or its offset when the zone has none. */
static void test_local_time(void **state)
{
	static const struct {
		const char *tz, *iso, *want;
	} cases[] = {
	    {"UTC", "2026-01-01T09:00:00.000Z", "2026-01-01 09:00:00 UTC"},
	    {"UTC", "2026-01-01T09:00:00.999Z", "2026-01-01 09:00:00 UTC"},
	    {"Europe/Paris", "2026-01-01T09:00:00.000Z", "2026-01-01 10:00:00 CET"},
	    {"Europe/Paris", "2026-07-01T09:00:00.000Z", "2026-07-01 11:00:00 CEST"},
	    {"Europe/Paris", "2026-07-01T11:00:00.000+02:00", "2026-07-01 11:00:00 CEST"},
	    {"America/New_York", "2026-03-08T06:59:59.000Z", "2026-03-08 01:59:59 EST"},
	    {"America/New_York", "2026-03-08T07:00:00.000Z", "2026-03-08 03:00:00 EDT"},
	    {"America/New_York", "2026-11-01T05:30:00.000Z", "2026-11-01 01:30:00 EDT"},
	    {"America/New_York", "2026-11-01T06:30:00.000Z", "2026-11-01 01:30:00 EST"},
	    {"America/Sao_Paulo", "2026-01-01T09:00:00.000Z", "2026-01-01 06:00:00 -03"},
	    {"Asia/Kolkata", "2026-01-01T09:00:00.000Z", "2026-01-01 14:30:00 IST"},
	    {"UTC", "1969-12-31T23:59:59.500Z", "1969-12-31 23:59:59 UTC"},
	    {"UTC", "", "-"},
	    {"UTC", NULL, "-"},
	    {"UTC", "soon", "soon"},
	};
	char got[CLI_TIME_MAX];

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		set_tz(cases[i].tz);
		cli_time_local(cases[i].iso, got, sizeof(got));
		assert_string_equal(got, cases[i].want);
	}
	restore_tz();
}

/* An instant in the zone its text carries, for fire times in a schedule's zone. */
static void test_time_as_written(void **state)
{
	static const struct {
		const char *iso, *want;
	} cases[] = {
	    {"2030-01-01T09:00:00.000+01:00", "2030-01-01 09:00:00 +01:00"},
	    {"2030-07-01T09:00:00.000-04:00", "2030-07-01 09:00:00 -04:00"},
	    {"2030-01-01T08:00:00.000Z", "2030-01-01 08:00:00 UTC"},
	    {"2030-01-01T08:00:00Z", "2030-01-01 08:00:00 UTC"},
	    {"2030-01-01T08:00:00,5+05:30", "2030-01-01 08:00:00 +05:30"},
	    {"2030-01-01T08:00Z", "2030-01-01 08:00:00 UTC"},
	    {"2030-01-01T08:00:00", "2030-01-01 08:00:00 UTC"},
	    {"", "-"},
	    {NULL, "-"},
	    {"2030-13-01T08:00:00Z", "2030-13-01T08:00:00Z"},
	};
	char got[CLI_TIME_MAX];

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		cli_time_as_written(cases[i].iso, got, sizeof(got));
		assert_string_equal(got, cases[i].want);
	}
}

static void test_exit_text(void **state)
{
	static const struct {
		const char *run, *want;
	} cases[] = {
	    {"{\"exitCode\":0,\"signal\":null,\"signalName\":null}", "0"},
	    {"{\"exitCode\":127,\"signal\":null,\"signalName\":null}", "127"},
	    {"{\"exitCode\":null,\"signal\":9,\"signalName\":\"SIGKILL\"}", "SIGKILL"},
	    {"{\"exitCode\":null,\"signal\":77,\"signalName\":null}", "signal 77"},
	    {"{\"exitCode\":null,\"signal\":null,\"signalName\":null}", "-"},
	    {"{}", "-"},
	};
	char got[48];

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		json_t *run = parse(cases[i].run);
		cli_runs_exit_text(run, got, sizeof(got));
		assert_string_equal(got, cases[i].want);
		json_decref(run);
	}
}

static char *render(const struct cli_table *t)
{
	struct buf out;

	buf_init(&out, 0);
	assert_int_equal(cli_table_render(t, &out), 0);
	return buf_steal(&out, NULL);
}

static void test_runs_table(void **state)
{
	static const char answer[] =
	    "{\"runs\":["
	    "{\"taskId\":\"ct:1767258000000:0:hello:\",\"trigger\":\"schedule\",\"attempt\":0,\"status\":\"succeeded\","
	    "\"start\":\"2026-01-01T09:00:00.010Z\",\"durationMs\":65000,\"exitCode\":0,\"signal\":null,"
	    "\"signalName\":null,\"agent\":\"build-1\",\"cpuUserSeconds\":1.2,\"cpuSystemSeconds\":0.3,"
	    "\"peakMemoryBytes\":52428800},"
	    "{\"taskId\":\"ct:1767258000000:1:hello:" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
	    "\"trigger\":\"retry\",\"attempt\":1,\"status\":\"killed\",\"start\":\"2026-01-01T09:01:00.000Z\","
	    "\"durationMs\":1500,\"exitCode\":null,\"signal\":15,\"signalName\":\"SIGTERM\"},"
	    "{\"taskId\":\"ct:1767258000000:0:hello:x\",\"trigger\":\"manual\",\"attempt\":0,\"status\":\"queued\","
	    "\"start\":null,\"durationMs\":null,\"exitCode\":null,\"signal\":null,\"signalName\":null},"
	    "42],\"next\":null}";
	static const char want[] =
	    "TASK ID                                                       TRIGGER   ATTEMPT  STATUS     START        "
	    "            DURATION  EXIT     CPU   MEM      AGENT\n"
	    "ct:1767258000000:0:hello:                                     schedule  0        succeeded  2026-01-01 "
	    "10:00:00 CET  1m05s     0        1.5s  50.0MiB  build-1\n"
	    "ct:1767258000000:1:hello:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...  retry     1        killed     2026-01-01 "
	    "10:01:00 CET  1.5s      SIGTERM  -     -        -\n"
	    "ct:1767258000000:0:hello:x                                    manual    0        queued     -            "
	    "            -         -        -     -        -\n";
	json_t *root = parse(answer), *bad = parse("{\"jobs\":[]}");
	struct cli_table *t;
	char err[128], *got;

	(void)state;
	set_tz("Europe/Paris");
	t = cli_runs_table(root, err, sizeof(err));
	assert_non_null(t);
	assert_int_equal(cli_table_rows(t), 3);
	got = render(t);
	assert_string_equal(got, want);
	free(got);
	cli_table_free(t);
	assert_null(cli_runs_table(bad, err, sizeof(err)));
	assert_string_equal(err, "unexpected answer from the server: no \"runs\" array");
	restore_tz();
	json_decref(bad);
	json_decref(root);
}

/* `gnomon logs JOB` takes the newest run that is not skipped (a queued or running one included). */
static void test_latest_task_id(void **state)
{
	static const struct {
		const char *answer, *want;
	} cases[] = {
	    {"{\"runs\":[{\"taskId\":\"ct:3:0:j:\",\"status\":\"succeeded\"},"
	     "{\"taskId\":\"ct:2:0:j:\",\"status\":\"failed\"}]}", "ct:3:0:j:"},
	    {"{\"runs\":[{\"taskId\":\"ct:4:0:j:\",\"status\":\"skipped\"},"
	     "{\"taskId\":\"ct:3:1:j:\",\"status\":\"killed\"}]}", "ct:3:1:j:"},
	    {"{\"runs\":[{\"taskId\":\"ct:5:0:j:x\",\"status\":\"queued\"},"
	     "{\"taskId\":\"ct:4:0:j:\",\"status\":\"running\"}]}", "ct:5:0:j:x"},
	    {"{\"runs\":[{\"taskId\":\"ct:4:0:j:\",\"status\":\"skipped\"}],\"next\":7}", NULL},
	    {"{\"runs\":[{\"status\":\"running\"},{\"taskId\":\"\",\"status\":\"running\"},42]}", NULL},
	    {"{\"runs\":[]}", NULL},
	    {"{}", NULL},
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		json_t *answer = parse(cases[i].answer);
		const char *got = cli_runs_latest_task_id(answer);

		if (cases[i].want)
			assert_string_equal(got, cases[i].want);
		else
			assert_null(got);
		json_decref(answer);
	}
}

static void test_preview_text(void **state)
{
	static const struct {
		const char *answer, *want;
		int rc;
	} cases[] = {
	    {"{\"times\":[\"2030-01-01T09:00:00.000+01:00\",\"2030-01-02T09:00:00.000+01:00\"],"
	     "\"utc\":[\"2030-01-01T08:00:00.000Z\",\"2030-01-02T08:00:00.000Z\"]}",
		"2030-01-01 09:00:00 +01:00 (2030-01-01 08:00:00 UTC)\n"
		"2030-01-02 09:00:00 +01:00 (2030-01-02 08:00:00 UTC)\n",
		0},
	    {"{\"times\":[\"2030-01-01T08:00:00.000Z\"],\"utc\":[\"2030-01-01T08:00:00.000Z\"]}",
		"2030-01-01 08:00:00 UTC\n", 0},
	    {"{\"times\":[\"2030-01-01T08:00:00.000+00:00\"],\"utc\":[\"2030-01-01T08:00:00.000Z\"]}",
		"2030-01-01 08:00:00 +00:00 (2030-01-01 08:00:00 UTC)\n", 0},
	    {"{\"times\":[],\"utc\":[]}", "", 0},
	    {"{\"times\":[\"a\"],\"utc\":[]}", "", -EINVAL},
	    {"{\"times\":[1],\"utc\":[\"b\"]}", "", -EINVAL},
	    {"[]", "", -EINVAL},
	};
	char err[160];

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		json_t *answer = parse(cases[i].answer);
		struct buf out;

		buf_init(&out, 0);
		assert_int_equal(cli_schedule_preview_text(answer, &out, err, sizeof(err)), cases[i].rc);
		if (cases[i].rc == 0)
			assert_string_equal(out.data ? out.data : "", cases[i].want);
		else
			assert_non_null(strstr(err, "unexpected answer from the server"));
		buf_free(&out);
		json_decref(answer);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_duration),
	    cmocka_unit_test(test_local_time),
	    cmocka_unit_test(test_time_as_written),
	    cmocka_unit_test(test_exit_text),
	    cmocka_unit_test(test_runs_table),
	    cmocka_unit_test(test_latest_task_id),
	    cmocka_unit_test(test_preview_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
