/* The router's per-route policy, checked before the handler: a table of routes of each policy, served by a real
 * server on loopback, on a leader and on a follower; a refused request gets the JSON error and never reaches
 * its handler. An agent route needs the agents' token when the server has one (401 without it or with another),
 * and a loopback peer when it has none. The server's own table follows its rule (changes need the leader, reads
 * are for anyone, the agent protocol is for agents, the fleet's view is the leader's), and route labels are
 * patterns. */
#include "http_fixture.h"

#include <errno.h>

#include "api/router.h"
#include "net/net.h"

static int handled;

static void h_ok(struct api_env *env, struct http_request *req, const char *const *args)
{
	(void)env;
	(void)args;
	handled++;
	http_respond(req, 200, "text/plain", strdup("ok"), 2);
}

static const struct api_route table[] = {
	{"GET", "any", h_ok, "t.any", 0, API_ANY},
	{"POST", "leader", h_ok, "t.leader", 0, API_LEADER},
	{"GET", "agent/{}", h_ok, "t.agent", 0, API_AGENT},
	{"GET", "admin", h_ok, "t.admin", 1, API_ADMIN},
};

static struct api_env env;

static void route(void *ctx, struct http_request *req)
{
	(void)ctx;
	api_route(&env, req, table, sizeof(table) / sizeof(table[0]));
}

struct result {
	int calls;
	long status;
	char body[512];
};

static void on_done(void *ctx, int rc, const struct net_response *resp, const char *err)
{
	struct result *r = ctx;
	(void)err;
	assert_int_equal(rc, 0);
	r->calls++;
	r->status = resp->status;
	snprintf(r->body, sizeof(r->body), "%.*s", (int)resp->body_len, resp->body);
}

static void test_policies(void **state)
{
	static const struct {
		bool follower;
		const char *method, *path;
		long status;
		const char *body;
		const char *token;  /* the server's agent token */
		const char *auth;   /* the client's Authorization header line */
	} rows[] = {
		{false, "GET", "/any", 200, "ok", NULL, NULL},
		{false, "POST", "/leader", 200, "ok", NULL, NULL},
		{false, "GET", "/agent/a1", 200, "ok", NULL, NULL}, /* no token: loopback agents only, and this is one */
		{false, "GET", "/agent/a1", 401, "{\"status\":\"Unauthorized\",\"message\":\"Authorization: missing: agents "
		    "must send the token of --agent-token-file\"}", "0123456789abcdef", NULL},
		{false, "GET", "/agent/a1", 401, "{\"status\":\"Unauthorized\",\"message\":\"Authorization: wrong token: "
		    "agents must send the token of --agent-token-file\"}", "0123456789abcdef", "Authorization: Bearer 0123456789abcdeF"},
		{false, "GET", "/agent/a1", 401, NULL, "0123456789abcdef", "Authorization: Bearer 0123456789abcde"},
		{false, "GET", "/agent/a1", 200, "ok", "0123456789abcdef", "Authorization: Bearer 0123456789abcdef"},
		{false, "GET", "/v1/scheduler/admin", 403, "{\"status\":\"Forbidden\",\"message\":\"GET /v1/scheduler/admin: "
		    "needs administrator credentials, which this server cannot check yet\"}", NULL, NULL},
		{true, "GET", "/any", 200, "ok", NULL, NULL},
		{true, "POST", "/leader", 503, "{\"status\":\"Service Unavailable\",\"message\":\"POST /leader: only the "
		    "leader serves this, and this server is not the leader (the leader is leader.example:4400)\"}", NULL, NULL},
		{true, "GET", "/agent/a1", 200, NULL, NULL, NULL},
		/* no route, or another method: as before, whatever the policy */
		{true, "GET", "/leader", 405, "{\"status\":\"Method Not Allowed\",\"message\":\"method GET is not allowed on "
		    "/leader (allowed: POST)\"}", NULL, NULL},
		{false, "GET", "/nope", 404, "{\"status\":\"Not Found\",\"message\":\"no such endpoint: GET /nope\"}", NULL, NULL},
	};
	struct fixture fx = {.handler = route};
	struct net_client *client;
	(void)state;

	env.leader = "leader.example:4400";
	env.fleet = (struct remote *)&env; /* only its presence is checked */
	fx_start(&fx, NULL);
	assert_int_equal(net_client_new(&fx.loop, &client), 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct result r = {0};
		char url[128];
		const char *headers[] = {rows[i].auth, NULL};
		struct net_request_options opt = {.url = url, .method = rows[i].method, .headers = headers};
		int before = handled;

		env.follower = rows[i].follower;
		env.agent_token = rows[i].token;
		snprintf(url, sizeof(url), "%s%s", fx.base, rows[i].path);
		assert_int_equal(net_request(client, &opt, on_done, &r, NULL), 0);
		fx_wait_count(&fx, &r.calls, 1);
		assert_int_equal(r.status, rows[i].status);
		if (rows[i].body)
			assert_string_equal(r.body, rows[i].body);
		assert_int_equal(handled - before, rows[i].status == 200 ? 1 : 0);
	}
	net_client_close(client);
	fx_stop(&fx);
}

static void test_server_table(void **state)
{
	size_t n;
	const struct api_route *r = api_routes(&n);
	(void)state;

	assert_true(n > 20);
	for (size_t i = 0; i < n; i++) {
		if (strncmp(r[i].pattern, "api/v1/agent/", 13) == 0)
			assert_int_equal(r[i].policy, API_AGENT);
		else if (strncmp(r[i].pattern, "api/v1/agents", 13) == 0)
			assert_int_equal(r[i].policy, API_LEADER);
		else if (strcmp(r[i].method, "GET") == 0)
			assert_int_equal(r[i].policy, API_ANY);
		else
			assert_int_equal(r[i].policy, API_LEADER);
	}
}

static void test_labels(void **state)
{
	static const struct {
		struct api_route r;
		const char *label;
	} rows[] = {
		{{"GET", "job/{}", h_ok, "m", 1, API_ANY}, "/v1/scheduler/job/{}"},
		{{"GET", "api/v1/runs/{**}/log", h_ok, "m", 0, API_ANY}, "/api/v1/runs/{**}/log"},
		{{"GET", "", h_ok, "m", 0, API_ANY}, "/"},
		{{"GET", "metrics/prometheus", h_ok, "m", 0, API_ANY}, "/metrics/prometheus"},
	};
	char label[128];
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		api_route_label(&rows[i].r, label, sizeof(label));
		assert_string_equal(label, rows[i].label);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policies),
		cmocka_unit_test(test_server_table),
		cmocka_unit_test(test_labels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
