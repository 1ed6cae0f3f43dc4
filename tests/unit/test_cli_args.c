/* Unit tests for the client commands' option parsing (cli_args.h): global options before the command word, global
 * and family options anywhere after it, "--", error messages, and integer option values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_args.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define ARGV_MAX 9

static const struct cli_opt opts[] = {
    {"--limit", NULL, "N", "limit"},
    {"--count", "-n", "N", "count"},
    {"--follow", "-f", NULL, "follow"},
    {"--stream", NULL, "S", "stream"},
};

/* The arguments joined by spaces. */
static void join(int n, char *const *words, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (int k = 0; k < n; k++)
		used += (size_t)snprintf(out + used, len - used, "%s%s", k ? " " : "", words[k]);
}

static void assert_str_or_null(const char *got, const char *want)
{
	if (want)
		assert_string_equal(got, want);
	else
		assert_null(got);
}

static int count_args(const char *const *argv)
{
	int n = 0;

	while (n < ARGV_MAX && argv[n])
		n++;
	return n;
}

static void test_args(void **state)
{
	static const struct {
		const char *argv[ARGV_MAX];
		const char *pos, *server;
		bool json, help;
		const char *limit, *count, *follow, *error;
	} cases[] = {
	    {{"job", "add", "-"}, "add -", NULL, false, false, NULL, NULL, NULL, NULL},
	    {{"job", "--json", "list"}, "list", NULL, true, false, NULL, NULL, NULL, NULL},
	    {{"job", "list", "--server", "http://x", "--json"}, "list", "http://x", true, false, NULL, NULL, NULL, NULL},
	    {{"job", "show", "--server=y:1", "n"}, "show n", "y:1", false, false, NULL, NULL, NULL, NULL},
	    {{"job", "rm", "--", "-weird", "--json"}, "rm -weird --json", NULL, false, false, NULL, NULL, NULL, NULL},
	    {{"job", "-h"}, "", NULL, false, true, NULL, NULL, NULL, NULL},
	    {{"job", "add", "--help"}, "add", NULL, false, true, NULL, NULL, NULL, NULL},
	    {{"runs", "job", "--limit", "5"}, "job", NULL, false, false, "5", NULL, NULL, NULL},
	    {{"runs", "--limit=7", "job", "--limit", "8"}, "job", NULL, false, false, "8", NULL, NULL, NULL},
	    {{"s", "p", "-n", "3", "x", "--count", "4"}, "p x", NULL, false, false, NULL, "4", NULL, NULL},
	    {{"s", "-n3", "p"}, "p", NULL, false, false, NULL, "3", NULL, NULL},
	    {{"s", "--count", "-3"}, "", NULL, false, false, NULL, "-3", NULL, NULL},
	    {{"logs", "-f", "id", "--server", "u"}, "id", "u", false, false, NULL, NULL, "1", NULL},
	    {{"logs", "-fh"}, "", NULL, false, true, NULL, NULL, "1", NULL},
	    {{"logs", "--fol", "id", "--js"}, "id", NULL, true, false, NULL, NULL, "1", NULL},
	    {{"job", "run", "x", "--", "-f", "--limit", "1"}, "run x -f --limit 1", NULL, false, false, NULL, NULL,
		NULL, NULL},
	    {{"job", "list", "-x"}, NULL, NULL, false, false, NULL, NULL, NULL, "unknown option '-x'"},
	    {{"job", "list", "--bogus=1"}, NULL, NULL, false, false, NULL, NULL, NULL, "unknown option '--bogus'"},
	    {{"runs", "--limited"}, NULL, NULL, false, false, NULL, NULL, NULL, "unknown option '--limited'"},
	    {{"runs", "--s", "x"}, NULL, NULL, false, false, NULL, NULL, NULL, "ambiguous option '--s'"},
	    {{"job", "list", "--server"}, NULL, NULL, false, false, NULL, NULL, NULL, "option '--server' needs a value"},
	    {{"job", "list", "--server="}, NULL, NULL, false, false, NULL, NULL, NULL, "option '--server' needs a value"},
	    {{"runs", "job", "--limit"}, NULL, NULL, false, false, NULL, NULL, NULL, "option '--limit' needs a value"},
	    {{"runs", "-n"}, NULL, NULL, false, false, NULL, NULL, NULL, "option '-n' needs a value"},
	    {{"logs", "--follow=yes"}, NULL, NULL, false, false, NULL, NULL, NULL, "option '--follow' takes no value"},
	    {{"logs", "--json=1"}, NULL, NULL, false, false, NULL, NULL, NULL, "option '--json' takes no value"},
	};
	char err[128], pos[128];

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		char *argv[ARGV_MAX + 1] = {NULL};
		int argc = count_args(cases[i].argv);
		struct cli_args a;
		int rc;

		memcpy(argv, cases[i].argv, sizeof(cases[i].argv));
		rc = cli_args_parse(opts, N(opts), NULL, argc, argv, &a, err, sizeof(err));
		if (cases[i].error) {
			assert_int_equal(rc, -EINVAL);
			assert_string_equal(err, cases[i].error);
			cli_args_free(&a);
			continue;
		}
		assert_int_equal(rc, 0);
		join(a.npos, a.pos, pos, sizeof(pos));
		assert_string_equal(pos, cases[i].pos);
		assert_str_or_null(a.g.server, cases[i].server);
		assert_int_equal(a.g.json, cases[i].json);
		assert_int_equal(a.g.help, cases[i].help);
		assert_str_or_null(a.values[0], cases[i].limit);
		assert_str_or_null(a.values[1], cases[i].count);
		assert_str_or_null(a.values[2], cases[i].follow);
		cli_args_free(&a);
	}
}

/* Options after the command word add to and override those before it. */
static void test_args_given(void **state)
{
	const struct cli_globals given = {.server = "http://before", .json = true};
	char runs[] = "runs", x[] = "x", server[] = "--server", after[] = "http://after";
	char *argv[] = {runs, x, server, after, NULL};
	char *argv2[] = {runs, x, NULL};
	struct cli_args a;
	char err[128];

	(void)state;
	assert_int_equal(cli_args_parse(opts, N(opts), &given, 4, argv, &a, err, sizeof(err)), 0);
	assert_string_equal(a.g.server, "http://after");
	assert_true(a.g.json);
	cli_args_free(&a);
	assert_int_equal(cli_args_parse(opts, N(opts), &given, 2, argv2, &a, err, sizeof(err)), 0);
	assert_string_equal(a.g.server, "http://before");
	assert_true(a.g.json);
	assert_int_equal(a.npos, 1);
	cli_args_free(&a);
}

/* POSIXLY_CORRECT would stop GNU getopt at the first argument: options after it must still count. */
static void test_args_posixly_correct(void **state)
{
	char job[] = "job", list[] = "list", json[] = "--json";
	char *argv[] = {job, list, json, NULL};
	struct cli_args a;
	char err[128];

	(void)state;
	setenv("POSIXLY_CORRECT", "1", 1);
	assert_int_equal(cli_args_parse(opts, N(opts), NULL, 3, argv, &a, err, sizeof(err)), 0);
	unsetenv("POSIXLY_CORRECT");
	assert_true(a.g.json);
	assert_int_equal(a.npos, 1);
	cli_args_free(&a);
}

static void test_globals(void **state)
{
	static const struct {
		const char *argv[ARGV_MAX];
		int want; /* index of the command word, or -EINVAL */
		const char *server;
		bool json, help;
		const char *error;
	} cases[] = {
	    {{"gnomon", "job", "list"}, 1, NULL, false, false, NULL},
	    {{"gnomon", "--json", "--server", "u", "job", "list"}, 4, "u", true, false, NULL},
	    {{"gnomon", "--server=u", "runs", "x", "--json"}, 2, "u", false, false, NULL},
	    {{"gnomon", "--json"}, 2, NULL, true, false, NULL},
	    {{"gnomon", "-h"}, 2, NULL, false, true, NULL},
	    {{"gnomon", "--", "job"}, 2, NULL, false, false, NULL},
	    {{"gnomon", "--limit", "5", "runs"}, -EINVAL, NULL, false, false, "unknown option '--limit'"},
	    {{"gnomon", "-f", "logs"}, -EINVAL, NULL, false, false, "unknown option '-f'"},
	    {{"gnomon", "--server"}, -EINVAL, NULL, false, false, "option '--server' needs a value"},
	};
	char err[128];

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		char *argv[ARGV_MAX + 1] = {NULL};
		struct cli_globals g;
		int rc;

		memcpy(argv, cases[i].argv, sizeof(cases[i].argv));
		rc = cli_globals_parse(count_args(cases[i].argv), argv, &g, err, sizeof(err));
		assert_int_equal(rc, cases[i].want);
		if (rc < 0) {
			assert_string_equal(err, cases[i].error);
			continue;
		}
		assert_str_or_null(g.server, cases[i].server);
		assert_int_equal(g.json, cases[i].json);
		assert_int_equal(g.help, cases[i].help);
	}
}

static void test_opt_int(void **state)
{
	static const struct {
		const char *value;
		long long min, max, want;
		const char *error;
	} cases[] = {
	    {"5", 1, 1000, 5, NULL},
	    {"1000", 1, 1000, 1000, NULL},
	    {"0", 1, 1000, 0, "option '--limit' expects an integer from 1 to 1000, got '0'"},
	    {"1001", 1, 1000, 0, "option '--limit' expects an integer from 1 to 1000, got '1001'"},
	    {"-1", 1, 1000, 0, "option '--limit' expects an integer from 1 to 1000, got '-1'"},
	    {"+5", 1, 1000, 0, "option '--limit' expects an integer from 1 to 1000, got '+5'"},
	    {"5x", 1, 1000, 0, "option '--limit' expects an integer from 1 to 1000, got '5x'"},
	    {"", 1, 1000, 0, "option '--limit' expects an integer from 1 to 1000, got ''"},
	    {"99999999999999999999", 1, 1000, 0,
		"option '--limit' expects an integer from 1 to 1000, got '99999999999999999999'"},
	};
	char err[160];

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		long long got = -1;
		int rc = cli_opt_int("--limit", cases[i].value, cases[i].min, cases[i].max, &got, err, sizeof(err));
		if (cases[i].error) {
			assert_int_equal(rc, -EINVAL);
			assert_string_equal(err, cases[i].error);
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(got, cases[i].want);
		}
	}
}

/* --tls-ca FILE, a global option: before the command word or after it; an empty one is refused. */
static void test_args_tls_ca(void **state)
{
	static const struct {
		const char *argv[ARGV_MAX];
		const char *tls_ca, *error;
	} cases[] = {
	    {{"job", "list", "--tls-ca", "/etc/ca.pem"}, "/etc/ca.pem", NULL},
	    {{"job", "--tls-ca=/a", "list", "--tls-ca", "/b"}, "/b", NULL},
	    {{"job", "list"}, NULL, NULL},
	    {{"job", "list", "--tls-ca"}, NULL, "option '--tls-ca' needs a value"},
	    {{"job", "list", "--tls-ca="}, NULL, "option '--tls-ca' needs a value"},
	};
	char err[128];
	(void)state;

	for (size_t i = 0; i < N(cases); i++) {
		char *argv[ARGV_MAX + 1] = {NULL};
		struct cli_args a;
		int rc;

		memcpy(argv, cases[i].argv, sizeof(cases[i].argv));
		rc = cli_args_parse(opts, N(opts), NULL, count_args(cases[i].argv), argv, &a, err, sizeof(err));
		if (cases[i].error) {
			assert_int_equal(rc, -EINVAL);
			assert_string_equal(err, cases[i].error);
		} else {
			assert_int_equal(rc, 0);
			assert_str_or_null(a.g.tls_ca, cases[i].tls_ca);
		}
		cli_args_free(&a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_args),
	    cmocka_unit_test(test_args_tls_ca),
	    cmocka_unit_test(test_args_given),
	    cmocka_unit_test(test_args_posixly_correct),
	    cmocka_unit_test(test_globals),
	    cmocka_unit_test(test_opt_int),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
