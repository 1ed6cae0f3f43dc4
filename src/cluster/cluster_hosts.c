/* The ensemble's spelling: Chronos's --zk_hosts "zk://h1:2181,h2:2181/path" or a plain "h1:2181,h2:2181". */
#include "cluster/cluster.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xmalloc.h"

/* One "host:port" of the list (len bytes at s): a host, then a port of 1 to 65535. */
static bool host_ok(const char *s, size_t len)
{
	const char *colon = NULL;
	long port = 0;

	for (size_t i = 0; i < len; i++)
		if (s[i] == ':')
			colon = s + i;
	if (colon == NULL || colon == s || colon + 1 == s + len || (size_t)(colon + 1 - s) + 5 < len)
		return false;
	for (const char *p = colon + 1; p < s + len; p++) {
		if (*p < '0' || *p > '9')
			return false;
		port = port * 10 + (*p - '0');
	}
	return port >= 1 && port <= 65535;
}

int cluster_parse_hosts(const char *spec, char **hosts, char **path, char *err, size_t errlen)
{
	const char *p = spec, *slash;
	size_t n;

	*hosts = *path = NULL;
	if (strncmp(p, "zk://", 5) == 0)
		p += 5;
	slash = strchr(p, '/');
	n = slash ? (size_t)(slash - p) : strlen(p);
	if (n == 0 || strpbrk(spec, " \t\r\n") != NULL)
		goto bad;
	for (const char *h = p; h < p + n;) {
		const char *comma = memchr(h, ',', (size_t)(p + n - h));
		size_t len = comma ? (size_t)(comma - h) : (size_t)(p + n - h);
		if (!host_ok(h, len))
			goto bad;
		h += len + (comma != NULL);
		if (comma && h == p + n)
			goto bad; /* a trailing comma */
	}
	*hosts = xasprintf("%.*s", (int)n, p);
	if (slash && slash[1] != '\0')
		*path = xstrdup(slash);
	return 0;
bad:
	snprintf(err, errlen, "--zk-hosts: expected host:port[,host:port...] (or zk://host:port,.../path), got '%s'",
	    spec);
	return -EINVAL;
}

bool cluster_hosts_loopback(const char *hosts)
{
	const char *h = hosts;

	while (*h) {
		size_t len = strcspn(h, ",");
		const char *colon = memrchr(h, ':', len);
		size_t hl = colon ? (size_t)(colon - h) : len;
		bool lo = (hl == 9 && strncmp(h, "localhost", 9) == 0) || (hl >= 4 && strncmp(h, "127.", 4) == 0) ||
		    (hl == 5 && strncmp(h, "[::1]", 5) == 0) || (hl == 3 && strncmp(h, "::1", 3) == 0);
		if (!lo)
			return false;
		h += len + (h[len] == ',');
	}
	return true;
}

bool cluster_address_valid(const char *addr)
{
	const char *colon = strrchr(addr, ':');
	char *end;
	long port;

	if (colon == NULL || colon == addr || strlen(addr) > 255)
		return false;
	for (const char *p = addr; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f || *p == '/')
			return false;
	port = strtol(colon + 1, &end, 10);
	return colon[1] != '\0' && *end == '\0' && port >= 1 && port <= 65535;
}
