/* The web UI's sessions (api/auth.h): in this server's memory, each named by a random secret that its cookie
 * holds (kept as its SHA-256), for AUTH_SESSION_TTL_MS from its opening, at most AUTH_SESSIONS_MAX at once (a new
 * one replaces the oldest). */
#ifndef GNOMON_API_AUTH_SESSION_H
#define GNOMON_API_AUTH_SESSION_H

#include <stdint.h>

#include "api/auth.h"

struct auth_sessions;
struct http_request;

struct auth_sessions *auth_sessions_new(void);
void auth_sessions_free(struct auth_sessions *s);
/* Open a session for who, proved by credential (the Authorization value sent), at now_ms: 0 with its secret in
 * out, or a negative errno (no random bytes). */
int auth_sessions_open(struct auth_sessions *s, const struct api_identity *who, const char *credential,
    int64_t now_ms, char out[AUTH_TOKEN_LEN + 1]) __attribute__((warn_unused_result));
/* The session req's cookie names, unexpired at now_ms, into *who (and its credential, borrowed, into
 * *credential when not NULL): 0; -ENOENT without a cookie; -EACCES when it names none. */
int auth_sessions_find(struct auth_sessions *s, const struct http_request *req, int64_t now_ms,
    struct api_identity *who, const char **credential) __attribute__((warn_unused_result));
/* End the session req's cookie names, if any. */
void auth_sessions_close(struct auth_sessions *s, const struct http_request *req);
/* Answer req's cookie field: the session's (secret), or its removal (secret NULL). */
void auth_sessions_cookie(struct http_request *req, const char *secret);

#endif
