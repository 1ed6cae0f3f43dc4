#include "cli/cli_url.h"

#include <curl/curl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/xmalloc.h"

char *cli_url_base(const char *option, const char *env)
{
	const char *url = CLI_URL_DEFAULT;
	size_t len;

	if (option && *option)
		url = option;
	else if (env && *env)
		url = env;
	len = strlen(url);
	while (len > 0 && url[len - 1] == '/')
		len--;
	if (strstr(url, "://"))
		return xstrndup(url, len);
	return xasprintf("http://%.*s", (int)len, url);
}

char *cli_url_join(const char *base, const char *path)
{
	return xasprintf("%s%s", base, path);
}

char *cli_url_escape(const char *segment)
{
	size_t len = strlen(segment);
	char *escaped, *copy;

	if (len > INT_MAX)
		fatalx("cli_url_escape: segment of %zu bytes", len);
	/* Since curl 7.82 the handle is ignored and may be NULL. */
	escaped = curl_easy_escape(NULL, segment, (int)len);
	if (!escaped)
		fatalx("curl_easy_escape: out of memory");
	copy = xstrdup(escaped);
	curl_free(escaped);
	return copy;
}

char *cli_url_path(const char *prefix, const char *name)
{
	char *escaped = cli_url_escape(name);
	char *path = xasprintf("%s%s", prefix, escaped);

	free(escaped);
	return path;
}
