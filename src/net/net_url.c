#include "net/net_url.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/xmalloc.h"

#define QUOTE 80 /* bytes of a URL quoted in a message */

static int bad(const char *url, char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "URL '%.*s%s': %s", QUOTE, url, strlen(url) > QUOTE ? "..." : "", why);
	return -EINVAL;
}

/* The port after the host: digits, 1 to 65535. */
static int read_port(const char *p, const char *end, uint16_t *out)
{
	unsigned long v = 0;

	if (p == end || end - p > 5)
		return -EINVAL;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v == 0 || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

int net_url_parse(const char *url, struct net_url *out, char *err, size_t errlen)
{
	const char *auth, *auth_end, *host, *host_end, *port_at;
	size_t len = strlen(url);

	memset(out, 0, sizeof(*out));
	if (len > NET_URL_MAX)
		return bad(url, err, errlen, "too long");
	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return bad(url, err, errlen, "a space or a control character");
	if (strncasecmp(url, "http://", 7) == 0) {
		auth = url + 7;
	} else if (strncasecmp(url, "https://", 8) == 0) {
		auth = url + 8;
		out->https = true;
	} else {
		return bad(url, err, errlen, "not an http:// or https:// URL");
	}
	auth_end = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', (size_t)(auth_end - auth)))
		return bad(url, err, errlen, "user information (user@host) is not supported");
	host = auth;
	if (*host == '[') {
		host_end = memchr(host, ']', (size_t)(auth_end - host));
		if (host_end == NULL)
			return bad(url, err, errlen, "an IPv6 address without its ']'");
		host++;
		port_at = host_end + 1;
		if (port_at < auth_end && *port_at != ':')
			return bad(url, err, errlen, "bytes after the IPv6 address");
	} else {
		host_end = memchr(host, ':', (size_t)(auth_end - host));
		if (host_end == NULL)
			host_end = auth_end;
		port_at = host_end;
	}
	if (host_end == host)
		return bad(url, err, errlen, "no host");
	out->port = out->https ? 443 : 80;
	if (port_at < auth_end && read_port(port_at + 1, auth_end, &out->port) < 0)
		return bad(url, err, errlen, "the port is not a number from 1 to 65535");
	out->host = xstrndup(host, (size_t)(host_end - host));
	out->authority = xstrndup(auth, (size_t)(auth_end - auth));
	if (*auth_end == '/' || *auth_end == '?') {
		size_t n = strcspn(auth_end, "#");
		out->target = *auth_end == '?' ? xasprintf("/%.*s", (int)n, auth_end) : xstrndup(auth_end, n);
	} else {
		out->target = xstrdup("/");
	}
	return 0;
}

void net_url_free(struct net_url *u)
{
	free(u->host);
	free(u->authority);
	free(u->target);
	memset(u, 0, sizeof(*u));
}
