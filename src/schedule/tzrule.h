/* A time zone's rules as a TZif file holds them (RFC 8536 / 9636): explicit transitions, then a POSIX TZ rule
 * (the file's footer) for the instants at and after the last one. Pure: parsing the footer and answering "which
 * offset, and from when to when" for an instant, all in UTC seconds. Private to src/schedule. */
#ifndef GNOMON_SCHEDULE_TZRULE_H
#define GNOMON_SCHEDULE_TZRULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TZ_NONE INT64_MIN  /* a span with no start */
#define TZ_NEVER INT64_MAX /* a span with no end */
/* Instants (UTC seconds) the rules answer for: about 317,000 years either side of 1970. Queries beyond are
 * answered as at the limit; transitions beyond are refused by the parser (earlier ones are folded away). */
#define TZ_TIME_LIMIT INT64_C(10000000000000)
/* Offsets (local - UTC, seconds) accepted: up to 23:59:59 either way, as in ISO 8601 and Joda-Time (so that a
 * start printed with its offset reads back); RFC 8536 allows a little more, no real zone comes near (16 h). */
#define TZ_OFFSET_MIN (-86399)
#define TZ_OFFSET_MAX 86399

/* A POSIX TZ rule date: Jn (1-365, February 29 never counted), n (0-365) or Mm.w.d, and the local time of day
 * it applies at, in seconds (RFC 8536 allows -167 to +167 hours). */
enum tz_date_kind { TZ_DATE_JULIAN1 = 1, TZ_DATE_JULIAN0, TZ_DATE_MWD };
struct tz_date {
	uint8_t kind; /* enum tz_date_kind */
	uint8_t month, week, wday;
	uint16_t day;
	int32_t secs;
};

/* A POSIX TZ string: standard offset, and optionally a daylight offset with the dates it starts and ends. */
struct tz_posix {
	int32_t std_off, dst_off; /* local - UTC, seconds (POSIX writes them negated) */
	bool has_dst;             /* false also when both offsets are equal */
	struct tz_date start, end; /* start in local standard time, end in local daylight time */
};

struct tz_rules {
	size_t n;      /* transitions */
	int64_t *at;   /* their instants, strictly increasing */
	int32_t *off;  /* the offset from each on */
	int32_t off0;  /* the offset before the first */
	bool has_footer; /* else the last offset holds for ever */
	struct tz_posix footer; /* in force at and after at[n - 1] (always, when n == 0) */
};

/* A stretch of constant offset, [start, end) (TZ_NONE / TZ_NEVER when unbounded), and the offset before it. */
struct tz_span {
	int64_t start, end;
	int32_t offset, prev_offset;
};

/* Parse a POSIX TZ string of len bytes (no NUL needed) with RFC 8536's extensions; NULL or why it is invalid. */
const char *tz_posix_parse(const char *s, size_t len, struct tz_posix *out);
/* The offset in force at instant t. */
int32_t tz_offset_at(const struct tz_rules *r, int64_t t);
/* The span of constant offset that holds t. */
void tz_span_at(const struct tz_rules *r, int64_t t, struct tz_span *out);
/* Write the footer's transitions before instant until as explicit ones (fast lookups for the years most
 * schedules live in); the answers of the two functions above do not change. */
void tz_rules_expand(struct tz_rules *r, int64_t until);
void tz_rules_free(struct tz_rules *r);

#endif
