#include "schedule/tzrule.h"

#include <stdlib.h>

#include "schedule/civil.h"
#include "util/xmalloc.h"

#define SECS_PER_DAY INT64_C(86400)
#define HOUR 3600
/* Footer years looked at either side of an instant's: a rule's events stray at most 8 days from their year,
 * and a rule that changes the offset at all does so every year, so 3 years either side always hold the
 * previous and the next change. */
#define FOOTER_YEARS 3
#define FOOTER_EVENTS (2 * (2 * FOOTER_YEARS + 1))

/* ---- POSIX TZ strings ---------------------------------------------------------------------------------- */

struct cursor {
	const char *p, *end;
};

static bool at_char(const struct cursor *c, char ch)
{
	return c->p < c->end && *c->p == ch;
}

static bool at_digit(const struct cursor *c)
{
	return c->p < c->end && *c->p >= '0' && *c->p <= '9';
}

/* Digits at the cursor as a number no larger than max; false if there are none or it is larger. */
static bool read_num(struct cursor *c, int32_t max, int32_t *v)
{
	int32_t n = 0;

	if (!at_digit(c))
		return false;
	while (at_digit(c)) {
		n = n * 10 + (*c->p++ - '0');
		if (n > max)
			return false;
	}
	*v = n;
	return true;
}

/* A zone abbreviation: three or more letters, or <...> of three or more letters, digits, '+' and '-'. */
static bool read_name(struct cursor *c)
{
	const char *start;
	bool quoted = at_char(c, '<');

	c->p += quoted;
	for (start = c->p; c->p < c->end; c->p++) {
		char ch = *c->p;
		bool letter = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
		if (!letter && !(quoted && ((ch >= '0' && ch <= '9') || ch == '+' || ch == '-')))
			break;
	}
	if (c->p - start < 3 || (quoted && !at_char(c, '>')))
		return false;
	c->p += quoted;
	return true;
}

/* [+-]hh[:mm[:ss]] with hours up to max_hours, as seconds. */
static bool read_hms(struct cursor *c, int32_t max_hours, int32_t *secs)
{
	int32_t sign = 1, h, m = 0, s = 0;

	if (at_char(c, '+') || at_char(c, '-'))
		sign = *c->p++ == '-' ? -1 : 1;
	if (!read_num(c, max_hours, &h))
		return false;
	if (at_char(c, ':')) {
		c->p++;
		if (!read_num(c, 59, &m))
			return false;
		if (at_char(c, ':')) {
			c->p++;
			if (!read_num(c, 59, &s))
				return false;
		}
	}
	*secs = sign * ((h * 60 + m) * 60 + s);
	return true;
}

/* Jn, n or Mm.w.d, then an optional /time (02:00 by default). */
static bool read_date(struct cursor *c, struct tz_date *d)
{
	int32_t a, b, e;

	*d = (struct tz_date){ .secs = 2 * HOUR };
	if (at_char(c, 'J')) {
		c->p++;
		if (!read_num(c, 365, &a) || a < 1)
			return false;
		d->kind = TZ_DATE_JULIAN1;
		d->day = (uint16_t)a;
	} else if (at_char(c, 'M')) {
		c->p++;
		if (!read_num(c, 12, &a) || a < 1 || !at_char(c, '.'))
			return false;
		c->p++;
		if (!read_num(c, 5, &b) || b < 1 || !at_char(c, '.'))
			return false;
		c->p++;
		if (!read_num(c, 6, &e))
			return false;
		d->kind = TZ_DATE_MWD;
		d->month = (uint8_t)a;
		d->week = (uint8_t)b;
		d->wday = (uint8_t)e;
	} else {
		if (!read_num(c, 365, &a))
			return false;
		d->kind = TZ_DATE_JULIAN0;
		d->day = (uint16_t)a;
	}
	if (at_char(c, '/')) {
		c->p++;
		return read_hms(c, 167, &d->secs);
	}
	return true;
}

const char *tz_posix_parse(const char *s, size_t len, struct tz_posix *out)
{
	struct cursor c = { s, s + len };
	int32_t std, dst;

	*out = (struct tz_posix){ 0 };
	if (!read_name(&c))
		return "the standard time's name must have 3 or more letters";
	if (!read_hms(&c, 24, &std))
		return "the standard time's offset must be [+-]hh[:mm[:ss]] with hours up to 24";
	out->std_off = out->dst_off = -std;
	if (out->std_off < TZ_OFFSET_MIN || out->std_off > TZ_OFFSET_MAX)
		return "the standard time's offset is out of range";
	if (c.p == c.end)
		return NULL;
	if (!read_name(&c))
		return "the daylight time's name must have 3 or more letters";
	dst = std - HOUR;
	if (c.p != c.end && !at_char(&c, ',') && !read_hms(&c, 24, &dst))
		return "the daylight time's offset must be [+-]hh[:mm[:ss]] with hours up to 24";
	if (!at_char(&c, ','))
		return "daylight time needs the rules of its start and end";
	c.p++;
	if (!read_date(&c, &out->start) || !at_char(&c, ','))
		return "the daylight time's start must be Jn, n or Mm.w.d, with an optional /time";
	c.p++;
	if (!read_date(&c, &out->end) || c.p != c.end)
		return "the daylight time's end must be Jn, n or Mm.w.d, with an optional /time";
	out->dst_off = -dst;
	out->has_dst = out->dst_off != out->std_off;
	if (out->dst_off < TZ_OFFSET_MIN || out->dst_off > TZ_OFFSET_MAX)
		return "the daylight time's offset is out of range";
	return NULL;
}

/* ---- evaluating the footer ----------------------------------------------------------------------------- */

/* The day (since 1970-01-01) a rule date falls on in a year. */
static int64_t rule_day(const struct tz_date *d, int64_t year)
{
	int64_t first;
	int dim;

	if (d->kind == TZ_DATE_JULIAN1)
		return civil_days_from_date(year, 1, 1) + d->day - 1 + (civil_is_leap(year) && d->day >= 60);
	if (d->kind == TZ_DATE_JULIAN0)
		return civil_days_from_date(year, 1, 1) + d->day;
	first = civil_days_from_date(year, d->month, 1);
	dim = civil_days_in_month(year, d->month);
	first += (d->wday - civil_weekday(first) + 7) % 7 + (d->week - 1) * 7;
	while (d->week == 5 && first >= civil_days_from_date(year, d->month, 1) + dim)
		first -= 7;
	return first;
}

/* The instants a rule's daylight time starts and ends in years [from, to], sorted; returns how many. Each lies
 * within 8 days of its year (rule times stay within 167 hours of midnight, offsets within 26 hours). */
static int footer_events(const struct tz_posix *f, int64_t from, int64_t to, int64_t *at, bool *starts)
{
	int n = 0;

	for (int64_t y = from; y <= to; y++) {
		int64_t e[2] = { rule_day(&f->start, y) * SECS_PER_DAY + f->start.secs - f->std_off,
			rule_day(&f->end, y) * SECS_PER_DAY + f->end.secs - f->dst_off };
		for (int k = 0; k < 2; k++) {
			/* insertion in order; at equal instants an end sorts before a start */
			int i = n++;
			while (i > 0 && (at[i - 1] > e[k] || (at[i - 1] == e[k] && k == 1 && starts[i - 1]))) {
				at[i] = at[i - 1];
				starts[i] = starts[i - 1];
				i--;
			}
			at[i] = e[k];
			starts[i] = k == 0;
		}
	}
	return n;
}

static int64_t year_of(int64_t t)
{
	int64_t year;
	int month, day;

	civil_date_from_days(civil_floor_div(t, SECS_PER_DAY), &year, &month, &day);
	return year;
}

/* Whether the footer has daylight time at t: that of the last event at or before t, a start winning over an
 * end at the same instant (so "daylight all year", an end at the very instant of the next start, stays
 * daylight). The years looked at hold every event within 8 days of t's year and those equal to them. */
static bool footer_dst_at(const struct tz_posix *f, int64_t t)
{
	int64_t at[10], y = year_of(t);
	bool starts[10];
	int n = footer_events(f, y - 3, y + 1, at, starts);

	while (n > 0 && at[n - 1] > t)
		n--;
	return n > 0 && starts[n - 1];
}

static int32_t footer_offset(const struct tz_posix *f, bool dst)
{
	return dst ? f->dst_off : f->std_off;
}

/* Footer only: the span holding t (its start is not yet limited by the explicit transitions). A rule that
 * changes the offset at all does so every year, so FOOTER_YEARS either side hold the previous and next change. */
static void footer_span(const struct tz_posix *f, int64_t t, struct tz_span *out)
{
	int64_t at[FOOTER_EVENTS], y = year_of(t);
	bool starts[FOOTER_EVENTS];
	int n, i, last;

	out->start = TZ_NONE;
	out->end = TZ_NEVER;
	out->offset = out->prev_offset = f->std_off;
	if (!f->has_dst)
		return;
	out->offset = out->prev_offset = footer_offset(f, footer_dst_at(f, t));
	n = footer_events(f, y - FOOTER_YEARS, y + FOOTER_YEARS, at, starts);
	for (last = -1; last + 1 < n && at[last + 1] <= t;)
		last++;
	for (i = last; i >= 0; i--) {
		bool before = footer_dst_at(f, at[i] - 1);
		if (before != footer_dst_at(f, at[i])) {
			out->start = at[i];
			out->prev_offset = footer_offset(f, before);
			break;
		}
	}
	for (i = last + 1; i < n; i++) {
		if (footer_dst_at(f, at[i] - 1) != footer_dst_at(f, at[i])) {
			out->end = at[i];
			break;
		}
	}
}

/* ---- queries ------------------------------------------------------------------------------------------- */

static int64_t clamp_time(int64_t t)
{
	return t < -TZ_TIME_LIMIT ? -TZ_TIME_LIMIT : t > TZ_TIME_LIMIT ? TZ_TIME_LIMIT : t;
}

/* The index of the last transition at or before t, or -1. */
static ptrdiff_t last_transition(const struct tz_rules *r, int64_t t)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->at[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (ptrdiff_t)lo - 1;
}

void tz_span_at(const struct tz_rules *r, int64_t t, struct tz_span *out)
{
	ptrdiff_t i;

	t = clamp_time(t);
	i = last_transition(r, t);
	if (r->has_footer && (r->n == 0 || i == (ptrdiff_t)r->n - 1)) {
		footer_span(&r->footer, t, out);
		/* before at[n - 1] the table answers */
		if (r->n > 0 && (out->start == TZ_NONE || out->start <= r->at[r->n - 1])) {
			out->start = r->at[r->n - 1];
			out->prev_offset = r->n >= 2 ? r->off[r->n - 2] : r->off0;
		}
		return;
	}
	out->offset = i >= 0 ? r->off[i] : r->off0;
	out->prev_offset = i >= 1 ? r->off[i - 1] : r->off0;
	out->start = i >= 0 ? r->at[i] : TZ_NONE;
	out->end = i + 1 < (ptrdiff_t)r->n ? r->at[i + 1] : TZ_NEVER;
}

int32_t tz_offset_at(const struct tz_rules *r, int64_t t)
{
	struct tz_span s;

	tz_span_at(r, t, &s);
	return s.offset;
}

void tz_rules_expand(struct tz_rules *r, int64_t until)
{
	struct tz_span s;
	size_t cap = r->n;

	if (!r->has_footer || !r->footer.has_dst || r->n == 0)
		return;
	until = clamp_time(until);
	/* from at[n - 1] on the footer answered, even where the file's last offset disagrees with it */
	footer_span(&r->footer, r->at[r->n - 1], &s);
	r->off[r->n - 1] = s.offset;
	for (;;) {
		footer_span(&r->footer, r->at[r->n - 1], &s);
		if (s.end == TZ_NEVER || s.end >= until)
			break;
		if (r->n == cap) {
			cap = cap * 2 + 16;
			r->at = xrealloc(r->at, cap * sizeof(*r->at));
			r->off = xrealloc(r->off, cap * sizeof(*r->off));
		}
		r->at[r->n] = s.end;
		footer_span(&r->footer, s.end, &s);
		r->off[r->n++] = s.offset;
	}
}

void tz_rules_free(struct tz_rules *r)
{
	if (r == NULL)
		return;
	free(r->at);
	free(r->off);
	free(r);
}
