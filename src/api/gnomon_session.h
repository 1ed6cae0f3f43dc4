/* The web UI's session (api/auth.h, api/auth_session.h): POST /api/v1/session with {"token": "..."} or Basic
 * credentials opens one and sets its cookie; GET /api/v1/session says who the caller is and its role ({"auth":
 * false} when access control is off), DELETE /api/v1/session ends it. Answered by the server that receives them. */
#ifndef GNOMON_API_GNOMON_SESSION_H
#define GNOMON_API_GNOMON_SESSION_H

#include "api/api.h"

void gnomon_post_session(struct api_env *env, struct http_request *req, const char *const *args);
void gnomon_get_session(struct api_env *env, struct http_request *req, const char *const *args);
void gnomon_delete_session(struct api_env *env, struct http_request *req, const char *const *args);

#endif
