/* The bytes of an HTTP/1.1 request (request_wire.h). */
#include "net/request_wire.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "util/log.h"

/* Is name (of len bytes) the field name of the header line h? */
static bool header_is(const char *h, const char *name)
{
	size_t n = strlen(name);

	return strncasecmp(h, name, n) == 0 && h[n] == ':';
}

int request_wire(const struct net_request_options *opt, const struct net_url *url, char **wire, size_t *len,
    char *err, size_t errlen)
{
	const char *method = opt->method ? opt->method : opt->body ? "POST" : "GET";
	bool host = false, agent = false;
	struct buf b;

	if (method[0] == '\0' || method[strspn(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")] != '\0') {
		snprintf(err, errlen, "method '%.40s': not an HTTP method", method);
		return -EINVAL;
	}
	for (const char *const *h = opt->headers; h && *h; h++) {
		const char *colon = strchr(*h, ':');
		if (colon == NULL || colon == *h || strpbrk(*h, "\r\n")) {
			snprintf(err, errlen, "header '%.60s': not one line of \"Name: value\"", *h);
			return -EINVAL;
		}
		host = host || header_is(*h, "Host");
		agent = agent || header_is(*h, "User-Agent");
	}
	buf_init(&b, 0);
	if (buf_printf(&b, "%s %s HTTP/1.1\r\n", method, url->target) < 0 ||
	    (!host && buf_printf(&b, "Host: %s\r\n", url->authority) < 0) ||
	    (!agent && buf_puts(&b, "User-Agent: gnomon/" GNOMON_VERSION "\r\n") < 0))
		fatalx("net: out of memory");
	for (const char *const *h = opt->headers; h && *h; h++) {
		const char *value = strchr(*h, ':') + 1;
		/* as in curl: "Name:" with no value takes the field out; the length is this client's to say */
		if (value[strspn(value, " \t")] == '\0' || header_is(*h, "Content-Length") ||
		    header_is(*h, "Transfer-Encoding"))
			continue;
		if (buf_printf(&b, "%s\r\n", *h) < 0)
			fatalx("net: out of memory");
	}
	if ((opt->body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0) &&
	    buf_printf(&b, "Content-Length: %zu\r\n", opt->body ? opt->body_len : 0) < 0)
		fatalx("net: out of memory");
	if (buf_puts(&b, "\r\n") < 0 || (opt->body && buf_append(&b, opt->body, opt->body_len) < 0))
		fatalx("net: out of memory");
	*wire = buf_steal(&b, len);
	return 0;
}
