/* Chronos's ISO 8601 repeating intervals, R[n]/[start]/period, as text: parsing (Joda's dateTimeParser and
 * ISOPeriodFormat.standard) and printing of periods. Private to src/schedule. */
#ifndef GNOMON_SCHEDULE_ISO8601_H
#define GNOMON_SCHEDULE_ISO8601_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schedule/civil.h"
#include "schedule/schedule.h"

struct iso_parsed {
	int64_t repeat;  /* SCHEDULE_REPEAT_INFINITE or n >= 0 */
	bool start_now;  /* the start was empty */
	struct civil local; /* the start's wall-clock fields as written (date-only: 00:00) */
	bool has_offset;
	int32_t offset_ms; /* the start's offset when has_offset */
	const char *start; /* the start text within the input, for messages */
	size_t start_len;
	struct schedule_period period;
};

/* Parse a whole "R..." schedule string; -EINVAL with a message naming the problem. */
int iso_parse(const char *s, struct iso_parsed *out, char *err, size_t errlen) __attribute__((warn_unused_result));
bool iso_period_is_zero(const struct schedule_period *p);
/* Whether the period has a wall-clock part (years, months, weeks or days). */
bool iso_period_has_calendar(const struct schedule_period *p);
/* The period's hours, minutes, seconds and millis as elapsed milliseconds. */
int64_t iso_period_exact_ms(const struct schedule_period *p);
/* Print a period as Joda's ISOPeriodFormat.standard does (zero fields left out, zero is PT0S). Returns the
 * length, or -ENOSPC. */
int iso_format_period(const struct schedule_period *p, char *buf, size_t len) __attribute__((warn_unused_result));

#endif
