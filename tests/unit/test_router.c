/* The router's per-route policy, checked before the handler: a table of routes of each policy, served by a real
 * server on loopback, on a leader and on a follower (which proxies to a second server, the leader, on the same
 * loop: what needs the leader reaches the leader's handler, with the fields that pass, X-Forwarded-For and the
 * hop marker, and its answer comes back; none known, a loop, the leader down: 503 with Retry-After); a refused
 * request gets the JSON error and never reaches its handler. An agent route needs the agents' token when the
 * server has one (401 without it or with another), and a loopback peer when it has none. The server's own table follows its rule (changes need the leader, reads
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

/* Answer with what reached the leader, and fields of which some pass back. */
static void h_echo(struct api_env *e, struct http_request *req, const char *const *args)
{
	static const char *const names[] = {"Content-Type", "Authorization", "Origin", "X-Forwarded-For",
	    "X-Gnomon-Proxied-By", "X-Private"};
	size_t len;
	const char *body = http_request_body(req, &len), *q = http_request_query(req, "q");
	json_t *o = json_pack("{s:s, s:s, s:s%, s:s}", "method", http_request_method(req), "path",
	    http_request_path(req), "body", body, len, "q", q ? q : "-");
	(void)args;
	handled++;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v = http_request_header(req, names[i]);
		json_object_set_new(o, names[i], v ? json_string(v) : json_null());
	}
	http_add_header(req, "Retry-After", "7");
	http_add_header(req, "X-Private", "leader");
	http_respond_json(req, e->follower ? 500 : 201, o);
}

static const struct api_route table[] = {
	{"POST", "echo/{**}", h_echo, "t.echo", 0, API_LEADER, AUTH_VIEWER},
	{"GET", "live", h_ok, "t.live", 0, API_LIVE, AUTH_VIEWER},
	{"GET", "any", h_ok, "t.any", 0, API_ANY, AUTH_VIEWER},
	{"POST", "leader", h_ok, "t.leader", 0, API_LEADER, AUTH_VIEWER},
	{"GET", "agent/{}", h_ok, "t.agent", 0, API_AGENT, AUTH_VIEWER},
	{"GET", "admin", h_ok, "t.admin", 1, API_ADMIN, AUTH_VIEWER},
};

static struct api_env env, leader_env;

static void route(void *ctx, struct http_request *req)
{
	(void)ctx;
	api_route(&env, req, table, sizeof(table) / sizeof(table[0]));
}

static void leader_route(void *ctx, struct http_request *req)
{
	(void)ctx;
	api_route(&leader_env, req, table, sizeof(table) / sizeof(table[0]));
}

static const char *why_none(void *ctx)
{
	(void)ctx;
	return "no leader: election in progress";
}

struct result {
	int calls;
	long status;
	char body[1024];
	char retry_after[16];
	char x_private[16];
};

static void on_done(void *ctx, int rc, const struct net_response *resp, const char *err)
{
	struct result *r = ctx;
	const char *ra, *xp;
	(void)err;
	assert_int_equal(rc, 0);
	r->calls++;
	r->status = resp->status;
	snprintf(r->body, sizeof(r->body), "%.*s", (int)resp->body_len, resp->body);
	ra = net_response_header(resp, "Retry-After");
	xp = net_response_header(resp, "X-Private");
	snprintf(r->retry_after, sizeof(r->retry_after), "%s", ra ? ra : "");
	snprintf(r->x_private, sizeof(r->x_private), "%s", xp ? xp : "");
}

/* A second server, the leader, on fx's loop; its "host:port" into addr. */
static struct http_server *leader_start(struct fixture *fx, char *addr, size_t len)
{
	struct http_server_options opt = {.address = "127.0.0.1", .max_body = 1 << 20};
	struct http_server *srv;
	char err[256];

	assert_int_equal(http_server_start(&fx->loop, &opt, leader_route, NULL, &srv, err, sizeof(err)), 0);
	snprintf(addr, len, "127.0.0.1:%d", http_server_port(srv));
	leader_env.leader = addr;
	leader_env.self = addr;
	leader_env.fleet = (struct remote *)&leader_env;
	return srv;
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
		    "must send the token of --agent-token-file or one of the role agent\"}", "0123456789abcdef", NULL},
		{false, "GET", "/agent/a1", 401, "{\"status\":\"Unauthorized\",\"message\":\"Authorization: wrong token: "
		    "agents must send the token of --agent-token-file or one of the role agent\"}", "0123456789abcdef",
		    "Authorization: Bearer 0123456789abcdeF"},
		{false, "GET", "/agent/a1", 401, NULL, "0123456789abcdef", "Authorization: Bearer 0123456789abcde"},
		{false, "GET", "/agent/a1", 200, "ok", "0123456789abcdef", "Authorization: Bearer 0123456789abcdef"},
		{false, "GET", "/v1/scheduler/admin", 403, "{\"status\":\"Forbidden\",\"message\":\"GET /v1/scheduler/admin: "
		    "needs administrator credentials, which this server cannot check yet\"}", NULL, NULL},
		{true, "GET", "/any", 200, "ok", NULL, NULL},
		{true, "POST", "/leader", 200, "ok", NULL, NULL}, /* the leader's handler */
		{true, "GET", "/live", 200, "ok", NULL, NULL},
		{true, "GET", "/agent/a1", 200, "ok", NULL, NULL},
		{true, "GET", "/agent/a1", 401, NULL, "0123456789abcdef", NULL}, /* checked on the follower too */
		/* no route, or another method: as before, whatever the policy */
		{true, "GET", "/leader", 405, "{\"status\":\"Method Not Allowed\",\"message\":\"method GET is not allowed on "
		    "/leader (allowed: POST)\"}", NULL, NULL},
		{false, "GET", "/nope", 404, "{\"status\":\"Not Found\",\"message\":\"no such endpoint: GET /nope\"}", NULL, NULL},
	};
	struct fixture fx = {.handler = route};
	struct net_client *client;
	struct http_server *leader;
	char addr[64];
	(void)state;

	env.fleet = (struct remote *)&env; /* only its presence is checked */
	env.self = "127.0.0.1:1";
	fx_start(&fx, NULL);
	leader = leader_start(&fx, addr, sizeof(addr));
	env.leader = addr;
	assert_int_equal(net_client_new(&fx.loop, &client), 0);
	env.net = client;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct result r = {0};
		char url[128];
		const char *headers[] = {rows[i].auth, NULL};
		struct net_request_options opt = {.url = url, .method = rows[i].method, .headers = headers};
		int before = handled;

		env.follower = rows[i].follower;
		env.agent_token = leader_env.agent_token = rows[i].token;
		snprintf(url, sizeof(url), "%s%s", fx.base, rows[i].path);
		assert_int_equal(net_request(client, &opt, on_done, &r, NULL), 0);
		fx_wait_count(&fx, &r.calls, 1);
		assert_int_equal(r.status, rows[i].status);
		if (rows[i].body)
			assert_string_equal(r.body, rows[i].body);
		assert_int_equal(handled - before, rows[i].status == 200 ? 1 : 0);
	}
	net_client_close(client);
	http_server_stop(leader);
	fx_stop(&fx);
	memset(&env, 0, sizeof(env));
}

/* One request to the follower fx; its answer in r. */
static void ask(struct fixture *fx, struct net_client *client, const char *method, const char *path,
    const char *const *headers, const char *body, struct result *r)
{
	char url[256];
	struct net_request_options opt = {.url = url, .method = method, .headers = headers, .body = body,
		.body_len = body ? strlen(body) : 0};

	memset(r, 0, sizeof(*r));
	snprintf(url, sizeof(url), "%s%s", fx->base, path);
	assert_int_equal(net_request(client, &opt, on_done, r, NULL), 0);
	fx_wait_count(fx, &r->calls, 1);
}

/* What the proxy forwards and passes back; the 503s when it cannot. */
static void test_proxy(void **state)
{
	static const char *const fields[] = {"Content-Type: application/json", "Authorization: Bearer t0k",
	    "Origin: http://ui.example", "X-Forwarded-For: 10.1.2.3", "X-Private: client", NULL};
	static const char *const hop[] = {"X-Gnomon-Proxied-By: 127.0.0.1:9", NULL};
	struct fixture fx = {.handler = route};
	struct net_client *client;
	struct http_server *leader;
	struct result r;
	char addr[64], want[1024];
	(void)state;

	fx_start(&fx, NULL);
	leader = leader_start(&fx, addr, sizeof(addr));
	assert_int_equal(net_client_new(&fx.loop, &client), 0);
	env = (struct api_env){.follower = true, .leader = addr, .self = "127.0.0.1:1", .net = client,
		.no_leader = why_none};

	ask(&fx, client, "POST", "/echo/a%20b/c:d?q=x%26y&flag", fields, "{\"n\":1}", &r);
	snprintf(want, sizeof(want), "{\"method\":\"POST\",\"path\":\"/echo/a b/c:d\",\"body\":\"{\\\"n\\\":1}\","
	    "\"q\":\"x&y\",\"Content-Type\":\"application/json\",\"Authorization\":\"Bearer t0k\",\"Origin\":null,"
	    "\"X-Forwarded-For\":\"10.1.2.3, 127.0.0.1\",\"X-Gnomon-Proxied-By\":\"127.0.0.1:1\",\"X-Private\":null}");
	assert_int_equal(r.status, 201); /* the leader's status, body and the fields that pass */
	assert_string_equal(r.body, want);
	assert_string_equal(r.retry_after, "7");
	assert_string_equal(r.x_private, "");

	ask(&fx, client, "POST", "/echo/x", hop, "{}", &r); /* proxied already: no loop */
	assert_int_equal(r.status, 503);
	assert_string_equal(r.retry_after, "2");
	assert_non_null(strstr(r.body, "POST /echo/x: this server is not the leader, and the request was proxied here "
	    "already (by 127.0.0.1:9)"));
	ask(&fx, client, "GET", "/live", hop, NULL, &r); /* a read: this server's answer */
	assert_int_equal(r.status, 200);

	env.leader = "127.0.0.1:1"; /* itself: never proxied to */
	ask(&fx, client, "POST", "/echo/x", NULL, "{}", &r);
	assert_int_equal(r.status, 503);
	assert_string_equal(r.body, "{\"status\":\"Service Unavailable\",\"message\":\"POST /echo/x: this server is not "
	    "the leader, and the leader is unknown (no leader: election in progress): retry later\"}");
	assert_string_equal(r.retry_after, "2");
	env.leader = "";
	ask(&fx, client, "POST", "/echo/x", NULL, "{}", &r);
	assert_int_equal(r.status, 503);
	ask(&fx, client, "GET", "/live", NULL, NULL, &r);
	assert_int_equal(r.status, 200);

	http_server_stop(leader); /* the leader gone: 503 naming it */
	env.leader = addr;
	ask(&fx, client, "POST", "/echo/x", NULL, "{}", &r);
	assert_int_equal(r.status, 503);
	assert_string_equal(r.retry_after, "2");
	snprintf(want, sizeof(want), "POST /echo/x: the leader %s did not answer", addr);
	assert_non_null(strstr(r.body, want));

	net_client_close(client);
	fx_stop(&fx);
	memset(&env, 0, sizeof(env));
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
		else if (strcmp(r[i].pattern, "jobs/summary") == 0 || strcmp(r[i].pattern, "graph/csv") == 0 ||
		    strcmp(r[i].pattern, "api/v1/overview") == 0 || strcmp(r[i].pattern, "api/v1/jobs/{}") == 0 ||
		    strcmp(r[i].pattern, "api/v1/jobs/{}/next") == 0 || strcmp(r[i].pattern, "api/v1/audit") == 0 ||
		    strcmp(r[i].pattern, "api/v1/timeline") == 0)
			assert_int_equal(r[i].policy, API_LIVE); /* the engine's live state (the timeline's coming fires);
			                                          * the audit, the leader's copy */
		else if (strcmp(r[i].pattern, "api/v1/events") == 0)
			assert_int_equal(r[i].policy, API_EVENTS);
		else if (strcmp(r[i].pattern, "api/v1/runs/{**}/log") == 0)
			assert_int_equal(r[i].policy, API_LOG);
		else if (strcmp(r[i].method, "GET") == 0 || strcmp(r[i].pattern, "api/v1/backup") == 0 ||
		    strcmp(r[i].pattern, "api/v1/session") == 0)
			assert_int_equal(r[i].policy, API_ANY); /* reads; a backup copies the asked server's own store; a
			                                         * session is the memory of the server that opened it */
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
		{{"GET", "job/{}", h_ok, "m", 1, API_ANY, AUTH_VIEWER}, "/v1/scheduler/job/{}"},
		{{"GET", "api/v1/runs/{**}/log", h_ok, "m", 0, API_ANY, AUTH_VIEWER}, "/api/v1/runs/{**}/log"},
		{{"GET", "", h_ok, "m", 0, API_ANY, AUTH_VIEWER}, "/"},
		{{"GET", "metrics/prometheus", h_ok, "m", 0, API_ANY, AUTH_VIEWER}, "/metrics/prometheus"},
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
		cmocka_unit_test(test_proxy),
		cmocka_unit_test(test_server_table),
		cmocka_unit_test(test_labels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
