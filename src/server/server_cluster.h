/* The server as one of several (--zk-hosts, issue 13): its advertised address, ZooKeeper's election (src/cluster)
 * driving the scheduling role (elected, suspended, resumed, demoted, and the leader's address), and what
 * GET /api/v1/cluster shows, standalone too. */
#ifndef GNOMON_SERVER_SERVER_CLUSTER_H
#define GNOMON_SERVER_SERVER_CLUSTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct server_cluster;
struct server_config;
struct server_role;

/* Check the HA options once they are read: --zk-hosts (and its zk:// path), --zk-path, --advertise-address.
 * 0, or -EINVAL with err naming the option. */
int server_cluster_check(const struct server_config *cfg, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* The address this server is named by as the leader: --advertise-address, else --hostname and the port
 * (standalone, as Chronos), else (HA) --http-address and the port (--hostname for 0.0.0.0 or ::). Warns when a
 * loopback address is advertised to an ensemble that is not on loopback. The caller frees it. */
char *server_advertise_address(const struct server_config *cfg, int port);
/* Join the election (cfg->zk_hosts is set): the role follows it from here on; self is borrowed and must outlive
 * it. 0, or a negative errno with err. */
int server_cluster_new(uv_loop_t *loop, const struct server_config *cfg, const char *self, struct server_role *role,
    struct server_cluster **out, char *err, size_t errlen) __attribute__((warn_unused_result));
/* may_lead(ctx, &why) is asked at each election: false (why static) and this server resigns at once, without
 * taking the role (its clock is off: server_clock.h). */
void server_cluster_gate(struct server_cluster *sc, bool (*may_lead)(void *ctx, const char **why), void *ctx);
/* Wall-clock ms as the API's ISO 8601 UTC string, json null for 0 or less (a new reference). */
json_t *server_time_or_null(int64_t ms);
/* Leave the election (the session is closed: another server takes over at once). NULL is fine. */
void server_cluster_free(struct server_cluster *sc);
/* Why no leader is known, for the API's 503 (a static string): standalone (sc NULL), this server stepped down;
 * else ZooKeeper out of reach (the quorum lost, or this server cut off), or an election in progress. */
const char *server_cluster_no_leader(const struct server_cluster *sc);
/* Give the candidacy up (cluster_resign): another server leads, this one joins again at the back. */
void server_cluster_resign(struct server_cluster *sc);
/* GET /api/v1/cluster's body: this server's role, epoch, the leader, ZooKeeper's health (null standalone:
 * sc NULL), PostgreSQL's (postgres, taken: json null on SQLite, server_pg_json()), and the instances: the
 * election's candidates in order, each one's address, role ("leader", "follower"; this one's own: also
 * "electing", "suspended", "stepped-down"), node and whether it is this one, with whether that list is current
 * (ZooKeeper reached) and when it was read; standalone, this server alone. A new reference. */
json_t *server_cluster_json(const struct server_cluster *sc, const struct server_role *role, const char *self,
    json_t *postgres);

#endif
