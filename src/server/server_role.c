#include "server/server_role.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/proxy.h"
#include "control/control.h"
#include "scheduler/engine.h"
#include "state/state.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xmalloc.h"

struct server_role {
	struct server_role_config cfg;
	struct engine *engine;   /* while leading */
	uint64_t epoch;
	bool taking;             /* the commit that raises the stored epoch is in flight, or the load after it */
	bool loading;            /* that load (cfg.load) is in flight */
	bool orphan;             /* freed by its owner while the commit was in flight: freed when it completes */
	bool wanted;             /* the role is still wanted when it completes (not stepped down meanwhile) */
	uint64_t taken;          /* the epoch it raised the store to */
	int elect_rc;            /* what the election came to, 1 while taking */
	bool electing;           /* inside server_role_elect(): its return value tells a failure */
	void (*failed)(void *ctx);
	void *failed_ctx;
	bool suspended;          /* the term goes on but nothing is dispatched (HA: ZooKeeper out of reach) */
	char *other;             /* the leader's address when another server leads (HA), "" when unknown */
	const char *change;      /* the last change of role, for the API, and why */
	const char *change_why;
	int64_t change_ms;
};

/* What the API shows: who leads, and whether this server serves the leader's routes. */
static void show(struct server_role *r)
{
	const char *was = r->cfg.api->leader;
	bool followed = r->cfg.api->follower;

	r->cfg.api->follower = r->engine == NULL;
	r->cfg.api->leader = r->engine ? r->cfg.self : r->other;
	if (followed && (!r->cfg.api->follower || was == NULL || strcmp(was, r->cfg.api->leader) != 0))
		api_proxy_leader_changed(r->cfg.api); /* what it forwarded to the leader before ends now */
}

static void changed(struct server_role *r, const char *what, const char *why)
{
	r->change = what;
	r->change_why = why;
	r->change_ms = clock_now_ms();
}

struct server_role *server_role_new(const struct server_role_config *cfg)
{
	struct server_role *r = xcalloc(1, sizeof(*r));
	r->cfg = *cfg;
	r->other = xstrdup("");
	show(r);
	return r;
}

static void destroy(struct server_role *r)
{
	free(r->other);
	free(r);
}

void server_role_free(struct server_role *r)
{
	if (r == NULL)
		return;
	server_role_step_down(r, "the server stops");
	if (r->taking && !r->loading) {
		/* the store calls epoch_taken() yet (PostgreSQL: at once, -ECANCELED, as its connection closes) */
		r->orphan = true;
		return;
	}
	destroy(r); /* a load in flight does not call back once its owner closed (server_role.h) */
}

/* Lead with epoch: the engine resumes from the store. */
static int lead(struct server_role *r, uint64_t epoch)
{
	struct engine_config ecfg = r->cfg.engine;
	int rc;

	ecfg.epoch = epoch;
	r->engine = engine_new(r->cfg.reg, r->cfg.state, r->cfg.zones, &ecfg);
	if ((rc = engine_start(r->engine)) < 0) {
		engine_stop(r->engine);
		r->engine = NULL;
		log_warnx_kv(LOG_FIELDS(.event = "role.elect_failed"), "could not take the scheduling role (epoch %" PRIu64
		    "): the scheduler could not resume from the store", epoch);
		return rc;
	}
	r->epoch = epoch;
	control_set_engine(r->cfg.control, r->engine);
	show(r);
	changed(r, "elected", NULL);
	log_info_kv(LOG_FIELDS(.event = "role.elected"), "leading the scheduling (epoch %" PRIu64 ")", epoch);
	return 0;
}

/* The election came to rc (the store's, the load's or the engine's error, or 0). */
static void elect_end(struct server_role *r, int rc)
{
	r->taking = false;
	r->elect_rc = rc;
	if (rc < 0 && rc != -ECANCELED && !r->electing && r->failed)
		r->failed(r->failed_ctx);
}

/* The store was read again (cfg.load) after the epoch was recorded: lead from what it holds. */
static void loaded(void *ctx, int status)
{
	struct server_role *r = ctx;

	r->loading = false;
	if (status < 0) {
		log_warnx_kv(LOG_FIELDS(.event = "role.elect_failed"), "could not take the scheduling role: the store "
		    "could not be read (%s)", strerror(-status));
		r->suspended = false;
		elect_end(r, status);
	} else if (!r->wanted) {
		log_info("the scheduling role was given up while the store was being read (epoch %" PRIu64 ")", r->taken);
		if (r->suspended)
			r->epoch = r->taken; /* the term a resumption takes */
		elect_end(r, -ECANCELED);
	} else {
		elect_end(r, lead(r, r->taken));
	}
}

static void epoch_taken(void *ctx, int status)
{
	struct server_role *r = ctx;
	int rc;

	if (r->orphan) {
		destroy(r);
		return;
	}
	if (status < 0) {
		log_warnx_kv(LOG_FIELDS(.event = "role.elect_failed"), "could not take the scheduling role: the store "
		    "could not record its epoch (%s)", state_errmsg(r->cfg.state));
		r->suspended = false; /* no term to resume */
		elect_end(r, status);
	} else if (!r->wanted && (!r->suspended || r->cfg.load == NULL)) {
		log_info("the scheduling role was given up while its epoch %" PRIu64 " was being recorded", r->taken);
		if (r->suspended)
			r->epoch = r->taken; /* the term a resumption takes */
		elect_end(r, -ECANCELED);
	} else if (r->cfg.load) {
		/* read after the raise: no earlier leader's write can commit any more, so the copy has them all (a
		 * suspended election reads too: a resumption leads from it) */
		r->loading = true;
		if ((rc = r->cfg.load(r->cfg.load_ctx, loaded, r)) < 0)
			loaded(r, rc);
	} else {
		elect_end(r, lead(r, r->taken));
	}
}

int server_role_elect(struct server_role *r, uint64_t at_least)
{
	struct state_txn *t;
	int rc;

	if (r->engine || r->taking)
		return -EALREADY;
	r->suspended = false; /* a new term */
	if ((rc = state_begin(r->cfg.state, &t)) < 0 || (rc = state_raise_epoch(t, at_least, &r->taken)) < 0) {
		state_abort(t);
		log_warnx_kv(LOG_FIELDS(.event = "role.elect_failed"), "could not take the scheduling role: %s",
		    rc == -EBUSY ? "the store is busy" : state_errmsg(r->cfg.state));
		return rc;
	}
	r->taking = r->wanted = true;
	r->elect_rc = 1;
	r->electing = true;
	state_commit(t, epoch_taken, r);
	r->electing = false;
	return r->elect_rc > 0 ? 0 : r->elect_rc; /* 0 while the commit is in flight: it leads once it completes */
}

/* Stop the engine: nothing is dispatched from here on; running tasks go on under the runner. */
static void stop_engine(struct server_role *r)
{
	control_set_engine(r->cfg.control, NULL);
	engine_stop(r->engine);
	r->engine = NULL;
	show(r);
}

void server_role_step_down(struct server_role *r, const char *why)
{
	r->wanted = false;
	if (r->suspended) {
		r->suspended = false;
		changed(r, "stepped down", why);
		log_info_kv(LOG_FIELDS(.event = "role.stepped_down"), "stepped down from the suspended scheduling (epoch %"
		    PRIu64 "): %s", r->epoch, why);
	}
	if (r->engine == NULL)
		return;
	stop_engine(r);
	changed(r, "stepped down", why);
	log_info_kv(LOG_FIELDS(.event = "role.stepped_down"), "stepped down from the scheduling (epoch %" PRIu64
	    "): %s; running tasks go on, and are reconciled by the next leader", r->epoch, why);
}

void server_role_suspend(struct server_role *r)
{
	if (r->taking) {
		r->wanted = false; /* the term is being recorded: it does not lead when that completes... */
		r->suspended = true; /* ...but a resumption takes it */
		r->epoch = r->taken;
		return;
	}
	if (r->engine == NULL)
		return;
	stop_engine(r);
	r->suspended = true;
	changed(r, "suspended", "the ZooKeeper session is disconnected");
	log_warnx_kv(LOG_FIELDS(.event = "role.suspended"), "scheduling suspended (epoch %" PRIu64 "): nothing is "
	    "dispatched until the ZooKeeper session is back; running tasks go on", r->epoch);
}

int server_role_resume(struct server_role *r)
{
	int rc;

	if (!r->suspended)
		return -EALREADY;
	if (r->taking) {
		r->wanted = true; /* leads when the epoch's commit completes */
		r->suspended = false;
		return 0;
	}
	r->suspended = false;
	if ((rc = lead(r, r->epoch)) < 0) {
		changed(r, "stepped down", "the scheduler could not resume from the store");
		return rc;
	}
	changed(r, "resumed", NULL);
	return 0;
}

bool server_role_suspended(const struct server_role *r)
{
	return r->suspended;
}

void server_role_on_failed(struct server_role *r, void (*failed)(void *ctx), void *ctx)
{
	r->failed = failed;
	r->failed_ctx = ctx;
}

void server_role_set_leader(struct server_role *r, const char *addr)
{
	char *was = r->other; /* shown until show() compared it */

	r->other = xstrdup(addr);
	show(r);
	free(was);
}

const char *server_role_last_change(const struct server_role *r, const char **why, int64_t *at_ms)
{
	*why = r->change_why;
	*at_ms = r->change_ms;
	return r->change;
}

bool server_role_leading(const struct server_role *r)
{
	return r->engine != NULL;
}

uint64_t server_role_epoch(const struct server_role *r)
{
	return r->epoch;
}
