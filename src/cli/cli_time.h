/* Instants for people, in one layout across the client commands: "2026-12-06 18:30:01 CET", the date, the time to
 * the second and the zone, so that no time is shown without its zone. Pure but for the process's TZ. */
#ifndef GNOMON_CLI_CLI_TIME_H
#define GNOMON_CLI_CLI_TIME_H

#include <stddef.h>

#define CLI_TIME_MAX 48 /* enough for any of these texts */

/* An instant as the server writes it ("2026-01-01T09:00:00.000Z", or with an offset) in the local zone (TZ, else
 * /etc/localtime) with that zone's abbreviation, or its offset when it has none: "2026-01-01 10:00:00 CET",
 * "2026-01-01 06:00:00 -03". "-" for NULL or "", the text itself when it does not parse. */
void cli_time_local(const char *iso, char *out, size_t len);
/* An instant in the zone its text is written in (the offset it carries): "2030-01-01T09:00:00.000+01:00" is
 * "2030-01-01 09:00:00 +01:00", "...Z" (or no zone, which is UTC) is "... UTC". "-" for NULL or "", the text
 * itself when it does not parse. */
void cli_time_as_written(const char *iso, char *out, size_t len);

#endif
