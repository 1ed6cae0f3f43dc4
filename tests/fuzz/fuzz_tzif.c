/* libFuzzer target: the TZif reader, the rules it yields, and the fire-time code in the zones such files
 * describe. Input: a TZif file. When it parses: spans bracket their instants and agree with offsets, writing
 * the footer out as transitions changes no answer; then, through a zone cache reading the file from a private
 * $TZDIR, wall-clock times resolve to instants that have them (or lie in a gap), and a few schedules in the
 * zone keep the fire-time invariants of fuzz_check.h. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_check.h"
#include "schedule/schedule.h"
#include "schedule/tzif.h"
#include "schedule/tzrule.h"
#include "schedule/zones.h"

#define INPUT_MAX 8192
#define PROBES 24
#define SECS(ms) ((ms) / 1000)

static char tzdir[64], zone_path[256];

/* Instants worth asking about: around some transitions, and years from 1970 to 9999. */
static int probes(const struct tz_rules *r, int64_t *t)
{
	static const int64_t years[] = { 0, 946684800, 1719792000, 2145916800, 2177452800, 4102444800,
		16725225600, 253370764800 };
	int n = 0;

	for (size_t i = 0; i < sizeof(years) / sizeof(years[0]); i++)
		t[n++] = years[i];
	for (size_t i = 0; r->n > 0 && n + 2 <= PROBES; i += r->n / 8 + 1) {
		size_t k = i < r->n ? i : r->n - 1;
		t[n++] = r->at[k] - 1;
		t[n++] = r->at[k];
		if (k == r->n - 1)
			break;
	}
	return n;
}

static void check_span(const struct tz_rules *r, int64_t t, struct tz_span *s)
{
	tz_span_at(r, t, s);
	if (t < -TZ_TIME_LIMIT || t > TZ_TIME_LIMIT)
		return;
	CHECK((s->start == TZ_NONE || s->start <= t) && (s->end == TZ_NEVER || t < s->end),
		"span [%lld, %lld) does not hold %lld", (long long)s->start, (long long)s->end, (long long)t);
	CHECK(tz_offset_at(r, t) == s->offset, "offset at %lld", (long long)t);
	CHECK(s->start == TZ_NONE || tz_offset_at(r, s->start - 1) == s->prev_offset, "offset before %lld is not %d",
		(long long)s->start, s->prev_offset);
	CHECK(s->end == TZ_NEVER || tz_offset_at(r, s->end - 1) == s->offset, "offset before the end %lld",
		(long long)s->end);
	CHECK(s->offset >= TZ_OFFSET_MIN && s->offset <= TZ_OFFSET_MAX, "offset %d out of range", s->offset);
}

/* Wall-clock times resolve to the earliest instant that has them; when none has (a gap), to one within a
 * day of them. Checked against every segment an instant of that time can be in (offsets are within 26 h). */
static void check_local(struct schedule_zones *z, uint16_t zone, int64_t local)
{
	const int64_t reach = INT64_C(26) * 3600000;
	struct zone_segment g;
	int64_t u, first = INT64_MAX, x;
	int32_t off;

	if (zones_local_to_utc(z, zone, local, &u) != 0)
		return;
	for (x = local - reach; x <= local + reach; x = g.end) {
		CHECK(zones_segment(z, zone, x, &g) == 0, "no segment at %lld", (long long)x);
		if ((g.start == SCHEDULE_NONE || local - g.offset >= g.start) &&
		    (g.end == SCHEDULE_NEVER || local - g.offset < g.end) && local - g.offset < first)
			first = local - g.offset;
		if (g.end == SCHEDULE_NEVER)
			break;
	}
	if (first != INT64_MAX)
		CHECK(u == first, "local %lld resolved to %lld, the earliest instant with it is %lld", (long long)local,
			(long long)u, (long long)first);
	else
		CHECK(u >= local - reach && u <= local + reach, "local %lld in a gap resolved to %lld", (long long)local,
			(long long)u);
	CHECK(zones_local_to_utc_keep(z, zone, local, local, &u) == 0, "keep-local failed at %lld", (long long)local);
	CHECK(u >= local - 2 * reach && u <= local + 2 * reach, "keep-local %lld gave %lld", (long long)local,
		(long long)u);
	CHECK(zones_offset_at(z, zone, u, &off) == 0, "no offset at %lld", (long long)u);
}

/* Whether no offset change moves the wall clock forward by a day or more (see check_fire_times). From the last
 * transition on the footer answers, with either of its offsets. */
static bool gaps_under_a_day(const struct tz_rules *r)
{
	int32_t prev = r->off0;

	for (size_t i = 0; i + 1 < r->n || (i < r->n && !r->has_footer); i++) {
		if (r->off[i] - prev >= 86400)
			return false;
		prev = r->off[i];
	}
	if (!r->has_footer)
		return true;
	if (r->footer.has_dst && (r->footer.dst_off - r->footer.std_off >= 86400 ||
		r->footer.std_off - r->footer.dst_off >= 86400))
		return false;
	return r->footer.std_off - prev < 86400 && r->footer.dst_off - prev < 86400;
}

static const char *const SCHEDULES[] = { "30 2 * * *", "*/20 * * * *", "0 0 * * SUN", "R/1971-01-01T02:30:00/P1D",
	"R/2030-03-31T01:45:00/PT61M", "R/2020-01-31T00:15:00/P1M" };

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Remove the private $TZDIR when the run ends. */
static void remove_tzdir(void)
{
	char dir[sizeof(zone_path)];

	unlink(zone_path);
	snprintf(dir, sizeof(dir), "%s/Fuzz", tzdir);
	rmdir(dir);
	rmdir(tzdir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;

	snprintf(tzdir, sizeof(tzdir), "/tmp/gnomon-fuzz-tzif-XXXXXX");
	if (mkdtemp(tzdir) == NULL)
		abort();
	setenv("TZDIR", tzdir, 1);
	snprintf(zone_path, sizeof(zone_path), "%s/Fuzz", tzdir);
	if (mkdir(zone_path, 0700) != 0)
		abort();
	snprintf(zone_path, sizeof(zone_path), "%s/Fuzz/Zone", tzdir);
	atexit(remove_tzdir);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tz_rules *r, *x;
	struct tz_span a, b;
	struct schedule_zones *z;
	int64_t t[PROBES];
	uint16_t zone;
	char err[256];
	bool ordered;
	FILE *f;
	int n;

	if (size > INPUT_MAX || tzif_parse(data, size, &r) != NULL)
		return 0;
	CHECK(tzif_parse(data, size, &x) == NULL, "parses once, not twice");
	tz_rules_expand(x, 4102444800);
	n = probes(r, t);
	for (int i = 0; i < n; i++) {
		check_span(r, t[i], &a);
		check_span(x, t[i], &b);
		CHECK(a.start == b.start && a.end == b.end && a.offset == b.offset && a.prev_offset == b.prev_offset,
			"expanded rules answer [%lld, %lld) %d/%d at %lld, not [%lld, %lld) %d/%d", (long long)b.start,
			(long long)b.end, b.offset, b.prev_offset, (long long)t[i], (long long)a.start, (long long)a.end,
			a.offset, a.prev_offset);
	}
	tz_rules_free(x);
	ordered = gaps_under_a_day(r);

	/* the same file as a zone of the database */
	if ((f = fopen(zone_path, "wb")) == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	z = schedule_zones_new();
	CHECK(schedule_zones_intern(z, "Fuzz/Zone", &zone, err, sizeof(err)) == 0, "the zone does not load: %s", err);
	for (int i = 0; i < n; i++) {
		int64_t ms = t[i] * 1000;
		check_local(z, zone, ms);
		check_local(z, zone, ms - 3600000);
		check_local(z, zone, ms + 1800000);
	}
	for (size_t k = 0; k < sizeof(SCHEDULES) / sizeof(SCHEDULES[0]); k++) {
		struct schedule s;
		if (schedule_parse(z, SCHEDULES[k], "Fuzz/Zone", INT64_C(1719792000000), &s, err, sizeof(err)) != 0)
			continue;
		for (int i = 0; i < n; i += 3)
			check_fire_times(z, &s, "Fuzz/Zone", t[i] * 1000 - 1, INT64_C(1719792000000),
				ordered || schedule_kind(&s) == SCHEDULE_CRON);
	}
	schedule_zones_free(z);
	tz_rules_free(r);
	return 0;
}
