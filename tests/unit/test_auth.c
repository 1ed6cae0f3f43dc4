/* Access control's pure parts: roles, SHA-256 (checked against known digests) and its constant-time comparison,
 * token names and new tokens, the Authorization field and the Cookie field; and the role each of the server's
 * routes needs (reads viewer, run now / kill / mark success operator, job changes and tokens admin, /ping, the UI,
 * the session and the agents' protocol open). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/router.h"
#include "auth/auth_token.h"

static void test_roles(void **state)
{
	static const struct {
		const char *name;
		int rc;
		enum auth_role role;
	} rows[] = {
		{"viewer", 0, AUTH_VIEWER}, {"operator", 0, AUTH_OPERATOR}, {"admin", 0, AUTH_ADMIN},
		{"agent", 0, AUTH_AGENT}, {"Agent", -1, AUTH_OPEN}, {"open", -1, AUTH_OPEN}, {"Admin", -1, AUTH_OPEN}, {"", -1, AUTH_OPEN}, {NULL, -1, AUTH_OPEN},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum auth_role got = AUTH_OPEN;
		assert_int_equal(auth_role_parse(rows[i].name, &got) < 0 ? -1 : 0, rows[i].rc);
		assert_int_equal(got, rows[i].role);
		if (rows[i].rc == 0)
			assert_string_equal(auth_role_name(got), rows[i].name);
	}
	assert_true(AUTH_VIEWER < AUTH_OPERATOR && AUTH_OPERATOR < AUTH_ADMIN);
	assert_true(AUTH_AGENT < AUTH_OPEN && AUTH_OPEN < AUTH_VIEWER); /* an agent's token meets no route's need */
	assert_string_equal(auth_role_name(AUTH_OPEN), "open");
}

static void test_hash(void **state)
{
	static const struct {
		const char *in;
		const char *hex;
	} rows[] = {
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	};
	char out[AUTH_HASH_LEN + 1], other[AUTH_HASH_LEN + 1];
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		auth_hash(rows[i].in, strlen(rows[i].in), out);
		assert_string_equal(out, rows[i].hex);
		assert_true(auth_hash_equal(out, rows[i].hex));
	}
	auth_hash("abd", 3, other);
	assert_false(auth_hash_equal(out, other));
	assert_false(auth_hash_equal(out, "e3b0"));  /* not a hash: never equal */
	assert_false(auth_hash_equal("", ""));
}

static void test_token_new_and_names(void **state)
{
	char a[AUTH_TOKEN_LEN + 1], b[AUTH_TOKEN_LEN + 1];
	static const struct {
		const char *name;
		bool valid;
	} rows[] = {
		{"ci", true}, {"ops.team-1_x", true}, {"", false}, {"a b", false}, {"a/b", false}, {"é", false},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
	};
	(void)state;

	assert_int_equal(auth_token_new(a), 0);
	assert_int_equal(auth_token_new(b), 0);
	assert_int_equal(strlen(a), AUTH_TOKEN_LEN);
	assert_int_equal(strspn(a, "0123456789abcdef"), AUTH_TOKEN_LEN);
	assert_string_not_equal(a, b);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(auth_name_valid(rows[i].name), rows[i].valid);
}

static void test_header_parse(void **state)
{
	static const struct {
		const char *field;
		size_t room;
		enum auth_scheme scheme;
		const char *out;
	} rows[] = {
		{NULL, 64, AUTH_SCHEME_NONE, ""},
		{"Bearer abc123", 64, AUTH_SCHEME_BEARER, "abc123"},
		{"bearer   abc123", 64, AUTH_SCHEME_BEARER, "abc123"},
		{"Bearer abc123", 6, AUTH_SCHEME_BAD, ""},
		{"Bearer", 64, AUTH_SCHEME_BAD, ""},
		{"Bearer ", 64, AUTH_SCHEME_BAD, ""},
		{"Bearer a b", 64, AUTH_SCHEME_BAD, ""},
		{"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", 64, AUTH_SCHEME_BASIC, "Aladdin:open sesame"},
		{"BASIC QWxhZGRpbjpvcGVuIHNlc2FtZQ==", 64, AUTH_SCHEME_BASIC, "Aladdin:open sesame"},
		{"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", 8, AUTH_SCHEME_BAD, ""},
		{"Basic bm9jb2xvbg==", 64, AUTH_SCHEME_BAD, "nocolon"},  /* "nocolon" */
		{"Basic !!!", 64, AUTH_SCHEME_BAD, ""},
		{"Basic YQBiOmM=", 64, AUTH_SCHEME_BAD, "a"},  /* "a\0b:c": a NUL inside */
		{"Digest username=x", 64, AUTH_SCHEME_BAD, ""},
		{"", 64, AUTH_SCHEME_BAD, ""},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char out[64] = "untouched";
		enum auth_scheme got = auth_header_parse(rows[i].field, out, rows[i].room);
		print_message("%s\n", rows[i].field ? rows[i].field : "(null)");
		assert_int_equal(got, rows[i].scheme);
		if (got != AUTH_SCHEME_BAD)
			assert_string_equal(out, rows[i].out);
	}
}

static void test_cookie_value(void **state)
{
	static const struct {
		const char *field;
		const char *name;
		size_t room;
		const char *out; /* NULL: none */
	} rows[] = {
		{"gnomon_session=abc", "gnomon_session", 64, "abc"},
		{"a=1; gnomon_session=abc; b=2", "gnomon_session", 64, "abc"},
		{"a=1;gnomon_session=abc", "gnomon_session", 64, "abc"},
		{"xgnomon_session=abc", "gnomon_session", 64, NULL},
		{"gnomon_session_x=abc", "gnomon_session", 64, NULL},
		{"gnomon_session=abcdef", "gnomon_session", 4, NULL},
		{"gnomon_session=", "gnomon_session", 64, ""},
		{"", "gnomon_session", 64, NULL},
		{NULL, "gnomon_session", 64, NULL},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char out[64];
		bool found = auth_cookie_value(rows[i].field, rows[i].name, out, rows[i].room);
		assert_int_equal(found, rows[i].out != NULL);
		if (found)
			assert_string_equal(out, rows[i].out);
	}
}

/* The role of each kind of route of the server's table. */
static void test_route_roles(void **state)
{
	static const struct {
		const char *method;
		const char *path;
		enum auth_role role;
	} rows[] = {
		{"GET", "/v1/scheduler/jobs", AUTH_VIEWER},
		{"GET", "/scheduler/job/x", AUTH_VIEWER},
		{"GET", "/v1/scheduler/job/stat/x", AUTH_VIEWER},
		{"GET", "/v1/scheduler/graph/dot", AUTH_VIEWER},
		{"GET", "/api/v1/jobs", AUTH_VIEWER},
		{"GET", "/api/v1/runs/ct:1:0:x:/log", AUTH_VIEWER},
		{"GET", "/api/v1/events", AUTH_VIEWER},
		{"GET", "/api/v1/agents", AUTH_VIEWER},
		{"GET", "/metrics", AUTH_VIEWER},
		{"GET", "/metrics/prometheus", AUTH_VIEWER},
		{"PUT", "/v1/scheduler/job/x", AUTH_OPERATOR},
		{"PUT", "/v1/scheduler/job/success/x", AUTH_OPERATOR},
		{"DELETE", "/v1/scheduler/task/kill/x", AUTH_OPERATOR},
		{"POST", "/v1/scheduler/iso8601", AUTH_ADMIN}, /* operator to enable or disable: test_auth.py */
		{"PUT", "/scheduler/dependency", AUTH_ADMIN},
		{"DELETE", "/v1/scheduler/job/x", AUTH_ADMIN},
		{"POST", "/api/v1/jobs", AUTH_ADMIN},
		{"POST", "/api/v1/agents/a/drain", AUTH_ADMIN},
		{"POST", "/api/v1/tokens", AUTH_ADMIN},
		{"GET", "/api/v1/tokens", AUTH_ADMIN},
		{"DELETE", "/api/v1/tokens/x", AUTH_ADMIN},
		{"GET", "/ping", AUTH_OPEN},
		{"GET", "/", AUTH_OPEN},
		{"GET", "/ui/js/app.js", AUTH_OPEN},
		{"POST", "/api/v1/session", AUTH_OPEN},
		{"GET", "/api/v1/session", AUTH_OPEN},
		{"POST", "/api/v1/agent/poll", AUTH_OPEN},
	};
	size_t n;
	const struct api_route *table = api_routes(&n);
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct api_route *r = api_route_find(table, n, rows[i].method, rows[i].path);
		print_message("%s %s\n", rows[i].method, rows[i].path);
		assert_non_null(r);
		assert_int_equal(r->role, rows[i].role);
	}
	assert_null(api_route_find(table, n, "PATCH", "/v1/scheduler/jobs"));
	/* every route that changes something needs more than a viewer, but for the open ones (the session's, the
	 * agents' protocol, which has its own token) */
	for (size_t i = 0; i < n; i++)
		if (strcmp(table[i].method, "GET") != 0)
			assert_true(table[i].role >= AUTH_OPERATOR || table[i].role == AUTH_OPEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_token_new_and_names),
		cmocka_unit_test(test_header_parse),
		cmocka_unit_test(test_cookie_value),
		cmocka_unit_test(test_route_roles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
