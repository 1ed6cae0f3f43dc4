#include "schedule/schedule.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "schedule/civil.h"
#include "schedule/cron.h"
#include "schedule/errmsg.h"
#include "schedule/fire.h"
#include "schedule/iso8601.h"
#include "schedule/zones.h"
#include "util/xmalloc.h"

/* Chronos's create-time rule: the start must be at or after 1970-01-01T00:00:01Z. */
#define START_MIN_MS 1000

/* The instant of the parsed wall-clock start in the zone, as Chronos computes it: Joda's DateTime.parse keeps
 * the string's offset (without one, the JVM's zone, which we take to be UTC), then withZoneRetainFields keeps
 * the wall-clock fields in the zone, with the zone's offset at the parsed instant if the wall-clock time has it
 * (so a start printed in the second copy of a repeated hour reads back as that copy). */
static int resolve_start(struct schedule_zones *z, uint16_t zone, const struct iso_parsed *ip, int64_t *start)
{
	int64_t local = civil_to_local(&ip->local);

	return zones_local_to_utc_keep(z, zone, local, local - (ip->has_offset ? ip->offset_ms : 0), start);
}

static int parse_iso(struct schedule_zones *z, const char *text, const char *tz, int64_t now_ms,
	struct schedule *out, char *err, size_t errlen)
{
	char q[ERRMSG_QUOTE_MAX], q2[ERRMSG_QUOTE_MAX];
	struct iso_parsed ip;
	int rc;

	if ((rc = iso_parse(text, &ip, err, errlen)) != 0)
		return rc;
	if (ip.repeat == SCHEDULE_REPEAT_INFINITE && iso_period_is_zero(&ip.period)) {
		errmsg_set(err, errlen, "schedule: infinite repetition with a zero period in '%s' would run forever: "
			"use a non-zero period or Rn", errmsg_quote(text, SIZE_MAX, q));
		return -EINVAL;
	}
	if (tz != NULL && tz[0] != '\0')
		rc = schedule_zones_intern(z, tz, &out->zone, err, errlen);
	else if (ip.has_offset)
		rc = zones_intern_offset(z, ip.offset_ms, &out->zone);
	else
		out->zone = SCHEDULE_ZONE_UTC;
	if (rc != 0)
		return rc;
	if (ip.start_now) {
		out->u.iso.start_ms = now_ms - 1000;
		out->flags = SCHEDULE_F_START_NOW;
	} else if ((rc = resolve_start(z, out->zone, &ip, &out->u.iso.start_ms)) != 0) {
		errmsg_set(err, errlen, "schedule: cannot place start date '%s' in its time zone",
			errmsg_quote(ip.start, ip.start_len, q2));
		return rc;
	} else if (out->u.iso.start_ms < START_MIN_MS) {
		errmsg_set(err, errlen, "schedule: start date '%s' is before 1970 in '%s'",
			errmsg_quote(ip.start, ip.start_len, q2), errmsg_quote(text, SIZE_MAX, q));
		return -EINVAL;
	} else if (out->u.iso.start_ms >= CIVIL_LOCAL_END) {
		/* its wall-clock time is in 9999, but not the instant: a zone west of UTC moves it into 10000 */
		errmsg_set(err, errlen, "schedule: start date '%s' is after the year 9999 in UTC in '%s'",
			errmsg_quote(ip.start, ip.start_len, q2), errmsg_quote(text, SIZE_MAX, q));
		return -EINVAL;
	}
	out->u.iso.anchor_ms = out->u.iso.start_ms;
	out->u.iso.repeat = ip.repeat;
	out->u.iso.period = ip.period;
	out->kind = SCHEDULE_ISO8601;
	return 0;
}

int schedule_parse(struct schedule_zones *z, const char *schedule, const char *tz, int64_t now_ms,
	struct schedule *out, char *err, size_t errlen)
{
	const char *expr;
	char q[ERRMSG_QUOTE_MAX];
	int rc;

	*out = (struct schedule){ 0 };
	if (schedule == NULL)
		schedule = "";
	if (schedule[0] == 'R')
		return parse_iso(z, schedule, tz, now_ms, out, err, errlen);
	expr = schedule + strspn(schedule, " \t");
	if (*expr != '@' && strpbrk(expr, " \t") == NULL) {
		errmsg_set(err, errlen, "schedule: cannot parse '%s': expected R[n]/[start]/period or a 5-field cron "
			"expression", errmsg_quote(schedule, SIZE_MAX, q));
		return -EINVAL;
	}
	if ((rc = cron_parse(schedule, out, err, errlen)) != 0)
		return rc;
	if (tz != NULL && tz[0] != '\0' && (rc = schedule_zones_intern(z, tz, &out->zone, err, errlen)) != 0)
		return rc;
	out->kind = SCHEDULE_CRON;
	return 0;
}

int schedule_validate(const char *schedule, const char *tz, int64_t now_ms, char *err, size_t errlen)
{
	struct schedule_zones *z = schedule_zones_new();
	struct schedule s;
	int rc = schedule_parse(z, schedule, tz, now_ms, &s, err, errlen);

	schedule_zones_free(z);
	return rc;
}

enum schedule_kind schedule_kind(const struct schedule *s)
{
	return (enum schedule_kind)s->kind;
}

int64_t schedule_start(const struct schedule *s)
{
	return s->kind == SCHEDULE_ISO8601 ? s->u.iso.start_ms : SCHEDULE_NONE;
}

int64_t schedule_repeat(const struct schedule *s)
{
	return s->kind == SCHEDULE_ISO8601 ? s->u.iso.repeat : SCHEDULE_REPEAT_INFINITE;
}

bool schedule_period_is_zero(const struct schedule *s)
{
	return s->kind == SCHEDULE_ISO8601 && iso_period_is_zero(&s->u.iso.period);
}

int schedule_occurrence(struct schedule_zones *z, const struct schedule *s, int64_t k, int64_t *out)
{
	if (s->kind != SCHEDULE_ISO8601)
		return -EINVAL;
	return fire_iso_occurrence(z, s, k, out);
}

int schedule_next_after(struct schedule_zones *z, const struct schedule *s, int64_t t, int64_t *out)
{
	int64_t k;
	int rc;

	if (s->kind == SCHEDULE_CRON)
		return fire_cron_next(z, s, t, out);
	*out = SCHEDULE_NEVER;
	if (s->u.iso.repeat == 0)
		return 0;
	if (s->u.iso.start_ms > t) {
		*out = s->u.iso.start_ms;
		return 0;
	}
	if (iso_period_is_zero(&s->u.iso.period) || t >= CIVIL_LOCAL_END)
		return 0;
	if ((rc = fire_iso_index(z, s, t, &k)) != 0)
		return rc;
	if (s->u.iso.repeat != SCHEDULE_REPEAT_INFINITE && k + 1 >= s->u.iso.repeat)
		return 0;
	return fire_iso_occurrence(z, s, k + 1, out);
}

int schedule_last_at_or_before(struct schedule_zones *z, const struct schedule *s, int64_t t, int64_t *out)
{
	int64_t k;
	int rc;

	if (s->kind == SCHEDULE_CRON)
		return fire_cron_prev(z, s, t, out);
	*out = SCHEDULE_NONE;
	if (s->u.iso.repeat == 0 || s->u.iso.start_ms > t)
		return 0;
	if (iso_period_is_zero(&s->u.iso.period)) {
		*out = s->u.iso.start_ms;
		return 0;
	}
	if ((rc = fire_iso_index(z, s, t, &k)) != 0)
		return rc;
	if (s->u.iso.repeat != SCHEDULE_REPEAT_INFINITE && k >= s->u.iso.repeat)
		k = s->u.iso.repeat - 1;
	return fire_iso_occurrence(z, s, k, out);
}

/* ISO: how many distinct occurrence instants are at or before t. */
static int iso_count_upto(struct schedule_zones *z, const struct schedule *s, int64_t t, int64_t *n)
{
	int rc;

	*n = 0;
	if (s->u.iso.repeat == 0 || s->u.iso.start_ms > t)
		return 0;
	*n = 1;
	if (iso_period_is_zero(&s->u.iso.period))
		return 0;
	if ((rc = fire_iso_index(z, s, t, n)) != 0)
		return rc;
	if (++*n > s->u.iso.repeat && s->u.iso.repeat != SCHEDULE_REPEAT_INFINITE)
		*n = s->u.iso.repeat;
	return 0;
}

int schedule_count_between(struct schedule_zones *z, const struct schedule *s, int64_t from, int64_t to,
	int64_t cap, int64_t *count)
{
	int64_t a, b, x = from;
	int rc;

	*count = 0;
	if (to <= from || cap <= 0)
		return 0;
	if (s->kind == SCHEDULE_ISO8601) {
		if ((rc = iso_count_upto(z, s, from, &a)) != 0 || (rc = iso_count_upto(z, s, to, &b)) != 0)
			return rc;
		*count = b - a < cap ? b - a : cap;
		return 0;
	}
	while (*count < cap) {
		if ((rc = fire_cron_next(z, s, x, &x)) != 0)
			return rc;
		if (x > to || x == SCHEDULE_NEVER)
			break;
		++*count;
	}
	return 0;
}

int schedule_next_n(struct schedule_zones *z, const struct schedule *s, int64_t t, int64_t *out, int n)
{
	int i, rc;

	for (i = 0; i < n; i++) {
		if ((rc = schedule_next_after(z, s, t, &out[i])) != 0)
			return rc;
		if (out[i] == SCHEDULE_NEVER)
			break;
		t = out[i];
	}
	return i;
}

int schedule_skip_forward(struct schedule_zones *z, struct schedule *s, int64_t now_ms)
{
	int64_t k, next;
	int rc;

	if (s->kind != SCHEDULE_ISO8601)
		return 0;
	if (s->u.iso.start_ms < now_ms && !iso_period_is_zero(&s->u.iso.period)) {
		if ((rc = fire_iso_index(z, s, now_ms, &k)) != 0 || (rc = fire_iso_occurrence(z, s, k + 1, &next)) != 0)
			return rc;
		/* A wall-clock period counts from its anchor (at most ~3 million days to 9999); elapsed time does not
		 * depend on where it counts from, so it re-anchors at the new start, however many occurrences it
		 * passed (PT0.001S over a year is 3e10 of them). */
		if (next == SCHEDULE_NEVER)
			return -ERANGE;
		if (iso_period_has_calendar(&s->u.iso.period)) {
			if (s->index + k + 1 > UINT32_MAX)
				return -ERANGE;
			s->index += (uint32_t)(k + 1);
		} else {
			s->u.iso.anchor_ms = next;
			s->index = 0;
		}
		s->u.iso.start_ms = next;
	}
	if (s->u.iso.repeat > 0)
		s->u.iso.repeat--;
	s->flags &= (uint8_t)~SCHEDULE_F_START_NOW;
	return 0;
}

int schedule_advance(struct schedule_zones *z, struct schedule *s, int64_t now_ms, int64_t last_ms)
{
	struct schedule before = *s;
	int rc = schedule_skip_forward(z, s, now_ms);

	if (rc == 0 && s->kind == SCHEDULE_ISO8601 && !iso_period_is_zero(&s->u.iso.period) &&
	    s->u.iso.start_ms <= last_ms) {
		*s = before;
		rc = schedule_skip_forward(z, s, last_ms + 1);
	}
	return rc;
}

/* The latest slot due at now (SCHEDULE_NONE if none is), which runs when it is at most eps_ms late. */
static int due_slot(struct schedule_zones *z, const struct schedule *s, int64_t cron_done_ms, int64_t now_ms,
	int64_t *last)
{
	int64_t first;
	int rc;

	*last = SCHEDULE_NONE;
	if (s->kind == SCHEDULE_CRON) {
		if ((rc = schedule_next_after(z, s, cron_done_ms, &first)) != 0 || first > now_ms)
			return rc;
	} else if (s->u.iso.start_ms > now_ms) {
		return 0;
	}
	return schedule_last_at_or_before(z, s, now_ms, last);
}

int schedule_upcoming(struct schedule_zones *z, const struct schedule *s, int64_t cron_done_ms, int64_t now_ms,
	int64_t eps_ms, int64_t *out, int n)
{
	struct schedule rest = *s;
	int64_t last;
	int i = 0, rc;

	if (n <= 0 || schedule_repeat(s) == 0)
		return 0;
	if (schedule_period_is_zero(s)) {
		out[0] = s->u.iso.start_ms > now_ms ? s->u.iso.start_ms : now_ms;
		return 1;
	}
	if ((rc = due_slot(z, s, cron_done_ms, now_ms, &last)) != 0)
		return rc;
	if (last != SCHEDULE_NONE && now_ms - last <= eps_ms)
		out[i++] = last;
	if (s->kind == SCHEDULE_CRON)
		rc = schedule_next_n(z, s, now_ms, out + i, n - i);
	else if (last == SCHEDULE_NONE)
		rc = schedule_next_n(z, s, s->u.iso.start_ms - 1, out, n);
	else if ((rc = schedule_advance(z, &rest, now_ms, last)) == 0)
		rc = schedule_next_n(z, &rest, rest.u.iso.start_ms - 1, out + i, n - i);
	if (rc == -ERANGE)
		return i;
	return rc < 0 ? rc : rc + i;
}

bool schedule_anchor(const struct schedule *s, int64_t *anchor_ms, int64_t *index)
{
	if (s->kind != SCHEDULE_ISO8601 || (s->flags & SCHEDULE_F_START_NOW) ||
	    !iso_period_has_calendar(&s->u.iso.period))
		return false;
	*anchor_ms = s->u.iso.anchor_ms;
	*index = s->index;
	return true;
}

int schedule_set_anchor(struct schedule_zones *z, struct schedule *s, int64_t anchor_ms, int64_t index)
{
	struct schedule t = *s;
	int64_t start;
	int rc;

	if (s->kind != SCHEDULE_ISO8601 || (s->flags & SCHEDULE_F_START_NOW) ||
	    !iso_period_has_calendar(&s->u.iso.period) || index < 0 || index > UINT32_MAX)
		return -ESTALE;
	t.u.iso.anchor_ms = anchor_ms;
	t.index = (uint32_t)index;
	if ((rc = fire_iso_occurrence(z, &t, 0, &start)) != 0)
		return rc;
	if (start != s->u.iso.start_ms)
		return -ESTALE;
	*s = t;
	return 0;
}

static bool period_equal(const struct schedule_period *a, const struct schedule_period *b)
{
	return a->years == b->years && a->months == b->months && a->weeks == b->weeks && a->days == b->days &&
		a->hours == b->hours && a->minutes == b->minutes && a->seconds == b->seconds && a->millis == b->millis;
}

bool schedule_keep_anchor(struct schedule *s, const struct schedule *old)
{
	if (s->kind != SCHEDULE_ISO8601 || old->kind != SCHEDULE_ISO8601 || (s->flags & SCHEDULE_F_START_NOW) ||
	    s->zone != old->zone || s->u.iso.start_ms != old->u.iso.start_ms ||
	    !period_equal(&s->u.iso.period, &old->u.iso.period))
		return false;
	s->u.iso.anchor_ms = old->u.iso.anchor_ms;
	s->index = old->index;
	return true;
}

int schedule_format_instant(struct schedule_zones *z, uint16_t zone, int64_t ms, char *buf, size_t len)
{
	char offset[16] = "Z";
	struct civil c;
	int64_t local;
	int32_t off, a;
	int rc, n;

	if ((rc = zones_offset_at(z, zone, ms, &off)) != 0)
		return rc;
	/* ms may be anything, SCHEDULE_NEVER included: check the sum for overflow before the range */
	if (__builtin_add_overflow(ms, (int64_t)off, &local) || local < civil_days_from_date(0, 1, 1) * MS_PER_DAY ||
	    local >= CIVIL_LOCAL_END)
		return -ERANGE;
	civil_from_local(local, &c);
	a = off < 0 ? -off : off;
	if (a % 60000 != 0)
		snprintf(offset, sizeof(offset), "%c%02d:%02d:%02d", off < 0 ? '-' : '+', a / 3600000, a / 60000 % 60,
			a / 1000 % 60);
	else if (off != 0)
		snprintf(offset, sizeof(offset), "%c%02d:%02d", off < 0 ? '-' : '+', a / 3600000, a / 60000 % 60);
	n = snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03d%s", c.year, c.month, c.day, c.hour, c.minute,
		c.second, c.ms, offset);
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

int schedule_format(struct schedule_zones *z, const struct schedule *s, char *buf, size_t len)
{
	char start[SCHEDULE_INSTANT_MAX], period[96], repeat[24] = "";
	int rc, n;

	if (s->kind != SCHEDULE_ISO8601)
		return -EINVAL;
	if ((rc = schedule_format_instant(z, s->zone, s->u.iso.start_ms, start, sizeof(start))) != 0)
		return rc;
	if ((rc = iso_format_period(&s->u.iso.period, period, sizeof(period))) < 0)
		return rc;
	if (s->u.iso.repeat != SCHEDULE_REPEAT_INFINITE)
		snprintf(repeat, sizeof(repeat), "%" PRId64, s->u.iso.repeat);
	n = snprintf(buf, len, "R%s/%s/%s", repeat, start, period);
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

int schedule_rewrite(struct schedule_zones *z, const char *schedule, const char *tz, int64_t now_ms, char **out,
	char *err, size_t errlen)
{
	char buf[SCHEDULE_FORMAT_MAX], q[ERRMSG_QUOTE_MAX];
	struct schedule s;
	int rc;

	*out = NULL;
	if ((rc = schedule_parse(z, schedule, tz, now_ms, &s, err, errlen)) != 0)
		return rc;
	if (s.kind == SCHEDULE_CRON) {
		*out = xstrdup(schedule);
		return 0;
	}
	if ((rc = schedule_skip_forward(z, &s, now_ms)) != 0 || (rc = schedule_format(z, &s, buf, sizeof(buf))) != 0) {
		errmsg_set(err, errlen, "schedule: no next occurrence of '%s' before the year 10000",
			errmsg_quote(schedule, SIZE_MAX, q));
		return rc;
	}
	*out = xstrdup(buf);
	return 0;
}
