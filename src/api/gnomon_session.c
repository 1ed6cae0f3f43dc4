/* The web UI's session (gnomon_session.h). */
#include "api/gnomon_session.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "api/auth_session.h"
#include "api/http.h"
#include "util/clock.h"
#include "util/xmalloc.h"

static const char *const vias[] = {"none", "token", "basic", "session"};

static json_t *identity_json(const struct api_identity *who)
{
	return json_pack("{s:b, s:s, s:s, s:s}", "auth", 1, "name", who->name, "role", auth_role_name(who->role), "via",
	    vias[who->via]);
}

/* Is access control on? Else answer that it is off. */
static bool auth_on(struct api_env *env, struct http_request *req, int status)
{
	if (env->auth && api_auth_on(env->auth, env->state))
		return true;
	http_respond_json(req, status, json_pack("{s:b, s:s, s:s}", "auth", 0, "role", "admin", "message",
	    "access control is off: no token exists and no --http-credentials are set"));
	return false;
}

void gnomon_post_session(struct api_env *env, struct http_request *req, const char *const *args)
{
	struct api_identity who;
	size_t len;
	const char *body = http_request_body(req, &len), *token = NULL;
	json_t *j = len ? json_loadb(body, len, 0, NULL) : NULL;
	char err[512], secret[AUTH_TOKEN_LEN + 1], *field = NULL;
	int rc;

	(void)args;
	if (!auth_on(env, req, 409))
		goto out;
	if (len && (j == NULL || json_unpack(j, "{s?s}", "token", &token) < 0)) {
		http_respond_error(req, 400, "body: expected {\"token\": \"...\"}, or none with Basic credentials");
		goto out;
	}
	field = token ? xasprintf("Bearer %s", token) : xstrdup(http_request_header(req, "Authorization") ?
			http_request_header(req, "Authorization") : "");
	if ((rc = api_auth_credential(env, field, &who, err, sizeof(err))) < 0) {
		api_auth_refuse(env, req, rc == -ENOENT ? "token: missing, and no Basic credentials either" : err);
		goto out;
	}
	if (who.role == AUTH_AGENT) {
		http_respond_error(req, 403, "token: '%s' is an agent's (role agent): it opens no session", who.name);
		goto out;
	}
	if ((rc = auth_sessions_open(api_auth_sessions(env->auth), &who, field, clock_now_ms(), secret)) < 0) {
		http_respond_error(req, 500, "no random bytes for the session (%s)", strerror(-rc));
		goto out;
	}
	auth_sessions_cookie(req, secret);
	http_respond_json(req, 201, identity_json(&who));
out:
	free(field);
	json_decref(j);
}

void gnomon_get_session(struct api_env *env, struct http_request *req, const char *const *args)
{
	struct api_identity who;
	char err[512];

	(void)args;
	if (!auth_on(env, req, 200))
		return;
	if (api_auth_identify(env, req, &who, err, sizeof(err)) < 0) {
		http_add_header(req, "WWW-Authenticate", "Bearer realm=\"gnomon\"");
		http_respond_error(req, 401, "%s", err);
		return;
	}
	http_respond_json(req, 200, identity_json(&who));
}

void gnomon_delete_session(struct api_env *env, struct http_request *req, const char *const *args)
{
	(void)args;
	if (env->auth)
		auth_sessions_close(api_auth_sessions(env->auth), req);
	auth_sessions_cookie(req, NULL);
	http_respond(req, 204, NULL, NULL, 0);
}
