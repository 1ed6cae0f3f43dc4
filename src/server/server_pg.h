/* The server on PostgreSQL (--state postgres://..., issue 13): the connection, the schema, the state and history
 * backends over one pg_store (store/pg_store.h), and what the server does around them.
 *
 * Start-up (server_pg_open): connect, migrate the schema (pg_schema.h), then read the database into the copy,
 * running the loop until each step ended (before the HTTP server, the runner or the role exist: nothing else is
 * on the loop yet); the server then builds its registry from the copy as it does from SQLite.
 *
 * Elections (server_pg_load, the role's cfg.load): once the role recorded its epoch, the database is read again
 * and the registry rebuilt from it, then the engine resumes: the raise came first, so no earlier leader's write
 * can commit after the read (the fence refuses it), and the copy holds every acknowledged write of every leader.
 * Loads never overlap: one asked for while another is in flight is made after it.
 *
 * Trouble, watched every 250 ms and on every failed write (pg_store_on_failure), while leading:
 * - -ESTALE: a newer leader's epoch fenced a write: this server is deposed; it steps down (lost(): HA resigns
 *   through the cluster too). Standalone it does not take the role again by itself (SIGUSR2 does).
 * - a write's outcome unknown (the connection broke under it: writes refused, -EIO, until a load), or the
 *   connection down: it steps down at once (nothing is dispatched; the leader's routes answer 503) and lost()
 *   is told. Standalone it takes the role again by itself once PostgreSQL answers (an election: a new epoch, a
 *   load, the engine's recovery), tried every 2 s; in HA it resigned, and whoever ZooKeeper elects next loads
 *   (an election that cannot reach PostgreSQL fails and resigns in turn, until one can). Stepping down and
 *   electing again is the simpler of the two correct answers to "load again": the engine's memory is rebuilt from
 *   what the database holds, through the same path as any election.
 *
 * Followers (HA): the leader's writes announce what they changed (NOTIFY gnomon_changes, store/pg_store.h's
 * pg_changes); a follower LISTENs, gathers the keys for 100 ms, reads those rows again into its copy
 * (pg_store_refresh) and puts the changed jobs into its registry one by one (server_follow.h), while it neither
 * leads nor is suspended. It loads everything again after a reconnection (changes may have been missed), on "*" or
 * too many keys, once it stops leading, and every 10 minutes.
 *
 * Threads: the loop thread only. */
#ifndef GNOMON_SERVER_SERVER_PG_H
#define GNOMON_SERVER_SERVER_PG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct history;
struct job_defaults;
struct registry;
struct run_output;
struct server_pg;
struct server_role;
struct state;

struct server_pg_config {
	const char *conninfo;        /* a libpq connection string or postgresql:// URL */
	uint64_t timeout_ms;         /* a write's deadline */
	uint64_t load_timeout_ms;    /* a load's (and the migration's) */
	struct registry *reg;        /* rebuilt by each load after start-up; borrowed */
	const struct job_defaults *defaults;
	bool follow;                 /* HA: refresh the copy while following */
	int64_t max_clock_offset_ms; /* this server's clock against the database's (server_clock.h); 0: not watched */
};

/* Whether --state names PostgreSQL (postgres:// or postgresql://, or a conninfo with '='). */
bool server_pg_wanted(const char *state_option);
/* Connect, migrate and load, running loop until done (start-up only). 0, or a negative errno with err. */
int server_pg_open(uv_loop_t *loop, const struct server_pg_config *cfg, struct server_pg **out, char *err,
    size_t errlen) __attribute__((warn_unused_result));
/* The backends (new; the caller frees them, before server_pg_free). */
struct state *server_pg_state(struct server_pg *sp);
struct history *server_pg_history(struct server_pg *sp);
/* The runs' output over local (taken, also on a failure), with its durable copy in the database
 * (history/run_output_pg.h: a connection of its own), into *out (the caller frees it after server_pg_close and
 * the loop's run; server_pg_close stops it first). 0, or a negative errno with err. */
int server_pg_output(struct server_pg *sp, struct run_output *local, struct run_output **out, char *err,
    size_t errlen) __attribute__((warn_unused_result));
/* The copy in memory of what the database held at the last load (borrowed; reads only). */
struct state *server_pg_copy(struct server_pg *sp);
/* Watch the role from now on: lost(ctx, why) when it stepped down for PostgreSQL's sake (why static); standalone
 * (not HA) it is elected again by itself after an outage while lead is set (server_pg_hold). */
void server_pg_watch(struct server_pg *sp, struct server_role *role, void (*lost)(void *ctx, const char *why),
    void *ctx);
/* Standalone: whether this server should lead (false after SIGUSR1, true after SIGUSR2 and at start-up). */
void server_pg_hold(struct server_pg *sp, bool lead);
/* Whether this server's clock lets it lead (server_clock.h); *why (static) when not. */
bool server_pg_clock_ok(const struct server_pg *sp, const char **why);
/* The engine's cfg.clock_trusted (ctx: the server_pg): server_clock_trusted(). */
bool server_pg_clock_trusted(void *ctx);
/* The role's cfg.load (ctx: the server_pg): read the database again, rebuild the registry, then done. */
int server_pg_load(void *ctx, void (*done)(void *dctx, int status), void *dctx) __attribute__((warn_unused_result));
/* /api/v1/cluster's "postgres": connected, last error, schema version, writes refused, last load, this server's
 * clock against the database's ("clock", server_clock_json) (a new reference); json null for NULL. */
json_t *server_pg_json(const struct server_pg *sp);
/* Why nobody here can lead for PostgreSQL's sake (a static string for the API's 503s), or NULL: its connection is
 * down (every server needs it to lead). */
const char *server_pg_no_leader(const struct server_pg *sp);
/* Stop watching and close the connection (requests not ended end -ECANCELED); keep running the loop. NULL is fine. */
void server_pg_close(struct server_pg *sp);
/* Free what is left, after the backends and once the loop ran the closing. NULL is fine. */
void server_pg_free(struct server_pg *sp);

#endif
