/* cli/cli_crontab.h: crontabs as jobs, in tables: the line kinds (comments, settings, time fields, macros, the
 * system format's user), `%` as cron reads it, the settings cron and cronie give meaning (MAILTO, CRON_TZ,
 * SHELL), and every refused line named with its number, none turned into a job then. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli_crontab.h"

struct ok_case {
	const char *text;
	bool system;
	const char *user;
	const char *want; /* the jobs, as compact JSON with sorted keys, but "description" left out */
};

static char *jobs_text(const char *text, bool system, const char *user, char *err, size_t errlen)
{
	struct cli_crontab_opts o = {.system = system, .user = user, .prefix = "c", .label = "t"};
	json_t *jobs = cli_crontab_jobs(text, strlen(text), &o, err, errlen);
	size_t i;
	json_t *j;
	char *s;

	if (jobs == NULL)
		return NULL;
	json_array_foreach(jobs, i, j) json_object_del(j, "description");
	s = json_dumps(jobs, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(jobs);
	return s;
}

static void test_jobs(void **state)
{
	static const struct ok_case cases[] = {
		{"", false, NULL, "[]"},
		{"# only a comment\n\n   \t\n", false, NULL, "[]"},
		{"*/5 * * * * /usr/bin/backup --all\n", false, NULL,
		 "[{\"command\":\"/usr/bin/backup --all\",\"environmentVariables\":[],\"name\":\"c-1\","
		 "\"schedule\":\"*/5 * * * *\",\"shell\":true}]"},
		/* blanks anywhere, a CR at the end, a macro, a user crontab's runAsUser */
		{"\n  0\t13 * *   MON-FRI   echo hi  \r\n@daily   run it\n", false, "alice",
		 "[{\"command\":\"echo hi  \",\"environmentVariables\":[],\"name\":\"c-2\",\"runAsUser\":\"alice\","
		 "\"schedule\":\"0 13 * * MON-FRI\",\"shell\":true},"
		 "{\"command\":\"run it\",\"environmentVariables\":[],\"name\":\"c-3\",\"runAsUser\":\"alice\","
		 "\"schedule\":\"@daily\",\"shell\":true}]"},
		/* the system format: the user field */
		{"17 * * * * root cd / && run-parts --report /etc/cron.hourly\n", true, NULL,
		 "[{\"command\":\"cd / && run-parts --report /etc/cron.hourly\",\"environmentVariables\":[],"
		 "\"name\":\"c-1\",\"runAsUser\":\"root\",\"schedule\":\"17 * * * *\",\"shell\":true}]"},
		/* settings apply to the lines after them, quotes off, the last of a name wins; MAILTO the owner,
		 * CRON_TZ the zone (not in the environment), an empty MAILTO no owner */
		{"A=1\nB = 'two words'\nMAILTO=ops@example.com\nCRON_TZ=Europe/Paris\n* * * * * x\nA=\"3\"\nMAILTO=\"\"\n"
		 "* * * * * y\n", false, NULL,
		 "[{\"command\":\"x\",\"environmentVariables\":[{\"name\":\"A\",\"value\":\"1\"},"
		 "{\"name\":\"B\",\"value\":\"two words\"},{\"name\":\"MAILTO\",\"value\":\"ops@example.com\"}],"
		 "\"name\":\"c-5\",\"owner\":\"ops@example.com\",\"schedule\":\"* * * * *\","
		 "\"scheduleTimeZone\":\"Europe/Paris\",\"shell\":true},"
		 "{\"command\":\"y\",\"environmentVariables\":[{\"name\":\"B\",\"value\":\"two words\"},"
		 "{\"name\":\"A\",\"value\":\"3\"},{\"name\":\"MAILTO\",\"value\":\"\"}],\"name\":\"c-8\","
		 "\"schedule\":\"* * * * *\",\"scheduleTimeZone\":\"Europe/Paris\",\"shell\":true}]"},
		/* %: the first ends the command, the others are newlines of its standard input; \% is a % */
		{"* * * * * mail -s \"at 50\\%\" root%line one%it's two\n", false, NULL,
		 "[{\"command\":\"printf '%s' 'line one\\nit'\\\\''s two' | (\\nmail -s \\\"at 50%\\\" root\\n)\","
		 "\"environmentVariables\":[],\"name\":\"c-1\",\"schedule\":\"* * * * *\",\"shell\":true}]"},
		/* a SHELL other than sh runs the command */
		{"SHELL=/bin/bash\n* * * * * echo {a,b}\n", false, NULL,
		 "[{\"command\":\"/bin/bash -c 'echo {a,b}'\",\"environmentVariables\":[{\"name\":\"SHELL\","
		 "\"value\":\"/bin/bash\"}],\"name\":\"c-2\",\"schedule\":\"* * * * *\",\"shell\":true}]"},
	};
	char err[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = jobs_text(cases[i].text, cases[i].system, cases[i].user, err, sizeof(err));
		if (got == NULL)
			fail_msg("case %zu refused: %s", i, err);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("case %zu:\n got  %s\n want %s", i, got, cases[i].want);
		free(got);
	}
}

static void test_refused(void **state)
{
	static const struct {
		const char *text;
		bool system;
		const char *want;
	} cases[] = {
		{"@reboot /usr/bin/start\n", false, "line 1: schedule: '@reboot' is not supported"},
		{"* * * *\n", false, "line 1: expected five time fields (or an @macro), then the command"},
		{"* * * * *\n", false, "line 1: no command after the time fields"},
		{"* * * * * root\n", true, "line 1: no command after the user"},
		{"61 * * * * x\n", false, "line 1: "},
		/* every refused line named, and none made a job */
		{"# ok\n* * * * * fine\n@reboot x\n\n@weekly y\n99 * * * * z\n", false,
		 "line 3: schedule: '@reboot' is not supported: gnomon has no boot-time trigger; line 6: "},
	};
	char err[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = jobs_text(cases[i].text, cases[i].system, NULL, err, sizeof(err));
		if (got != NULL)
			fail_msg("case %zu accepted: %s", i, got);
		if (strncmp(err, cases[i].want, strlen(cases[i].want)) != 0)
			fail_msg("case %zu:\n got  %s\n want %s...", i, err, cases[i].want);
	}
	/* a NUL byte, a line too long */
	struct cli_crontab_opts o = {.prefix = "c", .label = "t"};
	assert_null(cli_crontab_jobs("* * * * * a\0b\n", 14, &o, err, sizeof(err)));
	assert_string_equal(err, "line 1: a NUL byte");
	assert_null(cli_crontab_jobs("# ok\n* * * * * caf\xe9\n", 19, &o, err, sizeof(err)));
	assert_string_equal(err, "line 2: not UTF-8 text");
	char *big = malloc(CLI_CRONTAB_LINE_MAX + 20);
	memset(big, 'x', CLI_CRONTAB_LINE_MAX + 19);
	big[CLI_CRONTAB_LINE_MAX + 19] = '\0';
	memcpy(big, "* * * * * ", 10);
	assert_null(cli_crontab_jobs(big, strlen(big), &o, err, sizeof(err)));
	assert_string_equal(err, "line 1: longer than 4096 bytes");
	free(big);
}

static void test_prefix(void **state)
{
	static const char *const cases[][2] = {
		{"-", "crontab"}, {"/etc/cron.d/php", "php"}, {"backups.cron", "backups"}, {"my jobs.txt", "my-jobs"},
		{".hidden", ".hidden"}, {"dir/", "crontab"}, {"a.b.c", "a.b"},
	};
	char out[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cli_crontab_prefix(cases[i][0], out, sizeof(out));
		assert_string_equal(out, cases[i][1]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jobs),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_prefix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
