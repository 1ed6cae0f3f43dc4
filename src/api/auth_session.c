/* The web UI's sessions (auth_session.h). */
#include "api/auth_session.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http.h"
#include "util/xmalloc.h"

struct session {
	char hash[AUTH_HASH_LEN + 1]; /* of the cookie's secret */
	struct api_identity who;
	char *credential;
	int64_t expires_ms;
};

struct auth_sessions {
	struct session *v;
	size_t n;
};

struct auth_sessions *auth_sessions_new(void)
{
	return xcalloc(1, sizeof(struct auth_sessions));
}

static void drop(struct auth_sessions *s, size_t i)
{
	free(s->v[i].credential);
	s->v[i] = s->v[--s->n];
}

void auth_sessions_free(struct auth_sessions *s)
{
	if (s == NULL)
		return;
	while (s->n)
		drop(s, 0);
	free(s->v);
	free(s);
}

int auth_sessions_open(struct auth_sessions *s, const struct api_identity *who, const char *credential,
    int64_t now_ms, char out[AUTH_TOKEN_LEN + 1])
{
	struct session *n;
	int rc;

	if ((rc = auth_token_new(out)) < 0)
		return rc;
	for (size_t i = s->n; i-- > 0;)
		if (s->v[i].expires_ms <= now_ms)
			drop(s, i);
	if (s->n == AUTH_SESSIONS_MAX) {
		size_t oldest = 0;
		for (size_t i = 1; i < s->n; i++)
			if (s->v[i].expires_ms < s->v[oldest].expires_ms)
				oldest = i;
		drop(s, oldest);
	}
	if (s->v == NULL)
		s->v = xcalloc(AUTH_SESSIONS_MAX, sizeof(*s->v));
	n = &s->v[s->n++];
	auth_hash(out, AUTH_TOKEN_LEN, n->hash);
	n->who = *who;
	n->who.via = API_AUTH_SESSION;
	n->credential = xstrdup(credential);
	n->expires_ms = now_ms + AUTH_SESSION_TTL_MS;
	return 0;
}

/* The index of the session req's cookie names, or -ENOENT (no cookie), -EACCES (none such). */
static long lookup(const struct auth_sessions *s, const struct http_request *req, int64_t now_ms)
{
	char secret[AUTH_TOKEN_LEN + 1], hash[AUTH_HASH_LEN + 1];
	long found = -1;

	if (!auth_cookie_value(http_request_header(req, "Cookie"), AUTH_COOKIE, secret, sizeof(secret)))
		return -ENOENT;
	auth_hash(secret, strlen(secret), hash);
	for (size_t i = 0; i < s->n; i++)
		if (auth_hash_equal(s->v[i].hash, hash) && s->v[i].expires_ms > now_ms)
			found = (long)i;
	return found < 0 ? -EACCES : found;
}

int auth_sessions_find(struct auth_sessions *s, const struct http_request *req, int64_t now_ms,
    struct api_identity *who, const char **credential)
{
	long i = lookup(s, req, now_ms);

	if (i < 0)
		return (int)i;
	*who = s->v[i].who;
	if (credential)
		*credential = s->v[i].credential;
	return 0;
}

void auth_sessions_close(struct auth_sessions *s, const struct http_request *req)
{
	long i = lookup(s, req, INT64_MIN);

	if (i >= 0)
		drop(s, (size_t)i);
}

void auth_sessions_cookie(struct http_request *req, const char *secret)
{
	char field[256];

	snprintf(field, sizeof(field), "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s", AUTH_COOKIE,
	    secret ? secret : "", secret ? (long long)(AUTH_SESSION_TTL_MS / 1000) : 0LL,
	    api_auth_over_tls(req) ? "; Secure" : "");
	http_add_header(req, "Set-Cookie", field);
}
