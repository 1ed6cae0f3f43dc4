/* Job errors: one row per parse or validation message, with its exact text. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "job/job.h"
#include "job/job_json.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct error_row {
	const char *input;
	const char *message; /* NULL: accepted */
};

/* Parse each input; the error message must be exactly the expected one. */
static void check_parse_rows(const struct error_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char err[512] = "";
		struct job *j = job_from_json(rows[i].input, strlen(rows[i].input), NULL, 0, err, sizeof(err));
		bool ok = rows[i].message == NULL ? j != NULL : j == NULL && strcmp(err, rows[i].message) == 0;
		job_free(j);
		if (!ok)
			fail_msg("row %zu: got \"%s\"\n  want \"%s\"", i, j != NULL ? "(accepted)" : err,
				 rows[i].message ? rows[i].message : "(accepted)");
	}
}

/* Parse (must succeed) then validate each input; the validation message must be exactly the expected one. */
static void check_validate_rows(const struct error_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char err[512] = "";
		struct job *j = job_from_json(rows[i].input, strlen(rows[i].input), NULL, 0, err, sizeof(err));
		if (j == NULL)
			fail_msg("row %zu: parse failed: %s", i, err);
		int rc = job_validate(j, err, sizeof(err));
		bool ok = rows[i].message == NULL ? rc == 0 : rc == -EINVAL && strcmp(err, rows[i].message) == 0;
		job_free(j);
		if (!ok)
			fail_msg("row %zu: got \"%s\"\n  want \"%s\"", i, rc ? err : "(valid)",
				 rows[i].message ? rows[i].message : "(valid)");
	}
}

static void test_type_errors(void **state)
{
	static const struct error_row rows[] = {
		{"{\"name\":\"a\",\"retries\":\"abc\"}", "retries: expected an integer, got \"abc\""},
		{"{\"name\":\"a\",\"retries\":2.5}", "retries: expected an integer, got 2.5"},
		{"{\"name\":\"a\",\"retries\":3000000000}",
		 "retries: expected an integer between -2147483648 and 2147483647, got 3000000000"},
		{"{\"name\":\"a\",\"retries\":\" 3\"}", "retries: expected an integer, got \" 3\""},
		{"{\"name\":\"a\",\"successCount\":true}", "successCount: expected an integer, got true"},
		{"{\"name\":\"a\",\"maxCompletionTime\":\"1h\"}", "maxCompletionTime: expected an integer, got \"1h\""},
		{"{\"name\":\"a\",\"cpus\":[1]}", "cpus: expected a number, got [1]"},
		{"{\"name\":\"a\",\"mem\":\"lots\"}", "mem: expected a number, got \"lots\""},
		{"{\"name\":\"a\",\"disk\":\"0x10\"}", "disk: expected a number, got \"0x10\""},
		{"{\"name\":\"a\",\"cpus\":\"nan\"}", "cpus: expected a number, got \"nan\""},
		{"{\"name\":\"a\",\"shell\":\"yes\"}", "shell: expected true or false, got \"yes\""},
		{"{\"name\":\"a\",\"async\":2}", "async: expected true or false, got 2"},
		{"{\"name\":\"a\",\"softError\":{}}", "softError: expected true or false, got {}"},
		{"{\"name\":\"a\",\"command\":5}", "command: expected a string, got 5"},
		{"{\"name\":\"a\",\"schedule\":[\"R/x/PT1H\"]}", "schedule: expected a string, got [\"R/x/PT1H\"]"},
		{"{\"name\":\"a\",\"lastSuccess\":\"yesterday\"}",
		 "lastSuccess: expected an ISO 8601 time such as 2014-03-08T16:57:17.507Z, got \"yesterday\""},
		{"{\"name\":\"a\",\"arguments\":\"-x\"}", "arguments: expected an array, got \"-x\""},
		{"{\"name\":\"a\",\"arguments\":[\"x\",1]}", "arguments[1]: expected a string, got 1"},
		{"{\"name\":\"a\",\"uris\":[null]}", "uris[0]: expected a string, got null"},
		{"{\"name\":\"a\",\"parents\":{\"a\":1}}", "parents: expected an array, got {\"a\":1}"},
		{"{\"name\":\"a\",\"fetch\":[{\"uri\":\"a\"},{\"uri\":5}]}", "fetch[1].uri: expected a string, got 5"},
		{"{\"name\":\"a\",\"fetch\":[\"http://x\"]}", "fetch[0]: expected an object, got \"http://x\""},
		{"{\"name\":\"a\",\"fetch\":[{\"uri\":\"a\",\"extract\":\"no\"}]}",
		 "fetch[0].extract: expected true or false, got \"no\""},
		{"{\"name\":\"a\",\"environmentVariables\":[{\"name\":\"x\"}]}",
		 "environmentVariables[0]: expected an object with name and value"},
		{"{\"name\":\"a\",\"environmentVariables\":[{\"name\":\"x\",\"value\":\"1\"},\"Y=2\"]}",
		 "environmentVariables[1]: expected an object with name and value"},
		{"{\"name\":\"a\",\"environmentVariables\":[{\"name\":\"x\",\"value\":5}]}",
		 "environmentVariables[0].value: expected a string, got 5"},
		{"{\"name\":\"a\",\"constraints\":[[\"rack\",\"EQUALS\"]]}",
		 "constraints[0]: expected an array of 3 strings [attribute, operator, value], got [\"rack\",\"EQUALS\"]"},
		{"{\"name\":\"a\",\"constraints\":[[\"rack\",\"EQUALS\",1]]}",
		 "constraints[0]: expected an array of 3 strings [attribute, operator, value], got [\"rack\",\"EQUALS\",1]"},
		{"{\"name\":\"a\",\"container\":\"busybox\"}", "container: expected an object, got \"busybox\""},
		{"{\"name\":\"a\",\"container\":{\"image\":7}}", "container.image: expected a string, got 7"},
		{"{\"name\":\"a\",\"container\":{\"image\":\"i\",\"volumes\":[{\"hostPath\":\"/h\"}]}}",
		 "container.volumes[0].containerPath: required"},
		{"{\"name\":\"a\",\"container\":{\"image\":\"i\",\"volumes\":[{\"containerPath\":\"/c\",\"external\":{}}]}}",
		 "container.volumes[0].external.name: required"},
		{"{\"name\":\"a\",\"container\":{\"image\":\"i\",\"volumes\":[{\"containerPath\":\"/c\",\"external\":"
		 "{\"name\":\"n\",\"provider\":\"p\",\"options\":[{\"key\":\"k\"}]}}]}}",
		 "container.volumes[0].external.options[0]: expected an object with key and value"},
		{"{\"name\":\"a\",\"container\":{\"image\":\"i\",\"networkInfos\":[{\"portMappings\":"
		 "[{\"hostPort\":\"x\",\"containerPort\":80}]}]}}",
		 "container.networkInfos[0].portMappings[0].hostPort: expected an integer, got \"x\""},
		{"{\"name\":\"a\",\"container\":{\"image\":\"i\",\"networkInfos\":[{\"portMappings\":"
		 "[{\"hostPort\":1,\"containerPort\":70000}]}]}}",
		 "container.networkInfos[0].portMappings[0].containerPort: expected an integer between 0 and 65535, "
		 "got 70000"},
		{"{\"name\":\"a\",\"container\":{\"image\":\"i\",\"forcePullImage\":\"yes\"}}",
		 "container.forcePullImage: expected true or false, got \"yes\""},
		{"{\"name\":\"a\",\"container\":{\"image\":\"i\",\"parameters\":[[\"k\",\"v\"]]}}",
		 "container.parameters[0]: expected an object with key and value"},
		{"{\"name\":\"a\",\"container\":{\"image\":\"i\",\"network\":1}}",
		 "container.network: expected a string, got 1"},
		{"{\"name\":\"a\",\"retryDelay\":30}", "retryDelay: expected a string, got 30"},
		{"{\"name\":\"a\",\"retryDelay\":[\"PT1S\"]}", "retryDelay: expected a string, got [\"PT1S\"]"},
		{"{\"name\":\"a\",\"retryBackoff\":\"fast\"}", "retryBackoff: expected a number, got \"fast\""},
		{"{\"name\":\"a\",\"retryBackoff\":\"inf\"}", "retryBackoff: expected a number, got \"inf\""},
		{"{\"name\":\"a\",\"retryBackoff\":true}", "retryBackoff: expected a number, got true"},
		{"{\"name\":\"a\",\"retryBackoff\":\"2\"}", NULL},
		{"{\"name\":\"a\",\"notifyOn\":1}", "notifyOn: expected a string, got 1"},
		{"{\"name\":\"a\",\"notifyOn\":\"Always\"}", NULL},
	};
	(void)state;
	check_parse_rows(rows, N(rows));
}

static void test_document_errors(void **state)
{
	static const struct error_row rows[] = {
		{"{\"name\":\"a\",}", "invalid JSON at line 1, column 13: string or '}' expected near '}'"},
		{"{\n  \"name\": \"a\"\n  \"command\": \"x\"\n}",
		 "invalid JSON at line 3, column 11: '}' expected near '\"command\"'"},
		{"", "invalid JSON at line 1, column 0: unexpected token near end of file"},
		{"{\"name\":\"a\"} x", "invalid JSON at line 1, column 14: end of file expected near 'x'"},
		{"{\"name\":\"a\\u0000b\"}",
		 "invalid JSON at line 1, column 18: \\u0000 is not allowed without JSON_ALLOW_NUL near '\"a\\u0000b\"'"},
		{"[1]", "job: expected a JSON object"},
		{"\"job\"", "job: expected a JSON object"},
		{"null", "job: expected a JSON object"},
		{"{}", "name: required"},
		{"{\"name\":\"\"}", "name: required"},
		{"{\"name\":null,\"command\":\"x\"}", "name: required"},
		{"{\"name\":5}", "name: expected a string, got 5"},
	};
	(void)state;
	check_parse_rows(rows, N(rows));
}

/* Build {"name":"a","x":[[...]]} whose deepest array sits at the given depth (the job object is depth 1). */
static char *nested(int depth)
{
	size_t n = (size_t)depth;
	char *s = malloc(32 + 2 * n);
	size_t off = (size_t)sprintf(s, "{\"name\":\"a\",\"x\":");
	for (int i = 1; i < depth; i++)
		s[off++] = '[';
	for (int i = 1; i < depth; i++)
		s[off++] = ']';
	s[off++] = '}';
	s[off] = '\0';
	return s;
}

/* A job whose command (or a nested field) is len bytes long. */
static char *long_field(const char *prefix, size_t len, const char *suffix)
{
	size_t p = strlen(prefix), q = strlen(suffix);
	char *s = malloc(p + len + q + 1);
	memcpy(s, prefix, p);
	memset(s + p, 'x', len);
	memcpy(s + p + len, suffix, q);
	s[p + len + q] = '\0';
	return s;
}

static void test_bounds(void **state)
{
	char *inputs[6];
	struct error_row rows[6];
	(void)state;

	inputs[0] = nested(32);
	inputs[1] = nested(33);
	inputs[2] = long_field("{\"name\":\"a\",\"command\":\"", 65536, "\"}");
	inputs[3] = long_field("{\"name\":\"a\",\"command\":\"", 65537, "\"}");
	inputs[4] = long_field("{\"name\":\"a\",\"container\":{\"image\":\"i\",\"parameters\":[{\"key\":\"k\",\"value\":\"",
			       65537, "\"}]}}");
	inputs[5] = long_field("{\"name\":\"a\",\"environmentVariables\":[{\"name\":\"k\",\"value\":\"", 65537, "\"}]}");
	rows[0] = (struct error_row){inputs[0], NULL};
	rows[1] = (struct error_row){inputs[1], "job: nesting deeper than 32"};
	rows[2] = (struct error_row){inputs[2], NULL};
	rows[3] = (struct error_row){inputs[3], "command: longer than 65536 bytes"};
	rows[4] = (struct error_row){inputs[4], "container.parameters[0].value: longer than 65536 bytes"};
	rows[5] = (struct error_row){inputs[5], "environmentVariables[0].value: longer than 65536 bytes"};
	check_parse_rows(rows, N(rows));
	for (size_t i = 0; i < N(inputs); i++)
		free(inputs[i]);
}

/* A value too long to quote whole is cut on a UTF-8 boundary with "...". */
static void test_long_value_in_message(void **state)
{
	static const char text[] = "{\"name\":\"a\",\"cpus\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
				   "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
				   "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
				   "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}";
	char err[512];
	struct job *j = job_from_json(text, strlen(text), NULL, 0, err, sizeof(err));
	json_t *msg;
	(void)state;

	assert_null(j);
	assert_int_equal(strncmp(err, "cpus: expected a number, got \"\xc3\xa9", 32), 0);
	assert_string_equal(err + strlen(err) - 3, "...");
	msg = json_string(err); /* NULL if the cut left invalid UTF-8 */
	assert_non_null(msg);
	json_decref(msg);
}

static void test_validate(void **state)
{
	static const struct error_row rows[] = {
		{"{\"name\":\"ok-Name_1.2\"}", NULL},
		{"{\"name\":\"a b\"}", "name: 'a b' is invalid: use letters, digits, '_', '.' and '-'"},
		{"{\"name\":\"a:b\"}", "name: 'a:b' is invalid: use letters, digits, '_', '.' and '-'"},
		{"{\"name\":\"caf\xc3\xa9\"}", "name: 'caf\xc3\xa9' is invalid: use letters, digits, '_', '.' and '-'"},
		{"{\"name\":\"x\",\"uris\":[\"u\"],\"fetch\":[{\"uri\":\"f\"}]}",
		 "fetch: Tried to add both uri (deprecated) and fetch parameters on x"},
		{"{\"name\":\"x\",\"retries\":-1}", "retries: must be >= 0, got -1"},
		{"{\"name\":\"x\",\"cpus\":-1}", "cpus: must be a finite number >= 0, got -1"},
		{"{\"name\":\"x\",\"mem\":\"1e999\"}", "mem: must be a finite number >= 0, got inf"},
		{"{\"name\":\"x\",\"disk\":-0.5}", "disk: must be a finite number >= 0, got -0.5"},
		{"{\"name\":\"x\",\"maxCompletionTime\":-5}", "maxCompletionTime: must be >= 0, got -5"},
		{"{\"name\":\"x\",\"constraints\":[[\"a\",\"EQUALS\",\"(\"],[\"b\",\"LIKE\",\"r[0-9]+\"],"
		 "[\"c\",\"UNLIKE\",\"^x|y$\"]]}",
		 NULL},
		{"{\"name\":\"x\",\"constraints\":[[\"a\",\"FOO\",\"b\"]]}",
		 "constraints[0]: unknown operator 'FOO' (EQUALS, LIKE, UNLIKE)"},
		{"{\"name\":\"x\",\"constraints\":[[\"a\",\"EQUALS\",\"b\"],[\"a\",\"equals\",\"b\"]]}",
		 "constraints[1]: unknown operator 'equals' (EQUALS, LIKE, UNLIKE)"},
		{"{\"name\":\"x\",\"constraints\":[[\"a\",\"EQUALS\",\"b\"],[\"a\",\"LIKE\",\"(\"]]}",
		 "constraints[1]: invalid regular expression '(': Unmatched ( or \\("},
		{"{\"name\":\"x\",\"constraints\":[[\"a\",\"UNLIKE\",\"a{2\"]]}",
		 "constraints[0]: invalid regular expression 'a{2': Unmatched \\{"},
		{"{\"name\":\"x\",\"constraints\":[[\"a\",\"LIKE\",\"us-eas++++++++++++++++++++++++++++t\"]]}",
		 "constraints[0]: regular expression 'us-eas++++++++++++++++++++++++++++t' repeats a repetition (as in "
		 "'a**'; after '*', '+', '?' or '{n}' only one '?' or '+' may follow, as in Java)"},
		{"{\"name\":\"x\",\"constraints\":[[\"a\",\"LIKE\",\")a+++++++++++++++++++++++++\"]]}",
		 "constraints[0]: regular expression ')a+++++++++++++++++++++++++' repeats a repetition (as in "
		 "'a**'; after '*', '+', '?' or '{n}' only one '?' or '+' may follow, as in Java)"},
		{"{\"name\":\"x\",\"constraints\":[[\"a\",\"LIKE\",\"((a{99}){99}){99}\"]]}",
		 "constraints[0]: regular expression '((a{99}){99}){99}' is too complex"},
		{"{\"name\":\"x\",\"constraints\":[[\"a\",\"UNLIKE\",\"a{99999999999999999999}\"]]}",
		 "constraints[0]: regular expression 'a{99999999999999999999}' is too complex"},
		{"{\"name\":\"x\",\"constraints\":[[\"a\",\"LIKE\","
		 "\"(((((((((((((((((((((((((((((((((a)))))))))))))))))))))))))))))))))\"]]}",
		 "constraints[0]: regular expression "
		 "'(((((((((((((((((((((((((((((((((a)))))))))))))))))))))))))))))))))' is too complex"},
		/* found by fuzz_job: 485 ms in regcomp before repetitions stacked past Java's forms were refused */
		{"{\"name\":\"x\",\"constraints\":[[\"a\",\"LIKE\",\"(l******************)**********++++++*\"]]}",
		 "constraints[0]: regular expression '(l******************)**********++++++*' repeats a repetition (as in "
		 "'a**'; after '*', '+', '?' or '{n}' only one '?' or '+' may follow, as in Java)"},
		{"{\"name\":\"x\",\"constraints\":[[\"a\",\"LIKE\",\"a{2}*\"]]}",
		 "constraints[0]: regular expression 'a{2}*' repeats a repetition (as in 'a**'; after '*', '+', '?' or "
		 "'{n}' only one '?' or '+' may follow, as in Java)"},
		/* repetitions of repetitions, each within Java's forms (82 ms in regcomp at 8 levels): 3 levels pass */
		{"{\"name\":\"x\",\"constraints\":[[\"a\",\"LIKE\",\"((((((l*+)*+)*+)*+)*+)*+)\"]]}",
		 "constraints[0]: regular expression '((((((l*+)*+)*+)*+)*+)*+)' is too complex"},
		{"{\"name\":\"x\",\"constraints\":[[\"a\",\"LIKE\",\"((a*+){1,30})+\"]]}",
		 "constraints[0]: regular expression '((a*+){1,30})+' is too complex"},
		/* glibc reads `{,n}` as `{0,n}` (a fuzzer's pattern, minutes in regcomp): counted as that */
		{"{\"name\":\"x\",\"constraints\":[[\"a\",\"LIKE\",\"((a{,40}){,40}){,40}\"]]}",
		 "constraints[0]: regular expression '((a{,40}){,40}){,40}' is too complex"},
		{"{\"name\":\"x\",\"constraints\":[[\"a\",\"LIKE\",\"rack-[0-9]{,3}\"]]}", NULL},
		{"{\"name\":\"x\",\"constraints\":[[\"a\",\"LIKE\",\"((l*+)*+)*+\"]]}", NULL},
		{"{\"name\":\"x\",\"constraints\":[[\"a\",\"LIKE\",\".*(us|eu)-west-.*[0-9]+?\"]]}", NULL},
		{"{\"name\":\"x\",\"constraints\":[[\"a\",\"LIKE\",\"(rack|zone)-[0-9]{1,3}[[:alpha:]]*\\\\.x+?\"]]}", NULL},
		{"{\"name\":\"x\",\"container\":{\"image\":\"i\",\"network\":\"bridge\",\"type\":\"docker\","
		 "\"volumes\":[{\"containerPath\":\"/c\",\"mode\":\"ro\"}]}}",
		 NULL},
		{"{\"name\":\"x\",\"container\":{\"image\":\"i\",\"network\":\"foo\"}}",
		 "container.network: 'FOO' is invalid (HOST, BRIDGE, USER, NONE)"},
		{"{\"name\":\"x\",\"container\":{\"image\":\"i\",\"type\":\"rkt\"}}",
		 "container.type: 'RKT' is invalid (DOCKER, MESOS)"},
		{"{\"name\":\"x\",\"container\":{\"image\":\"i\",\"volumes\":[{\"containerPath\":\"/a\"},"
		 "{\"containerPath\":\"/b\",\"mode\":\"rx\"}]}}",
		 "container.volumes[1].mode: 'RX' is invalid (RW, RO)"},
		{"{\"name\":\"x\",\"container\":{\"image\":\"i\",\"network\":\"none\",\"parameters\":["
		 "{\"key\":\"env\",\"value\":\"A=1\"},{\"key\":\"label\",\"value\":\"team=ops\"},"
		 "{\"key\":\"user\",\"value\":\"1000\"},{\"key\":\"workdir\",\"value\":\"/w\"}]}}",
		 NULL},
		{"{\"name\":\"x\",\"container\":{\"image\":\"i\",\"parameters\":["
		 "{\"key\":\"env\",\"value\":\"A=1\"},{\"key\":\"privileged\",\"value\":\"true\"}]}}",
		 "container.parameters[1].key: 'privileged' is not allowed (allowed: env, label, user, workdir, hostname, "
		 "add-host, dns, tmpfs, read-only, shm-size, memory, entrypoint, stop-signal)"},
		{"{\"name\":\"x\",\"container\":{\"image\":\"i\",\"parameters\":["
		 "{\"key\":\"cap-add\",\"value\":\"ALL\"}]}}",
		 "container.parameters[0].key: 'cap-add' is not allowed (allowed: env, label, user, workdir, hostname, "
		 "add-host, dns, tmpfs, read-only, shm-size, memory, entrypoint, stop-signal)"},
		{"{\"name\":\"x\",\"container\":{\"image\":\"i\",\"parameters\":["
		 "{\"key\":\"label\",\"value\":\"gnomon.task=t\"}]}}",
		 "container.parameters[0].value: labels gnomon.* are gnomon's own"},
		/* the image is a reference, never a flag for the runtime */
		{"{\"name\":\"x\",\"container\":{\"image\":\"--privileged\"}}",
		 "container.image: '--privileged' is not an image reference ([registry/]name[:tag][@digest])"},
		{"{\"name\":\"x\",\"container\":{\"image\":\"--volume=/:/h\"}}",
		 "container.image: '--volume=/:/h' is not an image reference ([registry/]name[:tag][@digest])"},
		{"{\"name\":\"x\",\"container\":{\"image\":\"busybox -v\"}}",
		 "container.image: 'busybox -v' is not an image reference ([registry/]name[:tag][@digest])"},
		{"{\"name\":\"x\",\"container\":{\"image\":\"busybox\\n\"}}",
		 "container.image: 'busybox?' is not an image reference ([registry/]name[:tag][@digest])"},
		{"{\"name\":\"x\",\"container\":{\"image\":\"\"}}",
		 "container.image: '' is not an image reference ([registry/]name[:tag][@digest])"},
		{"{\"name\":\"x\",\"container\":{\"image\":\"Busybox\"}}",
		 "container.image: 'Busybox' is not an image reference ([registry/]name[:tag][@digest])"},
		{"{\"name\":\"x\",\"container\":{\"image\":\"busybox\"}}", NULL},
		{"{\"name\":\"x\",\"container\":{\"image\":\"localhost/gnomon-test-busybox:1\"}}", NULL},
		{"{\"name\":\"x\",\"container\":{\"image\":\"registry.example.com:5000/team/app__x-y:v1.2_3\"}}", NULL},
		{"{\"name\":\"x\",\"container\":{\"image\":\"docker.io/library/busybox@sha256:"
		 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}}",
		 NULL},
		/* networkName: a network's name, never another namespace */
		{"{\"name\":\"x\",\"container\":{\"image\":\"i\",\"network\":\"USER\",\"networkName\":\"container:other\"}}",
		 "container.networkName: 'container:other' is not a network name ([A-Za-z0-9][A-Za-z0-9_.-]*)"},
		{"{\"name\":\"x\",\"container\":{\"image\":\"i\",\"network\":\"USER\",\"networkName\":\"ns:/proc/1/ns/net\"}}",
		 "container.networkName: 'ns:/proc/1/ns/net' is not a network name ([A-Za-z0-9][A-Za-z0-9_.-]*)"},
		{"{\"name\":\"x\",\"container\":{\"image\":\"i\",\"network\":\"USER\",\"networkName\":\"-x\"}}",
		 "container.networkName: '-x' is not a network name ([A-Za-z0-9][A-Za-z0-9_.-]*)"},
		{"{\"name\":\"x\",\"container\":{\"image\":\"i\",\"network\":\"USER\",\"networkName\":\"back_1.net-2\"}}", NULL},
		/* volume paths: absolute, and no ':' or ',' that would change the mount */
		{"{\"name\":\"x\",\"container\":{\"image\":\"i\",\"volumes\":[{\"containerPath\":\"/:/host\"}]}}",
		 "container.volumes[0].containerPath: '/:/host' may not hold ':' or ','"},
		{"{\"name\":\"x\",\"container\":{\"image\":\"i\",\"volumes\":[{\"containerPath\":\"/c\",\"hostPath\":\"/h,ro\"}]}}",
		 "container.volumes[0].hostPath: '/h,ro' may not hold ':' or ','"},
		{"{\"name\":\"x\",\"container\":{\"image\":\"i\",\"volumes\":[{\"containerPath\":\"c\"}]}}",
		 "container.volumes[0].containerPath: 'c' must be an absolute path"},
		{"{\"name\":\"x\",\"container\":{\"image\":\"i\",\"volumes\":[{\"containerPath\":\"/c\",\"hostPath\":\"h\"}]}}",
		 "container.volumes[0].hostPath: 'h' must be an absolute path"},
		{"{\"name\":\"x\",\"container\":{\"image\":\"i\",\"volumes\":[{\"containerPath\":\"/c\","
		 "\"hostPath\":\"/tmp/../run\"}]}}",
		 "container.volumes[0].hostPath: '/tmp/../run' must be a plain absolute path (no '.', '..' or '//')"},
		{"{\"name\":\"x\",\"container\":{\"image\":\"i\",\"volumes\":[{\"containerPath\":\"/c\",\"hostPath\":\"/\"}]}}",
		 NULL}, /* which host paths an agent lets containers mount is its own (--container-host-paths) */
		/* env parameters may not take gnomon's variables; memory-swap is gone (-1 lifts the limit) */
		{"{\"name\":\"x\",\"container\":{\"image\":\"i\",\"parameters\":["
		 "{\"key\":\"env\",\"value\":\"GNOMON_TASK_ID=x\"}]}}",
		 "container.parameters[0].value: variables GNOMON_* are gnomon's own"},
		{"{\"name\":\"x\",\"container\":{\"image\":\"i\",\"parameters\":["
		 "{\"key\":\"env\",\"value\":\"MESOS_TASK_ID=x\"}]}}",
		 "container.parameters[0].value: variables MESOS_* are gnomon's own"},
		{"{\"name\":\"x\",\"container\":{\"image\":\"i\",\"parameters\":["
		 "{\"key\":\"env\",\"value\":\"CHRONOS_JOB_NAME=x\"}]}}",
		 "container.parameters[0].value: variables CHRONOS_* are gnomon's own"},
		{"{\"name\":\"x\",\"container\":{\"image\":\"i\",\"parameters\":["
		 "{\"key\":\"memory-swap\",\"value\":\"-1\"}]}}",
		 "container.parameters[0].key: 'memory-swap' is not allowed (allowed: env, label, user, workdir, hostname, "
		 "add-host, dns, tmpfs, read-only, shm-size, memory, entrypoint, stop-signal)"},
		{"{\"name\":\"x\",\"epsilon\":\"P1DT2H\"}", NULL},
		{"{\"name\":\"x\",\"epsilon\":\"5 minutes\"}",
		 "epsilon: '5 minutes' is not an ISO 8601 duration such as PT60S"},
		{"{\"name\":\"x\",\"epsilon\":\"PT\"}", "epsilon: 'PT' is not an ISO 8601 duration such as PT60S"},
		{"{\"name\":\"x\",\"epsilon\":\"\"}", "epsilon: '' is not an ISO 8601 duration such as PT60S"},
		{"{\"name\":\"x\",\"retryDelay\":\"\"}", NULL},
		{"{\"name\":\"x\",\"retryDelay\":\"PT0S\"}", NULL},
		{"{\"name\":\"x\",\"retryDelay\":\"PT30S\",\"retryBackoff\":1}", NULL},
		{"{\"name\":\"x\",\"retryDelay\":\"P1DT2H\",\"retryBackoff\":\"1.5\"}", NULL},
		{"{\"name\":\"x\",\"retryDelay\":\"xyz\"}",
		 "retryDelay: expected an ISO 8601 duration such as PT30S, got 'xyz'"},
		{"{\"name\":\"x\",\"retryDelay\":\"P\"}",
		 "retryDelay: expected an ISO 8601 duration such as PT30S, got 'P'"},
		{"{\"name\":\"x\",\"retryDelay\":\"PT\"}",
		 "retryDelay: expected an ISO 8601 duration such as PT30S, got 'PT'"},
		{"{\"name\":\"x\",\"retryDelay\":\"30s\"}",
		 "retryDelay: expected an ISO 8601 duration such as PT30S, got '30s'"},
		{"{\"name\":\"x\",\"retryDelay\":\"P99999999999999999999D\"}",
		 "retryDelay: expected an ISO 8601 duration such as PT30S, got 'P99999999999999999999D'"},
		{"{\"name\":\"x\",\"retryBackoff\":0.5}", "retryBackoff: must be a number >= 1, got 0.5"},
		{"{\"name\":\"x\",\"retryBackoff\":0}", "retryBackoff: must be a number >= 1, got 0"},
		{"{\"name\":\"x\",\"retryBackoff\":\"-2\"}", "retryBackoff: must be a number >= 1, got -2"},
		{"{\"name\":\"x\",\"retryBackoff\":0.999999}", "retryBackoff: must be a number >= 1, got 0.999999"},
		{"{\"name\":\"x\",\"retryBackoff\":\"1e999\"}", "retryBackoff: must be a number >= 1, got inf"},
		{"{\"name\":\"x\",\"notifyOn\":\"sometimes\"}", "notifyOn: must be failure, always or never"},
		{"{\"name\":\"x\",\"notifyOn\":\"NEVER\"}", NULL},
		{"{\"name\":\"x\",\"retryDelay\":\"bad\",\"retryBackoff\":0.5}",
		 "retryDelay: expected an ISO 8601 duration such as PT30S, got 'bad'"},
	};
	(void)state;
	check_validate_rows(rows, N(rows));
}

/* A job built in code (not parsed) is validated the same way. */
/* Periods under a second are refused; zero periods, cron, dependent jobs and unreadable periods are left to the
 * schedule parser or accepted. */
static void test_period_too_short(void **state)
{
	static const struct error_row rows[] = {
		{"{\"name\":\"x\",\"schedule\":\"R/2026-01-01T00:00:00Z/PT0.001S\"}",
		 "schedule: the period of 'R/2026-01-01T00:00:00Z/PT0.001S' is shorter than one second: the shortest is PT1S"},
		{"{\"name\":\"x\",\"schedule\":\"R5/2025-01-01T00:00:00Z/PT0.01S\"}",
		 "schedule: the period of 'R5/2025-01-01T00:00:00Z/PT0.01S' is shorter than one second: the shortest is PT1S"},
		{"{\"name\":\"x\",\"schedule\":\"R//PT0,999S\"}",
		 "schedule: the period of 'R//PT0,999S' is shorter than one second: the shortest is PT1S"},
		{"{\"name\":\"x\",\"schedule\":\"R/2026-01-01T00:00:00Z/PT1S\"}", NULL},
		{"{\"name\":\"x\",\"schedule\":\"R/2026-01-01T00:00:00Z/PT1.5S\"}", NULL},
		{"{\"name\":\"x\",\"schedule\":\"R5/2026-01-01T00:00:00Z/PT0S\"}", NULL},
		{"{\"name\":\"x\",\"schedule\":\"R/2026-01-01T00:00:00Z/P1D\"}", NULL},
		{"{\"name\":\"x\",\"schedule\":\"*/5 * * * *\"}", NULL},
		{"{\"name\":\"x\",\"schedule\":\"R/2026-01-01T00:00:00Z/PT0.5X\"}", NULL},
		{"{\"name\":\"x\",\"schedule\":\"R/2026-01-01T00:00:00Z/PT0.5S\",\"parents\":[\"p\"]}", NULL},
	};
	(void)state;
	check_validate_rows(rows, N(rows));
}

static void test_validate_built(void **state)
{
	struct job *j = job_new();
	char err[256];
	(void)state;

	assert_int_equal(job_validate(j, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "name: required");
	job_set_string(&j->name, "built");
	assert_int_equal(job_validate(j, err, sizeof(err)), 0);
	char name[JOB_NAME_MAX + 2];
	memset(name, 'n', sizeof(name) - 1);
	name[JOB_NAME_MAX] = '\0';
	job_set_string(&j->name, name);
	assert_int_equal(job_validate(j, err, sizeof(err)), 0);
	name[JOB_NAME_MAX] = 'n';
	name[JOB_NAME_MAX + 1] = '\0';
	job_set_string(&j->name, name);
	assert_int_equal(job_validate(j, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "name: longer than 255 bytes");
	/* Values JSON cannot carry, set in code. */
	job_set_string(&j->name, "built");
	j->retry_backoff = NAN;
	assert_int_equal(job_validate(j, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "retryBackoff: must be a number >= 1, got nan");
	j->retry_backoff = -INFINITY;
	assert_int_equal(job_validate(j, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "retryBackoff: must be a number >= 1, got -inf");
	j->retry_backoff = 1;
	job_set_string(&j->retry_delay, "PT1M");
	assert_int_equal(job_validate(j, err, sizeof(err)), 0);
	job_free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type_errors),
		cmocka_unit_test(test_document_errors),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_long_value_in_message),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_validate_built),
		cmocka_unit_test(test_period_too_short),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
