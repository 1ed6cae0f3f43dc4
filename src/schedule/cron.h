/* Standard 5-field cron expressions and the @yearly...@hourly macros: parsing and matching on wall-clock
 * minutes (minutes since 1970-01-01T00:00 local). Time zones are the caller's business. Private to src/schedule. */
#ifndef GNOMON_SCHEDULE_CRON_H
#define GNOMON_SCHEDULE_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schedule/schedule.h"

#define MINUTES_PER_DAY 1440

/* Parse text into s->u.cron and s->flags (kind and zone are left to the caller); -EINVAL with a message. */
int cron_parse(const char *text, struct schedule *s, char *err, size_t errlen) __attribute__((warn_unused_result));
/* The first matching local minute in [lo, hi) into *out; false if none (or past year 9999). */
bool cron_next_minute(const struct schedule *s, int64_t lo, int64_t hi, int64_t *out);
/* The last matching local minute in [lo, hi) into *out; false if none. */
bool cron_prev_minute(const struct schedule *s, int64_t lo, int64_t hi, int64_t *out);
/* True for a wildcard job (minute or hour field begins with '*'): it follows the real clock across DST. */
bool cron_is_wildcard(const struct schedule *s);

#endif
