/* libFuzzer target: the schedule parser and the fire-time code. Input: a zone byte (one of ZONES, or a name
 * read from the input up to a newline), 16 bytes for two instants (t, now), then the schedule text. Parses it,
 * and when it parses, checks the fire-time invariants of fuzz_check.h around t. Zones come from the system's
 * tz database ($TZDIR or /usr/share/zoneinfo), through one cache renewed every few thousand inputs. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "schedule/schedule.h"

static const char *const ZONES[] = { NULL, "", "UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe",
	"Pacific/Apia", "Pacific/Chatham", "America/Santiago", "Asia/Gaza", "Etc/GMT+7", "EST", "GMT+5:30", "PST",
	"America/Phoenix", "Africa/Casablanca", "Antarctica/Troll", "America/St_Johns", "Pacific/Kiritimati",
	"Europe/Dublin", "America/Asuncion", "Asia/Tehran", "America/Havana", "Africa/Monrovia", "Asia/Kolkata",
	"Europe/Paris", "Australia/Sydney", "America/Mexico_City", "America/Nuuk", "Pacific/Honolulu", "US/Eastern" };
#define NZONES (sizeof(ZONES) / sizeof(ZONES[0]))
#define INPUT_MAX 512
#define RENEW_EVERY 4096

static struct schedule_zones *zones;
static unsigned uses;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[INPUT_MAX + 1], tzbuf[SCHEDULE_ZONE_NAME_MAX + 2], err[512];
	const char *tz;
	struct schedule s;
	int64_t t, now;
	size_t n;

	if (size < 17 || size > INPUT_MAX)
		return 0;
	if (zones == NULL || ++uses % RENEW_EVERY == 0) {
		schedule_zones_free(zones);
		zones = schedule_zones_new();
	}
	t = fuzz_instant(data + 1);
	now = fuzz_instant(data + 9);
	/* a server's clock is past 1970 and before 10000, where an empty start (now - 1 s) is valid */
	if (now < 2 * MS_PER_DAY)
		now += 2 * MS_PER_DAY;
	if (now > CIVIL_LOCAL_END - 2 * MS_PER_DAY)
		now -= 4 * MS_PER_DAY;
	if (data[0] < 0xF0) {
		tz = ZONES[data[0] % NZONES];
		data += 17;
		size -= 17;
	} else {
		/* the zone's name from the input, up to a newline */
		const uint8_t *nl = memchr(data + 17, '\n', size - 17);
		n = nl != NULL ? (size_t)(nl - data - 17) : 0;
		if (nl == NULL || n > SCHEDULE_ZONE_NAME_MAX + 1)
			return 0;
		memcpy(tzbuf, data + 17, n);
		tzbuf[n] = '\0';
		tz = tzbuf;
		size -= 17 + n + 1;
		data = nl + 1;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	err[0] = '\0';
	if (schedule_parse(zones, text, tz, now, &s, err, sizeof(err)) != 0) {
		CHECK(err[0] != '\0' && strlen(err) < sizeof(err), "no message for '%s'", text);
		return 0;
	}
	check_fire_times(zones, &s, tz, t, now, true);
	return 0;
}
