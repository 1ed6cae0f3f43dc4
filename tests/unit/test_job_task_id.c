/* Chronos task ids: the vectors of TaskUtilsSpec (reference section 7.3) plus the regex's edges. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "job/job.h"
#include "job/task_id.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define DUE INT64_C(1420843781398)

struct format_row {
	const char *const *job_arguments; /* NULL-terminated */
	const char *override;             /* NULL: none */
	const char *expect;
};

static void test_format(void **state)
{
	static const char *const none[] = {NULL};
	static const char *const one[] = {"-a 1 -b 2", NULL};
	static const char *const several[] = {"-a", "1;", "x", NULL};
	static const struct format_row rows[] = {
		{one, NULL, "ct:1420843781398:0:sample-name:-a 1 -b 2"},
		{none, NULL, "ct:1420843781398:0:sample-name:"},
		{one, "-c 1 -d 2", "ct:1420843781398:0:sample-name:-c 1 -d 2"},
		{one, "-c 1 ; ./evil.sh", "ct:1420843781398:0:sample-name:-c 1  ./evil.sh"},
		{one, "", "ct:1420843781398:0:sample-name:"},
		{several, NULL, "ct:1420843781398:0:sample-name:-a 1 x"},
	};
	(void)state;

	for (size_t i = 0; i < N(rows); i++) {
		struct job *j = job_new();
		size_t n = 0;
		while (rows[i].job_arguments[n] != NULL)
			n++;
		job_set_string(&j->name, "sample-name");
		job_set_arguments(j, rows[i].job_arguments, n);
		char *args = task_id_arguments(j, rows[i].override);
		char *id = task_id_format(DUE, 0, j->name, args);
		assert_string_equal(id, rows[i].expect);
		free(id);
		free(args);
		job_free(j);
	}
}

/* task_id_format strips ';' itself too, and takes NULL arguments. */
static void test_format_direct(void **state)
{
	char *id = task_id_format(DUE, 3, "job", "a;b;;c");
	(void)state;
	assert_string_equal(id, "ct:1420843781398:3:job:abc");
	free(id);
	id = task_id_format(0, 0, "job", NULL);
	assert_string_equal(id, "ct:0:0:job:");
	free(id);
}

static void test_strip_semicolons(void **state)
{
	static const struct {
		const char *in, *out;
	} rows[] = {
		{"", ""}, {";", ""}, {";;;", ""}, {"a;b", "ab"}, {"-c 1 ; ./evil.sh", "-c 1  ./evil.sh"},
		{"no semicolons", "no semicolons"}, {";lead and trail;", "lead and trail"},
	};
	char buf[64];
	(void)state;

	for (size_t i = 0; i < N(rows); i++) {
		snprintf(buf, sizeof(buf), "%s", rows[i].in);
		assert_ptr_equal(task_id_strip_semicolons(buf), buf);
		assert_string_equal(buf, rows[i].out);
	}
}

struct parse_row {
	const char *id;
	int64_t due;
	int rc;
	int attempt;
	const char *name;
	const char *args;
};

static void test_parse(void **state)
{
	static const struct parse_row rows[] = {
		{"ct:1420843781398:0:test:-a 1 -b 2", DUE, 0, 0, "test", "-a 1 -b 2"},
		{"ct:1420843781398:0:test:-a 1:2 --B test", DUE, 0, 0, "test", "-a 1:2 --B test"},
		{"ct:1420843781398:0:test", DUE, 0, 0, "test", ""},
		{"ct:1420843781398:0:test:", DUE, 0, 0, "test", ""},
		{"ct:1:12:a.b-c_D9::x", 1, 0, 12, "a.b-c_D9", ":x"},
		{"ct:5:0:te st", 5, 0, 0, "te", " st"},
		{"ct:9223372036854775807:2147483647:j", INT64_MAX, 0, INT32_MAX, "j", ""},
		{"ct:9223372036854775808:0:j", 0, -EINVAL, 0, NULL, NULL},
		{"ct:1:2147483648:j", 0, -EINVAL, 0, NULL, NULL},
		{"ct:1:0:", 0, -EINVAL, 0, NULL, NULL},
		{"ct:1:0::args", 0, -EINVAL, 0, NULL, NULL},
		{"ct::0:j", 0, -EINVAL, 0, NULL, NULL},
		{"ct:-1:0:j", 0, -EINVAL, 0, NULL, NULL},
		{"ct:1:x:j", 0, -EINVAL, 0, NULL, NULL},
		{"xct:1:0:j", 0, -EINVAL, 0, NULL, NULL},
		{"ct:1:0:j:line\nbreak", 0, -EINVAL, 0, NULL, NULL},
		{"ct:1:0:j:caf\xc3\xa9", 1, 0, 0, "j", "caf\xc3\xa9"},
		{"", 0, -EINVAL, 0, NULL, NULL},
	};
	(void)state;

	for (size_t i = 0; i < N(rows); i++) {
		struct task_id t;
		int rc = task_id_parse(rows[i].id, &t);
		if (rc != rows[i].rc)
			fail_msg("%s: rc %d, want %d", rows[i].id, rc, rows[i].rc);
		if (rc != 0)
			continue;
		assert_int_equal(t.due_ms, rows[i].due);
		assert_int_equal(t.attempt, rows[i].attempt);
		assert_string_equal(t.job_name, rows[i].name);
		assert_string_equal(t.arguments, rows[i].args);
	}
}

/* Format then parse gives the parts back; names longer than JOB_NAME_MAX do not parse. */
static void test_round_trip(void **state)
{
	char name[JOB_NAME_MAX + 2];
	struct task_id t;
	char *id;
	(void)state;

	memset(name, 'n', JOB_NAME_MAX);
	name[JOB_NAME_MAX] = '\0';
	id = task_id_format(DUE, 7, name, "x ; y");
	assert_int_equal(task_id_parse(id, &t), 0);
	assert_string_equal(t.job_name, name);
	assert_int_equal(t.attempt, 7);
	assert_string_equal(t.arguments, "x  y");
	free(id);
	name[JOB_NAME_MAX] = 'n';
	name[JOB_NAME_MAX + 1] = '\0';
	id = task_id_format(DUE, 0, name, NULL);
	assert_int_equal(task_id_parse(id, &t), -EINVAL);
	free(id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_direct),
		cmocka_unit_test(test_strip_semicolons),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
