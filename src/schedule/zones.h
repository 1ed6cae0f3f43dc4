/* The zone cache's internal interface: offsets, transitions and wall-clock resolution from the system's tz
 * database (TZif files read once per zone), with fixed offsets (UTC, GMT+05:30, a string's -04:00) needing
 * no file. Private to src/schedule. */
#ifndef GNOMON_SCHEDULE_ZONES_H
#define GNOMON_SCHEDULE_ZONES_H

#include <stdint.h>

#include "schedule/schedule.h"

/* A stretch of time with one offset: [start, end) (SCHEDULE_NONE / SCHEDULE_NEVER when unbounded). */
struct zone_segment {
	int64_t start, end;
	int32_t offset;      /* local - UTC, ms */
	int32_t prev_offset; /* the offset just before start (== offset when start is SCHEDULE_NONE) */
};

/* Intern a fixed offset (ms east of UTC) as a zone. */
int zones_intern_offset(struct schedule_zones *z, int32_t offset_ms, uint16_t *zone)
	__attribute__((warn_unused_result));
/* The offset (local - UTC, ms) in effect at an instant. */
int zones_offset_at(struct schedule_zones *z, uint16_t zone, int64_t utc_ms, int32_t *offset)
	__attribute__((warn_unused_result));
/* The segment of constant offset that contains an instant. */
int zones_segment(struct schedule_zones *z, uint16_t zone, int64_t utc_ms, struct zone_segment *seg)
	__attribute__((warn_unused_result));
/* The instant of a wall-clock time (local ms): a repeated time takes the earlier instant, a skipped time moves
 * forward by the length of the gap. This is what Joda-Time gives when it adds days, months or years to an
 * instant before the transition (ZonedChronology: convertLocalToUTC(local, false, original) keeps original's
 * offset when the wall-clock time has it), as Chronos does moving a start forward by its period. */
int zones_local_to_utc(struct schedule_zones *z, uint16_t zone, int64_t local_ms, int64_t *utc_ms)
	__attribute__((warn_unused_result));
/* The instant of a wall-clock time exactly as Joda-Time's DateTimeZone.getMillisKeepLocal places it, which is
 * how Chronos reads a start in its scheduleTimeZone (DateTime.parse, then withZoneRetainFields): the zone's
 * offset at original_ms (the instant the string names: its own offset, or UTC without one) when the wall-clock
 * time has that offset, else convertLocalToUTC(local, false): the offset at local read as an instant,
 * corrected once, and in a gap the instant after it. */
int zones_local_to_utc_keep(struct schedule_zones *z, uint16_t zone, int64_t local_ms, int64_t original_ms,
	int64_t *utc_ms) __attribute__((warn_unused_result));

#endif
