#include "schedule/cron.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "schedule/civil.h"
#include "schedule/errmsg.h"

#define CRON_SYNTAX "minute hour day-of-month month day-of-week"

struct field {
	const char *name;
	int min, max;
	const char *const *names; /* names[i] stands for min + i */
	uint8_t star_flag;
};

static const char *const month_names[] = { "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT",
	"NOV", "DEC", NULL };
static const char *const wday_names[] = { "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", NULL };

static const struct field fields[5] = {
	{ "minute", 0, 59, NULL, SCHEDULE_F_MIN_STAR },
	{ "hour", 0, 23, NULL, SCHEDULE_F_HOUR_STAR },
	{ "day-of-month", 1, 31, NULL, SCHEDULE_F_MDAY_STAR },
	{ "month", 1, 12, month_names, 0 },
	{ "day-of-week", 0, 7, wday_names, SCHEDULE_F_WDAY_STAR },
};

static const struct {
	const char *name, *expansion;
} macros[] = {
	{ "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" }, { "@monthly", "0 0 1 * *" },
	{ "@weekly", "0 0 * * 0" }, { "@daily", "0 0 * * *" },    { "@midnight", "0 0 * * *" },
	{ "@hourly", "0 * * * *" },
};

/* A number or (month, day-of-week) a three-letter name at *p; why receives the reason on failure. */
static bool parse_value(const char **p, const struct field *f, int *v, char *why, size_t whylen)
{
	const char *q = *p;
	int n = 0;

	if (isdigit((unsigned char)*q)) {
		for (; isdigit((unsigned char)*q); q++)
			if ((n = n * 10 + (*q - '0')) > 9999)
				break;
		if (n < f->min || n > f->max) {
			snprintf(why, whylen, "value %.*s out of range %d-%d", (int)(q - *p), *p, f->min, f->max);
			return false;
		}
		*v = n;
		*p = q;
		return true;
	}
	for (int i = 0; f->names != NULL && f->names[i] != NULL; i++) {
		if (strncasecmp(q, f->names[i], 3) == 0 && !isalpha((unsigned char)q[3])) {
			*v = f->min + i;
			*p = q + 3;
			return true;
		}
	}
	if (isalpha((unsigned char)*q) && f->names != NULL)
		snprintf(why, whylen, "unknown name '%.*s'", (int)strcspn(q, ",-/ \t"), q);
	else
		snprintf(why, whylen, "expected %s", f->names != NULL ? "a number or a name" : "a number");
	return false;
}

/* One list element: *, *\/step, n, n-m or n-m/step. */
static bool parse_item(const char **p, const struct field *f, uint64_t *bits, char *why, size_t whylen)
{
	int lo = f->min, hi = f->max, step = 1;
	bool single = false;

	if (**p == '*') {
		(*p)++;
	} else {
		if (!parse_value(p, f, &lo, why, whylen))
			return false;
		hi = lo;
		single = **p != '-';
		if (!single) {
			(*p)++;
			if (!parse_value(p, f, &hi, why, whylen))
				return false;
		}
	}
	if (**p == '/') {
		(*p)++;
		if (!isdigit((unsigned char)**p)) {
			snprintf(why, whylen, "expected a step after '/'");
			return false;
		}
		for (step = 0; isdigit((unsigned char)**p); (*p)++)
			if ((step = step * 10 + (**p - '0')) > 9999)
				step = 9999;
		if (step == 0) {
			snprintf(why, whylen, "step must be at least 1");
			return false;
		}
		if (single) {
			snprintf(why, whylen, "a step needs a range or '*' (e.g. %d-%d/%d)", lo, f->max, step);
			return false;
		}
	}
	if (lo > hi) {
		snprintf(why, whylen, "range %d-%d is reversed", lo, hi);
		return false;
	}
	for (int v = lo; v <= hi; v += step)
		*bits |= UINT64_C(1) << v;
	return true;
}

/* A comma-separated list in [p, end). */
static bool parse_field(const char *p, const char *end, const struct field *f, uint64_t *bits, char *why,
	size_t whylen)
{
	*bits = 0;
	for (;;) {
		if (p == end || *p == ',') {
			snprintf(why, whylen, "empty list element");
			return false;
		}
		if (!parse_item(&p, f, bits, why, whylen))
			return false;
		if (p == end)
			return true;
		if (*p != ',') {
			snprintf(why, whylen, "unexpected '%c'", *p);
			return false;
		}
		p++;
	}
}

/* Whether some selected day of month exists in some selected month (29 counts for February). */
static bool mday_possible(const struct schedule *s)
{
	for (int m = 1; m <= 12; m++)
		for (int d = 1; d <= civil_days_in_month(2000, m); d++)
			if ((s->u.cron.months >> m & 1) && (s->u.cron.mdays >> d & 1))
				return true;
	return false;
}

/* The expansion of a macro (text begins with '@'; surrounding blanks allowed), or NULL with a message. */
static const char *expand_macro(const char *text, char *err, size_t errlen)
{
	size_t len = strcspn(text, " \t");
	bool alone = text[len + strspn(text + len, " \t")] == '\0';
	char q[ERRMSG_QUOTE_MAX];

	for (size_t i = 0; alone && i < sizeof(macros) / sizeof(macros[0]); i++)
		if (strlen(macros[i].name) == len && strncasecmp(text, macros[i].name, len) == 0)
			return macros[i].expansion;
	if (alone && len == strlen("@reboot") && strncasecmp(text, "@reboot", len) == 0)
		errmsg_set(err, errlen, "schedule: '@reboot' is not supported: gnomon has no boot-time trigger");
	else
		errmsg_set(err, errlen, "schedule: unknown cron macro '%s' (expected @yearly, @annually, @monthly, "
			"@weekly, @daily, @midnight or @hourly)", errmsg_quote(text, SIZE_MAX, q));
	return NULL;
}

/* Split text into whitespace-separated fields, keeping the first 5; returns how many there are. */
static int split_fields(const char *text, const char *start[5], const char *end[5])
{
	int n = 0;

	for (const char *p = text; *p != '\0'; n++) {
		if (n < 5)
			start[n] = p;
		p += strcspn(p, " \t");
		if (n < 5)
			end[n] = p;
		p += strspn(p, " \t");
	}
	return n;
}

int cron_parse(const char *text, struct schedule *s, char *err, size_t errlen)
{
	const char *start[5], *end[5], *expr = text + strspn(text, " \t");
	char q[ERRMSG_QUOTE_MAX], q2[ERRMSG_QUOTE_MAX], why[96];
	uint64_t bits[5];
	int n;

	if (*expr == '@' && (expr = expand_macro(expr, err, errlen)) == NULL)
		return -EINVAL;
	n = split_fields(expr + strspn(expr, " \t"), start, end);
	if (n == 6 || n == 7) {
		errmsg_set(err, errlen, "schedule: cron expressions with seconds or years (6 or 7 fields) are not "
			"supported in '%s': use " CRON_SYNTAX, errmsg_quote(text, SIZE_MAX, q));
		return -EINVAL;
	}
	if (n != 5) {
		errmsg_set(err, errlen, "schedule: cron expression needs 5 fields (" CRON_SYNTAX "), found %d in '%s'",
			n, errmsg_quote(text, SIZE_MAX, q));
		return -EINVAL;
	}
	s->flags = 0;
	for (int i = 0; i < 5; i++) {
		if (!parse_field(start[i], end[i], &fields[i], &bits[i], why, sizeof(why))) {
			errmsg_set(err, errlen, "schedule: cron %s field '%s': %s in '%s'", fields[i].name,
				errmsg_quote(start[i], (size_t)(end[i] - start[i]), q2), why, errmsg_quote(text, SIZE_MAX, q));
			return -EINVAL;
		}
		if (*start[i] == '*')
			s->flags |= fields[i].star_flag;
	}
	s->u.cron.minutes = bits[0];
	s->u.cron.hours = (uint32_t)bits[1];
	s->u.cron.mdays = (uint32_t)bits[2];
	s->u.cron.months = (uint16_t)bits[3];
	s->u.cron.wdays = (uint8_t)((bits[4] | bits[4] >> 7) & 0x7F); /* 7 is Sunday too */
	if ((s->flags & SCHEDULE_F_WDAY_STAR) && !(s->flags & SCHEDULE_F_MDAY_STAR) && !mday_possible(s)) {
		errmsg_set(err, errlen, "schedule: cron day-of-month never occurs in the selected months in '%s'",
			errmsg_quote(text, SIZE_MAX, q));
		return -EINVAL;
	}
	return 0;
}

bool cron_is_wildcard(const struct schedule *s)
{
	return (s->flags & (SCHEDULE_F_MIN_STAR | SCHEDULE_F_HOUR_STAR)) != 0;
}

/* Vixie cron: when either day field begins with '*', both must match; otherwise either may. */
static bool day_matches(const struct schedule *s, int month, int mday, int wday)
{
	bool dm = s->u.cron.mdays >> mday & 1, dw = s->u.cron.wdays >> wday & 1;

	if (!(s->u.cron.months >> month & 1))
		return false;
	if (s->flags & (SCHEDULE_F_MDAY_STAR | SCHEDULE_F_WDAY_STAR))
		return dm && dw;
	return dm || dw;
}

/* The first matching minute of the day at or after minute-of-day from, or -1. */
static int first_in_day(const struct schedule *s, int from)
{
	for (int h = from / 60; h < 24; h++) {
		int m0 = h == from / 60 ? from % 60 : 0;
		uint64_t mm = s->u.cron.minutes >> m0;
		if ((s->u.cron.hours >> h & 1) && mm != 0)
			return h * 60 + m0 + __builtin_ctzll(mm);
	}
	return -1;
}

/* The last matching minute of the day at or before minute-of-day upto, or -1. */
static int last_in_day(const struct schedule *s, int upto)
{
	for (int h = upto / 60; h >= 0; h--) {
		int m1 = h == upto / 60 ? upto % 60 : 59;
		uint64_t mm = s->u.cron.minutes & ((UINT64_C(2) << m1) - 1);
		if ((s->u.cron.hours >> h & 1) && mm != 0)
			return h * 60 + 63 - __builtin_clzll(mm);
	}
	return -1;
}

/* A day walked one at a time, keeping its date and weekday. */
struct day {
	int64_t n, year;
	int month, mday, wday;
};

static void day_set(struct day *d, int64_t n)
{
	d->n = n;
	civil_date_from_days(n, &d->year, &d->month, &d->mday);
	d->wday = civil_weekday(n);
}

bool cron_next_minute(const struct schedule *s, int64_t lo, int64_t hi, int64_t *out)
{
	int64_t first = civil_floor_div(lo, MINUTES_PER_DAY);
	int from = (int)(lo - first * MINUTES_PER_DAY), r;
	struct day d;

	if (hi > CIVIL_LOCAL_END / MS_PER_MINUTE)
		hi = CIVIL_LOCAL_END / MS_PER_MINUTE;
	for (day_set(&d, first); lo < hi && d.n * MINUTES_PER_DAY < hi; from = 0) {
		if (!(s->u.cron.months >> d.month & 1)) {
			/* jump to the first of the next month */
			day_set(&d, d.n + civil_days_in_month(d.year, d.month) - d.mday + 1);
			continue;
		}
		if (day_matches(s, d.month, d.mday, d.wday) && (r = first_in_day(s, from)) >= 0) {
			*out = d.n * MINUTES_PER_DAY + r;
			return *out < hi;
		}
		if (d.mday < civil_days_in_month(d.year, d.month)) {
			d.n++;
			d.mday++;
			d.wday = (d.wday + 1) % 7;
		} else {
			day_set(&d, d.n + 1);
		}
	}
	return false;
}

bool cron_prev_minute(const struct schedule *s, int64_t lo, int64_t hi, int64_t *out)
{
	int64_t last = civil_floor_div(hi - 1, MINUTES_PER_DAY);
	int upto = (int)(hi - 1 - last * MINUTES_PER_DAY), r;
	struct day d;

	for (day_set(&d, last); lo < hi && (d.n + 1) * MINUTES_PER_DAY > lo && d.year > 0; upto = 1439) {
		if (!(s->u.cron.months >> d.month & 1)) {
			/* jump to the last day of the previous month */
			day_set(&d, d.n - d.mday);
			continue;
		}
		if (day_matches(s, d.month, d.mday, d.wday) && (r = last_in_day(s, upto)) >= 0) {
			*out = d.n * MINUTES_PER_DAY + r;
			return *out >= lo;
		}
		if (d.mday > 1) {
			d.n--;
			d.mday--;
			d.wday = (d.wday + 6) % 7;
		} else {
			day_set(&d, d.n - 1);
		}
	}
	return false;
}
