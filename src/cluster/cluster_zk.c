/* ZooKeeper's threads' side of the cluster: the watcher and the completions copy what they are given into a
 * message and post it to the loop. Nothing here reads or writes the loop's state: only the message list under
 * its mutex, the uv_async (uv_async_send is thread-safe) and the request or session context they were given. */
#include "cluster/cluster_internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/xmalloc.h"

static void post(struct cluster *c, struct zmsg *m)
{
	uv_mutex_lock(&c->lock);
	if (c->posted_tail)
		c->posted_tail->next = m;
	else
		c->posted = m;
	c->posted_tail = m;
	uv_mutex_unlock(&c->lock);
	uv_async_send(&c->async);
}

/* A message for a request's answer; frees the request. */
static struct zmsg *answer(const void *data, int rc)
{
	struct zreq *r = (struct zreq *)(uintptr_t)data;
	struct zmsg *m = xcalloc(1, sizeof(*m));

	m->gen = r->gen;
	m->op = r->op;
	m->seq = r->seq;
	m->index = r->index;
	m->rc = rc;
	return m;
}

static void send_answer(const void *data, struct zmsg *m)
{
	struct zreq *r = (struct zreq *)(uintptr_t)data;
	struct cluster *c = r->c;

	free(r);
	post(c, m);
}

struct zreq *cluster_req(struct cluster *c, enum zop op)
{
	struct zreq *r = xcalloc(1, sizeof(*r));

	r->c = c;
	r->gen = c->gen;
	r->op = op;
	r->seq = c->seq;
	return r;
}

void cluster_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	struct zsess *s = ctx;
	struct zmsg *m;

	if (s == NULL)
		return;
	m = xcalloc(1, sizeof(*m));
	m->gen = s->gen;
	m->state = state;
	m->type = type;
	if (type == ZOO_SESSION_EVENT) {
		m->op = ZOP_SESSION;
		if (state == ZOO_CONNECTED_STATE) {
			const clientid_t *id = zoo_client_id(zh);
			m->session_id = id ? id->client_id : 0;
			m->timeout_ms = zoo_recv_timeout(zh);
		}
	} else {
		m->op = ZOP_WATCH;
		m->text = xstrdup(path ? path : "");
	}
	post(s->c, m);
}

void cluster_string_done(int rc, const char *value, const void *data)
{
	struct zmsg *m = answer(data, rc);

	if (rc == ZOK && value)
		m->text = xstrdup(value);
	send_answer(data, m);
}

void cluster_strings_done(int rc, const struct String_vector *strings, const void *data)
{
	struct zmsg *m = answer(data, rc);

	if (rc == ZOK && strings && strings->count > 0) {
		m->names = xcalloc((size_t)strings->count, sizeof(char *));
		for (int i = 0; i < strings->count; i++)
			m->names[i] = xstrdup(strings->data[i]);
		m->n_names = strings->count;
	}
	send_answer(data, m);
}

void cluster_data_done(int rc, const char *value, int len, const struct Stat *stat, const void *data)
{
	struct zmsg *m = answer(data, rc);

	if (rc == ZOK) {
		m->text = xmalloc(len > 0 ? (size_t)len + 1 : 1);
		if (value && len > 0)
			memcpy(m->text, value, (size_t)len);
		m->text[len > 0 ? len : 0] = '\0';
		m->version = stat ? stat->version : -1;
	}
	send_answer(data, m);
}

void cluster_stat_done(int rc, const struct Stat *stat, const void *data)
{
	struct zmsg *m = answer(data, rc);

	m->version = rc == ZOK && stat ? stat->version : -1;
	send_answer(data, m);
}

/* A multi's answer: the first failing op's error, when the whole failed. */
void cluster_void_done(int rc, const void *data)
{
	const struct zreq *r = data;
	struct zmsg *m;

	if (r->op == ZOP_EPOCH_SET && rc != ZOK && rc != ZCLOSING && rc != ZCONNECTIONLOSS && rc != ZSESSIONEXPIRED) {
		for (int i = 0; i < 2; i++) {
			if (r->results[i].err != ZOK && r->results[i].err != ZRUNTIMEINCONSISTENCY) {
				rc = r->results[i].err;
				break;
			}
		}
	}
	m = answer(data, rc);
	send_answer(data, m);
}

/* ZooKeeper's own log lines (formatted by the client: a time, the pid and thread, then "ZOO_<LEVEL>@..."). */
void cluster_zk_log(const char *message)
{
	const char *at = strstr(message, "ZOO_");

	log_debug("zookeeper: %s", at ? at : message);
}

void cluster_msg_free(struct zmsg *m)
{
	if (m == NULL)
		return;
	for (int i = 0; i < m->n_names; i++)
		free(m->names[i]);
	free(m->names);
	free(m->text);
	free(m);
}
