/* API tokens (README, "Access"; api/auth.h): POST /api/v1/tokens {"name","role"} makes one and answers its secret,
 * once (201); GET /api/v1/tokens lists them (name, role, created, lastUsed: never a secret or its hash);
 * DELETE /api/v1/tokens/NAME revokes one (204; 404 when there is none). */
#ifndef GNOMON_API_GNOMON_TOKENS_H
#define GNOMON_API_GNOMON_TOKENS_H

#include "api/api.h"

void gnomon_post_token(struct api_env *env, struct http_request *req, const char *const *args);
void gnomon_list_tokens(struct api_env *env, struct http_request *req, const char *const *args);
void gnomon_delete_token(struct api_env *env, struct http_request *req, const char *const *args);

#endif
