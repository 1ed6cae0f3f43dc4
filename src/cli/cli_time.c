#include "cli/cli_time.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "job/job.h"

#define MS_PER_S INT64_C(1000)

/* Parse iso into ms, or write "-" (nothing to show) or the text itself (not an instant) and return -1. */
static int parse_or_show(const char *iso, int64_t *ms, char *out, size_t len)
{
	if (iso == NULL || *iso == '\0') {
		snprintf(out, len, "-");
		return -1;
	}
	if (job_time_parse(iso, ms) < 0 || *ms == JOB_TIME_NONE) {
		snprintf(out, len, "%s", iso);
		return -1;
	}
	return 0;
}

void cli_time_local(const char *iso, char *out, size_t len)
{
	char day[32], zone[32];
	struct tm tm;
	int64_t ms;
	time_t t;

	if (parse_or_show(iso, &ms, out, len) < 0)
		return;
	/* Floor to the second, also before 1970. */
	t = (time_t)(ms / MS_PER_S - (ms % MS_PER_S < 0));
	if (localtime_r(&t, &tm) == NULL || strftime(day, sizeof(day), "%Y-%m-%d %H:%M:%S", &tm) == 0) {
		snprintf(out, len, "%s", iso);
		return;
	}
	if (tm.tm_zone && *tm.tm_zone) {
		snprintf(zone, sizeof(zone), "%s", tm.tm_zone);
	} else {
		int off = (int)((tm.tm_gmtoff < 0 ? -tm.tm_gmtoff : tm.tm_gmtoff) % 86400);
		snprintf(zone, sizeof(zone), "%c%02d:%02d", tm.tm_gmtoff < 0 ? '-' : '+', off / 3600, off % 3600 / 60);
	}
	snprintf(out, len, "%s %s", day, zone);
}

void cli_time_as_written(const char *iso, char *out, size_t len)
{
	const char *p = iso + 16, *seconds = ":00";
	int64_t ms;

	if (parse_or_show(iso, &ms, out, len) < 0)
		return;
	/* job_time_parse accepted YYYY-MM-DDTHH:MM[:SS[.fff]][Z|±HH:MM]: p is past the minutes. */
	if (*p == ':') {
		seconds = p;
		p += 3;
		if (*p == '.' || *p == ',')
			p += strspn(p + 1, "0123456789") + 1;
	}
	if (*p == '\0' || strcmp(p, "Z") == 0)
		p = "UTC";
	snprintf(out, len, "%.10s %.5s%.3s %s", iso, iso + 11, seconds, p);
}
