/* Job schedules: Chronos's ISO 8601 repeating intervals (R[n]/[start]/period) and 5-field cron expressions,
 * parsed into a small value and evaluated in a time zone. Pure logic but for the zones: no clock, every time is
 * UTC epoch milliseconds passed in by the caller.
 *
 * Zones live in a cache the caller owns (struct schedule_zones): the first use of a named zone reads its rules
 * from the system's tz database ($TZDIR, else /usr/share/zoneinfo; see tzdb.h), once, so a new cache (a restart)
 * sees the zones as the OS last updated them. A struct schedule refers to its zone by index into that cache, so
 * a parsed schedule is only meaningful with the cache it was parsed with. A cache is not thread-safe (lookups
 * update its per-zone memo): one per thread.
 *
 * Semantics the engine relies on (see the comments below for details):
 * - An ISO schedule's occurrences are start + k*period for 0 <= k < n (all k when infinite); occurrence k is
 *   computed by multiplying the period from the anchor, never by repeated addition: the anchor is the start as
 *   first posted and the start is its occurrence `index`, so occurrence k is anchor + (index + k)*period and a
 *   day clamped or moved by DST once comes back in the next occurrence. Years, months, weeks and days are wall-clock
 *   arithmetic in the zone (the day of month clamps: Jan 31 + P1M = Feb 28/29); hours, minutes and seconds are
 *   elapsed time. A wall-clock time in a DST gap moves forward by the gap; one in a repeated hour takes the
 *   earlier instant. A zero period has the single occurrence start.
 * - A start in a zone is placed as Chronos (Joda-Time's withZoneRetainFields) places it: its wall-clock time
 *   with the zone's offset at the instant the string names (its own offset, UTC without one) when that time
 *   has that offset, else Joda's convertLocalToUTC rule (zones.h). It must fall before the year 10000 in UTC.
 * - An empty start ("R1//P1D") becomes now_ms - 1000 at parse time, as in Chronos (so it is due at once and a
 *   launch in the same millisecond still moves it), with SCHEDULE_F_START_NOW set.
 * - Cron is evaluated in the zone on wall-clock minutes with Vixie cron's DST rules: a fixed-time job (specific
 *   minute and hour fields) whose time is skipped runs once at the end of the gap and runs once in a repeated
 *   hour; a wildcard job ('*' minute or hour field) follows the real clock. */
#ifndef GNOMON_SCHEDULE_SCHEDULE_H
#define GNOMON_SCHEDULE_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCHEDULE_NEVER INT64_MAX /* no occurrence after the given time (or past year 9999) */
#define SCHEDULE_NONE INT64_MIN  /* no occurrence at or before the given time */
#define SCHEDULE_REPEAT_INFINITE (-1)
#define SCHEDULE_ZONE_UTC 0        /* index of UTC in every cache */
#define SCHEDULE_FORMAT_MAX 160    /* buffer size that fits any schedule_format output */
#define SCHEDULE_INSTANT_MAX 40    /* buffer size that fits any schedule_format_instant output */
#define SCHEDULE_ZONE_NAME_MAX 128 /* longest zone name accepted */

enum schedule_kind { SCHEDULE_ISO8601 = 1, SCHEDULE_CRON = 2 };

/* Flags in struct schedule. */
#define SCHEDULE_F_START_NOW 0x01 /* ISO: the start was empty; start_ms is the parse time minus one second */
#define SCHEDULE_F_MIN_STAR 0x02  /* cron: the minute field begins with '*' */
#define SCHEDULE_F_HOUR_STAR 0x04 /* cron: the hour field begins with '*' (either makes a wildcard job) */
#define SCHEDULE_F_MDAY_STAR 0x08 /* cron: the day-of-month field begins with '*' */
#define SCHEDULE_F_WDAY_STAR 0x10 /* cron: the day-of-week field begins with '*' */

/* An ISO 8601 period as written (Joda keeps the fields apart: PT60M is not PT1H). */
struct schedule_period {
	int32_t years, months, weeks, days, hours, minutes, seconds;
	uint16_t millis;
};

/* A parsed schedule: a plain value (64 bytes) to embed in the job record; read it through the functions below. */
struct schedule {
	union {
		struct {
			int64_t start_ms;  /* the current start instant: occurrence `index` of the anchor */
			int64_t anchor_ms; /* the start occurrences are counted from (the start as first posted) */
			int64_t repeat;    /* remaining occurrences, or SCHEDULE_REPEAT_INFINITE */
			struct schedule_period period;
		} iso;
		struct {
			uint64_t minutes; /* bit m: minute m (0-59) */
			uint32_t hours;   /* bit h: hour h (0-23) */
			uint32_t mdays;   /* bit d: day of month d (1-31) */
			uint16_t months;  /* bit m: month m (1-12) */
			uint8_t wdays;    /* bit d: day of week d (0 = Sunday) */
		} cron;
	} u;
	uint32_t index; /* ISO: start_ms is occurrence index of anchor_ms (0 when the period has no wall-clock part) */
	uint16_t zone;  /* index into the struct schedule_zones it was parsed with */
	uint8_t kind;  /* enum schedule_kind */
	uint8_t flags; /* SCHEDULE_F_* */
};

struct schedule_zones;

/* A new, empty zone cache (UTC preinterned at SCHEDULE_ZONE_UTC); free with schedule_zones_free. */
struct schedule_zones *schedule_zones_new(void);
void schedule_zones_free(struct schedule_zones *z);
/* Intern a scheduleTimeZone value (a tz database name, a Java legacy ID mapped as Joda-Time maps it, EST being
 * America/New_York, or a Java custom ID such as GMT+05:30); -ENOENT if unknown, -EINVAL if its file is bad. */
int schedule_zones_intern(struct schedule_zones *z, const char *name, uint16_t *zone, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* Canonical name of an interned zone: the tz database's zone, links followed ("America/Los_Angeles" for PST
 * and US/Pacific), "GMT+05:30" for fixed offsets, "UTC" for UTC and its aliases; borrowed from the cache. */
const char *schedule_zone_name(const struct schedule_zones *z, uint16_t zone);
/* Canonical name of a zone name, without a cache ("PST" gives "America/Los_Angeles"); -ENOENT if unknown,
 * -ENOSPC if out is too small. */
int schedule_zone_canonical(const char *name, char *out, size_t outlen, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Parse a job's schedule and scheduleTimeZone (NULL or "" for none) into *out; now_ms stands for an empty
 * start. Returns 0, -EINVAL for a bad schedule or -ENOENT for an unknown zone, with a one-line message. */
int schedule_parse(struct schedule_zones *z, const char *schedule, const char *tz, int64_t now_ms,
	struct schedule *out, char *err, size_t errlen) __attribute__((warn_unused_result));
/* schedule_parse with a throwaway cache, for validation only. */
int schedule_validate(const char *schedule, const char *tz, int64_t now_ms, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* ISO 8601 or cron. */
enum schedule_kind schedule_kind(const struct schedule *s);
/* ISO: the current start instant (occurrence 0); cron: SCHEDULE_NONE. */
int64_t schedule_start(const struct schedule *s);
/* ISO: remaining occurrences, SCHEDULE_REPEAT_INFINITE for R; cron: SCHEDULE_REPEAT_INFINITE. */
int64_t schedule_repeat(const struct schedule *s);
/* True for an ISO schedule with a zero period (P, PT0S). */
bool schedule_period_is_zero(const struct schedule *s);

/* ISO: occurrence k (k >= 0) ignoring the repetition count, in *out (SCHEDULE_NEVER past year 9999). */
int schedule_occurrence(struct schedule_zones *z, const struct schedule *s, int64_t k, int64_t *out)
	__attribute__((warn_unused_result));
/* The first occurrence strictly after t, or SCHEDULE_NEVER (exhausted count, zero period already past). Times
 * are searched between 1969-12-31T00:00Z and the end of 9999, both on the zone's wall clock and in UTC. */
int schedule_next_after(struct schedule_zones *z, const struct schedule *s, int64_t t, int64_t *out)
	__attribute__((warn_unused_result));
/* The last occurrence at or before t, or SCHEDULE_NONE. */
int schedule_last_at_or_before(struct schedule_zones *z, const struct schedule *s, int64_t t, int64_t *out)
	__attribute__((warn_unused_result));
/* Number of distinct occurrence instants in (from, to], at most cap (cron counts one by one up to cap). */
int schedule_count_between(struct schedule_zones *z, const struct schedule *s, int64_t from, int64_t to,
	int64_t cap, int64_t *count) __attribute__((warn_unused_result));
/* Up to n successive occurrences strictly after t into out[]; returns how many (fewer when it ends) or < 0. */
int schedule_next_n(struct schedule_zones *z, const struct schedule *s, int64_t t, int64_t *out, int n)
	__attribute__((warn_unused_result));

/* Chronos's update after a launch at now_ms: unless the start is at or after now or the period is zero, the
 * start moves to the first occurrence strictly after now (its index from the anchor advances; an elapsed-time
 * period re-anchors there); a finite count drops by one however many occurrences were passed (R0 stays R0); the
 * start-now flag is cleared. Cron schedules are left alone. -ERANGE past 9999. */
int schedule_skip_forward(struct schedule_zones *z, struct schedule *s, int64_t now_ms)
	__attribute__((warn_unused_result));
/* The engine's move after handling the slots due at now, the latest of them last: schedule_skip_forward to now,
 * and past last when that left the start at or before it (a start equal to now). */
int schedule_advance(struct schedule_zones *z, struct schedule *s, int64_t now_ms, int64_t last_ms)
	__attribute__((warn_unused_result));
/* The slots the engine will run from now on, up to n into out[]; returns how many or < 0. The slots due by now
 * (an ISO start at or before now; cron matches after cron_done_ms) collapse into one run of the latest, listed
 * only when it is at most eps_ms late; then the occurrences after now, of the schedule as schedule_advance leaves
 * it. A zero period lists its next firing only (now when its start has passed). */
int schedule_upcoming(struct schedule_zones *z, const struct schedule *s, int64_t cron_done_ms, int64_t now_ms,
	int64_t eps_ms, int64_t *out, int n) __attribute__((warn_unused_result));

/* ISO with a wall-clock period (years, months, weeks or days): the anchor and the index of the start from it, to
 * persist; false when occurrences do not depend on an anchor (cron, elapsed-time or zero periods) or when the
 * start is the parse time (an empty start, which a restart parses anew). */
bool schedule_anchor(const struct schedule *s, int64_t *anchor_ms, int64_t *index);
/* Restore a persisted anchor into a freshly parsed schedule if it is consistent: occurrence index of anchor_ms,
 * with s's period and zone, is exactly s's start. Returns 0, or -ESTALE (s unchanged) when it is not. */
int schedule_set_anchor(struct schedule_zones *z, struct schedule *s, int64_t anchor_ms, int64_t index)
	__attribute__((warn_unused_result));
/* A re-posted schedule s takes old's anchor when its start, period and zone are old's current ones (a client
 * posting back what it read); returns whether it did. */
bool schedule_keep_anchor(struct schedule *s, const struct schedule *old);

/* Print an ISO schedule as Chronos stores it, R<n>/<start with millis and offset in its zone>/<period>
 * ("R/2012-01-01T00:00:01.000Z/PT1M"); -EINVAL for cron, -ENOSPC if len is too small. */
int schedule_format(struct schedule_zones *z, const struct schedule *s, char *buf, size_t len)
	__attribute__((warn_unused_result));
/* Parse, skip forward to now_ms and print: the schedule string to store after a launch, returned in *out for
 * the caller to free (a copy of the input for cron). Errors as schedule_parse. */
int schedule_rewrite(struct schedule_zones *z, const char *schedule, const char *tz, int64_t now_ms, char **out,
	char *err, size_t errlen) __attribute__((warn_unused_result));
/* Print an instant in a zone as ISO 8601 with millis and offset: 2008-03-01T13:00:00.000-08:00 (Z for +00:00);
 * -ENOSPC if len is too small, -ERANGE outside years 0000-9999. */
int schedule_format_instant(struct schedule_zones *z, uint16_t zone, int64_t ms, char *buf, size_t len)
	__attribute__((warn_unused_result));

#endif
