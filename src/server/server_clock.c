/* This server's wall clock against PostgreSQL's (server_clock.h). */
#include "server/server_clock.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "server/server_cluster.h"
#include "store/pgconn.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define READ_TIMEOUT_MS 2000

static const struct pg_stmt READ_CLOCK = {"SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint", 0, NULL};

static const char WHY_OFF[] = "this server's wall clock is off against PostgreSQL's by more than "
			      "--max-clock-offset: it does not lead";
static const char WHY_STEPPED[] = "this server's wall clock stepped by more than --max-clock-offset: it does not "
				  "lead until PostgreSQL's clock says it is right";

struct server_clock {
	uv_loop_t *loop;
	struct pgconn *c;
	int64_t max_ms;
	void (*off_fn)(void *ctx, const char *why);
	void *ctx;
	uv_timer_t tick;
	bool closing, in_flight;
	int64_t sent_ms;           /* the reading in flight: this server's wall clock when it was sent */
	uint64_t sent_mono;        /* ... and the monotonic clock's (ms) */
	uint64_t next_read;        /* monotonic ms of the next reading */
	int64_t last_wall;         /* the last look at the clocks */
	uint64_t last_mono;
	uint64_t stepped_mono;     /* monotonic ms of the last step seen, 0: none */
	bool measured, off, suspect;
	bool notify;               /* a step was found outside on_tick: off() is told on its next run */
	struct clock_reading last;
	int64_t checked_ms, off_ms; /* wall clock of the last reading, of the last time it was found off */
};

void server_clock_judge(int64_t sent_ms, int64_t db_ms, int64_t got_ms, int64_t max_ms, struct clock_reading *out)
{
	int64_t lo = db_ms - got_ms, hi = db_ms - sent_ms;

	out->offset_ms = lo + (hi - lo) / 2;
	out->error_ms = (hi - lo) / 2 + (hi - lo) % 2;
	out->off = lo > max_ms || hi < -max_ms;
}

bool server_clock_stepped(int64_t wall0, uint64_t mono0, int64_t wall1, uint64_t mono1, int64_t max_ms)
{
	int64_t drift = (wall1 - wall0) - (int64_t)(mono1 - mono0);

	return drift > max_ms || drift < -max_ms;
}

static uint64_t mono_ms(void)
{
	return uv_hrtime() / 1000000;
}

static void went_off(struct server_clock *sc, const char *why)
{
	sc->off_ms = clock_now_ms();
	sc->off_fn(sc->ctx, why);
}

static void on_read(void *ctx, int status, PGresult *const *res, int n, const char *err)
{
	struct server_clock *sc = ctx;
	int64_t got = clock_now_ms();
	bool was_ok = server_clock_ok(sc), was_off;
	char *end;
	long long db;

	sc->in_flight = false;
	if (sc->closing)
		return;
	if (status < 0 || n < 1 || PQntuples(res[0]) != 1) {
		log_debug("clock: PostgreSQL's clock not read: %s",
		    status >= 0 ? "no row" : err ? err : strerror(-status));
		return;
	}
	db = strtoll(PQgetvalue(res[0], 0, 0), &end, 10);
	if (*end != '\0') {
		log_warnx("clock: PostgreSQL's clock reads '%.40s', not milliseconds", PQgetvalue(res[0], 0, 0));
		return;
	}
	server_clock_judge(sc->sent_ms, db, got, sc->max_ms, &sc->last);
	was_off = sc->off;
	sc->measured = true;
	sc->checked_ms = got;
	sc->off = sc->last.off;
	if (sc->sent_mono > sc->stepped_mono)
		sc->suspect = false; /* read after the step: this reading decides */
	if (sc->off && !was_off) {
		log_warnx_kv(LOG_FIELDS(.event = "clock.off"), "clock: this server's wall clock is %+" PRId64 " ms (+- %"
		    PRId64 ") off PostgreSQL's, more than --max-clock-offset (%" PRId64 " ms): it does not lead until it "
		    "is right again", -sc->last.offset_ms, sc->last.error_ms, sc->max_ms);
		if (was_ok)
			went_off(sc, WHY_OFF);
	} else if (server_clock_ok(sc) && !was_ok) {
		log_info_kv(LOG_FIELDS(.event = "clock.ok"), "clock: this server's wall clock is within %" PRId64 " ms of "
		    "PostgreSQL's (%+" PRId64 " ms +- %" PRId64 "): it may lead", sc->max_ms, -sc->last.offset_ms,
		    sc->last.error_ms);
	}
}

/* Read the database's clock (queued behind what is in flight on c, or until c is up: a wider interval, never a
 * wrong verdict). */
static void read_now(struct server_clock *sc, uint64_t mono)
{
	sc->next_read = mono + CLOCK_CHECK_MS;
	if (sc->in_flight)
		return;
	sc->sent_ms = clock_now_ms();
	sc->sent_mono = mono;
	if (pgconn_send(sc->c, &READ_CLOCK, 1, READ_TIMEOUT_MS, on_read, sc) == 0)
		sc->in_flight = true;
}

/* Compare how far the wall clock moved since the last look with how far the monotonic clock did; a step makes the
 * clock suspect (and a reading due at once). True when the clock went from ok to suspect here. */
static bool look(struct server_clock *sc)
{
	int64_t wall = clock_now_ms();
	uint64_t mono = mono_ms();
	bool stepped = server_clock_stepped(sc->last_wall, sc->last_mono, wall, mono, sc->max_ms), was_ok;

	if (stepped) {
		was_ok = server_clock_ok(sc);
		log_warnx_kv(LOG_FIELDS(.event = "clock.stepped"), "clock: this server's wall clock stepped by %+" PRId64
		    " ms: it does not lead until PostgreSQL's clock says it is right", (wall - sc->last_wall) -
		    (int64_t)(mono - sc->last_mono));
		sc->suspect = true;
		sc->stepped_mono = mono;
		sc->next_read = mono; /* read again at once */
		sc->notify = sc->notify || was_ok;
	}
	sc->last_wall = wall;
	sc->last_mono = mono;
	return stepped;
}

static void on_tick(uv_timer_t *h)
{
	struct server_clock *sc = h->data;

	look(sc);
	if (sc->notify) {
		sc->notify = false;
		went_off(sc, WHY_STEPPED);
	}
	if (mono_ms() >= sc->next_read)
		read_now(sc, mono_ms());
	uv_timer_start(&sc->tick, on_tick, CLOCK_TICK_MS, 0);
}

bool server_clock_trusted(struct server_clock *sc)
{
	if (sc == NULL)
		return true;
	if (look(sc) && sc->notify && !sc->closing)
		uv_timer_start(&sc->tick, on_tick, 0, 0); /* off() from the loop's next turn */
	return server_clock_ok(sc);
}

struct server_clock *server_clock_new(uv_loop_t *loop, struct pgconn *c, int64_t max_ms,
    void (*off)(void *ctx, const char *why), void *ctx)
{
	struct server_clock *sc = xcalloc(1, sizeof(*sc));

	sc->loop = loop;
	sc->c = c;
	sc->max_ms = max_ms;
	sc->off_fn = off;
	sc->ctx = ctx;
	sc->last_wall = clock_now_ms();
	sc->last_mono = mono_ms();
	uv_timer_init(loop, &sc->tick);
	sc->tick.data = sc;
	read_now(sc, sc->last_mono); /* before anything else sent on c (the start-up's load): it ends first */
	uv_timer_start(&sc->tick, on_tick, CLOCK_TICK_MS, 0);
	return sc;
}

bool server_clock_ok(const struct server_clock *sc)
{
	return sc == NULL || (sc->measured && !sc->off && !sc->suspect);
}

json_t *server_clock_json(const struct server_clock *sc)
{
	if (sc == NULL)
		return json_null();
	return json_pack("{s:o, s:o, s:b, s:b, s:I, s:o, s:o}",
	    "offsetMs", sc->measured ? json_integer(-sc->last.offset_ms) : json_null(),
	    "errorMs", sc->measured ? json_integer(sc->last.error_ms) : json_null(),
	    "ok", server_clock_ok(sc), "stepped", sc->suspect, "maxOffsetMs", (json_int_t)sc->max_ms,
	    "checkedAt", server_time_or_null(sc->checked_ms), "lastOff",
	    server_time_or_null(sc->off_ms));
}

void server_clock_close(struct server_clock *sc)
{
	if (sc == NULL || sc->closing)
		return;
	sc->closing = true;
	uv_close((uv_handle_t *)&sc->tick, NULL);
}

void server_clock_free(struct server_clock *sc)
{
	free(sc);
}
