/* Shared by cluster.c (the session on the loop), cluster_elect.c (the election's steps) and cluster_zk.c
 * (ZooKeeper's threads: watchers and completions that post messages). Not an interface. */
#ifndef GNOMON_CLUSTER_CLUSTER_INTERNAL_H
#define GNOMON_CLUSTER_CLUSTER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>
#include <zookeeper/zookeeper.h>

#include "cluster/cluster.h"

/* What a request was for; its completion's message says it back. */
enum zop {
	ZOP_SESSION,   /* a session event (the handle's watcher): state, session id, timeout */
	ZOP_WATCH,     /* a node's watch fired: path */
	ZOP_PARENT,    /* a persistent node on the way to <path>/election was created (or existed) */
	ZOP_CREATE,    /* our candidate node: path */
	ZOP_CHILDREN,  /* the election's children: names */
	ZOP_WATCHED,   /* the predecessor's watch was set (ZOK or ZNONODE: gone already) */
	ZOP_LEADER,    /* the lowest node's data: the leader's address */
	ZOP_EPOCH_GET, /* the epoch node's data and version */
	ZOP_EPOCH_SET, /* the multi (check own node, set epoch) */
	ZOP_EPOCH_NEW, /* creation of the epoch node */
	ZOP_VERIFY,    /* our node still exists (on resumption) */
	ZOP_MEMBERS,   /* the election's children, with a children watch (cluster_members.c) */
	ZOP_MEMBER,    /* one candidate's data: its address (index: its place in the list being read) */
	ZOP_COUNTER,   /* the epoch node's data, with a data watch (cluster_members.c): the leader's epoch; index 1:
	                * whether it exists, with a watch (before the first leader created it) */
};

/* One message from ZooKeeper's threads to the loop. */
struct zmsg {
	struct zmsg *next;
	unsigned gen;      /* the session (handle) it belongs to: older ones are dropped */
	enum zop op;
	uint64_t seq;      /* the election step that sent the request (stale answers are dropped) */
	size_t index;      /* ZOP_MEMBER */
	int rc;            /* ZOK or a ZooKeeper error */
	int state, type;   /* ZOP_SESSION, ZOP_WATCH */
	int64_t session_id;
	int timeout_ms;
	int version;       /* a node's data version */
	char *text;        /* a path, or a node's data */
	char **names;      /* ZOP_CHILDREN */
	int n_names;
};

/* A request in flight: its completion posts a message and frees it. Multi requests keep their results here. */
struct zreq {
	struct cluster *c;
	unsigned gen;
	enum zop op;
	uint64_t seq;
	size_t index;
	zoo_op_result_t results[2];
	struct Stat stat;
};

/* The context ZooKeeper's watchers get: which session. Freed after its handle is closed. */
struct zsess {
	struct cluster *c;
	unsigned gen;
};

enum cluster_phase {
	PHASE_IDLE,     /* no session yet */
	PHASE_PARENTS,  /* creating <path>, its ancestors and <path>/election */
	PHASE_CREATE,   /* creating our candidate node */
	PHASE_LIST,     /* listing the candidates */
	PHASE_EPOCH,    /* lowest: raising the epoch */
	PHASE_WAIT,     /* waiting: a follower for its predecessor, a leader for its own node */
};

struct cluster {
	struct cluster_config cfg;   /* its strings are ours */
	uv_loop_t *loop;
	/* Shared with ZooKeeper's threads. */
	uv_mutex_t lock;             /* guards posted */
	struct zmsg *posted, *posted_tail;
	uv_async_t async;
	/* The loop's. */
	uv_timer_t timer;            /* suspended: demote when it fires; no handle: retry a new session */
	int open_handles;
	bool freeing;
	zhandle_t *zh;
	struct zsess *sess;
	unsigned gen;
	int zstate;                  /* the handle's last session state */
	bool ever_connected;         /* this session was established once */
	int64_t session_id;
	int timeout_ms;              /* negotiated */
	int64_t changed_ms;
	int sessions;
	int backoff_ms;              /* the last wait before a new handle, while none could be made */
	char guid[40];               /* per session: names our candidate node */
	enum cluster_phase phase;
	uint64_t seq;                /* election step: answers of older steps are stale */
	bool relist;                 /* a watch fired while a step was in flight: list again after it */
	int parent_step;             /* PHASE_PARENTS: the prefix of the path being created */
	char *node;                  /* our candidate node's full path, or NULL */
	char *lowest;                /* the lowest candidate's full path */
	char *leader;                /* the leader's address, "" when unknown */
	bool retry;                  /* the timer lists the candidates again (after an unexpected error) */
	uint64_t epoch_read;         /* the epoch node's value read, and its version */
	int epoch_version;
	uint64_t epoch;
	bool leading, suspended;
	const char *why;             /* the last demotion's reason (a static string) */
	/* The instances (cluster_members.c): the list shown, and the one being read (its addresses coming). */
	struct cluster_instance *members, *reading;
	size_t n_members, n_reading, reading_left;
	uint64_t members_seq;        /* the read in flight: answers of older ones are dropped */
	bool members_current;
	int64_t members_read_ms;
	uint64_t counter;            /* <path>/epoch as last read (0: none yet) */
	uv_timer_t members_timer;    /* reads again after an unexpected error */
};

/* cluster_zk.c: ZooKeeper's side. */
void cluster_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx);
struct zreq *cluster_req(struct cluster *c, enum zop op);
void cluster_string_done(int rc, const char *value, const void *data);
void cluster_strings_done(int rc, const struct String_vector *strings, const void *data);
void cluster_data_done(int rc, const char *value, int len, const struct Stat *stat, const void *data);
void cluster_stat_done(int rc, const struct Stat *stat, const void *data);
void cluster_void_done(int rc, const void *data);
void cluster_zk_log(const char *message);
void cluster_msg_free(struct zmsg *m);

/* cluster_elect.c: the election's steps, on the loop. */
void elect_start(struct cluster *c);
void elect_handle(struct cluster *c, struct zmsg *m);
void elect_relist(struct cluster *c);
void elect_verify(struct cluster *c);
void elect_reset(struct cluster *c);

/* cluster_members.c: the instances, on the loop. */
void members_init(struct cluster *c);
/* Read the list again (with a new watch), when the session is connected. */
void members_read(struct cluster *c);
/* The session is not connected: the list is no longer current; what is in flight is dropped. */
void members_stale(struct cluster *c);
void members_handle(struct cluster *c, const struct zmsg *m);
/* Is path <path>/election or <path>/epoch (the watches of cluster_members.c)? */
bool members_path(const struct cluster *c, const char *path);
void members_free(struct cluster *c);

/* cluster.c: to the server, and the timer. */
void cluster_emit(struct cluster *c, enum cluster_event ev);
/* Leadership lost (nothing when neither leading nor suspended): CLUSTER_DEMOTED, logged with why. */
void cluster_demote(struct cluster *c, const char *why);
/* Start the election over after ms (an unexpected error); not while suspended (its reconnection does). */
void cluster_retry(struct cluster *c, uint64_t ms);
void cluster_timer_stop(struct cluster *c);
void cluster_set_leader(struct cluster *c, const char *addr);
/* A request could not be sent (its completion will not run): free it, log what failed and start over later. */
void cluster_send_failed(struct cluster *c, struct zreq *r, int rc, const char *what);

#endif
