/* The ZooKeeper client bridged to the loop (DESIGN.md's `cluster`): this instance's candidacy in the election
 * under <path>/election, the leader's address, the epoch, and the role changes told to the loop as events.
 *
 * Election (ZooKeeper's recipe): each instance creates an ephemeral-sequential node
 * <path>/election/n_<guid>-<seq> holding its advertised address; the lowest sequence leads; every other one
 * watches only its predecessor (no herd), and reads (and watches) the lowest node's data for the leader's
 * address. A create whose answer was lost is found again by its guid, so no ghost candidate stays behind.
 *
 * Epoch: a persistent counter, <path>/epoch (decimal text). Having won, the instance raises it by one in a
 * ZooKeeper multi that also checks its election node still exists, with the set conditional on the version it
 * read (compare-and-set): the epoch grows by one per leadership, across the life of the ensemble's data (not
 * per session, per process or per election parent), and a candidate whose node is gone cannot take one.
 *
 * Session: disconnected (ZooKeeper's CONNECTING state), a leader is SUSPENDED at once: it must stop
 * dispatching, because the ensemble may expire its session (and elect another) before the client learns it.
 * The same session back within a third of the session timeout, and its election node still there: RESUMED,
 * same epoch. Past that third, or on expiry, or when its node is gone: DEMOTED. An expired session is closed
 * and a new one joins the election again, without restarting the process.
 *
 * Threads: ZooKeeper's two threads (I/O and completions) only copy what they learn into messages posted to the
 * loop (a mutex-guarded list and a uv_async); every decision, all state and the events run on the loop thread.
 * Requests are sent from the loop thread (zookeeper_mt's functions may be called from any thread). */
#ifndef GNOMON_CLUSTER_CLUSTER_H
#define GNOMON_CLUSTER_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct cluster;

#define CLUSTER_PATH_MAX 512 /* the longest --zk-path */

enum cluster_event {
	CLUSTER_ELECTED,   /* this instance leads, with the epoch given */
	CLUSTER_SUSPENDED, /* the leader's session is disconnected: stop dispatching now */
	CLUSTER_RESUMED,   /* the same session came back in time, its node still there: the leader goes on */
	CLUSTER_DEMOTED,   /* leadership lost (expired session, suspended too long, node gone): step down */
	CLUSTER_LEADER,    /* the leader's address changed (cluster_leader()); "" when none is known */
};

struct cluster_config {
	const char *hosts;   /* the ensemble, "h1:2181,h2:2181" (cluster_parse_hosts() takes zk:// forms apart) */
	const char *path;    /* the root of gnomon's nodes, "/gnomon" (created when missing) */
	int timeout_ms;      /* the session timeout asked for (the ensemble clamps it) */
	const char *auth;    /* digest "user:password" (zoo_add_auth; nodes are then the creator's), or NULL */
	const char *self;    /* this instance's advertised "host:port", the data of its election node */
	/* Called on the loop thread, never from inside a call to the cluster; epoch is meaningful for ELECTED
	 * (RESUMED and DEMOTED give the current one). */
	void (*on_event)(void *ctx, enum cluster_event ev, uint64_t epoch);
	void *ctx;
};

/* What GET /api/v1/cluster shows of ZooKeeper. */
struct cluster_health {
	const char *hosts;       /* the ensemble string */
	const char *path;
	const char *state;       /* "connecting", "connected", "disconnected" (session kept), "expired", "auth_failed" */
	bool connected;
	int64_t session_id;      /* 0 before the first session is established */
	int timeout_ms;          /* negotiated (the configured one before the first connection) */
	int64_t changed_ms;      /* wall-clock ms of the last change of state */
	int sessions;            /* sessions established so far (more than 1: an expiry was survived) */
	bool leading, suspended;
	uint64_t epoch;          /* of the current or last leadership, 0 before any */
	const char *why;         /* why the last leadership was lost, NULL before any loss */
};

/* One candidate of the election: an instance of the cluster (GET /api/v1/cluster's "instances"). */
struct cluster_instance {
	const char *node;    /* its election node's name, "n_<guid>-0000000042" */
	const char *address; /* the advertised "host:port" its node holds; "" when unreadable or not a host:port */
	bool self;           /* this instance's node (of the session it was read on) */
};

/* The candidates as last read, in election order: the first leads (or is being elected). The list is kept by a
 * children watch on <path>/election; current is true while the session that read it is connected (every change
 * since is read again as it comes), false when ZooKeeper is out of reach or nothing was read yet: the list is
 * then the last one read, at read_ms (wall-clock ms; 0: never). Valid until the loop runs again. */
struct cluster_instances {
	const struct cluster_instance *list;
	size_t n;
	bool current;
	int64_t read_ms;
	uint64_t epoch; /* <path>/epoch as last read (and watched): the current or last leader's epoch; 0: none */
};

/* Start: the session is established in the background (events follow). 0, or -EINVAL with err (a host list
 * ZooKeeper's client refuses, a path that is not absolute). cfg's strings are copied. */
int cluster_new(uv_loop_t *loop, const struct cluster_config *cfg, struct cluster **out, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Close the session (its election node goes at once, so another instance takes over without waiting for the
 * session timeout) and free it once its handles are closed: run the loop afterwards. No event is called from
 * here on. NULL is fine. */
void cluster_free(struct cluster *c);
/* The leader's advertised address ("" while none is known, or this session is disconnected); valid until the
 * next CLUSTER_LEADER event. */
const char *cluster_leader(const struct cluster *c);
/* Give this candidacy up (elected but unable to lead, say): DEMOTED when it led, the session is closed (its node
 * goes, the next candidate leads) and a new one joins the election again, at the back, a second later. */
void cluster_resign(struct cluster *c);
bool cluster_leading(const struct cluster *c);
void cluster_health(const struct cluster *c, struct cluster_health *out);
void cluster_instances(const struct cluster *c, struct cluster_instances *out);
/* The sequence number of an election node's name ("n_<guid>-0000000042"), or -1 when it is not one. */
long long cluster_node_seq(const char *name);

/* Take Chronos's --zk_hosts apart: "h1:2181,h2:2181", or "zk://h1:2181,h2:2181/chronos/state" whose path (when
 * there is one) goes to *path. Allocates *hosts, and *path or NULL (the caller frees both). 0, or -EINVAL with
 * err (empty, a host without a port, white space). */
int cluster_parse_hosts(const char *spec, char **hosts, char **path, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Is addr a sane advertised "host:port" (printable, no white space or '/', at most 255 bytes, a port of 1 to
 * 65535)? What an election node must hold to be shown as the leader (a header of every answer). */
bool cluster_address_valid(const char *addr);
/* Are all the hosts of "h1:p,h2:p" loopback names or addresses (localhost, 127.x, ::1)? */
bool cluster_hosts_loopback(const char *hosts);

#endif
