#include "schedule/civil.h"

#include <errno.h>

int64_t civil_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

int64_t civil_ceil_div(int64_t a, int64_t b)
{
	return -civil_floor_div(-a, b);
}

bool civil_is_leap(int64_t year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int civil_days_in_month(int64_t year, int month)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (month == 2 && civil_is_leap(year))
		return 29;
	return days[month - 1];
}

/* Howard Hinnant's days_from_civil: eras of 400 years, years starting in March. */
int64_t civil_days_from_date(int64_t year, int month, int day)
{
	int64_t y = month <= 2 ? year - 1 : year;
	int64_t era = civil_floor_div(y, 400);
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void civil_date_from_days(int64_t days, int64_t *year, int *month, int *day)
{
	int64_t z = days + 719468;
	int64_t era = civil_floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int m = (int)(mp < 10 ? mp + 3 : mp - 9);

	*day = (int)(doy - (153 * mp + 2) / 5 + 1);
	*month = m;
	*year = yoe + era * 400 + (m <= 2);
}

int civil_weekday(int64_t days)
{
	/* 1970-01-01 was a Thursday (4). */
	int64_t r = (days + 4) % 7;
	return (int)(r < 0 ? r + 7 : r);
}

int64_t civil_to_local(const struct civil *c)
{
	int64_t days = civil_days_from_date(c->year, c->month, c->day);
	return days * MS_PER_DAY + ((c->hour * INT64_C(60) + c->minute) * 60 + c->second) * 1000 + c->ms;
}

void civil_from_local(int64_t local_ms, struct civil *c)
{
	int64_t days = civil_floor_div(local_ms, MS_PER_DAY);
	int64_t rem = local_ms - days * MS_PER_DAY;
	int64_t year;
	int month, day;

	civil_date_from_days(days, &year, &month, &day);
	c->year = (int32_t)year;
	c->month = month;
	c->day = day;
	c->hour = (int32_t)(rem / 3600000);
	c->minute = (int32_t)(rem / 60000 % 60);
	c->second = (int32_t)(rem / 1000 % 60);
	c->ms = (int32_t)(rem % 1000);
}

int civil_add_years_months(int64_t *year, int *month, int *day, int64_t years, int64_t months)
{
	int64_t y = *year, m0;

	if (years > CIVIL_MAX_YEAR || months > INT64_C(12) * CIVIL_MAX_YEAR)
		return -ERANGE;
	y += years;
	if (y > CIVIL_MAX_YEAR)
		return -ERANGE;
	if (*day > civil_days_in_month(y, *month))
		*day = civil_days_in_month(y, *month);
	m0 = y * 12 + (*month - 1) + months;
	y = civil_floor_div(m0, 12);
	if (y > CIVIL_MAX_YEAR)
		return -ERANGE;
	*year = y;
	*month = (int)(m0 - y * 12) + 1;
	if (*day > civil_days_in_month(y, *month))
		*day = civil_days_in_month(y, *month);
	return 0;
}
