/* Who made a request (api_who.h). */
#include "api/api_who.h"

#include <stdio.h>
#include <string.h>

#include "api/proxy.h"

static const char *kind_of(const struct api_identity *id)
{
	if (id->role == AUTH_AGENT)
		return "agent";
	switch (id->via) {
	case API_AUTH_TOKEN:
		return "token";
	case API_AUTH_BASIC:
		return "basic";
	case API_AUTH_SESSION:
		return "session";
	case API_AUTH_NONE:
		break;
	}
	return "anonymous";
}

/* The last entry of an X-Forwarded-For value, trimmed, into out. */
static void last_forwarded(const char *xff, char *out, size_t len)
{
	const char *at = strrchr(xff, ',');
	size_t n;

	at = at ? at + 1 : xff;
	at += strspn(at, " \t");
	n = strcspn(at, " \t");
	snprintf(out, len, "%.*s", (int)n, at);
}

void api_who_of(struct api_env *env, struct http_request *req, struct api_who *out)
{
	struct api_identity id;
	char err[256];
	const char *xff;

	memset(out, 0, sizeof(*out));
	out->kind = "anonymous";
	snprintf(out->actor, sizeof(out->actor), "anonymous");
	http_request_peer(req, out->peer, sizeof(out->peer));
	api_proxy_peer_ip(out->peer, out->address, sizeof(out->address));
	if (env->auth == NULL || !api_auth_on(env->auth, env->state) ||
	    api_auth_identify(env, req, &id, err, sizeof(err)) < 0)
		return;
	snprintf(out->actor, sizeof(out->actor), "%s", id.name);
	out->kind = kind_of(&id);
	xff = http_request_header(req, "X-Forwarded-For");
	if (xff && *xff && http_request_header(req, API_PROXY_HOP_FIELD))
		last_forwarded(xff, out->address, sizeof(out->address));
}

const struct control_who *api_who_control(struct api_who *w)
{
	w->who = (struct control_who){w->actor, w->kind, w->address, w->peer};
	return &w->who;
}
