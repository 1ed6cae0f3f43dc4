/* The web UI over HTTP: / redirects to /ui/, /ui/<file> serves an embedded file, and every other /ui/ path
 * (a page such as /ui/jobs/backup) serves index.html, whose script routes by the URL: pages are bookmarkable. */
#ifndef GNOMON_API_GNOMON_UI_H
#define GNOMON_API_GNOMON_UI_H

#include "api/api.h"

/* GET / */
void gnomon_ui_root(struct api_env *env, struct http_request *req, const char *const *args);
/* GET /ui and GET /ui/{path} */
void gnomon_ui_file(struct api_env *env, struct http_request *req, const char *const *args);

#endif
