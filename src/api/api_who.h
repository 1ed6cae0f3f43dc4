/* Who made a request, for the audit trail (README, "Audit"; control.h's struct control_who): the identity its
 * credential proves (api/auth.h: a token's name, the Basic user's, a session's, an agent's token's) or
 * "anonymous" when it carries none (auth off), and its address: the client's IP address; for a request that a follower
 * proxied here (api/proxy.h's hop field) and whose credential this server checked, the client the follower names
 * (the last X-Forwarded-For entry, which the follower appended). Without a checked credential the field is not
 * trusted: anyone could send it.
 *
 * Threads: the loop thread only. */
#ifndef GNOMON_API_API_WHO_H
#define GNOMON_API_API_WHO_H

#include "api/api.h"
#include "api/auth.h"
#include "api/http.h"
#include "control/control.h"

struct api_who {
	char actor[AUTH_NAME_MAX + 1];
	const char *kind;
	char address[HTTP_PEER_MAX];
	char peer[HTTP_PEER_MAX]; /* the connection's, for the logs */
	struct control_who who;
};

/* Who req is, into *out. */
void api_who_of(struct api_env *env, struct http_request *req, struct api_who *out);
/* The control's view of w (pointing into w: valid while w is). */
const struct control_who *api_who_control(struct api_who *w);

#endif
