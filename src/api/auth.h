/* Who may use the API (README, "Access"). Auth is on when a token exists in the state or Basic credentials are
 * configured (--http-credentials, Chronos's); off, everything is open as before. On, every route but the open
 * ones (/ping, the UI's files, the session's, the agents' protocol, which has its own token) needs a role
 * (auth/auth_token.h; the route table says which, api/router.h), proved by one of:
 * - Authorization: Bearer TOKEN, an API token (stored only as its SHA-256; compared in constant time);
 * - Authorization: Basic, the configured credentials, which act as admin;
 * - the session cookie (POST /api/v1/session), which a change must send with the X-Gnomon-CSRF field (no page of
 *   another site can send it without a CORS preflight, which the guard refuses: api/guard.h).
 * No credential or a wrong one: 401 with WWW-Authenticate; too small a role: 403 naming the role needed. Failed
 * attempts (a wrong credential, not a missing one) are logged (who, from where) and answered later and later per
 * address (a deferred answer: the loop never sleeps; a success does not reset it), from the second on:
 * AUTH_DELAY_FIRST_MS, doubled each time up to AUTH_DELAY_MAX_MS, forgotten AUTH_DELAY_FORGET_MS after the last
 * failure.
 *
 * Sessions live in this server's memory (a restart logs everyone out), each for AUTH_SESSION_TTL_MS, at most
 * AUTH_SESSIONS_MAX (the oldest goes). A follower that passes a session's request to the leader sends the
 * credential the session was opened with as Authorization (api_auth_forward_credential), so that the leader checks
 * it again, as it checks every request: no server trusts another's word (the hop marker proves nothing).
 *
 * Threads: the loop thread only. */
#ifndef GNOMON_API_AUTH_H
#define GNOMON_API_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/api.h"
#include "auth/auth_token.h"

struct auth_sessions;

#define AUTH_DELAY_FIRST_MS 500
#define AUTH_DELAY_MAX_MS 8000
#define AUTH_DELAY_FORGET_MS (15 * 60 * 1000)
#define AUTH_SESSION_TTL_MS ((int64_t)12 * 3600 * 1000)
#define AUTH_SESSIONS_MAX 1024
#define AUTH_COOKIE "gnomon_session"
#define AUTH_CSRF_FIELD "X-Gnomon-CSRF"

struct api_auth;

/* The access rules of a server with Basic credentials "user:pass" (NULL or "": none). Returns 0 with *out (free
 * with api_auth_free), or -EINVAL with a message. */
int api_auth_new(const char *credentials, struct api_auth **out, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void api_auth_free(struct api_auth *a);
/* Are Basic credentials configured? */
bool api_auth_has_credentials(const struct api_auth *a);
/* Is auth on: credentials configured, or a token in s? */
bool api_auth_on(const struct api_auth *a, struct state *s);

/* Who made a request. */
enum api_auth_via { API_AUTH_NONE, API_AUTH_TOKEN, API_AUTH_BASIC, API_AUTH_SESSION };
struct api_identity {
	enum api_auth_via via;
	enum auth_role role;
	char name[AUTH_NAME_MAX + 1]; /* the token's name, the Basic user's */
};

/* Is secret an API token of the role agent (gnomon_agent_allowed: an agent's own token)? Its name into *who. */
bool api_auth_agent_token(struct api_env *env, const char *secret, struct api_identity *who);
/* The router's check, before a route of role need runs: true when req may go on; else it was answered (401, 403,
 * maybe later: see above). With auth off, always true. */
bool api_auth_allows(struct api_env *env, struct http_request *req, enum auth_role need);
/* Who req is into *who: 0; -ENOENT when it carries no credential; -EACCES when what it carries is wrong (a
 * message in err). */
int api_auth_identify(struct api_env *env, struct http_request *req, struct api_identity *who, char *err,
    size_t errlen) __attribute__((warn_unused_result));
/* The same for an Authorization field's value (POST /api/v1/session's credential). */
int api_auth_credential(struct api_env *env, const char *field, struct api_identity *who, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Refuse req 401 with msg, logged (who, from where), answered later the more its address failed lately. */
void api_auth_refuse(struct api_env *env, struct http_request *req, const char *msg);
/* The value of Authorization a proxied request carries to the leader for req, when req was allowed through a
 * session (borrowed until the session ends); NULL otherwise. */
const char *api_auth_forward_credential(const struct api_env *env, struct http_request *req);

/* A token was used (GET /api/v1/tokens's "lastUsed", this server's memory since it started); now_ms 0: it is
 * gone (revoked), forget it. */
void api_auth_token_used(struct api_auth *a, const char *name, int64_t now_ms);
int64_t api_auth_token_last_used(const struct api_auth *a, const char *name);

/* The server's sessions (api/auth_session.h). */
struct auth_sessions *api_auth_sessions(struct api_auth *a);
/* Did req come over TLS (--tls-cert: the session cookie is Secure then)? */
bool api_auth_over_tls(const struct http_request *req);

#endif
