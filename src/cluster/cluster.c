/* The cluster's session on the loop: the handle's life (new session, suspension, resumption, expiry and a new
 * session), the messages ZooKeeper's threads posted, the events told to the server, health. The election's steps
 * are cluster_elect.c's. */
#include "cluster/cluster_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define RETRY_MS 1000        /* a handle that could not be made, or whose authentication failed: try again after */
#define RETRY_MAX_MS 30000   /* ... doubled at each failure in a row, up to this */

static void new_session(struct cluster *c);
static void on_timer(uv_timer_t *t);

void cluster_emit(struct cluster *c, enum cluster_event ev)
{
	if (c->cfg.on_event && !c->freeing)
		c->cfg.on_event(c->cfg.ctx, ev, c->epoch);
}

void cluster_set_leader(struct cluster *c, const char *addr)
{
	if (strcmp(c->leader, addr) == 0)
		return;
	free(c->leader);
	c->leader = xstrdup(addr);
	if (addr[0])
		log_info_kv(LOG_FIELDS(.event = "cluster.leader"), "the leader is %s", addr);
	cluster_emit(c, CLUSTER_LEADER);
}

void cluster_send_failed(struct cluster *c, struct zreq *r, int rc, const char *what)
{
	free(r);
	if (rc == ZINVALIDSTATE)
		return; /* the session expired or its authentication failed: its event follows, and a new session */
	log_warnx("zookeeper: %s: %s (trying again in %d ms)", what, zerror(rc), RETRY_MS);
	cluster_retry(c, RETRY_MS);
}

static void set_state(struct cluster *c, int zstate)
{
	c->zstate = zstate;
	c->changed_ms = clock_now_ms();
	if (zstate != ZOO_CONNECTED_STATE)
		members_stale(c);
}

void cluster_demote(struct cluster *c, const char *why)
{
	if (!c->leading && !c->suspended)
		return;
	uv_timer_stop(&c->timer);
	c->why = why;
	c->leading = c->suspended = false;
	log_warnx_kv(LOG_FIELDS(.event = "cluster.demoted"), "no longer the leader (epoch %" PRIu64 "): %s", c->epoch,
	    why);
	cluster_emit(c, CLUSTER_DEMOTED);
}

/* Close the handle (its threads are joined: every completion has run and posted by the time this returns). */
static void close_handle(struct cluster *c)
{
	if (c->zh == NULL)
		return;
	zookeeper_close(c->zh);
	c->zh = NULL;
	free(c->sess);
	c->sess = NULL;
}

static void on_timer(uv_timer_t *t)
{
	struct cluster *c = t->data;

	if (c->zh == NULL) {
		new_session(c);
		return;
	}
	if (c->retry) {
		c->retry = false;
		if (c->zstate == ZOO_CONNECTED_STATE)
			elect_start(c);
		return;
	}
	if (c->suspended) /* disconnected for a third of the session timeout: it may be expired by now */
		cluster_demote(c, "ZooKeeper was out of reach for a third of the session timeout");
}

void cluster_retry(struct cluster *c, uint64_t ms)
{
	if (c->suspended || c->freeing)
		return;
	c->retry = true;
	uv_timer_start(&c->timer, on_timer, ms, 0);
}

void cluster_timer_stop(struct cluster *c)
{
	c->retry = false;
	uv_timer_stop(&c->timer);
}

static void new_session(struct cluster *c)
{
	unsigned char rnd[8];

	close_handle(c);
	elect_reset(c);
	c->gen++;
	c->ever_connected = false;
	c->session_id = 0;
	if (uv_random(NULL, NULL, rnd, sizeof(rnd), 0, NULL) < 0)
		memset(rnd, 0, sizeof(rnd));
	snprintf(c->guid, sizeof(c->guid), "%02x%02x%02x%02x%02x%02x%02x%02x%08x", rnd[0], rnd[1], rnd[2], rnd[3],
	    rnd[4], rnd[5], rnd[6], rnd[7], c->gen);
	c->sess = xcalloc(1, sizeof(*c->sess));
	c->sess->c = c;
	c->sess->gen = c->gen;
	set_state(c, ZOO_CONNECTING_STATE);
	c->zh = zookeeper_init2(c->cfg.hosts, cluster_watcher, c->cfg.timeout_ms, NULL, c->sess, 0, cluster_zk_log);
	if (c->zh == NULL) {
		c->backoff_ms = c->backoff_ms ? (c->backoff_ms * 2 < RETRY_MAX_MS ? c->backoff_ms * 2 : RETRY_MAX_MS)
		    : RETRY_MS;
		log_warn("zookeeper: cannot start a session with %s (trying again in %d ms)", c->cfg.hosts, c->backoff_ms);
		free(c->sess);
		c->sess = NULL;
		uv_timer_start(&c->timer, on_timer, (uint64_t)c->backoff_ms, 0);
		return;
	}
	if (c->cfg.auth && c->cfg.auth[0]) {
		int rc = zoo_add_auth(c->zh, "digest", c->cfg.auth, (int)strlen(c->cfg.auth), NULL, NULL);
		if (rc != ZOK)
			log_warnx("zookeeper: cannot add the digest credentials: %s", zerror(rc));
	}
}

/* Demoted, the session closed, and a new one a second later; zstate is the state shown meanwhile. */
static void leave(struct cluster *c, const char *why, int zstate)
{
	cluster_set_leader(c, "");
	cluster_demote(c, why);
	close_handle(c);
	set_state(c, zstate);
	c->ever_connected = false;
	c->session_id = 0;
	uv_timer_start(&c->timer, on_timer, RETRY_MS, 0);
}

void cluster_resign(struct cluster *c)
{
	if (c->zh == NULL || c->freeing)
		return;
	log_warnx_kv(LOG_FIELDS(.event = "cluster.resigned"), "zookeeper: giving up this candidacy: a new session "
	    "joins the election again in %d ms", RETRY_MS);
	leave(c, "it resigned (it could not lead)", ZOO_CONNECTING_STATE);
}

static void on_connected(struct cluster *c, const struct zmsg *m)
{
	bool back = c->ever_connected;

	c->session_id = m->session_id;
	c->timeout_ms = m->timeout_ms > 0 ? m->timeout_ms : c->cfg.timeout_ms;
	c->backoff_ms = 0;
	members_read(c);
	if (!back) {
		c->ever_connected = true;
		c->sessions++;
		log_info_kv(LOG_FIELDS(.event = "cluster.connected"), "zookeeper: session 0x%" PRIx64 " established "
		    "(timeout %d ms)", (uint64_t)c->session_id, c->timeout_ms);
		elect_start(c);
		return;
	}
	log_info_kv(LOG_FIELDS(.event = "cluster.reconnected"), "zookeeper: session 0x%" PRIx64 " reconnected",
	    (uint64_t)c->session_id);
	if (c->suspended) {
		uv_timer_stop(&c->timer);
		elect_verify(c); /* resumed once our node is seen still there */
	} else {
		elect_start(c); /* what was in flight failed: over again (a lost create is found by its guid) */
	}
}

static void on_disconnected(struct cluster *c)
{
	int third = (c->timeout_ms > 0 ? c->timeout_ms : c->cfg.timeout_ms) / 3;

	log_warnx_kv(LOG_FIELDS(.event = "cluster.disconnected"), "zookeeper: session 0x%" PRIx64 " disconnected%s",
	    (uint64_t)c->session_id, c->leading ? ": the leader suspends its scheduling" : "");
	cluster_set_leader(c, "");
	if (!c->leading && !c->suspended)
		return;
	if (c->leading) {
		c->leading = false;
		c->suspended = true;
		cluster_emit(c, CLUSTER_SUSPENDED);
	}
	c->retry = false;
	if (!c->freeing)
		uv_timer_start(&c->timer, on_timer, (uint64_t)(third > 0 ? third : 1), 0);
}

static void on_session(struct cluster *c, const struct zmsg *m)
{
	int was = c->zstate;

	set_state(c, m->state);
	if (m->state == ZOO_CONNECTED_STATE) {
		on_connected(c, m);
	} else if (m->state == ZOO_CONNECTING_STATE || m->state == ZOO_ASSOCIATING_STATE) {
		if (was == ZOO_CONNECTED_STATE)
			on_disconnected(c);
	} else if (m->state == ZOO_EXPIRED_SESSION_STATE) {
		log_warnx_kv(LOG_FIELDS(.event = "cluster.expired"), "zookeeper: session 0x%" PRIx64 " expired: "
		    "joining the election again with a new session", (uint64_t)c->session_id);
		cluster_set_leader(c, "");
		cluster_demote(c, "its ZooKeeper session expired");
		new_session(c);
	} else if (m->state == ZOO_AUTH_FAILED_STATE) {
		log_warnx("zookeeper: authentication failed (--zk-auth): trying again in %d ms", RETRY_MS);
		leave(c, "its ZooKeeper authentication failed", ZOO_AUTH_FAILED_STATE);
	}
}

/* What ZooKeeper's threads posted, oldest first; the list is the caller's. */
static struct zmsg *take_posted(struct cluster *c)
{
	struct zmsg *m;

	uv_mutex_lock(&c->lock);
	m = c->posted;
	c->posted = c->posted_tail = NULL;
	uv_mutex_unlock(&c->lock);
	return m;
}

static void on_async(uv_async_t *h)
{
	struct cluster *c = h->data;
	struct zmsg *m, *next;

	for (m = take_posted(c); m; m = next) {
		next = m->next;
		if (m->gen == c->gen && c->zh && !c->freeing) {
			if (m->op == ZOP_SESSION)
				on_session(c, m);
			else if (m->op == ZOP_MEMBERS || m->op == ZOP_MEMBER || m->op == ZOP_COUNTER ||
			    (m->op == ZOP_WATCH && members_path(c, m->text)))
				members_handle(c, m);
			else
				elect_handle(c, m);
		}
		cluster_msg_free(m);
	}
}

int cluster_new(uv_loop_t *loop, const struct cluster_config *cfg, struct cluster **out, char *err, size_t errlen)
{
	struct cluster *c;

	if (cfg->path == NULL || cfg->path[0] != '/' || strlen(cfg->path) > CLUSTER_PATH_MAX ||
	    (strlen(cfg->path) > 1 && cfg->path[strlen(cfg->path) - 1] == '/')) {
		snprintf(err, errlen, "--zk-path: expected an absolute path such as /gnomon (at most %d bytes), got '%.80s'",
		    CLUSTER_PATH_MAX, cfg->path ? cfg->path : "");
		return -EINVAL;
	}
	c = xcalloc(1, sizeof(*c));
	c->cfg = *cfg;
	c->cfg.hosts = xstrdup(cfg->hosts);
	c->cfg.path = xstrdup(strcmp(cfg->path, "/") == 0 ? "" : cfg->path);
	c->cfg.auth = cfg->auth ? xstrdup(cfg->auth) : NULL;
	c->cfg.self = xstrdup(cfg->self);
	c->loop = loop;
	c->leader = xstrdup("");
	c->timeout_ms = cfg->timeout_ms;
	if (uv_mutex_init(&c->lock) < 0)
		fatalx("cannot initialise a mutex");
	uv_async_init(loop, &c->async, on_async);
	uv_timer_init(loop, &c->timer);
	c->async.data = c->timer.data = c;
	members_init(c);
	c->open_handles = 3;
	zoo_set_debug_level(ZOO_LOG_LEVEL_WARN); /* its INFO lines are per connection attempt */
	new_session(c);
	if (c->zh == NULL && errno == EINVAL) {
		snprintf(err, errlen, "--zk-hosts: ZooKeeper's client refuses '%s' (expected host:port[,host:port...])",
		    cfg->hosts);
		cluster_free(c);
		return -EINVAL;
	}
	*out = c;
	return 0;
}

static void on_closed(uv_handle_t *h)
{
	struct cluster *c = h->data;

	if (--c->open_handles > 0)
		return;
	members_free(c);
	free(c->node);
	free(c->lowest);
	free(c->leader);
	free((char *)(uintptr_t)c->cfg.hosts);
	free((char *)(uintptr_t)c->cfg.path);
	free((char *)(uintptr_t)c->cfg.auth);
	free((char *)(uintptr_t)c->cfg.self);
	uv_mutex_destroy(&c->lock);
	free(c);
}

void cluster_free(struct cluster *c)
{
	struct zmsg *m, *next;

	if (c == NULL)
		return;
	c->freeing = true;
	close_handle(c); /* the session ends now: our node goes with it */
	for (m = take_posted(c); m; m = next) {
		next = m->next;
		cluster_msg_free(m);
	}
	uv_close((uv_handle_t *)&c->async, on_closed);
	uv_close((uv_handle_t *)&c->timer, on_closed);
	uv_close((uv_handle_t *)&c->members_timer, on_closed);
}

const char *cluster_leader(const struct cluster *c)
{
	return c->leader;
}

bool cluster_leading(const struct cluster *c)
{
	return c->leading;
}

void cluster_health(const struct cluster *c, struct cluster_health *out)
{
	*out = (struct cluster_health){
		.hosts = c->cfg.hosts,
		.path = c->cfg.path[0] ? c->cfg.path : "/",
		.connected = c->zstate == ZOO_CONNECTED_STATE,
		.session_id = c->session_id,
		.timeout_ms = c->timeout_ms,
		.changed_ms = c->changed_ms,
		.sessions = c->sessions,
		.leading = c->leading,
		.suspended = c->suspended,
		.epoch = c->epoch,
		.why = c->why,
	};
	if (c->zstate == ZOO_CONNECTED_STATE)
		out->state = "connected";
	else if (c->zstate == ZOO_EXPIRED_SESSION_STATE)
		out->state = "expired";
	else if (c->zstate == ZOO_AUTH_FAILED_STATE)
		out->state = "auth_failed";
	else
		out->state = c->ever_connected ? "disconnected" : "connecting";
}
