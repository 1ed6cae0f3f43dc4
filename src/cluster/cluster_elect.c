/* The election's steps on the loop (ZooKeeper's recipe, cluster.h): the parents, our candidate node, the list
 * of candidates, the predecessor's watch and the leader's address, the epoch's compare-and-set. Each step sends
 * one request (or two) and goes on when its answer comes back as a message; an answer of an older step (c->seq)
 * is dropped. */
#include "cluster/cluster_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/xmalloc.h"

#define RETRY_MS 1000

static void list(struct cluster *c);
static void epoch_get(struct cluster *c);

static struct ACL_vector *acl(const struct cluster *c)
{
	return c->cfg.auth && c->cfg.auth[0] ? &ZOO_CREATOR_ALL_ACL : &ZOO_OPEN_ACL_UNSAFE;
}

/* Something unexpected failed: start over in a while (cluster.c's timer). */
static void retry_later(struct cluster *c, const char *what, int rc)
{
	log_warnx("zookeeper: %s: %s (trying again in %d ms)", what, zerror(rc), RETRY_MS);
	cluster_retry(c, RETRY_MS);
}

/* The k-th node to create on the way: each prefix of the root, then <root>/election. False past the last. */
static bool parent_path(const struct cluster *c, int k, char *buf, size_t len)
{
	const char *root = c->cfg.path, *p = root;
	int i = 0;

	while (*p) {
		const char *next = strchr(p + 1, '/');
		size_t n = next ? (size_t)(next - root) : strlen(root);
		if (i++ == k) {
			snprintf(buf, len, "%.*s", (int)n, root);
			return true;
		}
		if (next == NULL)
			break;
		p = next;
	}
	if (i == k) {
		snprintf(buf, len, "%s/election", root);
		return true;
	}
	return false;
}

static void create_parent(struct cluster *c)
{
	char path[1024];
	struct zreq *r;
	int rc;

	if (!parent_path(c, c->parent_step, path, sizeof(path))) {
		list(c); /* our node may be there already: a create whose answer was lost (its guid tells) */
		return;
	}
	r = cluster_req(c, ZOP_PARENT);
	rc = zoo_acreate(c->zh, path, "", 0, acl(c), ZOO_PERSISTENT, cluster_string_done, r);
	if (rc != ZOK)
		cluster_send_failed(c, r, rc, "creating the election's parents");
}

/* Our candidate node, named by the session's guid, holding our address. */
static void create_node(struct cluster *c)
{
	char node[1100];
	struct zreq *r;
	int rc;

	c->seq++;
	c->phase = PHASE_CREATE;
	snprintf(node, sizeof(node), "%s/election/n_%s-", c->cfg.path, c->guid);
	r = cluster_req(c, ZOP_CREATE);
	rc = zoo_acreate(c->zh, node, c->cfg.self, (int)strlen(c->cfg.self), acl(c), ZOO_EPHEMERAL_SEQUENTIAL,
	    cluster_string_done, r);
	if (rc != ZOK)
		cluster_send_failed(c, r, rc, "creating our election node");
}

void elect_start(struct cluster *c)
{
	c->seq++;
	c->phase = PHASE_PARENTS;
	c->parent_step = 0;
	c->relist = false;
	create_parent(c);
}

void elect_reset(struct cluster *c)
{
	c->seq++;
	c->phase = PHASE_IDLE;
	c->relist = false;
	c->retry = false;
	free(c->node);
	free(c->lowest);
	c->node = c->lowest = NULL;
}

void elect_relist(struct cluster *c)
{
	if (c->zh == NULL || c->zstate != ZOO_CONNECTED_STATE)
		return; /* the reconnection lists again */
	switch (c->phase) {
	case PHASE_IDLE:
	case PHASE_PARENTS:
		elect_start(c);
		return;
	case PHASE_CREATE:
	case PHASE_EPOCH:
		c->relist = true; /* once that step's answer is in: a second candidate or a second epoch otherwise */
		return;
	case PHASE_LIST:
	case PHASE_WAIT:
		list(c);
		return;
	}
}

static void list(struct cluster *c)
{
	char path[1100];
	struct zreq *r;
	int rc;

	c->seq++;
	c->phase = PHASE_LIST;
	c->relist = false;
	snprintf(path, sizeof(path), "%s/election", c->cfg.path);
	r = cluster_req(c, ZOP_CHILDREN);
	if ((rc = zoo_aget_children(c->zh, path, 0, cluster_strings_done, r)) != ZOK)
		cluster_send_failed(c, r, rc, "listing the candidates");
}

/* Watch a node (the predecessor, or our own while leading): ZOP_WATCHED answers. */
static void watch(struct cluster *c, const char *path)
{
	struct zreq *r = cluster_req(c, ZOP_WATCHED);
	int rc = zoo_awexists(c->zh, path, cluster_watcher, c->sess, cluster_stat_done, r);

	if (rc != ZOK)
		cluster_send_failed(c, r, rc, "watching a candidate");
}

void elect_verify(struct cluster *c)
{
	struct zreq *r;
	int rc;

	if (c->node == NULL) {
		elect_start(c);
		return;
	}
	c->seq++;
	c->phase = PHASE_WAIT;
	r = cluster_req(c, ZOP_VERIFY);
	if ((rc = zoo_awexists(c->zh, c->node, cluster_watcher, c->sess, cluster_stat_done, r)) != ZOK)
		cluster_send_failed(c, r, rc, "checking our election node");
}

static void resume(struct cluster *c)
{
	cluster_timer_stop(c);
	c->suspended = false;
	c->leading = true;
	log_info_kv(LOG_FIELDS(.event = "cluster.resumed"), "zookeeper: the same session is back and our election "
	    "node is still there: leading again (epoch %" PRIu64 ")", c->epoch);
	cluster_set_leader(c, c->cfg.self);
	cluster_emit(c, CLUSTER_RESUMED);
}

/* The lowest candidate's data: its address, shown to clients (a header of every answer), so only a sane
 * host:port is taken. */
static void leader_read(struct cluster *c, const char *addr)
{
	if (!cluster_address_valid(addr)) {
		log_warnx("zookeeper: the leader's node %s does not hold a host:port address", c->lowest);
		addr = "";
	}
	cluster_set_leader(c, addr);
}

/* The candidates listed: who leads, whom to watch. */
static void on_children(struct cluster *c, const struct zmsg *m)
{
	const char *mine = NULL, *low = NULL, *pred = NULL;
	long long my_seq = -1, low_seq = -1, pred_seq = -1;
	char path[1100];

	for (int i = 0; i < m->n_names; i++) {
		long long s = cluster_node_seq(m->names[i]);
		if (s < 0)
			continue;
		if (strstr(m->names[i], c->guid)) {
			mine = m->names[i];
			my_seq = s;
		}
		if (low_seq < 0 || s < low_seq) {
			low = m->names[i];
			low_seq = s;
		}
	}
	if (mine == NULL) {
		/* never created (its answer was lost) or gone (an operator deleted it): a candidate again */
		cluster_demote(c, "its election node is gone");
		free(c->node);
		c->node = NULL;
		create_node(c);
		return;
	}
	snprintf(path, sizeof(path), "%s/election/%s", c->cfg.path, mine);
	if (c->node == NULL || strcmp(c->node, path) != 0) {
		free(c->node);
		c->node = xstrdup(path);
	}
	for (int i = 0; i < m->n_names; i++) {
		long long s = cluster_node_seq(m->names[i]);
		if (s >= 0 && s < my_seq && s > pred_seq) {
			pred = m->names[i];
			pred_seq = s;
		}
	}
	free(c->lowest);
	snprintf(path, sizeof(path), "%s/election/%s", c->cfg.path, low);
	c->lowest = xstrdup(path);
	if (pred == NULL) { /* the lowest: we lead */
		if (c->leading) {
			c->phase = PHASE_WAIT;
			watch(c, c->node);
		} else if (c->suspended) {
			c->phase = PHASE_WAIT;
			watch(c, c->node);
			resume(c);
		} else {
			epoch_get(c);
		}
		return;
	}
	cluster_demote(c, "another candidate is lower"); /* cannot happen: sequences only grow */
	c->phase = PHASE_WAIT;
	struct zreq *r = cluster_req(c, ZOP_LEADER);
	int rc = zoo_awget(c->zh, c->lowest, cluster_watcher, c->sess, cluster_data_done, r);
	if (rc != ZOK)
		cluster_send_failed(c, r, rc, "reading the leader's address");
	snprintf(path, sizeof(path), "%s/election/%s", c->cfg.path, pred);
	watch(c, path);
}

static void epoch_get(struct cluster *c)
{
	char path[1100];
	struct zreq *r;
	int rc;

	c->phase = PHASE_EPOCH;
	snprintf(path, sizeof(path), "%s/epoch", c->cfg.path);
	r = cluster_req(c, ZOP_EPOCH_GET);
	if ((rc = zoo_aget(c->zh, path, 0, cluster_data_done, r)) != ZOK)
		cluster_send_failed(c, r, rc, "reading the epoch");
}

/* The epoch read: raise it by one, only if it has not changed since and our node is still there. */
static void epoch_set(struct cluster *c, const struct zmsg *m)
{
	char path[1100], value[32];
	zoo_op_t ops[2];
	struct zreq *r;
	char *end;
	int rc;

	c->epoch_read = strtoull(m->text, &end, 10);
	if (*end != '\0' && *end != '\n') {
		log_warnx("zookeeper: %s/epoch holds '%.40s', not a number: counting from 0", c->cfg.path, m->text);
		c->epoch_read = 0;
	}
	c->epoch_version = m->version;
	snprintf(path, sizeof(path), "%s/epoch", c->cfg.path);
	snprintf(value, sizeof(value), "%" PRIu64, c->epoch_read + 1);
	r = cluster_req(c, ZOP_EPOCH_SET);
	zoo_check_op_init(&ops[0], c->node, -1);
	zoo_set_op_init(&ops[1], path, value, (int)strlen(value), c->epoch_version, &r->stat);
	if ((rc = zoo_amulti(c->zh, 2, ops, r->results, cluster_void_done, r)) != ZOK)
		cluster_send_failed(c, r, rc, "raising the epoch");
}

static void elected(struct cluster *c)
{
	cluster_timer_stop(c);
	c->epoch = c->epoch_read + 1;
	c->leading = true;
	c->suspended = false;
	c->phase = PHASE_WAIT;
	log_info_kv(LOG_FIELDS(.event = "cluster.elected"), "zookeeper: elected the leader (epoch %" PRIu64 ", node %s)",
	    c->epoch, c->node);
	cluster_set_leader(c, c->cfg.self);
	watch(c, c->node);
	cluster_emit(c, CLUSTER_ELECTED);
}

/* A step's answer that failed: the connection (the reconnection goes on), or something to retry. */
static bool failed(struct cluster *c, const struct zmsg *m, const char *what)
{
	if (m->rc == ZOK)
		return false;
	if (m->rc == ZCONNECTIONLOSS || m->rc == ZOPERATIONTIMEOUT || m->rc == ZSESSIONEXPIRED || m->rc == ZCLOSING)
		return true; /* the session's events decide what comes next */
	retry_later(c, what, m->rc);
	return true;
}

static void on_epoch(struct cluster *c, const struct zmsg *m)
{
	if (m->op == ZOP_EPOCH_GET) {
		if (m->rc == ZNONODE) {
			char path[1100];
			struct zreq *r = cluster_req(c, ZOP_EPOCH_NEW);
			int rc;
			snprintf(path, sizeof(path), "%s/epoch", c->cfg.path);
			if ((rc = zoo_acreate(c->zh, path, "0", 1, acl(c), ZOO_PERSISTENT, cluster_string_done, r)) != ZOK)
				cluster_send_failed(c, r, rc, "creating the epoch");
		} else if (!failed(c, m, "reading the epoch")) {
			epoch_set(c, m);
		}
		return;
	}
	if (m->op == ZOP_EPOCH_NEW) {
		if (m->rc == ZOK || m->rc == ZNODEEXISTS)
			epoch_get(c);
		else
			failed(c, m, "creating the epoch");
		return;
	}
	/* ZOP_EPOCH_SET */
	if (m->rc == ZBADVERSION) {
		epoch_get(c); /* raised meanwhile (by an earlier leader's late write): read it again */
	} else if (m->rc == ZNONODE) {
		c->phase = PHASE_WAIT;
		list(c); /* our node is gone */
	} else if (!failed(c, m, "raising the epoch")) {
		if (c->relist)
			log_debug("zookeeper: a watch fired while the epoch was raised");
		elected(c);
		if (c->relist)
			list(c);
	}
}

void elect_handle(struct cluster *c, struct zmsg *m)
{
	if (m->op == ZOP_WATCH) {
		if (m->type == ZOO_DELETED_EVENT || m->type == ZOO_CHANGED_EVENT || m->type == ZOO_CREATED_EVENT)
			elect_relist(c);
		return;
	}
	if (m->seq != c->seq)
		return; /* an older step's */
	switch (m->op) {
	case ZOP_PARENT:
		if (m->rc == ZOK || m->rc == ZNODEEXISTS) {
			c->parent_step++;
			create_parent(c);
		} else {
			failed(c, m, "creating the election's parents");
		}
		break;
	case ZOP_CREATE:
		if (m->rc == ZOK) {
			free(c->node);
			c->node = xstrdup(m->text);
			log_debug("zookeeper: candidate %s", c->node);
			members_read(c); /* the election's parent is there now */
			list(c);
		} else if (m->rc == ZNONODE) {
			elect_start(c); /* the election's parent went away */
		} else {
			failed(c, m, "creating our election node");
		}
		break;
	case ZOP_CHILDREN:
		if (m->rc == ZNONODE)
			elect_start(c); /* the election's parent went away */
		else if (!failed(c, m, "listing the candidates"))
			on_children(c, m);
		break;
	case ZOP_WATCHED:
		if (m->rc == ZNONODE)
			list(c); /* gone between the list and the watch */
		else
			failed(c, m, "watching a candidate");
		break;
	case ZOP_LEADER:
		if (m->rc == ZNONODE)
			list(c);
		else if (!failed(c, m, "reading the leader's address"))
			leader_read(c, m->text);
		break;
	case ZOP_VERIFY:
		if (m->rc == ZOK && c->suspended) {
			resume(c);
		} else if (m->rc == ZNONODE) {
			cluster_demote(c, "its election node is gone");
			list(c);
		} else {
			failed(c, m, "checking our election node");
		}
		break;
	case ZOP_EPOCH_GET:
	case ZOP_EPOCH_NEW:
	case ZOP_EPOCH_SET:
		on_epoch(c, m);
		break;
	case ZOP_SESSION:
	case ZOP_WATCH:
	case ZOP_MEMBERS:
	case ZOP_MEMBER:
	case ZOP_COUNTER:
		break;
	}
}
