#include "server/server_pg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history/history_pg.h"
#include "history/run_output_pg.h"
#include "job/job.h"
#include "scheduler/registry.h"
#include "server/server_clock.h"
#include "server/server_follow.h"
#include "server/server_load.h"
#include "server/server_role.h"
#include "state/state_pg.h"
#include "store/pg_schema.h"
#include "store/pg_store.h"
#include "store/pgconn.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define TICK_MS 250            /* how often the connection and the role are looked at */
#define RETRY_MS 2000          /* standalone: between two attempts to lead again after an outage */
#define FOLLOW_REFRESH_MS 600000 /* HA: a follower loads its copy again this often, whatever it heard */
#define FOLLOW_GATHER_MS 100      /* HA: a follower gathers the changes announced this long before it reads */

static const char WHY_STALE[] = "PostgreSQL refused a write: a newer leader's epoch fenced it (this server is deposed)";
static const char WHY_UNSURE[] = "PostgreSQL: a write's outcome is unknown (the connection broke under it): the "
				 "state must be loaded again";
static const char WHY_DOWN[] = "PostgreSQL is unreachable: nothing is dispatched until it answers again";

struct server_pg {
	struct server_pg_config cfg;
	uv_loop_t *loop;
	struct pgconn *c;
	struct pg_store *p;
	struct run_output *output; /* the runs' output's durable copy (borrowed), stopped at the close */
	struct server_clock *clock; /* NULL: not watched (--max-clock-offset 0) */
	uv_timer_t tick;
	bool ticking;
	struct server_role *role;
	void (*lost)(void *ctx, const char *why);
	void *lost_ctx;
	bool lead;                 /* standalone: take the role again after an outage */
	uint64_t stale_epoch;      /* the term whose write was fenced (deposed), 0: none; standalone, it does not
	                            * lead again by itself */
	bool closing;
	bool loading;              /* a load is in flight */
	void (*waiter)(void *dctx, int status); /* the election waiting for a load made after this one */
	void *waiter_ctx;
	void (*current)(void *dctx, int status); /* the election the load in flight is for */
	void *current_ctx;
	uint64_t next_try, next_refresh; /* loop time (ms) */
	int64_t loaded_ms;         /* wall clock of the last load that succeeded */
	bool changed;              /* a follower heard of a change (or may have missed some) since its last read began */
	bool full;                 /* ... and reads everything again for it (a new connection, "*", too many keys) */
	bool was_leading;          /* on the last tick (a leader ignores what it hears: once it stops, it loads) */
	bool load_heard;           /* the load in flight is for a change heard of */
	struct follow_keys *keys;  /* the changes heard of, to read again */
	struct follow_keys *reading; /* those being read again (pg_store_refresh), NULL: none */
	uint64_t heard, loads, loads_heard, refreshes; /* notifications; loads that succeeded, those for a change
	                                                * heard of; reads of some rows again that succeeded */
	char error[512];           /* the last failure, "" before one */
	int startup_rc;            /* start-up: a step's end, 1 while in flight */
};

static void give_up(struct server_pg *sp, const char *why);

/* The clock went off or stepped: a leader steps down (HA: resigns). */
static void clock_off(void *ctx, const char *why)
{
	struct server_pg *sp = ctx;

	if (sp->role && server_role_leading(sp->role))
		give_up(sp, why);
}

bool server_pg_clock_ok(const struct server_pg *sp, const char **why)
{
	if (sp == NULL || server_clock_ok(sp->clock))
		return true;
	*why = "this server's wall clock is off against PostgreSQL's (--max-clock-offset)";
	return false;
}

bool server_pg_clock_trusted(void *ctx)
{
	struct server_pg *sp = ctx;

	return server_clock_trusted(sp->clock);
}

bool server_pg_wanted(const char *opt)
{
	return opt && (strncmp(opt, "postgres://", 11) == 0 || strncmp(opt, "postgresql://", 13) == 0 ||
			  strchr(opt, '=') != NULL);
}

static void remember(struct server_pg *sp, const char *what, const char *err)
{
	snprintf(sp->error, sizeof(sp->error), "%s%s%s", what, err && *err ? ": " : "", err ? err : "");
}

static void on_heard(void *ctx, const char *payload);

/* --- Start-up: each step ends by setting startup_rc, while the loop runs. --- */

static void migrated(void *ctx, int status, const char *err)
{
	struct server_pg *sp = ctx;
	if (status < 0)
		remember(sp, "migrating the schema", err);
	sp->startup_rc = status;
}

static void first_loaded(void *ctx, int status)
{
	struct server_pg *sp = ctx;
	if (status < 0)
		remember(sp, "loading the state", pg_store_errmsg(sp->p));
	else
		sp->loaded_ms = clock_now_ms();
	sp->startup_rc = status;
}

static int run_until_done(struct server_pg *sp, int rc)
{
	if (rc < 0)
		return rc;
	while (sp->startup_rc > 0)
		uv_run(sp->loop, UV_RUN_ONCE);
	rc = sp->startup_rc;
	sp->startup_rc = 1;
	return rc;
}

int server_pg_open(uv_loop_t *loop, const struct server_pg_config *cfg, struct server_pg **out, char *err,
    size_t errlen)
{
	struct server_pg *sp = xcalloc(1, sizeof(*sp));
	int rc;

	sp->cfg = *cfg;
	sp->loop = loop;
	sp->lead = true;
	sp->startup_rc = 1;
	if ((rc = pgconn_new(loop, cfg->conninfo, &sp->c, sp->error, sizeof(sp->error))) < 0) {
		snprintf(err, errlen, "--state: %s", sp->error);
		free(sp);
		return rc;
	}
	sp->p = pg_store_new(sp->c);
	sp->keys = follow_keys_new();
	/* before the first load: no change committed after it goes unheard */
	if (cfg->follow && pgconn_listen(sp->c, PG_CHANGES_CHANNEL, on_heard, sp) < 0)
		log_warnx("PostgreSQL: cannot listen for the leader's changes: a follower reads them every %d s",
		    FOLLOW_REFRESH_MS / 1000);
	if (cfg->max_clock_offset_ms > 0)
		sp->clock = server_clock_new(loop, sp->c, cfg->max_clock_offset_ms, clock_off, sp);
	pg_store_set_timeout(sp->p, cfg->timeout_ms);
	pg_store_set_load_timeout(sp->p, cfg->load_timeout_ms);
	if ((rc = run_until_done(sp, pg_schema_migrate(sp->c, migrated, sp))) == 0)
		rc = run_until_done(sp, pg_store_load(sp->p, first_loaded, sp));
	if (rc < 0) {
		snprintf(err, errlen, "PostgreSQL (--state): %s", sp->error[0] ? sp->error : strerror(-rc));
		server_pg_close(sp);
		uv_run(loop, UV_RUN_DEFAULT); /* the connection's handles close */
		server_pg_free(sp);
		return rc;
	}
	log_info("PostgreSQL: schema version %d, state loaded", pg_schema_version());
	*out = sp;
	return 0;
}

struct state *server_pg_state(struct server_pg *sp)
{
	return state_pg_new(sp->p);
}

struct history *server_pg_history(struct server_pg *sp)
{
	return history_pg_new(sp->p);
}

int server_pg_output(struct server_pg *sp, struct run_output *local, struct run_output **out, char *err,
    size_t errlen)
{
	int rc = run_output_pg_new(sp->loop, sp->p, sp->cfg.conninfo, local, out, err, errlen);

	if (rc == 0)
		sp->output = *out;
	return rc;
}

struct state *server_pg_copy(struct server_pg *sp)
{
	return pg_store_mirror_state(sp->p);
}

/* --- Loads after start-up: the copy replaced, then the registry rebuilt from it. --- */

static int start_load(struct server_pg *sp);

static void rebuild(struct server_pg *sp)
{
	struct load_result lr;

	if (sp->role && server_role_leading(sp->role))
		return; /* (never: a load is made only while not leading) the engine owns the registry */
	registry_clear(sp->cfg.reg);
	if (server_load_jobs(pg_store_mirror_state(sp->p), sp->cfg.reg, sp->cfg.defaults, clock_now_ms(), &lr) < 0)
		log_warnx("PostgreSQL: the jobs loaded could not all be read");
	registry_relink(sp->cfg.reg);
	log_debug("PostgreSQL: loaded %zu jobs", lr.loaded);
}

static void reloaded(void *ctx, int status)
{
	struct server_pg *sp = ctx;
	void (*done)(void *dctx, int status) = sp->current;
	void *dctx = sp->current_ctx;

	sp->loading = false;
	sp->current = NULL;
	if (sp->closing)
		return;
	if (status < 0) {
		remember(sp, "loading the state", pg_store_errmsg(sp->p));
		log_warnx("PostgreSQL: %s", sp->error);
	} else {
		sp->loaded_ms = clock_now_ms();
		sp->loads++;
		sp->loads_heard += sp->load_heard;
		rebuild(sp);
	}
	sp->load_heard = false;
	if (done)
		done(dctx, status);
	if (sp->waiter && !sp->loading && (status = start_load(sp)) < 0) {
		done = sp->waiter;
		sp->waiter = NULL;
		done(sp->waiter_ctx, status);
	}
}

/* The rows of the changes heard of read again into the copy: the registry follows, job by job. */
static void refreshed(void *ctx, int status)
{
	struct server_pg *sp = ctx;
	struct follow_keys *k = sp->reading;
	size_t n;

	sp->reading = NULL;
	sp->loading = false;
	if (sp->closing) {
		follow_keys_free(k);
		return;
	}
	if (status < 0) {
		remember(sp, "reading changes again", pg_store_errmsg(sp->p));
		log_warnx("PostgreSQL: %s: loading everything again", sp->error);
		sp->changed = sp->full = true;
	} else if (!(sp->role && server_role_leading(sp->role))) {
		sp->refreshes++;
		n = follow_apply_jobs(k, pg_store_mirror_state(sp->p), sp->cfg.reg, sp->cfg.defaults, clock_now_ms());
		log_debug("PostgreSQL: read the changes announced again (%zu jobs)", n);
	}
	follow_keys_free(k);
	if (sp->waiter && (status = start_load(sp)) < 0) {
		void (*done)(void *dctx, int status) = sp->waiter;
		sp->waiter = NULL;
		done(sp->waiter_ctx, status);
	}
}

/* Read again the rows of the changes heard of (or everything, when they ask for it). */
static int start_follow(struct server_pg *sp)
{
	struct pg_refresh_keys view;
	int rc;

	if (!sp->full && follow_keys_empty(sp->keys))
		return 0; /* nothing to read: an epoch raised, say */
	if (sp->full) {
		sp->full = false;
		follow_keys_free(sp->keys);
		sp->keys = follow_keys_new();
		sp->load_heard = true;
		if ((rc = start_load(sp)) < 0)
			sp->load_heard = false;
		return rc;
	}
	follow_keys_view(sp->keys, &view);
	if ((rc = pg_store_refresh(sp->p, &view, refreshed, sp)) < 0)
		return rc;
	sp->reading = sp->keys;
	sp->keys = follow_keys_new();
	sp->loading = true;
	return 0;
}

/* Load, for the waiter if there is one. */
static int start_load(struct server_pg *sp)
{
	int rc;

	if ((rc = pg_store_load(sp->p, reloaded, sp)) < 0)
		return rc;
	sp->loading = true;
	sp->current = sp->waiter;
	sp->current_ctx = sp->waiter_ctx;
	sp->waiter = NULL;
	return 0;
}

int server_pg_load(void *ctx, void (*done)(void *dctx, int status), void *dctx)
{
	struct server_pg *sp = ctx;

	if (sp->waiter)
		return -EBUSY;
	if (!server_clock_ok(sp->clock)) {
		log_warnx("clock: elected, but this server's wall clock is off against PostgreSQL's: it does not lead");
		return -ERANGE;
	}
	sp->waiter = done;
	sp->waiter_ctx = dctx;
	if (sp->loading)
		return 0; /* made once the one in flight ended: that one may have read before the epoch was raised */
	if (start_load(sp) < 0) {
		sp->waiter = NULL;
		return -EIO;
	}
	return 0;
}

/* --- Watching. --- */

/* Step down for why (HA: resign too). */
static void give_up(struct server_pg *sp, const char *why)
{
	log_warnx_kv(LOG_FIELDS(.event = "role.postgres"), "%s%s%s", why, sp->error[0] ? "; last error: " : "",
	    sp->error);
	sp->lost(sp->lost_ctx, why);
	sp->next_try = uv_now(sp->loop) + RETRY_MS;
}

/* Standalone: lead again once PostgreSQL answers (a load first when writes are refused). */
static void retry_lead(struct server_pg *sp, uint64_t now)
{
	int rc;

	if (now < sp->next_try || sp->loading || !pgconn_is_up(sp->c) || !server_clock_ok(sp->clock))
		return;
	sp->next_try = now + RETRY_MS;
	if (pg_store_unsure(sp->p)) {
		if (start_load(sp) < 0)
			log_warnx("PostgreSQL: cannot load the state again yet");
		return;
	}
	if ((rc = server_role_elect(sp->role, server_role_epoch(sp->role) + 1)) < 0 && rc != -EALREADY)
		log_warnx("PostgreSQL is back but the scheduling role cannot be taken yet (%s): trying again",
		    strerror(-rc));
	else if (rc == 0)
		log_info("PostgreSQL answers again: taking the scheduling role");
}

static void on_tick(uv_timer_t *h)
{
	struct server_pg *sp = h->data;
	uint64_t now = uv_now(sp->loop);
	bool leading = server_role_leading(sp->role);

	if (sp->was_leading && !leading)
		sp->changed = sp->full = true; /* what was announced while it led went unheard */
	sp->was_leading = leading;
	if (leading && sp->stale_epoch && sp->stale_epoch == server_role_epoch(sp->role)) {
		give_up(sp, WHY_STALE);
	} else if (leading && pg_store_unsure(sp->p)) {
		give_up(sp, WHY_UNSURE);
	} else if (leading && !pgconn_is_up(sp->c)) {
		remember(sp, "the connection to PostgreSQL is down", NULL);
		give_up(sp, WHY_DOWN);
	} else if (!leading && !sp->cfg.follow && sp->lead && !sp->stale_epoch) {
		retry_lead(sp, now);
	} else if (!leading && sp->cfg.follow && !server_role_suspended(sp->role) && !sp->loading &&
		   (sp->changed || now >= sp->next_refresh) && pgconn_is_up(sp->c)) {
		/* follower reads: the rows of the changes the leader's writes announce read again, everything when
		 * they ask for it, and everything every FOLLOW_REFRESH_MS whatever was heard */
		if (now >= sp->next_refresh) {
			sp->next_refresh = now + FOLLOW_REFRESH_MS;
			sp->full = true;
		}
		sp->changed = false;
		if (start_follow(sp) < 0) {
			log_warnx("PostgreSQL: cannot read the state again");
			sp->changed = sp->full = true;
		}
	}
	uv_timer_start(&sp->tick, on_tick, TICK_MS, 0);
}

static void on_failure(void *ctx, int status, const char *err)
{
	struct server_pg *sp = ctx;

	remember(sp, strerror(-status), err);
	if (status == -ESTALE)
		sp->stale_epoch = pg_store_epoch(sp->p);
	if (sp->ticking)
		uv_timer_start(&sp->tick, on_tick, 0, 0); /* looked at on the next turn of the loop */
}

/* A change announced on PostgreSQL (payload, pg_store.h's pg_changes), or NULL: some may have been missed (a new
 * connection). A follower reads again FOLLOW_GATHER_MS later, gathering what comes meanwhile. */
static void on_heard(void *ctx, const char *payload)
{
	struct server_pg *sp = ctx;

	if (payload)
		sp->heard++;
	else if (pgconn_connections(sp->c) <= 1)
		return; /* the first connection: LISTEN went before the first load */
	if (sp->closing || !sp->cfg.follow || (sp->role && server_role_leading(sp->role)))
		return;
	if (payload == NULL || !follow_keys_add(sp->keys, payload))
		sp->full = true;
	if (!sp->changed && sp->ticking)
		uv_timer_start(&sp->tick, on_tick, FOLLOW_GATHER_MS, 0);
	sp->changed = true;
}

void server_pg_watch(struct server_pg *sp, struct server_role *role, void (*lost)(void *ctx, const char *why),
    void *ctx)
{
	sp->role = role;
	sp->lost = lost;
	sp->lost_ctx = ctx;
	sp->next_refresh = uv_now(sp->loop) + FOLLOW_REFRESH_MS;
	pg_store_on_failure(sp->p, on_failure, sp);
	uv_timer_init(sp->loop, &sp->tick);
	sp->tick.data = sp;
	sp->ticking = true;
	uv_timer_start(&sp->tick, on_tick, TICK_MS, 0);
}

void server_pg_hold(struct server_pg *sp, bool lead)
{
	sp->lead = lead;
	if (lead) {
		sp->stale_epoch = 0; /* asked for: a new epoch fences the other one out */
		sp->next_try = 0;
	}
}

const char *server_pg_no_leader(const struct server_pg *sp)
{
	if (sp == NULL || pgconn_is_up(sp->c))
		return NULL;
	return "no leader: PostgreSQL (--state) is out of reach, and a server leads only while it answers (one leads "
	       "again by itself once it does)";
}

json_t *server_pg_json(const struct server_pg *sp)
{
	char at[JOB_TIME_BUFSZ];

	if (sp == NULL)
		return json_null();
	job_time_format(sp->loaded_ms, at);
	return json_pack("{s:b, s:o, s:i, s:b, s:b, s:o, s:I, s:i, s:I, s:I, s:I, s:I, s:o}", "connected",
	    pgconn_is_up(sp->c),
	    "lastError", sp->error[0] ? json_string(sp->error) : json_null(), "schemaVersion", pg_schema_version(),
	    "writesRefused", pg_store_unsure(sp->p), "fenced", sp->stale_epoch != 0, "lastLoad",
	    sp->loaded_ms ? json_string(at) : json_null(), "connections", (json_int_t)pgconn_connections(sp->c),
	    "inFlight", pg_store_in_flight(sp->p), "changesHeard", (json_int_t)sp->heard, "loads",
	    (json_int_t)sp->loads, "loadsOnChange", (json_int_t)sp->loads_heard, "changesRead", (json_int_t)sp->refreshes,
	    "clock", server_clock_json(sp->clock));
}

void server_pg_close(struct server_pg *sp)
{
	if (sp == NULL)
		return;
	if (sp->ticking)
		uv_close((uv_handle_t *)&sp->tick, NULL);
	sp->ticking = false;
	sp->closing = true; /* the loads' and elections' ends are no longer wanted */
	sp->waiter = NULL;
	pg_store_on_failure(sp->p, NULL, NULL);
	if (sp->output)
		run_output_pg_stop(sp->output); /* what waits is given up; what is in flight ends with the connection */
	server_clock_close(sp->clock);
	pgconn_close(sp->c);
	sp->c = NULL;
}

void server_pg_free(struct server_pg *sp)
{
	if (sp == NULL)
		return;
	pg_store_unref(sp->p);
	server_clock_free(sp->clock);
	follow_keys_free(sp->keys);
	follow_keys_free(sp->reading);
	free(sp);
}
