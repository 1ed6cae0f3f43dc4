/* Who may use the API (auth.h). */
#include "api/auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_json.h"
#include "api/auth_session.h"
#include "api/http.h"
#include "api/proxy.h"
#include "state/state.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define FAILURES_MAX 256 /* addresses whose failures are remembered; past it the stalest is forgotten */
#define CREDENTIAL_MAX 1024

struct failure {
	char ip[HTTP_PEER_MAX];
	int count;
	int64_t last_ms;
};

struct used {
	char name[AUTH_NAME_MAX + 1];
	int64_t ms;
};

struct api_auth {
	bool has_credentials;
	char user[AUTH_NAME_MAX + 1];
	char credentials_hash[AUTH_HASH_LEN + 1]; /* of "user:pass" */
	struct failure failures[FAILURES_MAX];
	struct used *used;
	size_t n_used;
	struct auth_sessions *sessions;
};

int api_auth_new(const char *credentials, struct api_auth **out, char *err, size_t errlen)
{
	struct api_auth *a;
	const char *colon = credentials ? strchr(credentials, ':') : NULL;

	if (credentials && *credentials) {
		size_t ulen = colon ? (size_t)(colon - credentials) : 0;
		if (colon == NULL || ulen == 0 || colon[1] == '\0' || ulen > AUTH_NAME_MAX) {
			snprintf(err, errlen, "--http-credentials: expected user:password (a user of 1 to %d characters "
			    "and a password, neither empty)", AUTH_NAME_MAX);
			return -EINVAL;
		}
	}
	a = xcalloc(1, sizeof(*a));
	if (credentials && *credentials) {
		a->has_credentials = true;
		snprintf(a->user, sizeof(a->user), "%.*s", (int)(colon - credentials), credentials);
		auth_hash(credentials, strlen(credentials), a->credentials_hash);
	}
	a->sessions = auth_sessions_new();
	*out = a;
	return 0;
}

void api_auth_free(struct api_auth *a)
{
	if (a == NULL)
		return;
	auth_sessions_free(a->sessions);
	free(a->used);
	free(a);
}

bool api_auth_has_credentials(const struct api_auth *a)
{
	return a && a->has_credentials;
}

struct auth_sessions *api_auth_sessions(struct api_auth *a)
{
	return a->sessions;
}

bool api_auth_over_tls(const struct http_request *req)
{
	return http_request_tls(req);
}

static int stop_at_first(void *ctx, const struct state_token *tok)
{
	(void)ctx;
	(void)tok;
	return 1;
}

bool api_auth_on(const struct api_auth *a, struct state *s)
{
	return api_auth_has_credentials(a) || (s && state_load_tokens(s, stop_at_first, NULL) == 1);
}

void api_auth_token_used(struct api_auth *a, const char *name, int64_t now_ms)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n_used; i++) {
		if (strcmp(a->used[i].name, name) == 0) {
			if (now_ms)
				a->used[i].ms = now_ms;
			else
				a->used[i] = a->used[--a->n_used];
			return;
		}
	}
	if (now_ms == 0)
		return;
	a->used = xrealloc(a->used, (a->n_used + 1) * sizeof(*a->used));
	snprintf(a->used[a->n_used].name, sizeof(a->used[a->n_used].name), "%s", name);
	a->used[a->n_used++].ms = now_ms;
}

int64_t api_auth_token_last_used(const struct api_auth *a, const char *name)
{
	for (size_t i = 0; a && i < a->n_used; i++)
		if (strcmp(a->used[i].name, name) == 0)
			return a->used[i].ms;
	return 0;
}

/* A token walk's state: the hash looked for, and what matched. */
struct token_match {
	char hash[AUTH_HASH_LEN + 1];
	bool found;
	struct api_identity *who;
};

static int match_token(void *ctx, const struct state_token *tok)
{
	struct token_match *m = ctx;
	enum auth_role role;

	/* every token is compared, in constant time each: how long the walk takes says nothing of which matched */
	if (auth_hash_equal(tok->hash, m->hash) && auth_role_parse(tok->role, &role) == 0) {
		m->found = true;
		m->who->role = role;
		snprintf(m->who->name, sizeof(m->who->name), "%s", tok->name);
	}
	return 0;
}

bool api_auth_agent_token(struct api_env *env, const char *secret, struct api_identity *who)
{
	struct token_match m = {.who = who};

	memset(who, 0, sizeof(*who));
	auth_hash(secret, strlen(secret), m.hash);
	if (state_load_tokens(env->state, match_token, &m) < 0 || !m.found || who->role != AUTH_AGENT)
		return false;
	who->via = API_AUTH_TOKEN;
	api_auth_token_used(env->auth, who->name, clock_now_ms());
	return true;
}

int api_auth_identify(struct api_env *env, struct http_request *req, struct api_identity *who, char *err,
    size_t errlen)
{
	const char *field = http_request_header(req, "Authorization"), *credential = NULL;
	struct api_identity again;
	int rc;

	if (field)
		return api_auth_credential(env, field, who, err, errlen);
	memset(who, 0, sizeof(*who));
	if ((rc = auth_sessions_find(env->auth->sessions, req, clock_now_ms(), who, &credential)) == -EACCES)
		snprintf(err, errlen, "Cookie: %s: the session is unknown or expired: log in again", AUTH_COOKIE);
	else if (rc == -ENOENT)
		snprintf(err, errlen, "Authorization: missing: send Bearer TOKEN (gnomon token create) or Basic "
		    "credentials");
	if (rc < 0)
		return rc;
	/* the credential the session was opened with still holds (a revoked token ends its sessions at once) */
	if (api_auth_credential(env, credential, &again, err, errlen) < 0 || again.role != who->role) {
		auth_sessions_close(env->auth->sessions, req);
		snprintf(err, errlen, "Cookie: %s: the credential of this session was revoked: log in again",
		    AUTH_COOKIE);
		return -EACCES;
	}
	return 0;
}

int api_auth_credential(struct api_env *env, const char *field, struct api_identity *who, char *err, size_t errlen)
{
	char cred[CREDENTIAL_MAX];
	struct token_match m = {.who = who};
	int rc;

	memset(who, 0, sizeof(*who));
	switch (auth_header_parse(field, cred, sizeof(cred))) {
	case AUTH_SCHEME_NONE:
		snprintf(err, errlen, "Authorization: missing");
		return -ENOENT;
	case AUTH_SCHEME_BEARER:
		auth_hash(cred, strlen(cred), m.hash);
		if ((rc = state_load_tokens(env->state, match_token, &m)) < 0) {
			snprintf(err, errlen, "the tokens cannot be read (%s)", state_errmsg(env->state));
			return -EACCES;
		}
		if (!m.found) {
			snprintf(err, errlen, "Authorization: Bearer: no such token (revoked, or mistyped)");
			return -EACCES;
		}
		who->via = API_AUTH_TOKEN;
		api_auth_token_used(env->auth, who->name, clock_now_ms());
		return 0;
	case AUTH_SCHEME_BASIC:
		auth_hash(cred, strlen(cred), m.hash);
		if (!env->auth->has_credentials || !auth_hash_equal(m.hash, env->auth->credentials_hash)) {
			snprintf(err, errlen, "Authorization: Basic: wrong user or password");
			return -EACCES;
		}
		who->via = API_AUTH_BASIC;
		who->role = AUTH_ADMIN;
		snprintf(who->name, sizeof(who->name), "%s", env->auth->user);
		return 0;
	case AUTH_SCHEME_BAD:
		break;
	}
	snprintf(err, errlen, "Authorization: expected Bearer TOKEN or Basic credentials");
	return -EACCES;
}

/* The failures remembered for ip (made when make, in place of the stalest when all are taken), or NULL. */
static struct failure *failures_of(struct api_auth *a, const char *ip, int64_t now_ms, bool make)
{
	struct failure *slot = NULL;

	for (size_t i = 0; i < FAILURES_MAX; i++) {
		struct failure *f = &a->failures[i];
		if (f->count && now_ms - f->last_ms > AUTH_DELAY_FORGET_MS)
			f->count = 0;
		if (f->count && strcmp(f->ip, ip) == 0)
			return f;
		if (slot == NULL || (slot->count && (f->count == 0 || f->last_ms < slot->last_ms)))
			slot = f;
	}
	if (!make)
		return NULL;
	memset(slot, 0, sizeof(*slot));
	snprintf(slot->ip, sizeof(slot->ip), "%s", ip);
	return slot;
}

/* A refusal answered later. */
struct refusal {
	char msg[600];
	bool basic; /* offer Basic too */
};

static void answer_401(struct http_request *req, const struct refusal *r)
{
	http_add_header(req, "WWW-Authenticate", r->basic ? "Bearer realm=\"gnomon\", Basic realm=\"gnomon\"" :
								"Bearer realm=\"gnomon\"");
	http_respond_error(req, 401, "%s", r->msg);
}

static void on_delay(void *ctx, struct http_request *req, enum http_defer_end why)
{
	struct refusal *r = ctx;

	if (why == HTTP_DEFER_TIMEOUT)
		answer_401(req, r);
	free(r);
}

void api_auth_refuse(struct api_env *env, struct http_request *req, const char *msg)
{
	struct refusal *r = xcalloc(1, sizeof(*r));
	char peer[HTTP_PEER_MAX], ip[HTTP_PEER_MAX], path[API_QUOTE_MAX];
	const char *xff = http_request_header(req, "X-Forwarded-For");
	int64_t now = clock_now_ms(), delay = 0;
	struct failure *f;

	http_request_peer(req, peer, sizeof(peer));
	api_proxy_peer_ip(peer, ip, sizeof(ip));
	f = failures_of(env->auth, ip, now, true);
	f->count++;
	f->last_ms = now;
	if (f->count > 1) {
		delay = AUTH_DELAY_FIRST_MS;
		for (int i = 2; i < f->count && delay < AUTH_DELAY_MAX_MS; i++)
			delay *= 2;
		if (delay > AUTH_DELAY_MAX_MS)
			delay = AUTH_DELAY_MAX_MS;
	}
	log_warnx_kv(LOG_FIELDS(.event = "http.unauthenticated", .remote = peer),
	    "auth: refused %s %s from %s%s%.200s (failure %d of this address, answered in %lld ms): %s",
	    http_request_method(req), api_quoted(http_request_path(req), path, sizeof(path)), peer,
	    xff ? ", forwarded for " : "", xff ? xff : "", f->count, (long long)delay, msg);
	snprintf(r->msg, sizeof(r->msg), "%s", msg);
	/* no Basic challenge for the UI's requests: the browser would pop up its own login box */
	r->basic = env->auth->has_credentials && http_request_header(req, AUTH_CSRF_FIELD) == NULL;
	if (delay == 0) {
		answer_401(req, r);
		free(r);
		return;
	}
	http_request_defer(req, (uint64_t)delay, on_delay, r);
}

static bool safe_method(const char *method)
{
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 || strcmp(method, "OPTIONS") == 0;
}

bool api_auth_allows(struct api_env *env, struct http_request *req, enum auth_role need)
{
	struct api_identity who;
	char err[512];
	int rc;

	if (need == AUTH_OPEN || env->auth == NULL || !api_auth_on(env->auth, env->state))
		return true;
	if ((rc = api_auth_identify(env, req, &who, err, sizeof(err))) == -ENOENT) {
		struct refusal r = {.basic = env->auth->has_credentials && !http_request_header(req, AUTH_CSRF_FIELD)};
		snprintf(r.msg, sizeof(r.msg), "%s", err); /* no credential is no failed attempt: not slowed down */
		answer_401(req, &r);
		return false;
	}
	if (rc < 0) {
		api_auth_refuse(env, req, err);
		return false;
	}
	if (who.via == API_AUTH_SESSION && !safe_method(http_request_method(req)) &&
	    http_request_header(req, AUTH_CSRF_FIELD) == NULL) {
		http_respond_error(req, 403, "%s: missing: a change made with the session cookie must send this field "
		    "(the web UI does; a page of another site cannot)", AUTH_CSRF_FIELD);
		return false;
	}
	if (who.role < need) {
		http_respond_error(req, 403, "%s %s needs the role %s: '%s' has the role %s", http_request_method(req),
		    http_request_path(req), auth_role_name(need), who.name, auth_role_name(who.role));
		return false;
	}
	return true;
}

const char *api_auth_forward_credential(const struct api_env *env, struct http_request *req)
{
	struct api_identity who;
	const char *credential = NULL;

	if (env->auth == NULL || http_request_header(req, "Authorization") != NULL)
		return NULL;
	if (auth_sessions_find(env->auth->sessions, req, clock_now_ms(), &who, &credential) < 0)
		return NULL;
	return credential;
}
