/* Zones: Java's legacy ids as Joda-Time maps them, names and links of the system's tz database, refused names,
 * the cache, a start placed in its zone as Chronos places it (Joda's withZoneRetainFields), and $TZDIR with
 * hand-made files (what is a zone, what is refused, what a new cache sees after the files change). Zone rules
 * are the system's (Debian's tzdata); expected instants are written by hand from the known transitions:
 *   Europe/London     2030-03-31 01:00Z (GMT -> BST), 2030-10-27 01:00Z (BST -> GMT)
 *   America/New_York  2030-03-10 07:00Z (EST -> EDT), 2030-11-03 06:00Z (EDT -> EST)
 *   Australia/Sydney  2030-04-06 16:00Z (+11 -> +10), 2030-10-05 16:00Z (+10 -> +11)
 *   Australia/Lord_Howe 2030-04-06 15:00Z (+11 -> +10:30) */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "schedule/schedule.h"
#include "schedule_times.h"
#include "tzif_build.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define M 60

/* The offset of a zone at an instant, through the public interface (the printed instant's offset). */
static int32_t offset_of(struct schedule_zones *z, uint16_t zone, const char *utc)
{
	char buf[SCHEDULE_INSTANT_MAX];
	int sign, h, m;
	size_t len;

	assert_int_equal(schedule_format_instant(z, zone, T(utc), buf, sizeof(buf)), 0);
	len = strlen(buf);
	if (buf[len - 1] == 'Z')
		return 0;
	assert_int_equal(sscanf(buf + len - 6, "%*c%2d:%2d", &h, &m), 2);
	sign = buf[len - 6] == '-' ? -1 : 1;
	return sign * (h * H + m * M);
}

/* Every legacy id of Joda-Time's conversion map (DateTimeZone.forTimeZone; unchanged from Joda-Time 2.0 to
 * 2.14, so Chronos 2.x's 2.3 and 3.x's 2.9.6 agree), its zone and its offsets in January and July 2030. */
static const struct {
	const char *id, *zone;
	int32_t jan, jul;
} legacy_rows[] = {
	{ "GMT", "UTC", 0, 0 },
	{ "WET", "WET", 0, H },
	{ "CET", "CET", H, 2 * H },
	{ "MET", "CET", H, 2 * H },
	{ "ECT", "CET", H, 2 * H },
	{ "EET", "EET", 2 * H, 3 * H },
	{ "MIT", "Pacific/Apia", 13 * H, 13 * H },
	{ "HST", "Pacific/Honolulu", -10 * H, -10 * H },
	{ "AST", "America/Anchorage", -9 * H, -8 * H },
	{ "PST", "America/Los_Angeles", -8 * H, -7 * H },
	{ "MST", "America/Denver", -7 * H, -6 * H },
	{ "PNT", "America/Phoenix", -7 * H, -7 * H },
	{ "CST", "America/Chicago", -6 * H, -5 * H },
	{ "EST", "America/New_York", -5 * H, -4 * H },
	{ "IET", "America/Indiana/Indianapolis", -5 * H, -4 * H },
	{ "PRT", "America/Puerto_Rico", -4 * H, -4 * H },
	{ "CNT", "America/St_Johns", -3 * H - 30 * M, -2 * H - 30 * M },
	{ "AGT", "America/Argentina/Buenos_Aires", -3 * H, -3 * H },
	{ "BET", "America/Sao_Paulo", -3 * H, -3 * H },
	{ "ART", "Africa/Cairo", 2 * H, 3 * H },
	{ "CAT", "Africa/Harare", 2 * H, 2 * H },
	{ "EAT", "Africa/Addis_Ababa", 3 * H, 3 * H },
	{ "NET", "Asia/Yerevan", 4 * H, 4 * H },
	{ "PLT", "Asia/Karachi", 5 * H, 5 * H },
	{ "IST", "Asia/Kolkata", 5 * H + 30 * M, 5 * H + 30 * M },
	{ "BST", "Asia/Dhaka", 6 * H, 6 * H },
	{ "VST", "Asia/Ho_Chi_Minh", 7 * H, 7 * H },
	{ "CTT", "Asia/Shanghai", 8 * H, 8 * H },
	{ "JST", "Asia/Tokyo", 9 * H, 9 * H },
	{ "ACT", "Australia/Darwin", 9 * H + 30 * M, 9 * H + 30 * M },
	{ "AET", "Australia/Sydney", 11 * H, 10 * H },
	{ "SST", "Pacific/Guadalcanal", 11 * H, 11 * H },
	{ "NST", "Pacific/Auckland", 13 * H, 12 * H },
};

static void test_legacy_ids(void **state)
{
	struct schedule_zones *z = schedule_zones_new();
	char err[256];
	(void)state;

	for (size_t i = 0; i < ARRAY_LEN(legacy_rows); i++) {
		uint16_t a, b;

		if (schedule_zones_intern(z, legacy_rows[i].id, &a, err, sizeof(err)) != 0)
			fail_msg("%s: %s", legacy_rows[i].id, err);
		assert_int_equal(schedule_zones_intern(z, legacy_rows[i].zone, &b, err, sizeof(err)), 0);
		assert_int_equal(a, b);
		if (strcmp(schedule_zone_name(z, a), legacy_rows[i].zone) != 0)
			fail_msg("%s: named %s, want %s", legacy_rows[i].id, schedule_zone_name(z, a), legacy_rows[i].zone);
		if (offset_of(z, a, "2030-01-15T12:00:00Z") != legacy_rows[i].jan ||
		    offset_of(z, a, "2030-07-15T12:00:00Z") != legacy_rows[i].jul)
			fail_msg("%s: offsets %d / %d, want %d / %d", legacy_rows[i].id, offset_of(z, a, "2030-01-15T12:00:00Z"),
				offset_of(z, a, "2030-07-15T12:00:00Z"), legacy_rows[i].jan, legacy_rows[i].jul);
	}
	schedule_zones_free(z);
}

/* Names to their canonical zone (NULL: unknown). */
static const struct {
	const char *name, *canonical;
} name_rows[] = {
	{ "America/New_York", "America/New_York" },
	{ "US/Eastern", "America/New_York" },
	{ "Asia/Calcutta", "Asia/Kolkata" },
	{ "America/Godthab", "America/Nuuk" },
	{ "Australia/Lord_Howe", "Australia/Lord_Howe" },
	{ "Etc/GMT+7", "Etc/GMT+7" },
	{ "UTC", "UTC" },
	{ "Etc/UTC", "UTC" },
	{ "Etc/GMT", "UTC" },
	{ "GMT0", "UTC" },
	{ "Zulu", "UTC" },
	/* Java's custom ids */
	{ "GMT+5", "GMT+05:00" },
	{ "GMT-0800", "GMT-08:00" },
	{ "GMT+530", "GMT+05:30" },
	{ "GMT+5:30", "GMT+05:30" },
	{ "GMT+00:00", "UTC" },
	{ "GMT+23:59", "GMT+23:59" },
	{ "GMT+24", NULL },
	{ "GMT+5:3", NULL },
	{ "GMT+05:30:00", NULL },
	{ "GMT+", NULL },
	{ "GMT+00005", NULL },
	/* not zones, or not names of the database: files beside the zones, paths out of it */
	{ "Mars/Olympus", NULL },
	{ "", NULL },
	{ "Z", NULL },
	{ "utc", NULL },
	{ "Etc/Unknown", NULL },
	{ "America/New York", NULL },
	{ "Amérique/Paris", NULL },
	{ "Europe/Paris\n", NULL },
	{ "../../etc/passwd", NULL },
	{ "/etc/passwd", NULL },
	{ "/usr/share/zoneinfo/America/New_York", NULL },
	{ "America/../America/New_York", NULL },
	{ "America//New_York", NULL },
	{ "America/New_York/", NULL },
	{ "./America/New_York", NULL },
	{ "America", NULL },
	{ "zone.tab", NULL },
	{ "tzdata.zi", NULL },
	{ "leap-seconds.list", NULL },
	{ "posixrules", NULL },
	{ "localtime", NULL },
	{ "right/America/New_York", NULL },
	{ "posix/America/New_York", NULL },
};

static void test_zone_names(void **state)
{
	char out[SCHEDULE_ZONE_NAME_MAX + 1], err[256], want[300];
	(void)state;

	for (size_t i = 0; i < ARRAY_LEN(name_rows); i++) {
		int rc = schedule_zone_canonical(name_rows[i].name, out, sizeof(out), err, sizeof(err));

		if (name_rows[i].canonical == NULL) {
			if (rc != -ENOENT)
				fail_msg("row %zu '%s': rc %d, want unknown", i, name_rows[i].name, rc);
			snprintf(want, sizeof(want), "scheduleTimeZone: unknown time zone '%s'", name_rows[i].name);
			if (strchr(name_rows[i].name, '\n') == NULL)
				assert_string_equal(err, want);
		} else {
			if (rc != 0)
				fail_msg("row %zu '%s': %s", i, name_rows[i].name, err);
			assert_string_equal(out, name_rows[i].canonical);
		}
	}
	assert_int_equal(schedule_zone_canonical("America/Los_Angeles", out, 8, err, sizeof(err)), -ENOSPC);
	memset(want, 'A', 200);
	want[200] = '\0';
	assert_int_equal(schedule_zone_canonical(want, out, sizeof(out), err, sizeof(err)), -ENOENT);
}

static void test_zone_cache(void **state)
{
	struct schedule_zones *z = schedule_zones_new();
	uint16_t a, b, c, d, e;
	char err[128];
	(void)state;

	assert_string_equal(schedule_zone_name(z, SCHEDULE_ZONE_UTC), "UTC");
	assert_int_equal(schedule_zones_intern(z, "PST", &a, err, sizeof(err)), 0);
	assert_int_equal(schedule_zones_intern(z, "America/Los_Angeles", &b, err, sizeof(err)), 0);
	assert_int_equal(schedule_zones_intern(z, "US/Pacific", &c, err, sizeof(err)), 0);
	assert_int_equal(a, b);
	assert_int_equal(a, c);
	assert_string_equal(schedule_zone_name(z, a), "America/Los_Angeles");
	/* UTC's names share its index; custom ids are fixed offsets shared by equal offsets; a zone keeps its name
	 * even when its offset has not changed since 1970 */
	assert_int_equal(schedule_zones_intern(z, "Etc/UTC", &d, err, sizeof(err)), 0);
	assert_int_equal(d, SCHEDULE_ZONE_UTC);
	assert_int_equal(schedule_zones_intern(z, "GMT+5:30", &d, err, sizeof(err)), 0);
	assert_int_equal(schedule_zones_intern(z, "GMT+05:30", &e, err, sizeof(err)), 0);
	assert_int_equal(d, e);
	assert_string_equal(schedule_zone_name(z, d), "GMT+05:30");
	assert_int_equal(schedule_zones_intern(z, "Asia/Kolkata", &e, err, sizeof(err)), 0);
	assert_int_not_equal(d, e);
	assert_string_equal(schedule_zone_name(z, e), "Asia/Kolkata");
	assert_int_equal(schedule_zones_intern(z, "Mars/Olympus", &e, err, sizeof(err)), -ENOENT);
	assert_int_equal(schedule_zones_intern(z, "Mars/Olympus", &e, err, sizeof(err)), -ENOENT);
	assert_null(schedule_zone_name(z, 999));
	schedule_zones_free(z);
	schedule_zones_free(NULL);
}

/* A start's instant in its zone (Chronos: DateTime.parse, then withZoneRetainFields, i.e. Joda's
 * getMillisKeepLocal): the zone's offset at the instant the string names when the wall-clock time has it, else
 * convertLocalToUTC(local, false). Without an offset the string names its wall-clock time in UTC. */
static const struct {
	const char *sched, *tz, *want;
} start_rows[] = {
	/* London's repeated hour (01:00-02:00 on 2030-10-27): no offset, or Z, is the second (GMT) copy */
	{ "R/2030-10-27T01:30:00/P1D", "Europe/London", "2030-10-27T01:30:00Z" },
	{ "R/2030-10-27T01:30:00Z/P1D", "Europe/London", "2030-10-27T01:30:00Z" },
	{ "R/2030-10-27T01:30:00+01:00/P1D", "Europe/London", "2030-10-27T00:30:00Z" },
	{ "R/2030-10-27T01:30:00+00:00/P1D", "Europe/London", "2030-10-27T01:30:00Z" },
	/* offsets London never uses: the zone's offset at the instant they name */
	{ "R/2030-10-27T01:30:00+05:00/P1D", "Europe/London", "2030-10-27T00:30:00Z" },
	{ "R/2030-10-27T01:30:00-05:00/P1D", "Europe/London", "2030-10-27T01:30:00Z" },
	/* New York's repeated hour (01:00-02:00 on 2030-11-03): no offset is the first (EDT) copy */
	{ "R/2030-11-03T01:30:00/P1D", "America/New_York", "2030-11-03T05:30:00Z" },
	{ "R/2030-11-03T01:30:00-04:00/P1D", "America/New_York", "2030-11-03T05:30:00Z" },
	{ "R/2030-11-03T01:30:00-05:00/P1D", "America/New_York", "2030-11-03T06:30:00Z" },
	{ "R/2030-11-03T01:30:00+09:00/P1D", "America/New_York", "2030-11-03T05:30:00Z" },
	{ "R/2030-11-03T01:30:00-10:00/P1D", "America/New_York", "2030-11-03T06:30:00Z" },
	{ "R/2030-11-03T01:30:00/P1D", "EST", "2030-11-03T05:30:00Z" },
	/* Sydney's repeated hour (02:00-03:00 on 2030-04-07) and Lord Howe's half hour (01:30-02:00) */
	{ "R/2030-04-07T02:30:00/P1D", "Australia/Sydney", "2030-04-06T16:30:00Z" },
	{ "R/2030-04-07T02:30:00+11:00/P1D", "Australia/Sydney", "2030-04-06T15:30:00Z" },
	{ "R/2030-04-07T02:30:00+10:00/P1D", "Australia/Sydney", "2030-04-06T16:30:00Z" },
	{ "R/2030-04-07T01:45:00/P1D", "Australia/Lord_Howe", "2030-04-06T15:15:00Z" },
	{ "R/2030-04-07T01:45:00+11:00/P1D", "Australia/Lord_Howe", "2030-04-06T14:45:00Z" },
	/* gaps: forward by the gap, whatever the offset */
	{ "R/2030-03-31T01:30:00/P1D", "Europe/London", "2030-03-31T01:30:00Z" },
	{ "R/2030-03-31T01:30:00+01:00/P1D", "Europe/London", "2030-03-31T01:30:00Z" },
	{ "R/2030-03-31T01:30:00Z/P1D", "Europe/London", "2030-03-31T01:30:00Z" },
	{ "R/2030-03-10T02:30:00/P1D", "America/New_York", "2030-03-10T07:30:00Z" },
	{ "R/2030-03-10T02:30:00-04:00/P1D", "America/New_York", "2030-03-10T07:30:00Z" },
	{ "R/2030-03-10T02:30:00-05:00/P1D", "America/New_York", "2030-03-10T07:30:00Z" },
	{ "R/2030-10-06T02:30:00/P1D", "Australia/Sydney", "2030-10-05T16:30:00Z" },
	{ "R/2030-10-06T02:30:00+11:00/P1D", "Australia/Sydney", "2030-10-05T16:30:00Z" },
	/* away from transitions the wall-clock time is kept and the string's offset does not matter */
	{ "R/2030-07-01T09:00:00-08:00/P1D", "Europe/London", "2030-07-01T08:00:00Z" },
	{ "R/2030-07-01T09:00:00/P1D", "America/New_York", "2030-07-01T13:00:00Z" },
	/* date only: midnight */
	{ "R/2030-10-27/P1D", "Europe/London", "2030-10-27T00:00:00+01:00" },
};

static void test_start_placement(void **state)
{
	struct schedule_zones *z = schedule_zones_new();
	char a[SCHEDULE_INSTANT_MAX], b[SCHEDULE_INSTANT_MAX], err[256], printed[SCHEDULE_FORMAT_MAX];
	(void)state;

	for (size_t i = 0; i < ARRAY_LEN(start_rows); i++) {
		struct schedule s, back;

		parse_or_fail(z, start_rows[i].sched, start_rows[i].tz, 0, &s);
		if (schedule_start(&s) != T(start_rows[i].want))
			fail_msg("row %zu '%s' %s: start %s, want %s", i, start_rows[i].sched, start_rows[i].tz,
				show(z, s.zone, schedule_start(&s), a, sizeof(a)), show(z, s.zone, T(start_rows[i].want), b,
				sizeof(b)));
		/* the start as Chronos stores it reads back as the same instant */
		assert_int_equal(schedule_format(z, &s, printed, sizeof(printed)), 0);
		if (schedule_parse(z, printed, start_rows[i].tz, 0, &back, err, sizeof(err)) != 0)
			fail_msg("%s: %s", printed, err);
		assert_int_equal(schedule_start(&back), schedule_start(&s));
	}
	schedule_zones_free(z);
}

/* ---- $TZDIR -------------------------------------------------------------------------------------------- */

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void write_spec(const char *dir, const char *name, const struct spec *s)
{
	uint8_t buf[1024];

	write_file(dir, name, buf, build(s, buf));
}

static const struct spec plus_three = { 2, 1, { { 3 * H, 0 } }, 0, { NULL }, { 0 }, "<+03>-3" };
static const struct spec minus_two = { 2, 1, { { -2 * H, 0 } }, 0, { NULL }, { 0 }, "<-02>2" };
/* A made-up zone with a 22-hour gap whose skipped wall-clock times come back two hours later: they exist. */
static const struct spec odd = { 2, 3, { { -10 * H, 0 }, { 12 * H, 0 }, { -8 * H, 0 } }, 2,
	{ "2030-01-01T00:00:00Z", "2030-01-01T02:00:00Z" }, { 1, 2 }, "<-08>8" };
static const struct spec dst_zone = { 3, 2, { { -5 * H, 0 }, { -4 * H, 1 } }, 1, { "2007-11-04T06:00:00Z" }, { 0 },
	"EST5EDT,M3.2.0,M11.1.0" };

/* Intern a name in a new cache: its canonical name and offset on 2030-07-01, or the error message. */
static void check_zone(const char *name, const char *canonical, int32_t offset, const char *error)
{
	struct schedule_zones *z = schedule_zones_new();
	char err[256] = "";
	uint16_t zone;
	int rc = schedule_zones_intern(z, name, &zone, err, sizeof(err));

	if (error != NULL) {
		if (rc == 0 || strcmp(err, error) != 0)
			fail_msg("'%s': rc %d '%s', want '%s'", name, rc, err, error);
	} else {
		if (rc != 0)
			fail_msg("'%s': %s", name, err);
		assert_string_equal(schedule_zone_name(z, zone), canonical);
		assert_int_equal(offset_of(z, zone, "2030-07-01T00:00:00Z"), offset);
	}
	schedule_zones_free(z);
}

static void test_tzdir(void **state)
{
	static const char index[] = "# version test\nZ Test/Plus3 3 - +03\nL Test/Plus3 Alias/Three\n"
				    "L Alias/Three Alias/Again\nR X 2000 o - Ja 1 0 0 -\nZ Test/Dst -5 X E%sT\n";
	char dir[] = "/tmp/gnomon-tzdir-XXXXXX", path[600];
	const char *old = getenv("TZDIR");
	char *saved = old ? strdup(old) : NULL;
	struct schedule_zones *before;
	uint16_t zone;
	uint8_t bad[1024];
	size_t badlen;
	char err[700];
	(void)state;

	assert_non_null(mkdtemp(dir));
	setenv("TZDIR", dir, 1);
	snprintf(path, sizeof(path), "%s/Test", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	write_spec(dir, "Test/Plus3", &plus_three);
	write_spec(dir, "Test/Dst", &dst_zone);
	write_file(dir, "zone.tab", "# not a zone\n", 13);
	badlen = build(&plus_three, bad);
	bad[4] = '1'; /* a TZif file of an unknown version */
	write_file(dir, "Test/Bad", bad, badlen);

	write_spec(dir, "Test/Odd", &odd);

	/* a wall-clock time that a transition skipped but a later one brings back is not in a gap */
	{
		struct schedule_zones *z = schedule_zones_new();
		struct schedule s;

		int64_t v;

		parse_or_fail(z, "R/2029-12-31T00:00:00/P1D", "Test/Odd", 0, &s);
		assert_int_equal(schedule_start(&s), T("2029-12-31T00:00:00-10:00"));
		assert_int_equal(schedule_occurrence(z, &s, 1, &v), 0);
		assert_int_equal(v, T("2030-01-01T00:00:00-08:00"));
		schedule_zones_free(z);
	}
	/* no tzdata.zi: every TZif file is a zone under its own name */
	check_zone("Test/Plus3", "Test/Plus3", 3 * H, NULL);
	check_zone("Test/Dst", "Test/Dst", -4 * H, NULL);
	check_zone("UTC", "UTC", 0, NULL);
	check_zone("zone.tab", NULL, 0, "scheduleTimeZone: unknown time zone 'zone.tab'");
	check_zone("Test", NULL, 0, "scheduleTimeZone: unknown time zone 'Test'");
	check_zone("Test/Missing", NULL, 0, "scheduleTimeZone: unknown time zone 'Test/Missing'");
	check_zone("Test/Bad", NULL, 0, "scheduleTimeZone: cannot load time zone 'Test/Bad': unknown TZif version");
	check_zone("Test/../Test/Plus3", NULL, 0, "scheduleTimeZone: unknown time zone 'Test/../Test/Plus3'");
	snprintf(path, sizeof(path), "%s/Test/Plus3", dir);
	snprintf(err, sizeof(err), "scheduleTimeZone: unknown time zone '%s'", path);
	check_zone(path, NULL, 0, err);

	/* a tzdata.zi: only its zones and links are names, links show their zone */
	write_file(dir, "tzdata.zi", index, strlen(index));
	check_zone("Alias/Three", "Test/Plus3", 3 * H, NULL);
	check_zone("Alias/Again", "Test/Plus3", 3 * H, NULL);
	check_zone("Test/Bad", NULL, 0, "scheduleTimeZone: unknown time zone 'Test/Bad'");

	/* the rules are read once per cache: a new one (a restart) sees the updated file, the old one does not */
	before = schedule_zones_new();
	assert_int_equal(schedule_zones_intern(before, "Test/Plus3", &zone, err, sizeof(err)), 0);
	write_spec(dir, "Test/Plus3", &minus_two);
	check_zone("Test/Plus3", "Test/Plus3", -2 * H, NULL);
	assert_int_equal(offset_of(before, zone, "2030-07-01T00:00:00Z"), 3 * H);
	schedule_zones_free(before);

	if (saved != NULL)
		setenv("TZDIR", saved, 1);
	else
		unsetenv("TZDIR");
	free(saved);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_legacy_ids),
		cmocka_unit_test(test_zone_names),
		cmocka_unit_test(test_zone_cache),
		cmocka_unit_test(test_start_placement),
		cmocka_unit_test(test_tzdir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
