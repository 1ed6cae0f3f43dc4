/* The leader proxy's decisions (proxy.h): where a route is answered, which fields pass, the leader's URL, and
 * the 503s for want of a leader. The forwarding itself is proxy_forward.c. */
#include "api/proxy.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/http.h"

enum api_proxy_way api_proxy_decide(enum api_policy policy, const struct api_proxy_view *v)
{
	bool needs = policy == API_LEADER || policy == API_AGENT;
	bool prefers = policy == API_LIVE || policy == API_EVENTS || (policy == API_LOG && v->follow);
	bool known = v->leader && v->leader[0] && !(v->self && strcmp(v->leader, v->self) == 0);

	if (!v->follower || !(needs || prefers))
		return API_PROXY_NO;
	if (v->proxied)
		return needs ? API_PROXY_LOOP : API_PROXY_NO; /* a proxied request is never proxied again */
	if (!known)
		return needs ? API_PROXY_NO_LEADER : API_PROXY_NO; /* reads: this server's answer */
	return policy == API_EVENTS || policy == API_LOG ? API_PROXY_STREAM : API_PROXY_WHOLE;
}

bool api_proxy_leader_known(const struct api_env *env)
{
	struct api_proxy_view v = {.follower = env->follower, .leader = env->leader, .self = env->self};
	return api_proxy_decide(API_LEADER, &v) == API_PROXY_WHOLE;
}

static bool in_list(const char *name, const char *const *list)
{
	for (; *list; list++)
		if (strcasecmp(name, *list) == 0)
			return true;
	return false;
}

const char *const api_proxy_request_fields[] = {"Content-Type", "Accept", "Authorization", "Last-Event-ID",
    "Cache-Control", NULL};
const char *const api_proxy_answer_fields[] = {"Retry-After", "Location", "WWW-Authenticate", "Allow",
    "Cache-Control", "X-Accel-Buffering", "Gnomon-Log-Order", NULL};

bool api_proxy_request_field(const char *name)
{
	return in_list(name, api_proxy_request_fields);
}

bool api_proxy_answer_field(const char *name)
{
	return in_list(name, api_proxy_answer_fields);
}

/* Append s to out[*at..len), percent-encoding every byte outside keep (and the unreserved ones); false when it
 * does not fit. */
static bool encode(const char *s, const char *keep, char *out, size_t len, size_t *at)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~", *p) || strchr(keep, *p);
		if (*at + (plain ? 1 : 3) >= len)
			return false;
		if (plain) {
			out[(*at)++] = (char)*p;
		} else {
			out[(*at)++] = '%';
			out[(*at)++] = hex[*p >> 4];
			out[(*at)++] = hex[*p & 15];
		}
	}
	out[*at] = '\0';
	return true;
}

int api_proxy_url(const char *leader, const char *path, const char *const *keys, const char *const *values, int n,
    char *out, size_t len)
{
	int w = snprintf(out, len, "%s%s", strstr(leader, "://") ? "" : "http://", leader);
	size_t at;
	bool ok;

	if (w < 0 || (size_t)w >= len)
		return -ENAMETOOLONG;
	at = (size_t)w;
	ok = encode(path, "/:@!$&'()*+,;=", out, len, &at); /* RFC 3986 pchar and '/' */
	for (int i = 0; ok && i < n; i++) {
		ok = at + 1 < len;
		if (ok)
			out[at++] = i == 0 ? '?' : '&';
		ok = ok && encode(keys[i], "", out, len, &at);
		if (ok && values[i]) {
			ok = at + 1 < len;
			if (ok)
				out[at++] = '=';
			ok = ok && encode(values[i], "", out, len, &at);
		}
	}
	return ok ? (int)at : -ENAMETOOLONG;
}

void api_proxy_peer_ip(const char *peer, char *out, size_t len)
{
	const char *end;

	if (peer[0] == '[' && (end = strchr(peer, ']')) != NULL) {
		snprintf(out, len, "%.*s", (int)(end - peer - 1), peer + 1);
		return;
	}
	end = strrchr(peer, ':');
	snprintf(out, len, "%.*s", end ? (int)(end - peer) : (int)strlen(peer), peer);
}

void api_proxy_refuse(struct api_env *env, struct http_request *req, enum api_proxy_way why)
{
	const char *method = http_request_method(req), *path = http_request_path(req);

	http_add_header(req, "Retry-After", API_PROXY_RETRY_AFTER);
	if (why == API_PROXY_LOOP) {
		const char *by = http_request_header(req, API_PROXY_HOP_FIELD);
		http_respond_error(req, 503, "%s %s: this server is not the leader, and the request was proxied here "
		    "already (by %.200s): it is not proxied again (the leadership is changing; retry later)", method, path,
		    by ? by : "?");
		return;
	}
	http_respond_error(req, 503, "%s %s: this server is not the leader, and the leader is unknown (%s): retry "
	    "later", method, path, env->no_leader ? env->no_leader(env->cluster_ctx) : "no leader");
}
