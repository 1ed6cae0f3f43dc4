/* The Time Zone Information Format (TZif, RFC 8536 / 9636, versions 1 to 4), the files of the system's tz
 * database: bytes in, zone rules out. Pure. Private to src/schedule. */
#ifndef GNOMON_SCHEDULE_TZIF_H
#define GNOMON_SCHEDULE_TZIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schedule/tzrule.h"

#define TZIF_MAX_TRANSITIONS 100000 /* a real file has a few thousand at most */

/* Whether the bytes begin as a TZif file does (its magic). */
bool tzif_is_tzif(const uint8_t *buf, size_t len);
/* Parse a TZif file into rules returned in *out (free with tz_rules_free); NULL, or why the bytes are not a
 * TZif file this reader takes (files with leap seconds, like the right/ zones, are refused). */
const char *tzif_parse(const uint8_t *buf, size_t len, struct tz_rules **out) __attribute__((warn_unused_result));

#endif
