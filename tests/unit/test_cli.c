/* Unit tests for the CLI's pure helpers: endpoint choice, batch ordering, tables, URLs, error lines, input
 * parsing, `job run` argument quoting and the job views. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli_cmd.h"
#include "cli/cli_http.h"
#include "cli/cli_input.h"
#include "cli/cli_job_fmt.h"
#include "cli/cli_job_util.h"
#include "cli/cli_table.h"
#include "cli/cli_url.h"
#include "util/buf.h"
#include "util/xmalloc.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, 0, &jerr);

	if (!v)
		fail_msg("bad test JSON '%s': %s", text, jerr.text);
	return v;
}

static void test_endpoint(void **state)
{
	static const struct {
		const char *job;
		const char *want;
	} cases[] = {
	    {"{\"name\":\"a\",\"schedule\":\"R/2024-01-01T00:00:00Z/PT1H\"}", CLI_PATH_ISO8601},
	    {"{\"name\":\"a\"}", CLI_PATH_ISO8601},
	    {"{\"name\":\"a\",\"parents\":[\"b\"]}", CLI_PATH_DEPENDENCY},
	    {"{\"name\":\"a\",\"parents\":[\"b\"],\"schedule\":\"R/x/PT1H\"}", CLI_PATH_DEPENDENCY},
	    {"{\"name\":\"a\",\"parents\":[]}", CLI_PATH_DEPENDENCY},
	    {"{\"name\":\"a\",\"parents\":null}", CLI_PATH_DEPENDENCY},
	};
	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		json_t *job = parse(cases[i].job);
		assert_string_equal(cli_job_endpoint(job), cases[i].want);
		json_decref(job);
	}
}

static void test_join_args(void **state)
{
	static const struct {
		const char *args[5]; /* NULL-terminated */
		const char *want;
	} cases[] = {
	    {{"a", NULL}, "a"},
	    {{"a b", "c", NULL}, "'a b' c"},
	    {{"--json", "50%", "-f", NULL}, "--json 50% -f"},
	    {{"key=v:1,2", "/tmp/x.y", "user@host", "a+b_c", NULL}, "key=v:1,2 /tmp/x.y user@host a+b_c"},
	    {{"", NULL}, "''"},
	    {{"", "", NULL}, "'' ''"},
	    {{"it's", NULL}, "'it'\\''s'"},
	    {{"'", NULL}, "''\\'''"},
	    {{"$HOME", "`id`", "a;b", "x|y", NULL}, "'$HOME' '`id`' 'a;b' 'x|y'"},
	    {{"\"q\"", "back\\slash", "*", "~", NULL}, "'\"q\"' 'back\\slash' '*' '~'"},
	    {{"tab\there", "new\nline", NULL}, "'tab\there' 'new\nline'"},
	    {{"caf\xc3\xa9", NULL}, "'caf\xc3\xa9'"},
	    {{"a b", "'c d'", NULL}, "'a b' ''\\''c d'\\'''"},
	};
	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		int argc = 0;
		while (cases[i].args[argc])
			argc++;
		char *got = cli_job_join_args(argc, cases[i].args);
		assert_string_equal(got, cases[i].want);
		free(got);
	}
	char *none = cli_job_join_args(0, NULL);
	assert_string_equal(none, "");
	free(none);
}

/* The names of an array of jobs, comma-joined, into out. */
static void names_of(const json_t *jobs, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < json_array_size(jobs); i++)
		used += (size_t)snprintf(out + used, len - used, "%s%s", i ? "," : "",
		    json_string_value(json_object_get(json_array_get(jobs, i), "name")));
}

static void test_order(void **state)
{
	static const struct {
		const char *jobs;
		const char *want;  /* names in order, or NULL when an error is expected */
		const char *error; /* expected message */
	} cases[] = {
	    {"[]", "", NULL},
	    {"[{\"name\":\"c\",\"parents\":[\"b\"]},{\"name\":\"b\",\"parents\":[\"a\"]},{\"name\":\"a\",\"schedule\":\"s\"}]",
		"a,b,c", NULL},
	    {"[{\"name\":\"d\",\"parents\":[\"x\"]},{\"name\":\"s1\"},{\"name\":\"s2\",\"schedule\":\"s\"}]", "s1,s2,d",
		NULL},
	    {"[{\"name\":\"d\",\"parents\":[\"b\",\"c\"]},{\"name\":\"c\",\"parents\":[\"a\"]},"
	     "{\"name\":\"b\",\"parents\":[\"a\"]},{\"name\":\"a\",\"parents\":[\"root\"]}]",
		"a,b,c,d", NULL},
	    {"[{\"name\":\"x\",\"parents\":[\"p\"]},{\"name\":\"y\",\"parents\":[\"q\"]}]", "x,y", NULL},
	    {"[{\"name\":\"b\",\"parents\":[\"a\"]},{\"name\":\"a\",\"schedule\":\"s\"}]", "a,b", NULL},
	    {"[{\"name\":\"b\",\"parents\":[\"a\",7,\"a\"]},{\"name\":\"a\",\"parents\":[]}]", "a,b", NULL},
	    {"[{\"name\":\"a\",\"parents\":[\"b\"]},{\"name\":\"b\",\"parents\":[\"c\"]},{\"name\":\"c\",\"parents\":[\"a\"]}]",
		NULL, "dependency cycle: a -> b -> c -> a"},
	    {"[{\"name\":\"z\",\"parents\":[\"a\"]},{\"name\":\"a\",\"parents\":[\"b\"]},{\"name\":\"b\",\"parents\":[\"a\"]}]",
		NULL, "dependency cycle: a -> b -> a"},
	    {"[{\"name\":\"a\",\"parents\":[\"a\"]}]", NULL, "dependency cycle: a -> a"},
	    {"[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":\"a\",\"parents\":[\"b\"]}]", NULL,
		"job 'a' is defined twice (#1 and #3)"},
	    {"[{\"name\":\"a\"},{\"command\":\"true\"}]", NULL, "job #2 has no \"name\""},
	    {"[{\"name\":\"\"}]", NULL, "job #1 has no \"name\""},
	    {"[{\"name\":\"a\"},1]", NULL, "job #2 is not a JSON object"},
	    {"{\"name\":\"a\"}", NULL, "expected an array of jobs"},
	};
	char got[256], err[256];

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		json_t *jobs = parse(cases[i].jobs);
		json_t *ordered = cli_job_order(jobs, err, sizeof(err));

		if (cases[i].want) {
			if (!ordered)
				fail_msg("case %zu: unexpected error '%s'", i, err);
			names_of(ordered, got, sizeof(got));
			assert_string_equal(got, cases[i].want);
		} else {
			assert_null(ordered);
			assert_string_equal(err, cases[i].error);
		}
		json_decref(ordered);
		json_decref(jobs);
	}
}

/* A chain listed children first must come out parents first, without recursing once per link. */
static void test_order_long_chain(void **state)
{
	enum { LEN = 50000 };
	json_t *jobs = json_array(), *ordered;
	char err[256];

	(void)state;
	for (int i = LEN - 1; i >= 0; i--) {
		char name[32], parent[32];
		snprintf(name, sizeof(name), "j%d", i);
		snprintf(parent, sizeof(parent), "j%d", i - 1);
		json_array_append_new(jobs, i == 0 ? json_pack("{s:s}", "name", name) :
						     json_pack("{s:s, s:[s]}", "name", name, "parents", parent));
	}
	ordered = cli_job_order(jobs, err, sizeof(err));
	assert_non_null(ordered);
	assert_int_equal(json_array_size(ordered), LEN);
	for (int i = 0; i < LEN; i++) {
		char name[32];
		snprintf(name, sizeof(name), "j%d", i);
		assert_string_equal(json_string_value(json_object_get(json_array_get(ordered, (size_t)i), "name")), name);
	}
	json_decref(ordered);
	json_decref(jobs);
}

static char *render(const struct cli_table *t)
{
	struct buf out;

	buf_init(&out, 0);
	assert_int_equal(cli_table_render(t, &out), 0);
	return buf_steal(&out, NULL);
}

static void test_table(void **state)
{
	static const char *const headers[] = {"A", "BB", "C"};
	static const struct {
		const char *cells[3];
		size_t max0;
		const char *want;
	} cases[] = {
	    {{"xxx", "y", "z"}, 0, "A    BB  C\nxxx  y   z\n"},
	    {{"", "", "z"}, 0, "A  BB  C\n       z\n"},
	    {{"a", NULL, ""}, 0, "A  BB  C\na\n"},
	    {{"abcdefgh", "y", "z"}, 5, "A      BB  C\nab...  y   z\n"},
	    {{"abcde", "y", "z"}, 5, "A      BB  C\nabcde  y   z\n"},
	    {{"abcdefgh", "y", "z"}, 2, "A     BB  C\na...  y   z\n"},
	    {{"h\xc3\xa9llo", "y", "z"}, 0, "A      BB  C\nh\xc3\xa9llo  y   z\n"},
	    {{"h\xc3\xa9llo w\xc3\xb6rld", "y", "z"}, 6, "A       BB  C\nh\xc3\xa9l...  y   z\n"},
	    {{"a\nb\tc", "y  ", "z"}, 0, "A      BB  C\na b c  y   z\n"},
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct cli_table *t = cli_table_new(3, headers);
		char *got;

		cli_table_set_max_width(t, 0, cases[i].max0);
		cli_table_add_row(t, cases[i].cells);
		assert_int_equal(cli_table_rows(t), 1);
		got = render(t);
		assert_string_equal(got, cases[i].want);
		free(got);
		cli_table_free(t);
	}
}

/* Columns are aligned by terminal width: CJK and emoji take two columns, combining marks none; a cut never
 * splits a character from its combining marks, and a wide character that does not fit before "..." leaves one
 * column of padding. (UTF-8 spelled out in bytes: 日 e6 97 a5, 本 e6 9c ac, 語 e8 aa 9e, U+0301 cc 81, 😀 f0 9f
 * 98 80.) */
static void test_table_width(void **state)
{
	static const char *const headers[] = {"NAME", "X"};
	static const struct {
		const char *cells[2][2]; /* two rows */
		size_t max0;
		const char *want;
	} cases[] = {
	    {{{"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "x"}, {"ab", "y"}}, 0,
		"NAME    X\n"
		"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e  x\n"
		"ab      y\n"},
	    {{{"e\xcc\x81te\xcc\x81", "x"}, {"abcd", "y"}}, 0,
		"NAME  X\n"
		"e\xcc\x81te\xcc\x81   x\n"
		"abcd  y\n"},
	    {{{"\xf0\x9f\x98\x80ok", "x"}, {"a", "y"}}, 0,
		"NAME  X\n"
		"\xf0\x9f\x98\x80ok  x\n"
		"a     y\n"},
	    {{{"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "x"}, {"abcdefgh", "y"}}, 6,
		"NAME    X\n"
		"\xe6\x97\xa5...   x\n"
		"abc...  y\n"},
	    {{{"e\xcc\x81" "e\xcc\x81" "e\xcc\x81" "e\xcc\x81" "e\xcc\x81", "x"}, {"a", "y"}}, 4,
		"NAME  X\n"
		"e\xcc\x81...  x\n"
		"a     y\n"},
	    {{{"a\xc2\x9b" "b", "x"}, {"\xc3\xa9", "y"}}, 0,
		"NAME  X\n"
		"a b   x\n"
		"\xc3\xa9     y\n"},
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct cli_table *t = cli_table_new(2, headers);
		char *got;

		cli_table_set_max_width(t, 0, cases[i].max0);
		cli_table_add_row(t, cases[i].cells[0]);
		cli_table_add_row(t, cases[i].cells[1]);
		got = render(t);
		assert_string_equal(got, cases[i].want);
		free(got);
		cli_table_free(t);
	}
}

static void test_table_many_rows(void **state)
{
	static const char *const headers[] = {"N"};
	struct cli_table *t = cli_table_new(1, headers);
	struct buf small;
	char *got;

	(void)state;
	for (int i = 0; i < 100; i++) {
		char cell[16];
		const char *cells[] = {cell};
		snprintf(cell, sizeof(cell), "%d", i);
		cli_table_add_row(t, cells);
	}
	got = render(t);
	assert_int_equal(strlen(got), 2 + 10 * 2 + 90 * 3);
	free(got);
	buf_init(&small, 10);
	assert_int_equal(cli_table_render(t, &small), -E2BIG);
	buf_free(&small);
	cli_table_free(t);
}

static void test_url(void **state)
{
	static const struct {
		const char *option, *env, *want;
	} bases[] = {
	    {NULL, NULL, "http://127.0.0.1:4400"},
	    {"", "", "http://127.0.0.1:4400"},
	    {"http://h:1/", "http://e:2", "http://h:1"},
	    {NULL, "http://e:2//", "http://e:2"},
	    {"", "e:2", "http://e:2"},
	    {"https://x.example/chronos", NULL, "https://x.example/chronos"},
	};
	static const struct {
		const char *name, *want;
	} paths[] = {
	    {"my-job_1.x", "/v1/scheduler/job/my-job_1.x"},
	    {"a b/c", "/v1/scheduler/job/a%20b%2Fc"},
	    {"../x?y#z", "/v1/scheduler/job/..%2Fx%3Fy%23z"},
	    {"\xc3\xa9", "/v1/scheduler/job/%C3%A9"},
	};

	(void)state;
	for (size_t i = 0; i < N(bases); i++) {
		char *got = cli_url_base(bases[i].option, bases[i].env);
		assert_string_equal(got, bases[i].want);
		free(got);
	}
	for (size_t i = 0; i < N(paths); i++) {
		char *got = cli_url_path(CLI_PATH_JOB, paths[i].name);
		assert_string_equal(got, paths[i].want);
		free(got);
	}
	char *url = cli_url_join("http://h:1", "/v1/scheduler/jobs");
	assert_string_equal(url, "http://h:1/v1/scheduler/jobs");
	free(url);
}

static void test_http_error_text(void **state)
{
	static const struct {
		long status;
		const char *body, *want;
	} cases[] = {
	    {400, "{\"status\":\"Bad Request\",\"message\":\"Job 'x' not found\"}", "Job 'x' not found"},
	    {500, "{\"status\":\"Internal Server Error\",\"message\":\"java.lang.Exception: boom\\n\\tat x\"}",
		"java.lang.Exception: boom"},
	    {400, "{\"status\":\"Bad Request\"}", "HTTP 400: Bad Request"},
	    {400, "{\"status\":\"Bad Request\",\"message\":\"\"}", "HTTP 400: Bad Request"},
	    {404, "Not Found\nmore", "HTTP 404: Not Found"},
	    {503, "  \n\nService down \r\n", "HTTP 503: Service down"},
	    {502, "", "HTTP 502"},
	    {500, "\x1b[31mred\x7f", "HTTP 500: ?[31mred?"},
	    {400, "[1]", "HTTP 400: [1]"},
	    {418, "<html>\n<body>teapot</body>", "HTTP 418: <html>"},
	};
	char got[256];

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		cli_http_error_text(cases[i].status, cases[i].body, strlen(cases[i].body), got, sizeof(got));
		assert_string_equal(got, cases[i].want);
	}
	/* A long line is cut, never inside a UTF-8 sequence. */
	char body[1000];
	memset(body, 'a', sizeof(body));
	memcpy(body + 305, "\xc3\xa9", 2);
	cli_http_error_text(500, body, sizeof(body), got, sizeof(got));
	assert_int_equal(strlen(got), strlen("HTTP 500: ") + 245);
	cli_http_error_text(500, body + 5, sizeof(body) - 5, got, 20);
	assert_string_equal(got, "HTTP 500: aaaaaaaaa");
}

static void test_input(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"{\n  \"name\": }", "jobs.json:2:11: invalid JSON: unexpected token near '}'"},
	    {"", "jobs.json:1:0: invalid JSON: '[' or '{' expected near end of file"},
	    {"{\"a\":1,\"a\":2}", "jobs.json:1:10: invalid JSON: duplicate object key near '\"a\"'"},
	};
	char err[256], data[] = "0123456789";
	struct buf b;
	json_t *v;
	FILE *f;

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		assert_null(cli_input_parse_json("jobs.json", cases[i].text, strlen(cases[i].text), err, sizeof(err)));
		assert_string_equal(err, cases[i].want);
	}
	v = cli_input_parse_json("jobs.json", "[{\"name\":\"a\"}]", 14, err, sizeof(err));
	assert_true(json_is_array(v));
	json_decref(v);

	f = fmemopen(data, 10, "r");
	buf_init(&b, 5);
	assert_int_equal(cli_input_read(f, &b), -E2BIG);
	fclose(f);
	buf_free(&b);
	f = fmemopen(data, 10, "r");
	buf_init(&b, 10);
	assert_int_equal(cli_input_read(f, &b), 0);
	assert_int_equal(b.len, 10);
	fclose(f);
	buf_free(&b);

	assert_null(cli_input_load_json("/nonexistent/jobs.json", 1 << 20, err, sizeof(err)));
	assert_string_equal(err, "cannot read /nonexistent/jobs.json: No such file or directory");
	assert_string_equal(cli_input_label("-"), "stdin");
}

static void test_schedule_text(void **state)
{
	static const struct {
		const char *job, *want;
	} cases[] = {
	    {"{\"schedule\":\"R/2024-01-01T00:00:00Z/PT1H\",\"parents\":[]}", "R/2024-01-01T00:00:00Z/PT1H"},
	    {"{\"schedule\":\"\",\"parents\":[\"a\",\"b\"]}", "after: a,b"},
	    {"{\"parents\":[\"a\"],\"schedule\":\"R/x/PT1H\"}", "after: a"},
	    {"{}", ""},
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		json_t *job = parse(cases[i].job);
		char *got = cli_job_schedule_text(job);
		assert_string_equal(got, cases[i].want);
		free(got);
		json_decref(job);
	}
}

static void test_list_table(void **state)
{
	json_t *summary = parse("{\"jobs\":["
				"{\"name\":\"zeta\",\"status\":\"success\",\"state\":\"idle\","
				"\"schedule\":\"R/2024-01-01T00:00:00Z/PT1H\",\"parents\":[],\"disabled\":false},"
				"{\"name\":\"alpha\",\"status\":\"fresh\",\"state\":\"2 running\","
				"\"schedule\":\"\",\"parents\":[\"zeta\",\"x\"],\"disabled\":true},"
				"{\"name\":\"gone\",\"status\":\"failure\",\"state\":\"queued\","
				"\"schedule\":\"R/2024-01-01T00:00:00Z/P1D\",\"parents\":[],\"disabled\":false}]}");
	json_t *jobs = parse("[{\"name\":\"zeta\",\"owner\":\"Jos\u00e9 <j@example.com>\","
			     "\"scheduleTimeZone\":\"Europe/Paris\",\"command\":\"echo \u65e5\u672c \u2713\"},"
			     "{\"name\":\"alpha\",\"owner\":\"\",\"command\":\"/bin/echo\",\"shell\":false,"
			     "\"arguments\":[\"a b\",\"c\"]}]");
	json_t *bad = parse("{\"jobs\":{}}");
	char err[128], *got;
	struct cli_table *t = cli_job_list_table(summary, jobs, err, sizeof(err));

	(void)state;
	assert_non_null(t);
	got = render(t);
	assert_string_equal(got,
	    "NAME   SCHEDULE                     TZ            LAST     STATE      DISABLED  OWNER                 COMMAND\n"
	    "alpha  after: zeta,x                -             fresh    2 running  yes       -                     "
	    "/bin/echo 'a b' c\n"
	    "gone   R/2024-01-01T00:00:00Z/P1D   -             failure  queued     no        -                     -\n"
	    "zeta   R/2024-01-01T00:00:00Z/PT1H  Europe/Paris  success  idle       no        Jos\xc3\xa9 <j@example.com>  "
	    "echo \xe6\x97\xa5\xe6\x9c\xac \xe2\x9c\x93\n");
	free(got);
	cli_table_free(t);
	assert_null(cli_job_list_table(bad, jobs, err, sizeof(err)));
	assert_string_equal(err, "unexpected answer from the server: the job summary has no \"jobs\" array");
	assert_null(cli_job_list_table(summary, bad, err, sizeof(err)));
	json_decref(bad);
	json_decref(jobs);
	json_decref(summary);
}

static void test_describe(void **state)
{
	static const struct {
		const char *job, *want;
	} cases[] = {
	    {"{\"name\":\"a\",\"command\":\"echo hi\",\"shell\":true,\"executor\":\"\",\"retries\":2,\"owner\":\"\","
	     "\"successCount\":3,\"errorCount\":0,\"lastSuccess\":\"2024-03-08T16:57:17.507Z\",\"lastError\":\"\","
	     "\"cpus\":0.1,\"disk\":256.0,\"mem\":128.0,\"disabled\":false,\"softError\":false,"
	     "\"errorsSinceLastSuccess\":0,\"fetch\":[],\"uris\":[],\"environmentVariables\":[],\"arguments\":[],"
	     "\"highPriority\":false,\"runAsUser\":\"root\",\"concurrent\":false,\"maxCompletionTime\":0,"
	     "\"constraints\":[],\"schedule\":\"R/2024-01-01T00:00:00Z/PT1H\",\"scheduleTimeZone\":\"\"}",
		"name: a\ncommand: echo hi\nschedule: R/2024-01-01T00:00:00Z/PT1H\nowner: -\nrunAsUser: root\n"
		"cpus: 0.1\nmem: 128\ndisk: 256\nretries: 2\ndisabled: false\nsuccessCount: 3\nerrorCount: 0\n"
		"lastSuccess: 2024-03-09 01:57:17 JST\nlastError: -\n"},
	    {"{\"name\":\"b\",\"command\":\"run\\nagain\\u0007\",\"shell\":false,\"arguments\":[\"-a\",\"x y\"],"
	     "\"parents\":[\"p\",\"q\"],\"owner\":\"o@x\",\"environmentVariables\":[{\"name\":\"K\",\"value\":\"v\"}],"
	     "\"fetch\":[{\"uri\":\"http://f/x\",\"extract\":true}],\"uris\":[\"http://f/x\"],"
	     "\"constraints\":[[\"rack\",\"EQUALS\",\"a\"]],\"container\":{\"type\":\"DOCKER\",\"image\":\"busybox\","
	     "\"network\":\"HOST\"},\"concurrent\":true,\"maxCompletionTime\":60,\"errorsSinceLastSuccess\":2,"
	     "\"disabled\":true,\"successCount\":0,\"errorCount\":2,\"lastError\":\"2024-01-01T00:00:00.000Z\"}",
		"name: b\ncommand: run\n  again?\nshell: false\narguments: [\"-a\",\"x y\"]\nparents: p, q\n"
		"owner: o@x\ncontainer: DOCKER busybox (network HOST)\nenvironmentVariables: K=v\nfetch: http://f/x\n"
		"constraints: rack EQUALS a\nmaxCompletionTime: 60\nconcurrent: true\ndisabled: true\n"
		"successCount: 0\nerrorCount: 2\nerrorsSinceLastSuccess: 2\nlastSuccess: -\n"
		"lastError: 2024-01-01 09:00:00 JST\n"},
	    {"{\"name\":\"c\",\"parents\":[]}",
		"name: c\ncommand: -\nparents: -\nowner: -\ndisabled: -\nsuccessCount: -\nerrorCount: -\n"
		"lastSuccess: -\nlastError: -\n"},
	};

	(void)state;
	setenv("TZ", "Asia/Tokyo", 1); /* times in the local zone, with the zone */
	tzset();
	for (size_t i = 0; i < N(cases); i++) {
		json_t *job = parse(cases[i].job);
		struct buf out;

		buf_init(&out, 0);
		assert_int_equal(cli_job_describe(job, &out), 0);
		assert_string_equal(out.data, cases[i].want);
		buf_free(&out);
		json_decref(job);
	}
	unsetenv("TZ");
	tzset();
}

int main(void)
{
	/* As cli_main does: tables measure text in a UTF-8 locale. */
	if (!setlocale(LC_CTYPE, "C.UTF-8")) {
		fprintf(stderr, "no C.UTF-8 locale\n");
		return 1;
	}
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_endpoint),
	    cmocka_unit_test(test_join_args),
	    cmocka_unit_test(test_order),
	    cmocka_unit_test(test_order_long_chain),
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_table_width),
	    cmocka_unit_test(test_table_many_rows),
	    cmocka_unit_test(test_url),
	    cmocka_unit_test(test_http_error_text),
	    cmocka_unit_test(test_input),
	    cmocka_unit_test(test_schedule_text),
	    cmocka_unit_test(test_list_table),
	    cmocka_unit_test(test_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
