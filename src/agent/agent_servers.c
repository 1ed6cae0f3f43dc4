/* The servers the agent tries, in turn: --server's first, then those learned from the cluster (a registration's
 * "servers", the cluster's instances), which are kept in DATA_DIR/servers so that a restarted agent knows them
 * too. An agent told of one server of a cluster thus still reaches the leader through another instance once its
 * own is gone (a follower proxies agent traffic to the leader). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_internal.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define LEARNED_MAX 64 /* servers learned, at most */

/* A server's URL as the agent keeps it: blanks and trailing '/' cut; NULL when it is no http(s):// URL. */
static char *url_clean(const char *p, size_t len)
{
	const char *s = p, *e = p + len;
	size_t scheme;

	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && (isspace((unsigned char)e[-1]) || e[-1] == '/'))
		e--;
	scheme = strncmp(s, "http://", 7) == 0 ? 7 : strncmp(s, "https://", 8) == 0 ? 8 : 0;
	if (scheme == 0 || (size_t)(e - s) <= scheme || memchr(s, '\n', (size_t)(e - s)) != NULL)
		return NULL;
	return xstrndup(s, (size_t)(e - s));
}

static bool listed(char *const *list, size_t n, const char *url)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i], url) == 0)
			return true;
	}
	return false;
}

/* Append url (taken) to a->servers unless it is there; true when it was added. */
static bool add(struct agent *a, char *url)
{
	if (listed(a->servers, a->n_servers, url)) {
		free(url);
		return false;
	}
	a->servers = xrealloc(a->servers, (a->n_servers + 1) * sizeof(*a->servers));
	a->servers[a->n_servers++] = url;
	return true;
}

int agent_servers_parse(struct agent *a, char *err, size_t errlen)
{
	const char *p = a->cfg.servers;

	if (p == NULL || *p == '\0') {
		snprintf(err, errlen, "--server is required: the URL of a server (http://host:port), or several, "
		    "comma-separated");
		return -EINVAL;
	}
	while (*p) {
		size_t len = strcspn(p, ",");
		char *url = url_clean(p, len);
		if (url == NULL) {
			snprintf(err, errlen, "--server: '%.*s' is not an http:// or https:// URL", (int)len, p);
			return -EINVAL;
		}
		add(a, url);
		p += len + (p[len] == ',');
	}
	a->n_configured = a->n_servers;
	return 0;
}

/* The learned servers become urls (n of them, borrowed), after --server's; the one in use stays in use (kept
 * after them when it is not among them). Returns whether the list changed. */
static bool set_learned(struct agent *a, char *const *urls, size_t n)
{
	char *current = a->servers[a->server];
	size_t old = a->n_servers;
	char **was = a->servers;
	bool changed;

	a->servers = xcalloc(a->n_configured + n + 1, sizeof(*a->servers));
	a->n_servers = a->n_configured;
	memcpy(a->servers, was, a->n_configured * sizeof(*a->servers));
	for (size_t i = 0; i < n && a->n_servers - a->n_configured < LEARNED_MAX; i++)
		add(a, xstrdup(urls[i]));
	changed = a->n_servers != old;
	for (size_t i = a->n_configured; i < old && !changed; i++)
		changed = strcmp(was[i], a->servers[i]) != 0;
	if (a->server >= a->n_configured && !listed(a->servers, a->n_servers, current))
		add(a, xstrdup(current)); /* in use: a learned one that is no instance any more, or spelt otherwise */
	for (size_t i = 0; i < a->n_servers; i++) {
		if (strcmp(a->servers[i], current) == 0)
			a->server = i;
	}
	for (size_t i = a->n_configured; i < old; i++)
		free(was[i]);
	free(was);
	return changed;
}

void agent_servers_restore(struct agent *a)
{
	char err[512], *text = NULL, **urls = NULL;
	size_t n = 0;

	if (agent_servers_load(a->cfg.data_dir, &text, err, sizeof(err)) < 0) {
		log_warnx("%s: the servers learned before are not tried", err);
		return;
	}
	for (const char *p = text; p && *p;) {
		size_t len = strcspn(p, "\n");
		char *url = url_clean(p, len);
		if (url) {
			urls = xrealloc(urls, (n + 1) * sizeof(*urls));
			urls[n++] = url;
		}
		p += len + (p[len] == '\n');
	}
	set_learned(a, urls, n);
	if (a->n_servers > a->n_configured)
		log_info("%zu server%s learned from the cluster before: tried after --server's", a->n_servers -
		    a->n_configured, a->n_servers - a->n_configured == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++)
		free(urls[i]);
	free(urls);
	free(text);
}

/* list's n URLs, each followed by sep (a new string). */
static char *joined(char *const *list, size_t n, char sep)
{
	size_t len = 1, at = 0;
	char *text;

	for (size_t i = 0; i < n; i++)
		len += strlen(list[i]) + 1;
	text = xmalloc(len);
	for (size_t i = 0; i < n; i++) {
		size_t k = strlen(list[i]);
		memcpy(text + at, list[i], k);
		text[at + k] = sep;
		at += k + 1;
	}
	text[at] = '\0';
	return text;
}

void agent_servers_learn(struct agent *a, json_t *servers)
{
	char err[512], **urls, *text;
	size_t n = 0, i;
	json_t *it;

	if (!json_is_array(servers))
		return; /* standalone: nothing to learn */
	urls = xcalloc(json_array_size(servers) + 1, sizeof(*urls));
	json_array_foreach(servers, i, it) {
		const char *s = json_string_value(it);
		char *url = s ? url_clean(s, strlen(s)) : NULL;
		if (url)
			urls[n++] = url;
	}
	if (set_learned(a, urls, n)) {
		text = joined(a->servers + a->n_configured, a->n_servers - a->n_configured, ' ');
		log_info_kv(LOG_FIELDS(.event = "agent.servers"), "servers learned from the cluster, tried after --server's: "
		    "%s", text[0] ? text : "(none)");
		free(text);
		text = joined(urls, n, '\n'); /* all of them, --server's too: the next start may be told of others */
		if (agent_servers_store(a->cfg.data_dir, text, err, sizeof(err)) < 0)
			log_warnx("%s", err);
		free(text);
	}
	for (i = 0; i < n; i++)
		free(urls[i]);
	free(urls);
}

void agent_servers_free(struct agent *a)
{
	for (size_t i = 0; i < a->n_servers; i++)
		free(a->servers[i]);
	free(a->servers);
	a->servers = NULL;
	a->n_servers = 0;
}
