#include "api/gnomon_openapi.h"

#include <string.h>

#include "api/http.h"
#include "util/xmalloc.h"

void gnomon_openapi(struct api_env *env, struct http_request *req, const char *const *args)
{
	char *body = xmalloc(openapi_json_len);

	(void)env;
	(void)args;
	memcpy(body, openapi_json, openapi_json_len);
	http_add_header(req, "Cache-Control", "no-cache");
	http_respond(req, 200, "application/json", body, openapi_json_len);
}
