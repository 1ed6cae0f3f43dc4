/* Proleptic Gregorian calendar arithmetic on wall-clock ("local") time, with no time zone: dates, day counts
 * and local milliseconds since 1970-01-01T00:00 local. Private to src/schedule. */
#ifndef GNOMON_SCHEDULE_CIVIL_H
#define GNOMON_SCHEDULE_CIVIL_H

#include <stdbool.h>
#include <stdint.h>

#define MS_PER_MINUTE INT64_C(60000)
#define MS_PER_DAY INT64_C(86400000)
#define CIVIL_MAX_YEAR 9999
/* 10000-01-01T00:00 local: the first local millisecond past the supported range. */
#define CIVIL_LOCAL_END INT64_C(253402300800000)

struct civil {
	int32_t year, month, day;         /* month 1-12, day 1-31 */
	int32_t hour, minute, second, ms; /* 0-23, 0-59, 0-59, 0-999 */
};

int64_t civil_floor_div(int64_t a, int64_t b);
int64_t civil_ceil_div(int64_t a, int64_t b);
bool civil_is_leap(int64_t year);
int civil_days_in_month(int64_t year, int month);
/* Days since 1970-01-01 of a valid date. */
int64_t civil_days_from_date(int64_t year, int month, int day);
/* The date of a day count since 1970-01-01. */
void civil_date_from_days(int64_t days, int64_t *year, int *month, int *day);
/* Day of week of a day count: 0 = Sunday ... 6 = Saturday. */
int civil_weekday(int64_t days);
/* Local milliseconds of valid fields. */
int64_t civil_to_local(const struct civil *c);
/* Fields of local milliseconds (years outside int32 are not expected: callers stay within CIVIL_LOCAL_END). */
void civil_from_local(int64_t local_ms, struct civil *c);
/* Add years then months to a date as Joda does: each step clamps the day to the month's end. Returns -ERANGE
 * past year 9999. */
int civil_add_years_months(int64_t *year, int *month, int *day, int64_t years, int64_t months)
	__attribute__((warn_unused_result));

#endif
