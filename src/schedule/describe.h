/* A schedule in words, for people: "every day at 13:00 Europe/Paris", "every 15 minutes", "at 09:00 on
 * Mon-Fri UTC". Pure logic, like the rest of src/schedule. */
#ifndef GNOMON_SCHEDULE_DESCRIBE_H
#define GNOMON_SCHEDULE_DESCRIBE_H

#include <stddef.h>

#include "schedule/schedule.h"

#define SCHEDULE_DESCRIBE_MAX 200 /* a buffer this size holds any description */

/* Describe a parsed schedule (text: the schedule as written, quoted when no simpler words fit) into buf.
 * Returns the length, or -ENOSPC when len is too small. */
int schedule_describe(struct schedule_zones *z, const struct schedule *s, const char *text, char *buf, size_t len)
	__attribute__((warn_unused_result));

#endif
