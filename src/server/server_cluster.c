#include "server/server_cluster.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "job/job.h"
#include "server/server_config.h"
#include "server/server_role.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define DEFAULT_ZK_PATH "/gnomon"

struct server_cluster {
	struct cluster *cluster;
	struct server_role *role;
	bool (*may_lead)(void *ctx, const char **why);
	void *may_lead_ctx;
	uv_timer_t *gate;        /* an election may_lead refused: resigned once the election's own requests ended */
};

#define GATE_RESIGN_MS 250 /* an election refused is resigned this long after: resigning at once closed the session
                            * under the election's requests in flight, which the ZooKeeper client then leaks */

static void gate_resign(uv_timer_t *t)
{
	struct server_cluster *sc = t->data;

	if (cluster_leading(sc->cluster))
		cluster_resign(sc->cluster);
}

static void gate_closed(uv_handle_t *h)
{
	free(h);
}

/* The ensemble and the path: --zk-path, else a zk:// path, else /gnomon. Allocates both. */
static int ensemble(const struct server_config *cfg, char **hosts, char **path, char *err, size_t errlen)
{
	char *spec_path = NULL;
	int rc = cluster_parse_hosts(cfg->zk_hosts, hosts, &spec_path, err, errlen);

	if (rc < 0)
		return rc;
	if (cfg->zk_path && cfg->zk_path[0]) {
		free(spec_path);
		*path = xstrdup(cfg->zk_path);
	} else {
		*path = spec_path ? spec_path : xstrdup(DEFAULT_ZK_PATH);
	}
	return 0;
}

int server_cluster_check(const struct server_config *cfg, char *err, size_t errlen)
{
	char *hosts = NULL, *path = NULL;
	int rc = 0;

	if (cfg->advertise_address && cfg->advertise_address[0] && !cluster_address_valid(cfg->advertise_address)) {
		snprintf(err, errlen, "--advertise-address: expected host:port, got '%s'", cfg->advertise_address);
		return -EINVAL;
	}
	if (cfg->zk_hosts == NULL || cfg->zk_hosts[0] == '\0')
		return 0;
	if ((rc = ensemble(cfg, &hosts, &path, err, errlen)) == 0 &&
	    (path[0] != '/' || (strlen(path) > 1 && path[strlen(path) - 1] == '/') || strstr(path, "//") ||
		strlen(path) > CLUSTER_PATH_MAX)) {
		snprintf(err, errlen, "--zk-path: expected an absolute path such as /gnomon (at most %d bytes), got '%.80s'",
		    CLUSTER_PATH_MAX, path);
		rc = -EINVAL;
	}
	free(hosts);
	free(path);
	return rc;
}

static bool loopback_host(const char *host)
{
	return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0;
}

char *server_advertise_address(const struct server_config *cfg, int port)
{
	const char *host = cfg->http_address;
	char *addr;

	if (cfg->advertise_address && cfg->advertise_address[0])
		addr = xstrdup(cfg->advertise_address);
	else if (cfg->zk_hosts == NULL || cfg->zk_hosts[0] == '\0')
		return xasprintf("%s:%d", cfg->hostname, port); /* standalone: Chronos's leader id */
	else if (host[0] == '\0' || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0)
		addr = xasprintf("%s:%d", cfg->hostname, port);
	else
		addr = strchr(host, ':') ? xasprintf("[%s]:%d", host, port) : xasprintf("%s:%d", host, port);
	if (cfg->zk_hosts && cfg->zk_hosts[0]) {
		char *h = xstrdup(addr), *colon = strrchr(h, ':');
		*colon = '\0';
		if ((loopback_host(h) || strcmp(h, "[::1]") == 0) && !cluster_hosts_loopback(cfg->zk_hosts))
			log_warnx("advertising %s, a loopback address, to a ZooKeeper ensemble that is not on this machine: "
			    "the other servers cannot reach it (--advertise-address HOST:PORT)", addr);
		free(h);
	}
	return addr;
}

/* ZooKeeper's election drives the role. */
static void on_cluster(void *ctx, enum cluster_event ev, uint64_t epoch)
{
	struct server_cluster *sc = ctx;
	struct cluster_health h;
	const char *why = NULL;
	int rc;

	switch (ev) {
	case CLUSTER_ELECTED:
		if (sc->may_lead && !sc->may_lead(sc->may_lead_ctx, &why)) {
			log_warnx("elected by ZooKeeper (epoch %" PRIu64 ") but %s: letting another server lead", epoch, why);
			uv_timer_start(sc->gate, gate_resign, GATE_RESIGN_MS, 0);
		} else if ((rc = server_role_elect(sc->role, epoch)) < 0 && rc != -EALREADY) {
			log_warnx("elected by ZooKeeper (epoch %" PRIu64 ") but cannot take the scheduling role (%s): "
			    "letting another server lead", epoch, strerror(-rc));
			cluster_resign(sc->cluster);
		}
		break;
	case CLUSTER_SUSPENDED:
		server_role_suspend(sc->role);
		break;
	case CLUSTER_RESUMED:
		if ((rc = server_role_resume(sc->role)) < 0 && rc != -EALREADY) {
			log_warnx("cannot resume the scheduling role (%s): letting another server lead", strerror(-rc));
			cluster_resign(sc->cluster);
		}
		break;
	case CLUSTER_DEMOTED:
		cluster_health(sc->cluster, &h);
		server_role_step_down(sc->role, h.why ? h.why : "ZooKeeper: leadership lost");
		break;
	case CLUSTER_LEADER:
		break;
	}
	server_role_set_leader(sc->role, cluster_leader(sc->cluster));
}

/* An election the role accepted could not lead after all. */
static void role_failed(void *ctx)
{
	struct server_cluster *sc = ctx;

	log_warnx("could not take the scheduling role ZooKeeper gave: letting another server lead");
	cluster_resign(sc->cluster);
}

int server_cluster_new(uv_loop_t *loop, const struct server_config *cfg, const char *self, struct server_role *role,
    struct server_cluster **out, char *err, size_t errlen)
{
	struct server_cluster *sc = xcalloc(1, sizeof(*sc));
	char *hosts = NULL, *path = NULL;
	int rc;

	sc->role = role;
	if ((rc = ensemble(cfg, &hosts, &path, err, errlen)) == 0)
		rc = cluster_new(loop, &(struct cluster_config){.hosts = hosts, .path = path,
			.timeout_ms = (int)cfg->zk_timeout, .auth = cfg->zk_auth, .self = self, .on_event = on_cluster,
			.ctx = sc}, &sc->cluster, err, errlen);
	if (rc == 0) {
		server_role_on_failed(role, role_failed, sc);
		sc->gate = xcalloc(1, sizeof(*sc->gate));
		uv_timer_init(loop, sc->gate);
		sc->gate->data = sc;
	}
	if (rc == 0)
		log_info("joining the election of ZooKeeper %s under %s as %s", hosts, path, self);
	free(hosts);
	free(path);
	if (rc < 0) {
		free(sc);
		return rc;
	}
	*out = sc;
	return 0;
}

void server_cluster_gate(struct server_cluster *sc, bool (*may_lead)(void *ctx, const char **why), void *ctx)
{
	sc->may_lead = may_lead;
	sc->may_lead_ctx = ctx;
}

void server_cluster_free(struct server_cluster *sc)
{
	if (sc == NULL)
		return;
	uv_close((uv_handle_t *)sc->gate, gate_closed);
	cluster_free(sc->cluster);
	free(sc);
}

json_t *server_time_or_null(int64_t ms)
{
	char buf[JOB_TIME_BUFSZ];

	if (ms <= 0)
		return json_null();
	job_time_format(ms, buf);
	return json_string(buf);
}

static json_t *zookeeper_json(const struct server_cluster *sc)
{
	struct cluster_health h;
	struct cluster_instances in;
	char id[32];

	cluster_health(sc->cluster, &h);
	cluster_instances(sc->cluster, &in);
	snprintf(id, sizeof(id), "0x%" PRIx64, (uint64_t)h.session_id);
	return json_pack("{s:s, s:s, s:s, s:b, s:o, s:i, s:i, s:o, s:I, s:I, s:o}", "hosts", h.hosts, "path", h.path,
	    "state", h.state, "connected", h.connected, "sessionId", h.session_id ? json_string(id) : json_null(),
	    "sessionTimeoutMs", h.timeout_ms, "sessions", h.sessions, "lastChange", server_time_or_null(h.changed_ms),
	    "epoch", (json_int_t)h.epoch, "epochCounter", (json_int_t)in.epoch, "lastDemotion",
	    h.why ? json_string(h.why) : json_null());
}

void server_cluster_resign(struct server_cluster *sc)
{
	cluster_resign(sc->cluster);
}

/* This instance's own role among the instances: what it knows of itself, not its place in a list. */
static const char *self_role(const struct server_cluster *sc, const struct server_role *role, bool first)
{
	if (server_role_leading(role))
		return "leader";
	if (server_role_suspended(role))
		return "suspended";
	if (sc == NULL)
		return "stepped-down";
	return first ? "electing" : "follower";
}

/* The instances: the election's candidates in order (the first leads), each with its role; standalone, this
 * server alone. Adds "instances", "instancesCurrent" and "instancesReadAt" to view. */
static void instances_json(json_t *view, const struct server_cluster *sc, const struct server_role *role,
    const char *self)
{
	json_t *list = json_array();
	struct cluster_instances in = {.current = true};

	if (sc == NULL) {
		json_array_append_new(list, json_pack("{s:s, s:s, s:b, s:n}", "address", self, "role",
		    self_role(sc, role, true), "self", true, "node"));
	} else {
		cluster_instances(sc->cluster, &in);
		for (size_t i = 0; i < in.n; i++) {
			const struct cluster_instance *it = &in.list[i];
			const char *r = it->self ? self_role(sc, role, i == 0) : i == 0 ? "leader" : "follower";
			json_array_append_new(list, json_pack("{s:o, s:s, s:b, s:s}", "address",
			    it->address[0] ? json_string(it->address) : json_null(), "role", r, "self", it->self, "node",
			    it->node));
		}
	}
	json_object_set_new(view, "instances", list);
	json_object_set_new(view, "instancesCurrent", json_boolean(in.current));
	json_object_set_new(view, "instancesReadAt", server_time_or_null(in.read_ms));
}

json_t *server_cluster_json(const struct server_cluster *sc, const struct server_role *role, const char *self,
    json_t *postgres)
{
	bool leading = server_role_leading(role), suspended = server_role_suspended(role);
	const char *leader = leading ? self : sc ? cluster_leader(sc->cluster) : "";
	const char *what, *why;
	json_t *view;
	int64_t at;

	what = server_role_last_change(role, &why, &at);
	view = json_pack("{s:s, s:s, s:b, s:b, s:I, s:s, s:o, s:{s:o, s:o, s:o}, s:o, s:o}",
	    "mode", sc ? "ha" : "standalone",
	    "role", sc == NULL ? "standalone" : leading ? "leader" : "follower",
	    "leading", leading,
	    "suspended", suspended,
	    "epoch", (json_int_t)server_role_epoch(role),
	    "self", self,
	    "leader", leader[0] ? json_string(leader) : json_null(),
	    "lastRoleChange", "what", what ? json_string(what) : json_null(), "why", why ? json_string(why) : json_null(),
	    "at", server_time_or_null(at),
	    "zookeeper", sc ? zookeeper_json(sc) : json_null(),
	    "postgres", postgres);
	instances_json(view, sc, role, self);
	return view;
}

const char *server_cluster_no_leader(const struct server_cluster *sc)
{
	struct cluster_health h;

	if (sc == NULL)
		return "no leader: this server stepped down (SIGUSR2 makes it lead again)";
	cluster_health(sc->cluster, &h);
	if (!h.connected)
		return "no leader: ZooKeeper quorum lost or out of reach (this server's session is not connected)";
	return "no leader: election in progress";
}
