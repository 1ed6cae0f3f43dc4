#include "schedule/fire.h"

#include <errno.h>

#include "schedule/civil.h"
#include "schedule/cron.h"
#include "schedule/iso8601.h"
#include "schedule/zones.h"

/* The earliest instant a cron search looks at, a day before the epoch (no schedule fires before 1970). */
#define CRON_FLOOR (-MS_PER_DAY)

/* Wall-clock part of the period (years, months, weeks, days) times k, added to *t in the zone. */
static int add_calendar(struct schedule_zones *z, const struct schedule *s, int64_t k, int64_t *t)
{
	const struct schedule_period *p = &s->u.iso.period;
	int64_t years, months, days, year, local;
	int32_t off;
	struct civil c;
	int month, day, rc;

	if (__builtin_mul_overflow(k, (int64_t)p->years, &years) ||
	    __builtin_mul_overflow(k, (int64_t)p->months, &months) ||
	    __builtin_mul_overflow(k, (int64_t)p->weeks * 7 + p->days, &days) || days > 4 * INT64_C(1000000))
		return -ERANGE;
	if ((rc = zones_offset_at(z, s->zone, *t, &off)) != 0)
		return rc;
	local = *t + off;
	civil_from_local(local, &c);
	year = c.year;
	month = c.month;
	day = c.day;
	if ((rc = civil_add_years_months(&year, &month, &day, years, months)) != 0)
		return rc;
	local = (civil_days_from_date(year, month, day) + days) * MS_PER_DAY +
		(local - civil_floor_div(local, MS_PER_DAY) * MS_PER_DAY);
	if (local >= CIVIL_LOCAL_END)
		return -ERANGE;
	return zones_local_to_utc(z, s->zone, local, t);
}

/* -ERANGE when an instant near the end of the range is in the year 10000 on the zone's wall clock. */
static int check_local_end(struct schedule_zones *z, uint16_t zone, int64_t t)
{
	int32_t off;
	int rc = zones_offset_at(z, zone, t, &off);

	return rc != 0 ? rc : t + off >= CIVIL_LOCAL_END ? -ERANGE : 0;
}

/* Occurrence j of the anchor (j = s->index is the start): anchor + j*period. */
static int anchored(struct schedule_zones *z, const struct schedule *s, int64_t j, int64_t *out)
{
	const struct schedule_period *p = &s->u.iso.period;
	int64_t t = s->u.iso.anchor_ms, exact;
	int rc = 0;

	if (j > 0 && iso_period_has_calendar(p))
		rc = add_calendar(z, s, j, &t);
	if (rc == 0 && (__builtin_mul_overflow(j, iso_period_exact_ms(p), &exact) ||
			__builtin_add_overflow(t, exact, &t) || t >= CIVIL_LOCAL_END))
		rc = -ERANGE;
	if (rc == 0 && t >= CIVIL_LOCAL_END - MS_PER_DAY)
		rc = check_local_end(z, s->zone, t);
	if (rc == -ERANGE) {
		*out = SCHEDULE_NEVER;
		return 0;
	}
	*out = t;
	return rc;
}

int fire_iso_occurrence(struct schedule_zones *z, const struct schedule *s, int64_t k, int64_t *out)
{
	if (k < 0 || k > INT64_MAX - s->index)
		return -EINVAL;
	return anchored(z, s, s->index + k, out);
}

/* Average length of the period, only to guess k. */
static double approx_ms(const struct schedule_period *p)
{
	return p->years * 31556952000.0 + p->months * 2629746000.0 + p->weeks * 604800000.0 + p->days * 86400000.0 +
		(double)iso_period_exact_ms(p);
}

/* Occurrence j of the anchor compared with t: whether it is at or before t. */
static int at_or_before(struct schedule_zones *z, const struct schedule *s, int64_t j, int64_t t, int *yes)
{
	int64_t v;
	int rc = anchored(z, s, j, &v);

	*yes = rc == 0 && v <= t;
	return rc;
}

/* Occurrences grow with their index from the anchor: guess it from the average period, gallop to bracket it,
 * then bisect; the start (index s->index) is at or before t. */
int fire_iso_index(struct schedule_zones *z, const struct schedule *s, int64_t t, int64_t *k)
{
	int64_t base = s->index, lo, hi, step = 1, mid;
	double guess;
	int rc, yes;

	if (t >= CIVIL_LOCAL_END)
		t = CIVIL_LOCAL_END - 1;
	guess = (double)(t - s->u.iso.anchor_ms) / approx_ms(&s->u.iso.period);
	lo = hi = guess < (double)base ? base : guess > 1e15 ? INT64_C(1000000000000000) : (int64_t)guess;
	if ((rc = at_or_before(z, s, lo, t, &yes)) != 0)
		return rc;
	if (yes) {
		/* occurrence lo <= t: find hi with occurrence hi > t */
		for (;; step *= 2, lo = hi) {
			hi = lo + step;
			if ((rc = at_or_before(z, s, hi, t, &yes)) != 0)
				return rc;
			if (!yes)
				break;
		}
	} else {
		/* occurrence hi > t: find lo with occurrence lo <= t (occurrence base is the start, <= t) */
		for (;; step *= 2, hi = lo) {
			lo = hi - step > base ? hi - step : base;
			if (lo == base)
				break;
			if ((rc = at_or_before(z, s, lo, t, &yes)) != 0)
				return rc;
			if (yes)
				break;
		}
	}
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if ((rc = at_or_before(z, s, mid, t, &yes)) != 0)
			return rc;
		*(yes ? &lo : &hi) = mid;
	}
	*k = lo - base;
	return 0;
}

/* Whether a fixed-time job has a match among the wall-clock minutes a forward transition at seg->start
 * skipped; Vixie cron runs it once at the transition. */
static bool gap_matches(const struct schedule *s, const struct zone_segment *g)
{
	int64_t m;

	if (cron_is_wildcard(s) || g->start == SCHEDULE_NONE || g->prev_offset >= g->offset)
		return false;
	return cron_next_minute(s, civil_ceil_div(g->start + g->prev_offset, MS_PER_MINUTE),
		civil_ceil_div(g->start + g->offset, MS_PER_MINUTE), &m);
}

/* The first local minute of the segment a job may fire at: after a backward transition, a fixed-time job
 * skips the repeated wall-clock times (it fired in the first copy). */
static int64_t segment_first_minute(const struct schedule *s, const struct zone_segment *g)
{
	int32_t off = !cron_is_wildcard(s) && g->prev_offset > g->offset ? g->prev_offset : g->offset;

	/* A segment with no start (SCHEDULE_NONE) has no first minute: adding an offset to it would overflow. */
	if (g->start == SCHEDULE_NONE)
		return CRON_FLOOR / MS_PER_MINUTE;
	return civil_ceil_div(g->start + off, MS_PER_MINUTE);
}

/* Walk the segments of constant offset forward: within one, wall-clock minutes map to instants one to one. */
int fire_cron_next(struct schedule_zones *z, const struct schedule *s, int64_t t, int64_t *out)
{
	int64_t x, lo, hi, m;
	struct zone_segment g;
	int rc;

	*out = SCHEDULE_NEVER;
	if (t >= CIVIL_LOCAL_END)
		return 0;
	for (x = (t < CRON_FLOOR ? CRON_FLOOR : t) + 1; x < CIVIL_LOCAL_END; x = g.end) {
		if ((rc = zones_segment(z, s->zone, x, &g)) != 0)
			return rc;
		if (g.start >= x && gap_matches(s, &g)) {
			*out = g.start;
			return 0;
		}
		lo = civil_ceil_div(x + g.offset, MS_PER_MINUTE);
		if (segment_first_minute(s, &g) > lo)
			lo = segment_first_minute(s, &g);
		hi = g.end == SCHEDULE_NEVER ? CIVIL_LOCAL_END / MS_PER_MINUTE
					     : civil_ceil_div(g.end + g.offset, MS_PER_MINUTE);
		if (cron_next_minute(s, lo, hi, &m)) {
			/* the last wall-clock minutes of 9999 are in 10000 in UTC west of it: no instant we print */
			*out = m * MS_PER_MINUTE - g.offset < CIVIL_LOCAL_END ? m * MS_PER_MINUTE - g.offset : SCHEDULE_NEVER;
			return 0;
		}
		if (g.end == SCHEDULE_NEVER)
			break;
	}
	*out = SCHEDULE_NEVER;
	return 0;
}

/* The mirror of fire_cron_next, walking the segments backward. */
int fire_cron_prev(struct schedule_zones *z, const struct schedule *s, int64_t t, int64_t *out)
{
	int64_t x = t >= CIVIL_LOCAL_END ? CIVIL_LOCAL_END - 1 : t, lo, hi, m;
	struct zone_segment g;
	int rc;

	*out = SCHEDULE_NONE;
	for (; x >= CRON_FLOOR; x = g.start - 1) {
		if ((rc = zones_segment(z, s->zone, x, &g)) != 0)
			return rc;
		hi = civil_floor_div(x + g.offset, MS_PER_MINUTE) + 1;
		if (hi > CIVIL_LOCAL_END / MS_PER_MINUTE)
			hi = CIVIL_LOCAL_END / MS_PER_MINUTE;
		lo = segment_first_minute(s, &g);
		/* no need to look into earlier centuries: wall clocks are within a day (26 h) of UTC */
		if (lo < CRON_FLOOR / MS_PER_MINUTE - 2 * MINUTES_PER_DAY)
			lo = CRON_FLOOR / MS_PER_MINUTE - 2 * MINUTES_PER_DAY;
		if (cron_prev_minute(s, lo, hi, &m)) {
			*out = m * MS_PER_MINUTE - g.offset;
			break;
		}
		if (g.start == SCHEDULE_NONE)
			break;
		if (gap_matches(s, &g)) {
			*out = g.start;
			break;
		}
	}
	/* fire_cron_next finds nothing at or before CRON_FLOOR: neither does this */
	if (*out <= CRON_FLOOR)
		*out = SCHEDULE_NONE;
	return 0;
}
