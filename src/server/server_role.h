/* This server's scheduling role (DESIGN.md: "scheduler (leader role only)"). Elected, it runs an engine: the
 * engine resumes from the store, reconciles with the runner (a task that still runs is adopted, one that ended
 * while nobody led is recorded as it ended) and starts firing, and control's commands reach it. Stepped down, it
 * has no engine: nothing is dispatched from that moment, running tasks are left alone (they go on under the
 * runner, whose ends are kept for the next leader's reconciliation), the leader-only routes go to the leader
 * (api/proxy.h; 503 when none is known) and control's commands fail with -EAGAIN. Standalone, the server is elected at start-up (the stored epoch raised by one:
 * every server process leads with a new epoch); SIGUSR1 makes it step down and SIGUSR2 elects it again, with the
 * next epoch (server.c). In a cluster (--zk-hosts) ZooKeeper's election drives it (server_cluster.c): elected,
 * it leads with an epoch at least ZooKeeper's; suspended (its session disconnected), it stops dispatching at
 * once but keeps its term; resumed (the same session back), it leads again with the same epoch; demoted, it
 * steps down. Whoever leads, the API is told its address (api_env.leader).
 *
 * Suspension stops the engine as a step-down does (engine_stop: nothing is dispatched, running tasks go on under
 * the runner) and a resumption starts a new one over the store with the term's epoch, which reconciles with the
 * runner: no engine code runs while suspended, at the cost of a recovery on resumption.
 *
 * On SQLite the registry is not reloaded on election: it is what the store holds already (control keeps both in
 * step). On PostgreSQL (server_pg.h) each election reads the database again once its epoch is recorded (cfg.load:
 * after the raise, no earlier leader's write can commit any more), rebuilds the registry from it, and only then
 * resumes the engine. */
#ifndef GNOMON_SERVER_SERVER_ROLE_H
#define GNOMON_SERVER_SERVER_ROLE_H

#include <stdbool.h>
#include <stdint.h>

#include "scheduler/engine.h"

struct api_env;
struct control;
struct registry;
struct schedule_zones;
struct server_role;
struct state;

struct server_role_config {
	struct registry *reg;
	struct state *state;
	struct schedule_zones *zones;
	struct engine_config engine;  /* its epoch is set by each election */
	struct control *control;      /* given the engine of the moment */
	struct api_env *api;          /* its follower flag and leader address follow the role */
	const char *self;             /* this server's address, shown as the leader's while it leads */
	/* Read the store again and rebuild the registry from it, then done(dctx, 0 or a negative errno), never from
	 * inside the call (returns 0, or an error and done is not called): each election does it once its epoch is
	 * recorded, before the engine resumes (PostgreSQL: another leader may have written since the last load).
	 * NULL: nothing to read (SQLite: this server is the only one that writes). */
	int (*load)(void *ctx, void (*done)(void *dctx, int status), void *dctx);
	void *load_ctx;
};

/* Not leading yet; all borrowed, and must outlive it. */
struct server_role *server_role_new(const struct server_role_config *cfg);
/* Steps down first. NULL is fine. While the commit that records an election's epoch is in flight, the role is freed
 * when it completes (the store's close completes it); while the load after it is (cfg.load), at once: the load's
 * owner must not call back once it is closed, right after this. */
void server_role_free(struct server_role *r);
/* Take the scheduling role with the next epoch: the stored one is raised to max(stored + 1, at_least)
 * (state_raise_epoch), so it is higher than any earlier leader's, across restarts too (the runners refuse starts
 * of a lower one), and the engine resumes from the store once that commit completes. 0 (leading, or the commit is
 * in flight and it leads when it completes), -EALREADY when leading or taking it, or the store's or the engine's
 * error (still not leading). */
int server_role_elect(struct server_role *r, uint64_t at_least) __attribute__((warn_unused_result));
/* Give the role up at once (nothing if not leading; an election whose epoch is being recorded does not lead);
 * why is logged and shown (server_role_last_change), a static string. Ends a suspension too. */
void server_role_step_down(struct server_role *r, const char *why);
/* Stop dispatching at once but keep the term (its epoch): nothing if neither leading nor taking the role. */
void server_role_suspend(struct server_role *r);
/* Lead again in the suspended term, with its epoch (no new one is recorded). 0, -EALREADY when not suspended,
 * or the engine's error (then stepped down). */
int server_role_resume(struct server_role *r) __attribute__((warn_unused_result));
bool server_role_leading(const struct server_role *r);
bool server_role_suspended(const struct server_role *r);
/* Call failed(ctx) when an election that server_role_elect() accepted (0) cannot lead after all (the store could
 * not record its epoch, or the engine could not resume): HA gives its candidacy up. */
void server_role_on_failed(struct server_role *r, void (*failed)(void *ctx), void *ctx);
/* The address of the leader that another server is (HA; "" when none is known): shown while not leading. */
void server_role_set_leader(struct server_role *r, const char *addr);
/* The last change of role: what ("elected", "suspended", "resumed", "stepped down"; NULL before the first), why
 * (NULL when there is nothing to say) and when (wall-clock ms); static strings. */
const char *server_role_last_change(const struct server_role *r, const char **why, int64_t *at_ms);
/* The epoch of the current or the last election, 0 before the first. */
uint64_t server_role_epoch(const struct server_role *r);

#endif
