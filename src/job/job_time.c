/* ISO 8601 UTC timestamps (Chronos's lastSuccess/lastError) and durations (epsilon, retryDelay), and the retry
 * backoff, as pure arithmetic. */
#include "job/job.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define MS_PER_DAY INT64_C(86400000)

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

void job_time_format(int64_t ms, char *out)
{
	int64_t days, rem, y;
	int m, d;

	if (ms == JOB_TIME_NONE) {
		out[0] = '\0';
		return;
	}
	days = ms / MS_PER_DAY;
	rem = ms % MS_PER_DAY;
	if (rem < 0) {
		rem += MS_PER_DAY;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	snprintf(out, JOB_TIME_BUFSZ, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)y, m, d,
		 (int)(rem / 3600000), (int)(rem / 60000 % 60), (int)(rem / 1000 % 60), (int)(rem % 1000));
}

/* Read exactly n decimal digits; returns -1 when they are not there. */
static int digits(const char **p, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (**p - '0');
	}
	return v;
}

static bool leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Read the zone suffix (Z, ±HH:MM, ±HHMM or nothing) as an offset in minutes east of UTC. */
static int parse_zone(const char *p, int *offset_min)
{
	int sign, h, m;

	*offset_min = 0;
	if (*p == '\0' || (p[0] == 'Z' && p[1] == '\0'))
		return 0;
	if (*p != '+' && *p != '-')
		return -EINVAL;
	sign = *p++ == '-' ? -1 : 1;
	if ((h = digits(&p, 2)) < 0 || h > 23)
		return -EINVAL;
	if (*p == ':')
		p++;
	if ((m = digits(&p, 2)) < 0 || m > 59 || *p != '\0')
		return -EINVAL;
	*offset_min = sign * (h * 60 + m);
	return 0;
}

int job_time_parse(const char *s, int64_t *ms)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	const char *p = s;
	int y, mo, d, h, mi, sec = 0, frac = 0, off;
	int64_t t;

	if (*s == '\0') {
		*ms = JOB_TIME_NONE;
		return 0;
	}
	if ((y = digits(&p, 4)) < 0 || *p++ != '-' || (mo = digits(&p, 2)) < 1 || mo > 12 || *p++ != '-' ||
	    (d = digits(&p, 2)) < 1 || d > mdays[mo - 1] + (mo == 2 && leap(y)) || *p++ != 'T' ||
	    (h = digits(&p, 2)) < 0 || h > 23 || *p++ != ':' || (mi = digits(&p, 2)) < 0 || mi > 59)
		return -EINVAL;
	if (*p == ':') {
		p++;
		if ((sec = digits(&p, 2)) < 0 || sec > 59)
			return -EINVAL;
		if (*p == '.' || *p == ',') {
			int n = 0;
			for (p++; *p >= '0' && *p <= '9'; p++, n++)
				if (n < 3)
					frac = frac * 10 + (*p - '0');
			if (n == 0 || n > 9)
				return -EINVAL;
			for (; n < 3; n++)
				frac *= 10;
		}
	}
	if (parse_zone(p, &off) < 0)
		return -EINVAL;
	t = days_from_civil(y, mo, d) * MS_PER_DAY + ((h * 60 + mi - off) * INT64_C(60) + sec) * 1000 + frac;
	/* An offset may move the instant out of the years 0000-9999 in UTC, which job_time_format writes with four
	 * digits and this reads back. */
	if (t < days_from_civil(0, 1, 1) * MS_PER_DAY || t >= days_from_civil(10000, 1, 1) * MS_PER_DAY)
		return -EINVAL;
	*ms = t;
	return 0;
}

/* Read a run of decimal digits into *v; returns the count of digits, -1 on overflow. */
static int number(const char **p, int64_t *v)
{
	int n = 0;
	for (*v = 0; **p >= '0' && **p <= '9'; (*p)++, n++)
		if (__builtin_mul_overflow(*v, 10, v) || __builtin_add_overflow(*v, **p - '0', v))
			return -1;
	return n;
}

int job_duration_parse(const char *s, int64_t *ms)
{
	static const struct {
		char unit;
		bool time;
		int64_t ms;
	} units[] = {
		{'Y', false, 365 * MS_PER_DAY}, {'M', false, 30 * MS_PER_DAY}, {'W', false, 7 * MS_PER_DAY},
		{'D', false, MS_PER_DAY}, {'H', true, 3600000}, {'M', true, 60000}, {'S', true, 1000},
	};
	const char *p = s;
	size_t next = 0;
	bool in_time = false, empty_part = true;
	int64_t total = 0, v, part;

	if (*p++ != 'P')
		return -EINVAL;
	while (*p != '\0') {
		if (*p == 'T') {
			if (in_time || p[1] == '\0')
				return -EINVAL;
			in_time = true;
			next = 4;
			p++;
			continue;
		}
		int64_t frac = 0;
		if (number(&p, &v) <= 0)
			return -EINVAL;
		if (*p == '.' || *p == ',') {
			int n = 0;
			for (p++; *p >= '0' && *p <= '9'; p++, n++)
				if (n < 3)
					frac = frac * 10 + (*p - '0');
			if (n == 0 || n > 9 || *p != 'S' || !in_time)
				return -EINVAL;
			for (; n < 3; n++)
				frac *= 10;
		}
		while (next < sizeof(units) / sizeof(units[0]) && (units[next].unit != *p || units[next].time != in_time))
			next++;
		if (next == sizeof(units) / sizeof(units[0]))
			return -EINVAL;
		if (__builtin_mul_overflow(v, units[next].ms, &part) || __builtin_add_overflow(total, part, &total) ||
		    __builtin_add_overflow(total, frac, &total))
			return -EINVAL;
		next++;
		p++;
		empty_part = false;
	}
	if (empty_part)
		return -EINVAL;
	*ms = total;
	return 0;
}

int job_schedule_period_ms(const char *schedule, int64_t *ms)
{
	const char *period = schedule ? strrchr(schedule, '/') : NULL;

	if (schedule == NULL || schedule[0] != 'R' || period == NULL)
		return -EINVAL;
	return job_duration_parse(period + 1, ms);
}

int64_t job_epsilon_ms(const struct job *j)
{
	int64_t eps;
	return job_duration_parse(j->epsilon, &eps) < 0 ? 60000 : eps;
}

int64_t job_retry_delay_ms(const struct job *j, int attempt, int64_t default_ms)
{
	const double max = (double)JOB_RETRY_DELAY_MAX_MS;
	int64_t base = default_ms;
	double factor = 1, ms;

	if (j->retry_delay[0] != '\0' && job_duration_parse(j->retry_delay, &base) < 0)
		base = default_ms;
	if (base <= 0)
		return 0;
	if (base >= JOB_RETRY_DELAY_MAX_MS)
		return JOB_RETRY_DELAY_MAX_MS;
	/* A backoff below 1, NaN or an attempt before the first retry leaves the delay constant; pow() gives inf
	 * rather than overflowing, and the comparison below also catches that. */
	if (attempt > 1 && j->retry_backoff > 1)
		factor = pow(j->retry_backoff, attempt - 1);
	ms = (double)base * factor;
	return ms < max ? (int64_t)llround(ms) : JOB_RETRY_DELAY_MAX_MS;
}
