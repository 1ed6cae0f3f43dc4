/* The names of runs' files: a table of task ids, hostile ones
 * included ('/', "..", a leading '.' or '-', UTF-8, 10 KB of arguments), with names computed independently
 * (Python's hashlib). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "history/run_name.h"

static void test_names(void **state)
{
	static const struct {
		const char *task_id;
		const char *name;
	} rows[] = {
		{"ct:1700000000000:0:backup:", "ct_1700000000000_0_backup_-93deb826c264c66ea3bb0ffae9c15a19"},
		{"ct:1:0:a/b:../../etc", "ct_1_0_a_b_.._.._etc-992606c981ded0ae391944b92b88c611"},
		{"..", "_.-5ec1f7e700f37c3d0b2981d04855fc34"},
		{".", "_-cdb4ee2aea69cc6a83331bbe96dc2caa"},
		{"-rf", "_rf-686c39acd6327bbd2c7c3aeea382e60f"},
		{"ct:1:2:j\xc3\xb6" "b:\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "ct_1_2_j__b__________-c0a27d7361f920ae855df1f93943cd13"},
		{"a b;c", "a_b_c-ddb90c96e2a09eaaaf44eaad895dc341"},
		{"", "e3b0c44298fc1c149afbf4c8996fb924"},
	};
	char name[RUN_NAME_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		run_name(rows[i].task_id, name);
		assert_string_equal(name, rows[i].name);
	}
}

/* 10 KB of arguments: bounded; ids that differ only past the prefix get different names. */
static void test_long_ids(void **state)
{
	size_t head = strlen("ct:1700000000000:0:x:"), len = head + 10240;
	char *a = malloc(len + 1), *b;
	char na[RUN_NAME_MAX], nb[RUN_NAME_MAX];

	(void)state;
	assert_non_null(a);
	memcpy(a, "ct:1700000000000:0:x:", head);
	memset(a + head, 'y', 10240);
	a[len] = '\0';
	b = strdup(a);
	b[len - 1] = 'z';
	run_name(a, na);
	run_name(b, nb);
	assert_string_equal(na, "ct_1700000000000_0_x_yyyyyyyyyyyyyyyyyyyyyyyyyyy-3c7160ed5fcbc84b7a795a3794055ee3");
	assert_true(strlen(na) == RUN_NAME_MAX - 1);
	assert_string_not_equal(na, nb);
	assert_null(strchr(na, '/'));
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_long_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
