/* job_words_split: a manual run's arguments as argv words, POSIX-shell quoting without any expansion. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "job/job_words.h"

#define MAX_WORDS 8

static void test_split(void **state)
{
	static const struct {
		const char *in;
		const char *want[MAX_WORDS]; /* NULL-terminated */
	} rows[] = {
		{"", {NULL}},
		{"   \t\n ", {NULL}},
		{"x", {"x", NULL}},
		{"x y", {"x", "y", NULL}},
		{"  x \t y\n", {"x", "y", NULL}},
		{"'x y'", {"x y", NULL}},
		{"\"x y\"", {"x y", NULL}},
		{"x\\ y", {"x y", NULL}},
		{"a'b c'd", {"ab cd", NULL}},
		{"'e'\"f\"g", {"efg", NULL}},
		{"''", {"", NULL}},
		{"\"\" ''", {"", "", NULL}},
		{"a '' b", {"a", "", "b", NULL}},
		{"'\\n'", {"\\n", NULL}},                   /* nothing is special inside single quotes */
		{"'a\"b'", {"a\"b", NULL}},
		{"\"it's\"", {"it's", NULL}},
		{"\"q\\\"q\"", {"q\"q", NULL}},              /* \" inside double quotes */
		{"\"a\\\\b\"", {"a\\b", NULL}},              /* \\ inside double quotes */
		{"\"\\$HOME \\`x\\`\"", {"$HOME `x`", NULL}},
		{"\"a\\nb\"", {"a\\nb", NULL}},              /* other backslashes stay inside double quotes */
		{"\"a\\\nb\"", {"ab", NULL}},                /* backslash-newline disappears */
		{"a\\\nb", {"ab", NULL}},
		{"\\'x", {"'x", NULL}},
		{"\\\\", {"\\", NULL}},
		{"a\\", {"a\\", NULL}},                      /* a final backslash stays */
		{"$HOME ~ * `id` $(id) a|b a&b <x", {"$HOME", "~", "*", "`id`", "$(id)", "a|b", "a&b", "<x"}},
		{"'<%s>\\n' x y", {"<%s>\\n", "x", "y", NULL}},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char **words = NULL, err[128] = "";
		size_t n = 99, want = 0;

		while (want < MAX_WORDS && rows[i].want[want])
			want++;
		assert_int_equal(job_words_split(rows[i].in, &words, &n, err, sizeof(err)), 0);
		assert_int_equal(n, want);
		for (size_t j = 0; j < want; j++)
			assert_string_equal(words[j], rows[i].want[j]);
		assert_null(words[want]);
		free(words);
	}
}

static void test_errors(void **state)
{
	static const struct {
		const char *in, *err;
	} rows[] = {
		{"'x", "arguments: unterminated single quote"},
		{"a 'b c", "arguments: unterminated single quote"},
		{"\"x", "arguments: unterminated double quote"},
		{"\"x\\\"", "arguments: unterminated double quote"},
		{"\"it's", "arguments: unterminated double quote"},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char **words = NULL, err[128] = "";
		assert_int_equal(job_words_split(rows[i].in, &words, NULL, err, sizeof(err)), -EINVAL);
		assert_null(words);
		assert_string_equal(err, rows[i].err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
