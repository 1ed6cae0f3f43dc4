/* API tokens' routes (gnomon_tokens.h). */
#include "api/gnomon_tokens.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_change.h"
#include "api/api_json.h"
#include "api/api_who.h"
#include "api/auth.h"
#include "api/http.h"
#include "control/control.h"
#include "state/state.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xmalloc.h"

/* A token being made or revoked. */
struct token_change {
	struct api_env *env;
	struct api_change *ch;
	bool revoke;
	char name[AUTH_NAME_MAX + 1];
	enum auth_role role;
	char secret[AUTH_TOKEN_LEN + 1];
	int64_t created_ms;
	struct api_who who; /* for the audit trail */
};

/* A token's name, and its role once found. */
struct token_find {
	const char *name;
	enum auth_role role;
};

static int find_name(void *ctx, const struct state_token *tok)
{
	struct token_find *f = ctx;

	if (strcmp(tok->name, f->name) != 0)
		return 0;
	return auth_role_parse(tok->role, &f->role) == 0 ? 1 : 2;
}

static bool token_exists(struct api_env *env, const char *name, enum auth_role *role)
{
	struct token_find f = {name, AUTH_VIEWER};
	bool found = state_load_tokens(env->state, find_name, &f) > 0;

	if (role)
		*role = f.role;
	return found;
}

/* The audit entry of the change tc (a token's name and role: never its secret nor its hash), in t. */
static int token_audit(struct token_change *tc, struct state_txn *t)
{
	json_t *o = json_pack("{s:s, s:s}", "name", tc->name, "role", auth_role_name(tc->role));
	char *text = json_dumps(o, JSON_COMPACT);
	int rc;

	json_decref(o);
	if (text == NULL)
		return -ENOMEM;
	rc = control_audit(tc->env->control, t, api_who_control(&tc->who), tc->revoke ? "token.revoke" : "token.create",
	    NULL, tc->revoke ? text : NULL, tc->revoke ? NULL : text);
	free(text);
	return rc;
}

static void committed(void *ctx, int status)
{
	struct token_change *tc = ctx;

	if (status == 0)
		log_info("auth: token '%s' %s", tc->name, tc->revoke ? "revoked" : "created");
	if (status == 0 && tc->revoke)
		api_auth_token_used(tc->env->auth, tc->name, 0);
	if (status < 0 || tc->revoke)
		api_change_answered(tc->ch, status, NULL);
	else
		api_change_answered(tc->ch, 0, json_pack("{s:s, s:s, s:s, s:o}", "name", tc->name, "role",
		    auth_role_name(tc->role), "token", tc->secret, "created", api_time_or_null(tc->created_ms)));
}

static int token_try(struct api_change *ch, void *ctx, const char *body, size_t len, char *err, size_t errlen)
{
	struct token_change *tc = ctx;
	struct state_txn *t;
	char hash[AUTH_HASH_LEN + 1];
	int rc;

	(void)body;
	(void)len;
	tc->ch = ch;
	if ((rc = state_begin(tc->env->state, &t)) < 0) {
		snprintf(err, errlen, "the state cannot take the change now (%s)", strerror(-rc));
		return rc;
	}
	if (tc->revoke) {
		rc = state_delete_token(t, tc->name);
	} else {
		auth_hash(tc->secret, strlen(tc->secret), hash);
		rc = state_put_token(t, &(struct state_token){tc->name, auth_role_name(tc->role), hash, tc->created_ms});
	}
	if (rc == 0)
		rc = token_audit(tc, t);
	if (rc < 0) {
		snprintf(err, errlen, "the token could not be stored (%s)", state_errmsg(tc->env->state));
		state_abort(t);
		return rc;
	}
	if (!tc->revoke)
		api_change_created(ch);
	state_commit(t, committed, tc);
	return 0;
}

void gnomon_post_token(struct api_env *env, struct http_request *req, const char *const *args)
{
	struct token_change *tc;
	size_t len;
	const char *body = http_request_body(req, &len), *name = NULL, *role = NULL;
	json_error_t jerr;
	json_t *j = json_loadb(body ? body : "", len, 0, &jerr);
	char q[API_QUOTE_MAX];
	enum auth_role r;
	int rc;

	(void)args;
	if (j == NULL || json_unpack(j, "{s?s, s?s}", "name", &name, "role", &role) < 0 || !json_is_object(j)) {
		http_respond_error(req, 400, "body: expected {\"name\": \"...\", \"role\": \"viewer|operator|admin|agent\"}");
		goto out;
	}
	if (name == NULL || !auth_name_valid(name)) {
		http_respond_error(req, 400, "name: '%s' is not a token's name (1 to %d of A-Z a-z 0-9 . _ -)",
		    api_quoted(name ? name : "", q, sizeof(q)), AUTH_NAME_MAX);
		goto out;
	}
	if (auth_role_parse(role, &r) < 0) {
		http_respond_error(req, 400, "role: '%s' is not a role (viewer, operator, admin or agent)",
		    api_quoted(role ? role : "", q, sizeof(q)));
		goto out;
	}
	if (token_exists(env, name, NULL)) {
		http_respond_error(req, 409, "name: a token called '%s' exists (revoke it first)", name);
		goto out;
	}
	tc = xcalloc(1, sizeof(*tc));
	*tc = (struct token_change){.env = env, .role = r, .created_ms = clock_now_ms()};
	snprintf(tc->name, sizeof(tc->name), "%s", name);
	api_who_of(env, req, &tc->who);
	if ((rc = auth_token_new(tc->secret)) < 0) {
		http_respond_error(req, 500, "no random bytes for the token (%s)", strerror(-rc));
		free(tc);
		goto out;
	}
	api_change_start(env, req, token_try, tc, free);
out:
	json_decref(j);
}

static int list_one(void *ctx, const struct state_token *tok)
{
	struct api_env *env = ((void **)ctx)[0];
	int64_t used = api_auth_token_last_used(env->auth, tok->name);

	json_array_append_new(((void **)ctx)[1], json_pack("{s:s, s:s, s:o, s:o}", "name", tok->name, "role", tok->role,
	    "created", api_time_or_null(tok->created_ms), "lastUsed", api_time_or_null(used ? used : INT64_MIN)));
	return 0;
}

void gnomon_list_tokens(struct api_env *env, struct http_request *req, const char *const *args)
{
	json_t *list = json_array();
	void *ctx[2] = {env, list};
	int rc;

	(void)args;
	if ((rc = state_load_tokens(env->state, list_one, ctx)) < 0) {
		json_decref(list);
		http_respond_error(req, api_store_status(rc), "the tokens cannot be read (%s)", state_errmsg(env->state));
		return;
	}
	http_respond_json(req, 200, json_pack("{s:o}", "tokens", list));
}

void gnomon_delete_token(struct api_env *env, struct http_request *req, const char *const *args)
{
	struct token_change *tc;
	char q[API_QUOTE_MAX];
	enum auth_role role;

	if (!token_exists(env, args[0], &role)) {
		http_respond_error(req, 404, "no such token: '%s'", api_quoted(args[0], q, sizeof(q)));
		return;
	}
	tc = xcalloc(1, sizeof(*tc));
	*tc = (struct token_change){.env = env, .revoke = true, .role = role};
	snprintf(tc->name, sizeof(tc->name), "%s", args[0]);
	api_who_of(env, req, &tc->who);
	api_change_start(env, req, token_try, tc, free);
}
