/* The pure builders of exec: a task's environment (Chronos's variables, precedence of job variables), its argv,
 * and Java's Double.toString formatting of the resources. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exec/exec_env.h"

/* The value of name in envp, or NULL; fails when the name appears twice. */
static const char *env_get(char **envp, const char *name)
{
	const char *found = NULL;
	size_t n = strlen(name);

	for (; *envp; envp++) {
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=') {
			assert_null(found);
			found = *envp + n + 1;
		}
	}
	return found;
}

static size_t env_count(char **envp)
{
	size_t n = 0;
	while (envp[n])
		n++;
	return n;
}

static void test_double_format(void **state)
{
	static const struct {
		double v;
		const char *want;
	} rows[] = {
		{128, "128.0"}, {0.1, "0.1"}, {0.5, "0.5"}, {1, "1.0"}, {256, "256.0"}, {2048.5, "2048.5"},
		{0, "0.0"}, {-0.0, "-0.0"}, {-1.5, "-1.5"}, {0.001, "0.001"}, {0.0001, "1.0E-4"},
		{1234567.0, "1234567.0"}, {1e7, "1.0E7"}, {1.5e7, "1.5E7"}, {123456789.0, "1.23456789E8"},
		{0.3, "0.3"}, {1.0 / 3, "0.3333333333333333"}, {100, "100.0"}, {1e21, "1.0E21"},
		{0.0123, "0.0123"}, {9999999.0, "9999999.0"}, {2.5e-5, "2.5E-5"},
	};
	char out[32];
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		exec_format_double(rows[i].v, out, sizeof(out));
		assert_string_equal(out, rows[i].want);
	}
}

static void test_env_builtins(void **state)
{
	static const struct exec_env_var extra[] = {{"GNOMON_PARENT_TASK_IDS", "ct:1:0:a:,ct:2:0:b:"}};
	struct exec_env_input in = {
		.task_id = "ct:1420843781398:0:sample-name:-a 1",
		.job_name = "sample-name",
		.job_owner = "ops@example.com",
		.hostname = "node1",
		.mem = 128,
		.cpus = 0.1,
		.disk = 256,
		.run_time_ms = 1420843781398,
		.attempt = 2,
		.user = "nobody",
		.home = "/nonexistent",
		.extra = extra,
		.n_extra = 1,
	};
	static const struct {
		const char *name, *value;
	} want[] = {
		{"mesos_task_id", "ct:1420843781398:0:sample-name:-a 1"},
		{"MESOS_TASK_ID", "ct:1420843781398:0:sample-name:-a 1"},
		{"GNOMON_TASK_ID", "ct:1420843781398:0:sample-name:-a 1"},
		{"CHRONOS_JOB_OWNER", "ops@example.com"},
		{"CHRONOS_JOB_NAME", "sample-name"},
		{"HOST", "node1"},
		{"CHRONOS_RESOURCE_MEM", "128.0"},
		{"CHRONOS_RESOURCE_CPU", "0.1"},
		{"CHRONOS_RESOURCE_DISK", "256.0"},
		{"CHRONOS_JOB_RUN_TIME", "1420843781398"},
		{"CHRONOS_JOB_RUN_ATTEMPT", "2"},
		{"GNOMON_PARENT_TASK_IDS", "ct:1:0:a:,ct:2:0:b:"},
		{"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		{"HOME", "/nonexistent"},
		{"USER", "nobody"},
		{"LOGNAME", "nobody"},
		{"LANG", "C.UTF-8"},
	};
	char **envp = exec_env_build(&in);
	(void)state;

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const char *v = env_get(envp, want[i].name);
		assert_non_null(v);
		assert_string_equal(v, want[i].value);
	}
	assert_int_equal(env_count(envp), sizeof(want) / sizeof(want[0]));
	assert_string_equal(envp[0], "mesos_task_id=ct:1420843781398:0:sample-name:-a 1");
	free(envp);
}

static void test_env_job_variables(void **state)
{
	static const struct exec_env_var job_env[] = {
		{"FOO", "bar"},                /* added */
		{"CHRONOS_JOB_NAME", "evil"},  /* built-in: ignored */
		{"mesos_task_id", "evil"},     /* built-in: ignored */
		{"GNOMON_TASK_ID", "evil"},    /* built-in: ignored */
		{"GNOMON_X", "evil"},          /* an extra: ignored */
		{"PATH", "/opt/bin:/usr/bin"}, /* default: replaced */
		{"LANG", "fr_FR.UTF-8"},       /* default: replaced */
		{"EMPTY", ""},                 /* empty values are fine */
		{"NULLV", NULL},               /* NULL value: "" */
		{"FOO", "baz"},                /* a later job variable wins */
		{"", "x"},                     /* invalid names: ignored */
		{"A=B", "x"},
		{NULL, "x"},
	};
	static const struct exec_env_var extra[] = {{"GNOMON_X", "1"}};
	struct exec_env_input in = {
		.task_id = "ct:1:0:j:", .job_name = "j", .user = "root", .home = NULL,
		.extra = extra, .n_extra = 1, .job_env = job_env, .n_job_env = sizeof(job_env) / sizeof(job_env[0]),
	};
	static const struct {
		const char *name, *value; /* value NULL: absent */
	} rows[] = {
		{"FOO", "baz"}, {"CHRONOS_JOB_NAME", "j"}, {"mesos_task_id", "ct:1:0:j:"},
		{"GNOMON_TASK_ID", "ct:1:0:j:"}, {"GNOMON_X", "1"}, {"PATH", "/opt/bin:/usr/bin"},
		{"LANG", "fr_FR.UTF-8"}, {"EMPTY", ""}, {"NULLV", ""}, {"HOME", "/"}, {"CHRONOS_JOB_OWNER", ""},
		{"HOST", ""}, {"CHRONOS_RESOURCE_MEM", "0.0"}, {"A", NULL}, {"", NULL},
	};
	char **envp = exec_env_build(&in);
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *v = env_get(envp, rows[i].name);
		if (!rows[i].value) {
			assert_null(v);
			continue;
		}
		assert_non_null(v);
		assert_string_equal(v, rows[i].value);
	}
	/* 10 Chronos + GNOMON_TASK_ID + 1 extra + 5 defaults + FOO, EMPTY, NULLV */
	assert_int_equal(env_count(envp), 20);
	free(envp);
}

static void test_argv(void **state)
{
	static const char *const a2[] = {"-a 1", "-b"};
	static const char *const a1[] = {"x y"};
	static const struct {
		const char *command;
		const char *const *args;
		size_t nargs;
		int shell;
		const char *want[6]; /* NULL-terminated */
	} rows[] = {
		{"echo hello", NULL, 0, 1, {"/bin/sh", "-c", "echo hello", NULL}},
		{"echo", a2, 2, 1, {"/bin/sh", "-c", "echo -a 1 -b", NULL}},
		{"", NULL, 0, 1, {"/bin/sh", "-c", "", NULL}},
		{"/usr/bin/env", NULL, 0, 0, {"/usr/bin/env", NULL}},
		{"printf", a2, 2, 0, {"printf", "-a 1", "-b", NULL}},
		{"echo", a1, 1, 0, {"echo", "x y", NULL}},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char **argv = exec_argv_build(rows[i].command, rows[i].args, rows[i].nargs, rows[i].shell);
		size_t j = 0;
		for (; rows[i].want[j]; j++) {
			assert_non_null(argv[j]);
			assert_string_equal(argv[j], rows[i].want[j]);
		}
		assert_null(argv[j]);
		free(argv);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_double_format),
		cmocka_unit_test(test_env_builtins),
		cmocka_unit_test(test_env_job_variables),
		cmocka_unit_test(test_argv),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
