#include "schedule/describe.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "schedule/civil.h"
#include "schedule/iso8601.h"
#include "schedule/zones.h"

#define ALL_MINUTES ((UINT64_C(1) << 60) - 1)
#define ALL_HOURS ((UINT32_C(1) << 24) - 1)

static const char *const month_names[] = {"", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
	"Nov", "Dec"};
static const char *const wday_short[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const wday_long[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
	"Saturday"};

/* A bounded text being written; overflow is remembered, not silently truncated. */
struct words {
	char buf[SCHEDULE_DESCRIBE_MAX];
	size_t len;
	bool full;
};

__attribute__((format(printf, 2, 3))) static void say(struct words *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(w->buf + w->len, sizeof(w->buf) - w->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(w->buf) - w->len)
		w->full = true;
	else
		w->len += (size_t)n;
}

/* "13:00", or "13:00:05" when the seconds matter. */
static void say_time(struct words *w, const struct civil *c)
{
	say(w, "%02d:%02d", c->hour, c->minute);
	if (c->second || c->ms)
		say(w, ":%02d", c->second);
}

/* "every day", "every 3 days": n units. */
static void say_every(struct words *w, int64_t n, const char *unit)
{
	if (n == 1)
		say(w, "every %s", unit);
	else
		say(w, "every %" PRId64 " %ss", n, unit);
}

/* The one non-zero calendar or clock field of a period, or -1 when there are several (or none). */
static int single_field(const struct schedule_period *p, int64_t *n)
{
	const int64_t v[] = {p->years, p->months, p->weeks, p->days, p->hours, p->minutes, p->seconds};
	int which = -1;

	if (p->millis)
		return -1;
	for (int i = 0; i < 7; i++) {
		if (v[i] == 0)
			continue;
		if (which >= 0)
			return -1;
		which = i;
		*n = v[i];
	}
	return which;
}

static void describe_iso(struct schedule_zones *z, const struct schedule *s, struct words *w)
{
	const struct schedule_period *p = &s->u.iso.period;
	const char *zone = schedule_zone_name(z, s->zone);
	int64_t start = schedule_start(s), repeat = schedule_repeat(s), n = 0;
	int32_t off = 0;
	struct civil c;
	char period[64];

	if (zones_offset_at(z, s->zone, start, &off) != 0)
		off = 0;
	civil_from_local(start + off, &c);
	if (repeat == 0) {
		say(w, "no more runs");
		return;
	}
	if (repeat == 1 || iso_period_is_zero(p)) {
		say(w, "once, on %04d-%02d-%02d at ", c.year, c.month, c.day);
		say_time(w, &c);
		say(w, " %s", zone);
		return;
	}
	switch (single_field(p, &n)) {
	case 0:
		say_every(w, n, "year");
		say(w, " on %s %d at ", month_names[c.month], c.day);
		break;
	case 1:
		say_every(w, n, "month");
		say(w, " on day %d at ", c.day);
		break;
	case 2:
		say_every(w, n, "week");
		say(w, " on %s at ", wday_long[civil_weekday(civil_days_from_date(c.year, c.month, c.day))]);
		break;
	case 3:
		say_every(w, n, "day");
		say(w, " at ");
		break;
	case 4:
		say_every(w, n, "hour");
		say(w, " at :%02d", c.minute);
		goto count;
	case 5:
		say_every(w, n, "minute");
		goto count;
	case 6:
		say_every(w, n, "second");
		goto count;
	default:
		if (iso_format_period(p, period, sizeof(period)) < 0)
			snprintf(period, sizeof(period), "period");
		say(w, "every %s from %04d-%02d-%02d ", period, c.year, c.month, c.day);
		break;
	}
	say_time(w, &c);
	say(w, " %s", zone);
count:
	if (repeat > 1)
		say(w, ", %" PRId64 " more times", repeat);
}

/* The members of a bit set from lo to hi, as "Mon-Fri" or "1, 15": runs of three or more as ranges. */
static void say_set(struct words *w, uint64_t bits, int lo, int hi, const char *const *names)
{
	bool first = true;

	for (int i = lo; i <= hi; i++) {
		int j = i;
		if (!(bits >> i & 1))
			continue;
		while (j + 1 <= hi && (bits >> (j + 1) & 1))
			j++;
		say(w, "%s", first ? "" : ", ");
		first = false;
		if (names)
			say(w, "%s", names[i]);
		else
			say(w, "%d", i);
		if (j - i >= 2) {
			if (names)
				say(w, "-%s", names[j]);
			else
				say(w, "-%d", j);
			i = j;
		}
	}
}

/* The step of a set that is {0, k, 2k, ...} up to max (k > 1 dividing max), or 0. */
static int regular_step(uint64_t bits, int max)
{
	for (int k = 2; k < max; k++) {
		uint64_t want = 0;
		if (max % k)
			continue;
		for (int i = 0; i < max; i += k)
			want |= UINT64_C(1) << i;
		if (bits == want)
			return k;
	}
	return 0;
}

static int bit_count(uint64_t bits)
{
	return __builtin_popcountll(bits);
}

static int lowest_bit(uint64_t bits)
{
	return __builtin_ctzll(bits);
}

/* The time-of-day part of a cron schedule; false when no simple words fit. */
static bool describe_cron_time(const struct schedule *s, struct words *w, bool *wall_clock)
{
	uint64_t min = s->u.cron.minutes;
	uint32_t hours = s->u.cron.hours;
	int step;

	*wall_clock = false;
	if (hours == ALL_HOURS) {
		if (min == ALL_MINUTES)
			say(w, "every minute");
		else if ((step = regular_step(min, 60)) != 0)
			say(w, "every %d minutes", step);
		else if (bit_count(min) == 1)
			say(w, "every hour at :%02d", lowest_bit(min));
		else
			return false;
		return true;
	}
	if (bit_count(min) != 1)
		return false;
	if ((step = regular_step(hours, 24)) != 0) {
		say(w, "every %d hours at :%02d", step, lowest_bit(min));
		return true;
	}
	if (bit_count(hours) > 4)
		return false;
	*wall_clock = true;
	say(w, "at ");
	for (int h = 0, k = 0; h < 24; h++)
		if (hours >> h & 1)
			say(w, "%s%02d:%02d", k++ ? ", " : "", h, lowest_bit(min));
	return true;
}

static void describe_cron(struct schedule_zones *z, const struct schedule *s, const char *text, struct words *w)
{
	bool mday_star = s->flags & SCHEDULE_F_MDAY_STAR, wday_star = s->flags & SCHEDULE_F_WDAY_STAR;
	bool all_months = s->u.cron.months == 0x1ffe, wall_clock;
	struct words days = {0};

	if (!mday_star && !wday_star) /* cron's "either": day of month or day of week */
		goto literal;
	if (!mday_star) {
		say(&days, " on day ");
		say_set(&days, s->u.cron.mdays, 1, 31, NULL);
	} else if (!wday_star) {
		say(&days, " on ");
		say_set(&days, s->u.cron.wdays, 0, 6, wday_short);
	}
	if (!all_months) {
		say(&days, " in ");
		say_set(&days, s->u.cron.months, 1, 12, month_names);
	}
	if (days.full || !describe_cron_time(s, w, &wall_clock))
		goto literal;
	if (wall_clock && mday_star && wday_star && all_months && w->len + 11 <= sizeof(w->buf)) {
		/* "at 13:00" alone reads better as "every day at 13:00" */
		memmove(w->buf + 10, w->buf, w->len + 1);
		memcpy(w->buf, "every day ", 10);
		w->len += 10;
	}
	say(w, "%s", days.buf);
	say(w, " %s", schedule_zone_name(z, s->zone));
	if (!w->full)
		return;
literal:
	*w = (struct words){0};
	say(w, "cron '%s' %s", text, schedule_zone_name(z, s->zone));
}

int schedule_describe(struct schedule_zones *z, const struct schedule *s, const char *text, char *buf, size_t len)
{
	struct words w = {0};

	if (schedule_kind(s) == SCHEDULE_CRON)
		describe_cron(z, s, text ? text : "", &w);
	else
		describe_iso(z, s, &w);
	if (w.full || w.len >= len)
		return -ENOSPC;
	memcpy(buf, w.buf, w.len + 1);
	return (int)w.len;
}
