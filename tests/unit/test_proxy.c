/* The leader proxy's pure parts (api/proxy.h): where each policy's request is answered (leading or not, a
 * leader known, itself, the hop marker, follow=1), which fields pass each way, the leader's URL, the client's
 * address for X-Forwarded-For. The forwarding itself: test_router (two servers on one loop) and
 * tests/integration/test_ha_proxy.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>

#include <cmocka.h>

#include "api/proxy.h"

static void test_decide(void **state)
{
	enum { F = 1, P = 2, W = 4 }; /* follower, proxied, follow=1 */
	static const struct {
		enum api_policy policy;
		int flags;
		const char *leader;
		enum api_proxy_way way;
	} rows[] = {
		/* the leader answers everything itself, proxied or not */
		{API_LEADER, 0, "me:1", API_PROXY_NO},
		{API_LEADER, P, "me:1", API_PROXY_NO},
		{API_EVENTS, 0, "me:1", API_PROXY_NO},
		{API_AGENT, 0, "me:1", API_PROXY_NO},
		/* a follower that knows the leader */
		{API_ANY, F, "l:2", API_PROXY_NO},
		{API_ADMIN, F, "l:2", API_PROXY_NO},
		{API_LEADER, F, "l:2", API_PROXY_WHOLE},
		{API_AGENT, F, "l:2", API_PROXY_WHOLE},
		{API_LIVE, F, "l:2", API_PROXY_WHOLE},
		{API_EVENTS, F, "l:2", API_PROXY_STREAM},
		{API_LOG, F, "l:2", API_PROXY_NO},
		{API_LOG, F | W, "l:2", API_PROXY_STREAM},
		/* proxied already: what needs the leader is refused, reads are answered here */
		{API_LEADER, F | P, "l:2", API_PROXY_LOOP},
		{API_AGENT, F | P, "l:2", API_PROXY_LOOP},
		{API_LIVE, F | P, "l:2", API_PROXY_NO},
		{API_EVENTS, F | P, "l:2", API_PROXY_NO},
		{API_LOG, F | P | W, "l:2", API_PROXY_NO},
		/* no leader known, or the one named is this server */
		{API_LEADER, F, "", API_PROXY_NO_LEADER},
		{API_LEADER, F, NULL, API_PROXY_NO_LEADER},
		{API_LEADER, F, "me:1", API_PROXY_NO_LEADER},
		{API_AGENT, F, "", API_PROXY_NO_LEADER},
		{API_LIVE, F, "", API_PROXY_NO},
		{API_EVENTS, F, "me:1", API_PROXY_NO},
		{API_LOG, F | W, "", API_PROXY_NO},
		{API_ANY, F, "", API_PROXY_NO},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct api_proxy_view v = {.follower = rows[i].flags & F, .leader = rows[i].leader, .self = "me:1",
			.proxied = rows[i].flags & P, .follow = rows[i].flags & W};
		if (api_proxy_decide(rows[i].policy, &v) != rows[i].way)
			fail_msg("row %zu: got %d, want %d", i, api_proxy_decide(rows[i].policy, &v), rows[i].way);
	}
}

static void test_fields(void **state)
{
	static const struct {
		const char *name;
		bool request, answer;
	} rows[] = {
		{"Content-Type", true, false}, /* the answer's type is http_respond's */
		{"content-type", true, false},
		{"Accept", true, false},
		{"Authorization", true, false},
		{"Last-Event-ID", true, false},
		{"Cache-Control", true, true},
		{"Host", false, false},
		{"Origin", false, false},
		{"Sec-Fetch-Site", false, false},
		{"Connection", false, false},
		{"Transfer-Encoding", false, false},
		{"Content-Length", false, false},
		{"Cookie", false, false},
		{"X-Gnomon-Proxied-By", false, false}, /* the proxy sets its own */
		{"X-Forwarded-For", false, false},     /* appended to, not copied */
		{"Retry-After", false, true},
		{"retry-after", false, true},
		{"Location", false, true},
		{"WWW-Authenticate", false, true},
		{"Allow", false, true},
		{"Gnomon-Log-Order", false, true},    /* how a merged log was ordered: the UI says so */
		{"X-Gnomon-Leader", false, false},     /* this server's own says it */
		{"Access-Control-Allow-Origin", false, false}, /* the guard's, for the client's origin */
		{"Set-Cookie", false, false},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (api_proxy_request_field(rows[i].name) != rows[i].request ||
		    api_proxy_answer_field(rows[i].name) != rows[i].answer)
			fail_msg("%s", rows[i].name);
	}
}

static void test_url(void **state)
{
	static const struct {
		const char *path;
		const char *keys[3], *values[3];
		int n;
		const char *url;
	} rows[] = {
		{"/v1/scheduler/iso8601", {NULL}, {NULL}, 0, "http://l:4400/v1/scheduler/iso8601"},
		{"/v1/scheduler/job/a.b-c_d", {"arguments"}, {"x y;z"}, 1,
		    "http://l:4400/v1/scheduler/job/a.b-c_d?arguments=x%20y%3Bz"},
		{"/v1/scheduler/task/ct:1:0:job:", {NULL}, {NULL}, 0, "http://l:4400/v1/scheduler/task/ct:1:0:job:"},
		{"/api/v1/runs/ct:1:0:j:a/b c/log", {"follow", "from"}, {"1", "0"}, 2,
		    "http://l:4400/api/v1/runs/ct:1:0:j:a/b%20c/log?follow=1&from=0"},
		{"/x%y\xc3\xa9", {"k&", "flag"}, {"=v", NULL}, 2, "http://l:4400/x%25y%C3%A9?k%26=%3Dv&flag"},
	};
	char out[256];
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int n = api_proxy_url("l:4400", rows[i].path, rows[i].keys, rows[i].values, rows[i].n, out, sizeof(out));
		assert_int_equal(n, (int)strlen(rows[i].url));
		assert_string_equal(out, rows[i].url);
	}
	assert_int_equal(api_proxy_url("l:4400", "/abcdef", NULL, NULL, 0, out, 20), -ENAMETOOLONG);
	assert_int_equal(api_proxy_url("l:4400", "/abcdef", NULL, NULL, 0, out, 21), 20);
	assert_int_equal(api_proxy_url("l:4400", "/a b", NULL, NULL, 0, out, 19), -ENAMETOOLONG);
	assert_int_equal(api_proxy_url("l:4400", "/a b", NULL, NULL, 0, out, 20), 19);
	assert_int_equal(api_proxy_url("l:4400", "/a", (const char *[]){"k"}, (const char *[]){"v"}, 1, out, 18),
	    -ENAMETOOLONG);
	/* a leader with its scheme (a TLS cluster) */
	assert_int_equal(api_proxy_url("https://l:4400", "/a b", NULL, NULL, 0, out, sizeof(out)), 20);
	assert_string_equal(out, "https://l:4400/a%20b");
}

static void test_peer_ip(void **state)
{
	static const struct {
		const char *peer, *ip;
	} rows[] = {
		{"127.0.0.1:5555", "127.0.0.1"},
		{"[::1]:80", "::1"},
		{"[::ffff:10.0.0.1]:1", "::ffff:10.0.0.1"},
		{"unknown", "unknown"},
	};
	char out[64];
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		api_proxy_peer_ip(rows[i].peer, out, sizeof(out));
		assert_string_equal(out, rows[i].ip);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_peer_ip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
