/* This server's wall clock measured against PostgreSQL's (--max-clock-offset, issue 15): a server whose clock is
 * off neither takes nor keeps the scheduling role, since it would fire the slots early or late.
 *
 * Every CLOCK_CHECK_MS it reads the database's clock (clock_timestamp()) between two readings of its own: the
 * database's reading happened between them, so the offset (database - this server) lies in [db - after,
 * db - before]; the clock is off when that whole interval is past the bound on one side (a slow round trip
 * widens the interval, never makes a good clock look off). Every CLOCK_TICK_MS it also compares how far its wall
 * clock moved with how far the monotonic clock did: a step of more than the bound (someone set the clock, NTP
 * stepped it) makes the clock suspect at once, before the next reading, which decides. While off or suspect:
 * off(ctx, why) is told (the server steps down) and server_clock_ok() is false (an election cannot lead).
 *
 * Threads: the loop thread only. */
#ifndef GNOMON_SERVER_SERVER_CLOCK_H
#define GNOMON_SERVER_SERVER_CLOCK_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#define CLOCK_CHECK_MS 1000 /* between two readings of the database's clock */
#define CLOCK_TICK_MS 100   /* between two looks for a step of the wall clock */

struct pgconn;
struct server_clock;

/* One reading, judged (pure). */
struct clock_reading {
	int64_t offset_ms; /* the database's clock minus this server's, at the middle of the interval */
	int64_t error_ms;  /* half the interval: the offset is within offset_ms +- error_ms */
	bool off;          /* the whole interval is past max_ms on one side */
};

/* Judge the reading db_ms of the database's clock, taken between this server's sent_ms and got_ms, against
 * max_ms (pure). */
void server_clock_judge(int64_t sent_ms, int64_t db_ms, int64_t got_ms, int64_t max_ms, struct clock_reading *out);
/* Whether the wall clock stepped: it moved from wall0 to wall1 while the monotonic clock moved from mono0 to mono1
 * (ms), and the two differ by more than max_ms (pure). */
bool server_clock_stepped(int64_t wall0, uint64_t mono0, int64_t wall1, uint64_t mono1, int64_t max_ms);

/* Watch this server's clock against the database's on c (borrowed, open longer than this) with bound max_ms
 * (> 0). off(ctx, why) is called on the loop, with a static why, each time the clock becomes off or suspect. */
struct server_clock *server_clock_new(uv_loop_t *loop, struct pgconn *c, int64_t max_ms,
    void (*off)(void *ctx, const char *why), void *ctx);
/* Whether the clock may lead: measured within the bound and not stepped since (true before the first reading:
 * the first election does not wait for it). NULL: true. */
bool server_clock_ok(const struct server_clock *sc);
/* Whether the wall clock may be trusted at this instant: looks for a step now (a step found is told through off()
 * from the loop's next turn, never from inside this call), then server_clock_ok(). What fires by the clock asks
 * it first, so that nothing fires on a step made since the last look. NULL: true. */
bool server_clock_trusted(struct server_clock *sc);
/* /api/v1/cluster's "postgres"."clock": offsetMs, errorMs, ok, maxOffsetMs, checkedAt, lastOff (a new
 * reference); json null for NULL. */
json_t *server_clock_json(const struct server_clock *sc);
/* Stop (a reading in flight is ignored when it ends); keep running the loop, then server_clock_free. NULL is
 * fine. */
void server_clock_close(struct server_clock *sc);
void server_clock_free(struct server_clock *sc);

#endif
