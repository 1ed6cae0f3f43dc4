/* Fire times: ISO 8601 occurrences (start + k*period in the zone) and cron matches across DST transitions.
 * Private to src/schedule; schedule.h exposes them. */
#ifndef GNOMON_SCHEDULE_FIRE_H
#define GNOMON_SCHEDULE_FIRE_H

#include <stdint.h>

#include "schedule/schedule.h"

/* ISO occurrence k >= 0 (the anchor's occurrence index + k), ignoring the repetition count; SCHEDULE_NEVER past
 * year 9999. */
int fire_iso_occurrence(struct schedule_zones *z, const struct schedule *s, int64_t k, int64_t *out)
	__attribute__((warn_unused_result));
/* ISO, non-zero period, start <= t: the largest k with occurrence k <= t, ignoring the repetition count. */
int fire_iso_index(struct schedule_zones *z, const struct schedule *s, int64_t t, int64_t *k)
	__attribute__((warn_unused_result));
/* Cron: the first firing instant strictly after t, or SCHEDULE_NEVER. */
int fire_cron_next(struct schedule_zones *z, const struct schedule *s, int64_t t, int64_t *out)
	__attribute__((warn_unused_result));
/* Cron: the last firing instant at or before t, or SCHEDULE_NONE. */
int fire_cron_prev(struct schedule_zones *z, const struct schedule *s, int64_t t, int64_t *out)
	__attribute__((warn_unused_result));

#endif
