#include "schedule/iso8601.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "schedule/errmsg.h"

#define PERIOD_SYNTAX "expected PnYnMnWnDTnHnMnS"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_upper(char c, char upper)
{
	return toupper((unsigned char)c) == upper;
}

/* Read min..max digits at *p (before end) into *v; a longer run of digits is an error. */
static bool read_int(const char **p, const char *end, int min, int max, int32_t *v)
{
	const char *q = *p;
	int32_t n = 0;

	while (q < end && is_digit(*q) && q - *p < max)
		n = n * 10 + (*q++ - '0');
	if (q - *p < min || (q < end && is_digit(*q)))
		return false;
	*p = q;
	*v = n;
	return true;
}

/* A fraction ('.' or ',' then digits) at *p as a share of unit_ms, truncated; returns false if there is none. */
static bool read_fraction(const char **p, const char *end, int64_t unit_ms, int64_t *ms, const char **bad)
{
	const char *q = *p;
	int64_t num = 0, scale = 1;

	if (q >= end || (*q != '.' && *q != ','))
		return false;
	q++;
	if (q >= end || !is_digit(*q)) {
		*bad = "a fraction needs digits after the separator";
		return true;
	}
	for (; q < end && is_digit(*q); q++) {
		if (scale < INT64_C(1000000000)) {
			num = num * 10 + (*q - '0');
			scale *= 10;
		}
	}
	*ms = num * unit_ms / scale;
	*p = q;
	return true;
}

/* The Monday of ISO week 1 of a week-based year, as days since 1970-01-01. */
static int64_t week1_monday(int32_t weekyear)
{
	int64_t jan4 = civil_days_from_date(weekyear, 1, 4);
	int wd = civil_weekday(jan4);
	return jan4 - (wd == 0 ? 6 : wd - 1);
}

/* Week date: -Www[-d] after the year. Joda fills a missing day of week from 1970-01-01, a Thursday. */
static const char *parse_week(const char **p, const char *end, int32_t year, struct civil *c)
{
	int32_t week, wday = 4;
	int64_t days, y;
	int m, d;

	if (!read_int(p, end, 1, 2, &week))
		return "expected a week number after 'W'";
	if (week < 1 || week > (week1_monday(year + 1) - week1_monday(year)) / 7)
		return "week number out of range";
	if (*p < end && **p == '-') {
		(*p)++;
		if (!read_int(p, end, 1, 1, &wday) || wday < 1 || wday > 7)
			return "day of week must be 1-7";
	}
	days = week1_monday(year) + (int64_t)(week - 1) * 7 + (wday - 1);
	civil_date_from_days(days, &y, &m, &d);
	if (y < 1 || y > CIVIL_MAX_YEAR)
		return "date out of range";
	c->year = (int32_t)y;
	c->month = m;
	c->day = d;
	return NULL;
}

/* Month-day or ordinal day after "yyyy-". */
static const char *parse_month_or_ordinal(const char **p, const char *end, struct civil *c)
{
	const char *q = *p;
	int32_t v, day;
	int64_t y;
	int m, d;

	while (q < end && is_digit(*q))
		q++;
	if (q - *p == 3) {
		if (!read_int(p, end, 3, 3, &v) || v < 1 || v > (civil_is_leap(c->year) ? 366 : 365))
			return "day of year out of range";
		civil_date_from_days(civil_days_from_date(c->year, 1, 1) + v - 1, &y, &m, &d);
		c->month = m;
		c->day = d;
		return NULL;
	}
	if (!read_int(p, end, 1, 2, &v))
		return "expected a month (MM), a day of year (DDD) or a week (Www) after the year";
	if (v < 1 || v > 12)
		return "month must be 1-12";
	c->month = v;
	if (*p < end && **p == '-') {
		(*p)++;
		if (!read_int(p, end, 1, 2, &day))
			return "expected a day of month";
		if (day < 1 || day > civil_days_in_month(c->year, c->month))
			return "day of month out of range";
		c->day = day;
	}
	return NULL;
}

/* HH[:mm[:ss]] with a fraction on the last element. */
static const char *parse_time(const char **p, const char *end, struct civil *c)
{
	static const int64_t unit[3] = { 3600000, 60000, 1000 };
	static const char *const range[3] = { "hour must be 0-23", "minute must be 0-59", "second must be 0-59" };
	int32_t *field[3] = { &c->hour, &c->minute, &c->second };
	const char *bad = NULL;
	int64_t frac;

	for (int i = 0; i < 3; i++) {
		if (i > 0) {
			if (*p >= end || **p != ':')
				return NULL;
			(*p)++;
		}
		if (!read_int(p, end, 1, 2, field[i]))
			return i == 0 ? "expected an hour after 'T'" : "expected two digits after ':'";
		if (*field[i] > (i == 0 ? 23 : 59))
			return range[i];
		if (read_fraction(p, end, unit[i], &frac, &bad)) {
			if (bad != NULL)
				return bad;
			frac += c->hour * unit[0] + c->minute * unit[1] + c->second * unit[2];
			c->minute = (int32_t)(frac / 60000 % 60);
			c->second = (int32_t)(frac / 1000 % 60);
			c->ms = (int32_t)(frac % 1000);
			return NULL;
		}
	}
	return NULL;
}

/* Z, +HH, +HH:mm, +HH:mm:ss or +HHmm. */
static const char *parse_offset(const char **p, const char *end, struct iso_parsed *out)
{
	int32_t h, m = 0, s = 0, sign;

	if (is_upper(**p, 'Z')) {
		(*p)++;
		out->has_offset = true;
		out->offset_ms = 0;
		return NULL;
	}
	sign = **p == '-' ? -1 : 1;
	(*p)++;
	if (read_int(p, end, 4, 4, &h)) {
		m = h % 100;
		h /= 100;
	} else if (!read_int(p, end, 2, 2, &h)) {
		return "offset must be Z, +HH, +HH:mm or +HHmm";
	} else if (*p < end && **p == ':') {
		(*p)++;
		if (!read_int(p, end, 2, 2, &m))
			return "offset must be Z, +HH, +HH:mm or +HHmm";
		if (*p < end && **p == ':') {
			(*p)++;
			if (!read_int(p, end, 2, 2, &s) || s > 59)
				return "offset seconds must be 00-59";
		}
	}
	if (h > 23 || m > 59)
		return "offset out of range";
	out->has_offset = true;
	out->offset_ms = sign * ((h * 60 + m) * 60 + s) * 1000;
	return NULL;
}

/* Joda's date-opt-time: date ['T' [time] [offset]]. Returns NULL or the reason it is invalid. */
static const char *parse_start(const char *p, const char *end, struct iso_parsed *out)
{
	struct civil *c = &out->local;
	const char *why;

	*c = (struct civil){ .month = 1, .day = 1 };
	if (!read_int(&p, end, 4, 4, &c->year))
		return "expected a 4-digit year";
	if (p < end && *p == '-') {
		p++;
		if (p < end && is_upper(*p, 'W')) {
			p++;
			why = parse_week(&p, end, c->year, c);
		} else {
			why = parse_month_or_ordinal(&p, end, c);
		}
		if (why != NULL)
			return why;
	}
	if (p < end && is_upper(*p, 'T')) {
		p++;
		if (p < end && is_digit(*p) && (why = parse_time(&p, end, c)) != NULL)
			return why;
		if (p < end && (is_upper(*p, 'Z') || *p == '+' || *p == '-') &&
		    (why = parse_offset(&p, end, out)) != NULL)
			return why;
	}
	if (p != end)
		return "unexpected text after the date and time";
	return NULL;
}

/* Joda's ISOPeriodFormat.standard: P[nY][nM][nW][nD][T[nH][nM][n[.fff]S]], non-negative. */
static const char *parse_period(const char *p, struct schedule_period *out)
{
	static const char order[] = "YMWDHMS";
	int32_t *field[7] = { &out->years, &out->months, &out->weeks, &out->days, &out->hours, &out->minutes,
		&out->seconds };
	int last = -1, time_fields = 0;
	bool in_time = false;

	*out = (struct schedule_period){ 0 };
	for (p++; *p != '\0';) {
		const char *bad = NULL;
		int64_t v = 0, frac = 0;
		bool has_frac;
		int i;

		if (is_upper(*p, 'T')) {
			if (in_time)
				return "'T' appears twice";
			in_time = true;
			if (*++p == '\0')
				return "'T' must be followed by hours, minutes or seconds";
			continue;
		}
		if (*p == '-')
			return "negative values are not allowed";
		if (!is_digit(*p))
			return PERIOD_SYNTAX;
		for (; is_digit(*p); p++)
			if ((v = v * 10 + (*p - '0')) > INT32_MAX)
				return "value too large";
		has_frac = read_fraction(&p, p + strlen(p), 1000, &frac, &bad);
		if (bad != NULL)
			return bad;
		for (i = in_time ? 4 : 0; i < (in_time ? 7 : 4); i++)
			if (is_upper(*p, order[i]))
				break;
		if (*p == '\0')
			return "a number needs a designator (Y, M, W, D, H, M or S)";
		if (i == (in_time ? 7 : 4))
			return in_time ? "after 'T' only H, M and S are allowed" : "hours, minutes and seconds need a 'T' (PT1H)";
		if (i <= last)
			return "fields must appear once each, in the order Y M W D T H M S";
		if (has_frac && i != 6)
			return "only seconds may have a fraction";
		*field[i] = (int32_t)v;
		if (has_frac)
			out->millis = (uint16_t)frac;
		last = i;
		time_fields += in_time;
		p++;
	}
	if (in_time && time_fields == 0)
		return "'T' must be followed by hours, minutes or seconds";
	return NULL;
}

static int parse_repeat(const char *s, const char *slash, int64_t *repeat)
{
	if (slash == s + 1) {
		*repeat = SCHEDULE_REPEAT_INFINITE;
		return 0;
	}
	*repeat = 0;
	for (const char *p = s + 1; p < slash; p++) {
		if (!is_digit(*p))
			return -EINVAL;
		if (*repeat > (INT64_C(1000000000000000000) - 9) / 10)
			return -ERANGE;
		*repeat = *repeat * 10 + (*p - '0');
	}
	return 0;
}

int iso_parse(const char *s, struct iso_parsed *out, char *err, size_t errlen)
{
	const char *slash = strchr(s, '/'), *last, *why;
	char q[ERRMSG_QUOTE_MAX], q2[ERRMSG_QUOTE_MAX];
	int rc;

	*out = (struct iso_parsed){ 0 };
	if (slash == NULL) {
		errmsg_set(err, errlen, "schedule: cannot parse '%s': expected R[n]/[start]/period or a 5-field cron "
			"expression", errmsg_quote(s, SIZE_MAX, q));
		return -EINVAL;
	}
	if ((rc = parse_repeat(s, slash, &out->repeat)) != 0) {
		errmsg_set(err, errlen, rc == -ERANGE ? "schedule: repetition count too large in '%s'"
			: "schedule: repetition count must be R or Rn with n >= 0 in '%s'", errmsg_quote(s, SIZE_MAX, q));
		return -EINVAL;
	}
	last = strrchr(slash + 1, '/');
	if (last == NULL || last[1] == '\0') {
		errmsg_set(err, errlen, "schedule: period missing in '%s'", errmsg_quote(s, SIZE_MAX, q));
		return -EINVAL;
	}
	why = last[1] == 'P' ? parse_period(last + 1, &out->period) : PERIOD_SYNTAX;
	if (why != NULL) {
		errmsg_set(err, errlen, "schedule: invalid period '%s' in '%s': %s", errmsg_quote(last + 1, SIZE_MAX, q2),
			errmsg_quote(s, SIZE_MAX, q), why);
		return -EINVAL;
	}
	out->start = slash + 1;
	out->start_len = (size_t)(last - slash - 1);
	out->start_now = out->start_len == 0;
	if (!out->start_now && (why = parse_start(out->start, last, out)) != NULL) {
		errmsg_set(err, errlen, "schedule: invalid start date '%s' in '%s': %s",
			errmsg_quote(out->start, out->start_len, q2), errmsg_quote(s, SIZE_MAX, q), why);
		return -EINVAL;
	}
	return 0;
}

bool iso_period_is_zero(const struct schedule_period *p)
{
	return !iso_period_has_calendar(p) && iso_period_exact_ms(p) == 0;
}

bool iso_period_has_calendar(const struct schedule_period *p)
{
	return p->years != 0 || p->months != 0 || p->weeks != 0 || p->days != 0;
}

int64_t iso_period_exact_ms(const struct schedule_period *p)
{
	return ((p->hours * INT64_C(60) + p->minutes) * 60 + p->seconds) * 1000 + p->millis;
}

int iso_format_period(const struct schedule_period *p, char *buf, size_t len)
{
	char tmp[96];
	size_t n = 0;

	n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "P");
	if (p->years)
		n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "%" PRId32 "Y", p->years);
	if (p->months)
		n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "%" PRId32 "M", p->months);
	if (p->weeks)
		n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "%" PRId32 "W", p->weeks);
	if (p->days)
		n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "%" PRId32 "D", p->days);
	if (iso_period_exact_ms(p) != 0 || n == 1)
		n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "T");
	if (p->hours)
		n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "%" PRId32 "H", p->hours);
	if (p->minutes)
		n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "%" PRId32 "M", p->minutes);
	if (p->millis)
		n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "%" PRId32 ".%03uS", p->seconds, (unsigned)p->millis);
	else if (p->seconds || n == 2)
		n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "%" PRId32 "S", p->seconds);
	if (n >= len)
		return -ENOSPC;
	memcpy(buf, tmp, n + 1);
	return (int)n;
}
