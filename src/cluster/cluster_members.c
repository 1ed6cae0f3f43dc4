/* The instances of the cluster (cluster_instances()): the election's candidates, the children of <path>/election,
 * read with a children watch, and the data of each node not seen before (its advertised address), kept in
 * election order; and the epoch counter, <path>/epoch, read with a data watch (what a follower shows as the
 * leader's epoch). A read is one list, then the new nodes' data; the list shown is replaced once all of them are
 * in. A watch that fires starts a new read (answers of an older read are dropped). Disconnected, the list shown
 * stays, marked not current, with the time it was read; the connection back reads it again. */
#include "cluster/cluster_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define RETRY_MS 1000
#define SEQ_DIGITS 10 /* ZooKeeper's sequence suffix */

long long cluster_node_seq(const char *name)
{
	size_t n = strlen(name);
	long long v = 0;

	if (strncmp(name, "n_", 2) != 0 || n < SEQ_DIGITS + 3 || name[n - SEQ_DIGITS - 1] != '-')
		return -1;
	for (const char *p = name + n - SEQ_DIGITS; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v;
}

static void free_list(struct cluster_instance *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)(uintptr_t)list[i].node);
		free((char *)(uintptr_t)list[i].address);
	}
	free(list);
}

static void drop_reading(struct cluster *c)
{
	free_list(c->reading, c->n_reading);
	c->reading = NULL;
	c->n_reading = c->reading_left = 0;
}

static void on_retry(uv_timer_t *t)
{
	members_read(t->data);
}

void members_init(struct cluster *c)
{
	uv_timer_init(c->loop, &c->members_timer);
	c->members_timer.data = c;
}

bool members_path(const struct cluster *c, const char *path)
{
	size_t n = strlen(c->cfg.path);

	return strncmp(path, c->cfg.path, n) == 0 && (strcmp(path + n, "/election") == 0 || strcmp(path + n, "/epoch") == 0);
}

/* The epoch counter, watched: its data (ZOP_COUNTER, with a data watch), or (exists: true) whether it is there,
 * with a watch that fires at its creation (reading a node that is not there leaves no watch). A change of either
 * comes back as a watch on <path>/epoch: read again. */
static void read_counter(struct cluster *c, bool exists)
{
	char path[1100];
	struct zreq *r = cluster_req(c, ZOP_COUNTER);
	int rc;

	r->seq = c->members_seq;
	r->index = exists; /* which answer it is */
	snprintf(path, sizeof(path), "%s/epoch", c->cfg.path);
	if (exists)
		rc = zoo_awexists(c->zh, path, cluster_watcher, c->sess, cluster_stat_done, r);
	else
		rc = zoo_awget(c->zh, path, cluster_watcher, c->sess, cluster_data_done, r);
	if (rc != ZOK)
		free(r); /* the list's own failure (the same session) retries both */
}

static void on_counter(struct cluster *c, const struct zmsg *m)
{
	char *end;
	unsigned long long v;

	if (m->index == 0 && m->rc == ZNONODE) {
		read_counter(c, true); /* not created yet (the first leader creates it): watched until it is */
		return;
	}
	if (m->rc != ZOK)
		return;
	if (m->index == 1) { /* it exists: created meanwhile */
		read_counter(c, false);
		return;
	}
	v = strtoull(m->text, &end, 10);
	if (end != m->text && (*end == '\0' || *end == '\n'))
		c->counter = v;
}

void members_read(struct cluster *c)
{
	char path[1100];
	struct zreq *r;
	int rc;

	if (c->zh == NULL || c->zstate != ZOO_CONNECTED_STATE || c->freeing)
		return;
	uv_timer_stop(&c->members_timer);
	drop_reading(c);
	c->members_seq++;
	snprintf(path, sizeof(path), "%s/election", c->cfg.path);
	r = cluster_req(c, ZOP_MEMBERS);
	r->seq = c->members_seq;
	rc = zoo_awget_children(c->zh, path, cluster_watcher, c->sess, cluster_strings_done, r);
	if (rc == ZOK) {
		read_counter(c, false);
		return;
	}
	free(r);
	if (rc != ZINVALIDSTATE) /* else the session's event follows, and a new session reads again */
		uv_timer_start(&c->members_timer, on_retry, RETRY_MS, 0);
}

void members_stale(struct cluster *c)
{
	c->members_seq++;
	c->members_current = false;
	drop_reading(c);
	if (!c->freeing)
		uv_timer_stop(&c->members_timer);
}

void members_free(struct cluster *c)
{
	drop_reading(c);
	free_list(c->members, c->n_members);
	c->members = NULL;
	c->n_members = 0;
}

static int by_seq(const void *a, const void *b)
{
	long long x = cluster_node_seq(((const struct cluster_instance *)a)->node);
	long long y = cluster_node_seq(((const struct cluster_instance *)b)->node);

	return (x > y) - (x < y);
}

/* The read is complete: it becomes the list shown (without the nodes found gone meanwhile: address NULL). */
static void publish(struct cluster *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n_reading; i++) {
		if (c->reading[i].address == NULL)
			free((char *)(uintptr_t)c->reading[i].node);
		else
			c->reading[n++] = c->reading[i];
	}
	free_list(c->members, c->n_members);
	c->members = c->reading;
	c->n_members = n;
	c->reading = NULL;
	c->n_reading = c->reading_left = 0;
	c->members_current = true;
	c->members_read_ms = clock_now_ms();
}

/* The address of a node the list shown has already (a node's data is written once, at its creation). */
static const char *known_address(const struct cluster *c, const char *node)
{
	for (size_t i = 0; i < c->n_members; i++)
		if (strcmp(c->members[i].node, node) == 0)
			return c->members[i].address;
	return NULL;
}

/* Ask for a new node's data; false when the request could not be sent (the read is dropped). */
static bool read_address(struct cluster *c, size_t i)
{
	char path[1200];
	struct zreq *r = cluster_req(c, ZOP_MEMBER);
	int rc;

	r->seq = c->members_seq;
	r->index = i;
	snprintf(path, sizeof(path), "%s/election/%s", c->cfg.path, c->reading[i].node);
	if ((rc = zoo_aget(c->zh, path, 0, cluster_data_done, r)) == ZOK)
		return true;
	free(r);
	drop_reading(c);
	c->members_seq++; /* the answers of what was sent are dropped */
	if (rc != ZINVALIDSTATE)
		uv_timer_start(&c->members_timer, on_retry, RETRY_MS, 0);
	return false;
}

static void on_list(struct cluster *c, const struct zmsg *m)
{
	size_t prefix = strlen(c->guid);

	c->reading = xcalloc((size_t)m->n_names + 1, sizeof(*c->reading));
	for (int i = 0; i < m->n_names; i++) {
		const char *name = m->names[i];
		if (cluster_node_seq(name) < 0)
			continue;
		struct cluster_instance *in = &c->reading[c->n_reading++];
		in->node = xstrdup(name);
		in->self = prefix > 0 && strncmp(name + 2, c->guid, prefix) == 0 && name[2 + prefix] == '-';
	}
	qsort(c->reading, c->n_reading, sizeof(*c->reading), by_seq);
	for (size_t i = 0; i < c->n_reading; i++) {
		const char *addr = known_address(c, c->reading[i].node);
		if (addr)
			c->reading[i].address = xstrdup(addr);
		else
			c->reading_left++;
	}
	for (size_t i = 0, n = c->n_reading; i < n && c->reading; i++)
		if (c->reading[i].address == NULL && !read_address(c, i))
			return;
	if (c->reading && c->reading_left == 0)
		publish(c);
}

/* A request's failure: the connection's (the session's events decide what comes next), or retried later. */
static void failed(struct cluster *c, const struct zmsg *m, const char *what)
{
	drop_reading(c);
	if (m->rc == ZCONNECTIONLOSS || m->rc == ZOPERATIONTIMEOUT || m->rc == ZSESSIONEXPIRED || m->rc == ZCLOSING)
		return;
	log_warnx("zookeeper: %s: %s (trying again in %d ms)", what, zerror(m->rc), RETRY_MS);
	uv_timer_start(&c->members_timer, on_retry, RETRY_MS, 0);
}

static void on_address(struct cluster *c, const struct zmsg *m)
{
	struct cluster_instance *in;

	if (m->index >= c->n_reading || c->reading[m->index].address != NULL)
		return;
	in = &c->reading[m->index];
	if (m->rc == ZNONODE) { /* gone since the list: its watch fired, and a new read follows */
		in->address = NULL;
	} else if (m->rc != ZOK) {
		failed(c, m, "reading a candidate's address");
		return;
	} else {
		in->address = xstrdup(cluster_address_valid(m->text) ? m->text : "");
	}
	if (--c->reading_left == 0)
		publish(c);
}

void members_handle(struct cluster *c, const struct zmsg *m)
{
	if (m->op == ZOP_WATCH) {
		members_read(c);
		return;
	}
	if (m->seq != c->members_seq)
		return; /* an older read's */
	if (m->op == ZOP_COUNTER) {
		on_counter(c, m);
	} else if (m->op == ZOP_MEMBERS) {
		drop_reading(c);
		if (m->rc == ZNONODE)
			return; /* no election yet: read once our node is created */
		if (m->rc != ZOK)
			failed(c, m, "listing the instances");
		else
			on_list(c, m);
	} else {
		on_address(c, m);
	}
}

void cluster_instances(const struct cluster *c, struct cluster_instances *out)
{
	*out = (struct cluster_instances){.list = c->members, .n = c->n_members,
	    .current = c->members_current && c->zstate == ZOO_CONNECTED_STATE, .read_ms = c->members_read_ms,
	    .epoch = c->counter};
}
