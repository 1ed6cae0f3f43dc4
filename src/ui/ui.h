/* The web UI's files (ui/ in the source tree), embedded into the binary at build time by cmake/embed.cmake, so
 * the binary alone serves them. */
#ifndef GNOMON_UI_UI_H
#define GNOMON_UI_UI_H

#include <stddef.h>

struct ui_asset {
	const char *path;          /* relative to ui/: "index.html", "js/app.js" */
	const unsigned char *data; /* followed by a NUL byte */
	size_t len;
	const char *etag;          /* quoted, from the content's hash */
};

/* Every embedded file (generated). */
extern const struct ui_asset ui_assets[];
extern const size_t ui_asset_count;

/* The file at path (relative to ui/), or NULL. */
const struct ui_asset *ui_asset_find(const char *path);
/* The Content-Type of a file by its extension. */
const char *ui_content_type(const char *path);

#endif
