/* The parts of an http:// or https:// URL that an HTTP client needs to connect and to write its request line
 * (RFC 3986's authority and path, no more): for net_uv.c. Pure string work. */
#ifndef GNOMON_NET_NET_URL_H
#define GNOMON_NET_NET_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_URL_MAX 8192 /* bytes of a URL: a longer one is refused */

struct net_url {
	bool https;
	char *host;      /* a name or an address, without the brackets of an IPv6 literal */
	char *authority; /* host and port as the Host field gives them ("h", "h:8080", "[::1]:8080") */
	uint16_t port;   /* 80 or 443 when the URL gives none */
	char *target;    /* the path and query ("/" when the URL has no path); a fragment is dropped */
};

/* Split url into out (its strings to free with net_url_free()). 0, or -EINVAL with a message in err: another
 * scheme, user information, an empty host or a bad port, a space or a control character anywhere. */
int net_url_parse(const char *url, struct net_url *out, char *err, size_t errlen) __attribute__((warn_unused_result));
void net_url_free(struct net_url *u);

#endif
