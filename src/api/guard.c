#include "api/guard.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_json.h"
#include "api/http.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define ORIGIN_MAX 300
#define PREFLIGHT_MAX_AGE "600" /* seconds a browser may keep a preflight's answer */

struct api_guard {
	char **origins;  /* normalised (origin_normal) */
	size_t norigins;
	bool any_read;   /* "*": any origin may read */
	bool loopback;   /* listening on a loopback address: Host is checked */
	char *hostname;  /* --hostname, lower case, without a trailing dot */
};

/* text as browsers serialise an origin: scheme://host[:port], scheme http or https, in lower case, without the
 * scheme's default port. Returns 0, or -1 when text is not such an origin ("null", a path, a trailing '/'). */
static int origin_normal(const char *text, char *out, size_t len)
{
	const char *p, *host, *host_end;
	bool https = strncasecmp(text, "https://", 8) == 0;
	long port = 0;
	int n;

	if (!https && strncasecmp(text, "http://", 7) != 0)
		return -1;
	p = host = text + (https ? 8 : 7);
	if (*p == '[') {
		p++;
		while (isxdigit((unsigned char)*p) || *p == ':' || *p == '.')
			p++;
		if (*p++ != ']')
			return -1;
	} else {
		while (isalnum((unsigned char)*p) || *p == '-' || *p == '.' || *p == '_')
			p++;
	}
	host_end = p;
	if (host_end == host)
		return -1;
	if (*p == ':') {
		const char *digits = ++p;
		while (isdigit((unsigned char)*p))
			p++;
		if (p == digits || p - digits > 5 || (port = strtol(digits, NULL, 10)) < 1 || port > 65535)
			return -1;
	}
	if (*p != '\0')
		return -1;
	if (port == (https ? 443 : 80))
		port = 0;
	n = snprintf(out, len, "%s://%.*s", https ? "https" : "http", (int)(host_end - host), host);
	if (n > 0 && (size_t)n < len && port)
		n += snprintf(out + n, len - (size_t)n, ":%ld", port);
	if (n < 0 || (size_t)n >= len)
		return -1;
	for (char *c = out; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return 0;
}

/* Is origin (normalised) the server's own, as the client addresses it (Host)? The scheme is the origin's: behind
 * a proxy that ends TLS the server cannot know the one the browser used. */
static bool same_origin(const char *origin, const char *host)
{
	char self[ORIGIN_MAX + 16], norm[ORIGIN_MAX];

	if (host == NULL || *host == '\0')
		return false;
	snprintf(self, sizeof(self), "%s%s", strncmp(origin, "https://", 8) == 0 ? "https://" : "http://", host);
	return origin_normal(self, norm, sizeof(norm)) == 0 && strcmp(norm, origin) == 0;
}

static bool listed(const struct api_guard *g, const char *origin)
{
	for (size_t i = 0; i < g->norigins; i++)
		if (strcmp(g->origins[i], origin) == 0)
			return true;
	return false;
}

static bool loopback_address(const char *address)
{
	struct in_addr a;
	struct in6_addr a6;

	if (inet_pton(AF_INET, address, &a) == 1)
		return ntohl(a.s_addr) >> 24 == 127;
	if (inet_pton(AF_INET6, address, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return false;
}

/* Is host (a Host field: name or [IPv6], optional :port) a name of this server that no DNS answer can point
 * elsewhere: localhost (and *.localhost, which browsers resolve themselves), 127.x.x.x, [::1], or --hostname? */
static bool local_name(const struct api_guard *g, const char *host)
{
	char name[256];
	const char *end;
	size_t n;

	if (host == NULL || *host == '\0')
		return true; /* HTTP/1.0 without Host: not a browser */
	end = *host == '[' ? strchr(host, ']') : strchr(host, ':');
	end = end == NULL ? host + strlen(host) : *host == '[' ? end + 1 : end;
	if (*end == ':' && (end[1] == '\0' || strspn(end + 1, "0123456789") != strlen(end + 1)))
		return false;
	if ((*end != '\0' && *end != ':') || (n = (size_t)(end - host)) == 0 || n >= sizeof(name))
		return false;
	for (size_t i = 0; i < n; i++)
		name[i] = (char)tolower((unsigned char)host[i]);
	name[n] = '\0';
	if (*name == '[' && name[n - 1] != ']')
		return false;
	if (*name == '[') {
		struct in6_addr a6;
		name[n - 1] = '\0';
		return inet_pton(AF_INET6, name + 1, &a6) == 1 &&
		    (IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127));
	}
	if (name[n - 1] == '.')
		name[--n] = '\0';
	if (strcmp(name, "localhost") == 0 || (n > 10 && strcmp(name + n - 10, ".localhost") == 0))
		return true;
	if (strspn(name, "0123456789.") == n) {
		struct in_addr a;
		return inet_pton(AF_INET, name, &a) == 1 && ntohl(a.s_addr) >> 24 == 127;
	}
	return strcmp(name, g->hostname) == 0;
}

static int add_origin(struct api_guard *g, const char *item, char *err, size_t errlen)
{
	char norm[ORIGIN_MAX];

	if (strcmp(item, "*") == 0) {
		g->any_read = true;
		return 0;
	}
	if (origin_normal(item, norm, sizeof(norm)) < 0) {
		snprintf(err, errlen, "--cors-origins: '%s' is not an origin: expected scheme://host[:port] as browsers "
		    "send it in Origin (http or https, no path, no trailing '/'), or *", item);
		return -EINVAL;
	}
	g->origins = xrealloc(g->origins, (g->norigins + 1) * sizeof(*g->origins));
	g->origins[g->norigins++] = xstrdup(norm);
	return 0;
}

int api_guard_new(const char *cors_origins, const char *address, const char *hostname, struct api_guard **out,
    char *err, size_t errlen)
{
	struct api_guard *g = xcalloc(1, sizeof(*g));
	char *list = xstrdup(cors_origins ? cors_origins : ""), *save = NULL;
	size_t n;
	int rc = 0;

	g->loopback = loopback_address(address);
	g->hostname = xstrdup(hostname ? hostname : "");
	for (char *c = g->hostname; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	n = strlen(g->hostname);
	if (n && g->hostname[n - 1] == '.')
		g->hostname[n - 1] = '\0';
	for (char *item = strtok_r(list, ",", &save); item && rc == 0; item = strtok_r(NULL, ",", &save)) {
		char *end = item + strlen(item);
		while (*item == ' ' || *item == '\t')
			item++;
		while (end > item && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (*item)
			rc = add_origin(g, item, err, errlen);
	}
	free(list);
	if (rc < 0) {
		api_guard_free(g);
		return rc;
	}
	*out = g;
	return 0;
}

bool api_guard_loopback(const struct api_guard *g)
{
	return g->loopback;
}

void api_guard_free(struct api_guard *g)
{
	if (g == NULL)
		return;
	for (size_t i = 0; i < g->norigins; i++)
		free(g->origins[i]);
	free(g->origins);
	free(g->hostname);
	free(g);
}

/* Refuse req with status and a message, and log it: a page in someone's browser may be trying its luck. */
__attribute__((format(printf, 3, 4))) static void refuse(struct http_request *req, int status, const char *fmt, ...)
{
	char msg[1024], path[API_QUOTE_MAX], peer[HTTP_PEER_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	http_request_peer(req, peer, sizeof(peer));
	log_info_kv(LOG_FIELDS(.event = "http.refused", .remote = peer), "http: refused %s %s from %s (%d): %s",
	    http_request_method(req), api_quoted(http_request_path(req), path, sizeof(path)), peer, status, msg);
	http_respond_error(req, status, "%s", msg);
}

static bool is_json(const char *content_type)
{
	size_t n;

	if (content_type == NULL)
		return false;
	n = strcspn(content_type, ";");
	while (n > 0 && (content_type[n - 1] == ' ' || content_type[n - 1] == '\t'))
		n--;
	return n == 16 && strncasecmp(content_type, "application/json", 16) == 0;
}

static bool safe_method(const char *method)
{
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 || strcmp(method, "OPTIONS") == 0;
}

/* An agent's upload of a task's output (docs/agent-protocol.md): the one body that is not JSON. */
static bool agent_output(struct http_request *req, const char *type)
{
	return type && strcasecmp(type, "application/octet-stream") == 0 &&
	    strcmp(http_request_path(req), "/api/v1/agent/output") == 0;
}

void api_guard_check(const struct api_guard *g, struct http_request *req)
{
	const char *method = http_request_method(req), *host = http_request_host(req);
	const char *origin = http_request_header(req, "Origin"), *site = http_request_header(req, "Sec-Fetch-Site");
	const char *type = http_request_header(req, "Content-Type");
	char norm[ORIGIN_MAX], q1[API_QUOTE_MAX], q2[API_QUOTE_MAX];
	bool valid = origin && origin_normal(origin, norm, sizeof(norm)) == 0;
	bool same = valid && same_origin(norm, host), allowed = valid && listed(g, norm);
	bool cross_site = site && (strcasecmp(site, "cross-site") == 0 || strcasecmp(site, "same-site") == 0);

	if (g->loopback && !local_name(g, host)) {
		refuse(req, 421, "Host: '%s' is not a name of this server: listening on a loopback address, "
		    "it answers only localhost, 127.x.x.x, [::1] and its --hostname (a defence against DNS rebinding)",
		    api_quoted(host, q1, sizeof(q1)));
		return;
	}
	if (!safe_method(method) && ((origin && !same) || cross_site) && !allowed) {
		if (origin && !same)
			refuse(req, 403, "Origin: '%s' is not this server's origin and not listed in "
			    "--cors-origins: a page from another site may not change anything here (%s refused)",
			    api_quoted(origin, q1, sizeof(q1)), method);
		else
			refuse(req, 403, "Sec-Fetch-Site: '%s': the browser says this %s comes from another "
			    "site, which may not change anything here (list its origin in --cors-origins to allow it)",
			    api_quoted(site, q1, sizeof(q1)), method);
		return;
	}
	if (origin && !same && strcmp(method, "OPTIONS") != 0) {
		if (allowed) {
			http_add_header(req, "Access-Control-Allow-Origin", origin);
			http_add_header(req, "Vary", "Origin");
		} else if (g->any_read && safe_method(method)) {
			http_add_header(req, "Access-Control-Allow-Origin", "*");
		}
	}
	if (http_request_has_body(req) && !is_json(type) && !agent_output(req, type)) {
		if (type)
			refuse(req, 415, "Content-Type: '%s' is not accepted: a request body must be "
			    "application/json", api_quoted(type, q2, sizeof(q2)));
		else
			refuse(req, 415, "Content-Type: missing: a request body must be application/json");
	}
}

void api_guard_options(const struct api_guard *g, struct http_request *req, const char *allow)
{
	const char *origin = http_request_header(req, "Origin");
	const char *want = http_request_header(req, "Access-Control-Request-Method");
	char norm[ORIGIN_MAX], q1[API_QUOTE_MAX], q2[API_QUOTE_MAX];
	bool valid = origin && origin_normal(origin, norm, sizeof(norm)) == 0;
	bool own = valid && (same_origin(norm, http_request_host(req)) || listed(g, norm));

	http_add_header(req, "Allow", allow);
	if (origin == NULL || want == NULL) { /* not a preflight */
		http_respond(req, 204, NULL, NULL, 0);
		return;
	}
	if (!own && !g->any_read) {
		refuse(req, 403, "Origin: '%s' is not listed in --cors-origins: its pages may not use this "
		    "API", api_quoted(origin, q1, sizeof(q1)));
		return;
	}
	if (!own && !safe_method(want)) {
		refuse(req, 403, "Access-Control-Request-Method: '%s' from '%s': '*' in --cors-origins lets "
		    "any origin read, not change (list the origin to allow it)", api_quoted(want, q1, sizeof(q1)),
		    api_quoted(origin, q2, sizeof(q2)));
		return;
	}
	http_add_header(req, "Access-Control-Allow-Origin", own ? origin : "*");
	if (own)
		http_add_header(req, "Vary", "Origin");
	http_add_header(req, "Access-Control-Allow-Methods", own ? allow : "GET, HEAD");
	http_add_header(req, "Access-Control-Allow-Headers", "Content-Type");
	http_add_header(req, "Access-Control-Max-Age", PREFLIGHT_MAX_AGE);
	http_respond(req, 204, NULL, NULL, 0);
}
