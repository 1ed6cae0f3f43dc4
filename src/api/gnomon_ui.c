#include "api/gnomon_ui.h"

#include <stdbool.h>
#include <string.h>

#include "api/http.h"
#include "ui/ui.h"
#include "util/xmalloc.h"

void gnomon_ui_root(struct api_env *env, struct http_request *req, const char *const *args)
{
	(void)env;
	(void)args;
	http_add_header(req, "Location", "/ui/");
	http_respond(req, 302, "text/plain", xstrdup("/ui/\n"), 5);
}

/* A page path gets the application's one page: anything under jobs/ or runs/ (job names and task ids may
 * contain '.'), else a path without a file extension in its last segment. */
static bool is_page(const char *path)
{
	const char *last = strrchr(path, '/');
	if (strncmp(path, "jobs/", 5) == 0 || strncmp(path, "runs/", 5) == 0)
		return true;
	return strchr(last ? last + 1 : path, '.') == NULL;
}

void gnomon_ui_file(struct api_env *env, struct http_request *req, const char *const *args)
{
	const char *path = args[0] ? args[0] : "index.html";
	const struct ui_asset *a = ui_asset_find(path);
	const char *match = http_request_header(req, "If-None-Match");
	char *body;
	(void)env;

	if (a == NULL && is_page(path))
		a = ui_asset_find("index.html");
	if (a == NULL) {
		http_respond_error(req, 404, "no such file in the web UI: %s", path);
		return;
	}
	http_add_header(req, "ETag", a->etag);
	http_add_header(req, "Cache-Control", "no-cache");
	if (match && strcmp(match, a->etag) == 0) {
		http_respond(req, 304, NULL, NULL, 0);
		return;
	}
	body = xmalloc(a->len + 1);
	memcpy(body, a->data, a->len + 1);
	/* Everything the UI needs is in the binary: nothing may come from elsewhere. */
	http_add_header(req, "Content-Security-Policy",
	    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'");
	http_add_header(req, "X-Content-Type-Options", "nosniff");
	http_respond(req, 200, ui_content_type(a->path), body, a->len);
}
