/* The TZif reader and the rules it yields, on hand-made files: versions 1 to 4, POSIX footers in both
 * hemispheres, all-year daylight time, hours past 24 and negative ones, Julian days, and malformed files.
 * Expected instants are written by hand from the calendar and converted with libc's timegm. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "schedule/schedule.h"
#include "schedule/tzif.h"
#include "schedule/tzrule.h"
#include "schedule_times.h"
#include "tzif_build.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static struct tz_rules *parse_spec(const struct spec *s)
{
	uint8_t buf[1024];
	struct tz_rules *r;
	const char *why = tzif_parse(buf, build(s, buf), &r);

	if (why != NULL)
		fail_msg("spec did not parse: %s", why);
	return r;
}

/* ---- zones used by the query rows ---------------------------------------------------------------------- */

/* New York as a slim file: two transitions, then the footer. */
static const struct spec new_york = { 3, 2, { { -5 * H, 0 }, { -4 * H, 1 } }, 2,
	{ "2007-03-11T07:00:00Z", "2007-11-04T06:00:00Z" }, { 1, 0 }, "EST5EDT,M3.2.0,M11.1.0" };
/* The same zone as a version 1 file: only what the 32-bit table holds, no footer. */
static const struct spec new_york_v1 = { 1, 2, { { -5 * H, 0 }, { -4 * H, 1 } }, 3,
	{ "2037-03-08T07:00:00Z", "2037-11-01T06:00:00Z", "2038-01-01T00:00:00Z" }, { 1, 0, 0 }, NULL };
/* Lord Howe: half an hour of daylight time, southern hemisphere (the year ends in daylight time). */
static const struct spec lord_howe = { 2, 2, { { 10 * H + 1800, 0 }, { 11 * H, 1 } }, 1,
	{ "2008-04-05T15:00:00Z" }, { 0 }, "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0" };
/* Nuuk since 2023: rule times of -1:00 and 0:00 local, i.e. 01:00 UTC. */
static const struct spec nuuk = { 3, 2, { { -1 * H, 1 }, { -2 * H, 0 } }, 1, { "2023-10-29T01:00:00Z" }, { 1 },
	"<-02>2<-01>,M3.5.0/-1,M10.5.0/0" };
/* Daylight time all year (RFC 8536's example): the end and the next start are the same instant. */
static const struct spec all_year = { 3, 2, { { -5 * H, 0 }, { -4 * H, 1 } }, 1, { "2020-03-08T07:00:00Z" },
	{ 1 }, "EST5EDT,0/0,J365/25" };
/* Julian days: J60 is March 1 even in leap years; 59 (zero-based) is February 29 in them. Hours past 24. */
static const struct spec julian = { 3, 2, { { 0, 0 }, { H, 1 } }, 0, { NULL }, { 0 }, "XXX0YYY,J60/26,59/-2" };
/* A zone that ends with a fixed offset, with its big-bang transition (folded away) and one in 1970. */
static const struct spec fixed = { 4, 3, { { -7 * H - 180, 0 }, { -7 * H, 0 }, { -6 * H, 1 } }, 3,
	{ "big bang", "1901-01-01T00:00:00Z", "1970-06-01T00:00:00Z" }, { 0, 1, 2 }, "<-06>6" };

struct query {
	const struct spec *zone;
	const char *t;
	int32_t offset, prev_offset;
	const char *start, *end; /* NULL: none */
};

static const struct query queries[] = {
	/* in the table, then the footer's years, far ahead too */
	{ &new_york, "2000-01-01T00:00:00Z", -5 * H, -5 * H, NULL, "2007-03-11T07:00:00Z" },
	{ &new_york, "2007-06-01T00:00:00Z", -4 * H, -5 * H, "2007-03-11T07:00:00Z", "2007-11-04T06:00:00Z" },
	{ &new_york, "2007-12-01T00:00:00Z", -5 * H, -4 * H, "2007-11-04T06:00:00Z", "2008-03-09T07:00:00Z" },
	{ &new_york, "2024-03-10T06:59:59Z", -5 * H, -4 * H, "2023-11-05T06:00:00Z", "2024-03-10T07:00:00Z" },
	{ &new_york, "2024-03-10T07:00:00Z", -4 * H, -5 * H, "2024-03-10T07:00:00Z", "2024-11-03T06:00:00Z" },
	{ &new_york, "2024-12-31T23:59:59Z", -5 * H, -4 * H, "2024-11-03T06:00:00Z", "2025-03-09T07:00:00Z" },
	{ &new_york, "2100-07-01T00:00:00Z", -4 * H, -5 * H, "2100-03-14T07:00:00Z", "2100-11-07T06:00:00Z" },
	{ &new_york, "9999-12-31T00:00:00Z", -5 * H, -4 * H, "9999-11-07T06:00:00Z", "10000-03-12T07:00:00Z" },
	/* version 1: the last offset holds after the table */
	{ &new_york_v1, "2037-06-01T00:00:00Z", -4 * H, -5 * H, "2037-03-08T07:00:00Z", "2037-11-01T06:00:00Z" },
	{ &new_york_v1, "2040-06-01T00:00:00Z", -5 * H, -5 * H, "2038-01-01T00:00:00Z", NULL },
	/* southern hemisphere, 30 minutes */
	{ &lord_howe, "2024-01-01T00:00:00Z", 11 * H, 10 * H + 1800, "2023-09-30T15:30:00Z", "2024-04-06T15:00:00Z" },
	{ &lord_howe, "2024-04-06T15:00:00Z", 10 * H + 1800, 11 * H, "2024-04-06T15:00:00Z", "2024-10-05T15:30:00Z" },
	{ &lord_howe, "2008-05-01T00:00:00Z", 10 * H + 1800, 10 * H + 1800, "2008-04-05T15:00:00Z",
		"2008-10-04T15:30:00Z" },
	/* negative rule times */
	{ &nuuk, "2024-03-31T00:59:59Z", -2 * H, -1 * H, "2023-10-29T01:00:00Z", "2024-03-31T01:00:00Z" },
	{ &nuuk, "2024-06-01T00:00:00Z", -1 * H, -2 * H, "2024-03-31T01:00:00Z", "2024-10-27T01:00:00Z" },
	/* all year: no transition after the table's */
	{ &all_year, "2024-01-01T04:59:59Z", -4 * H, -5 * H, "2020-03-08T07:00:00Z", NULL },
	{ &all_year, "2300-12-31T23:00:00Z", -4 * H, -5 * H, "2020-03-08T07:00:00Z", NULL },
	/* Julian days with no table: daylight time from March 1 at 26:00 (March 2 02:00 UTC) to day 59 of the
	 * next year at -2:00 daylight time (February 28 21:00 UTC, day 59 being February 29 in 2024) */
	{ &julian, "2024-01-01T00:00:00Z", H, 0, "2023-03-02T02:00:00Z", "2024-02-28T21:00:00Z" },
	{ &julian, "2024-03-01T00:00:00Z", 0, H, "2024-02-28T21:00:00Z", "2024-03-02T02:00:00Z" },
	{ &julian, "2024-03-02T02:00:00Z", H, 0, "2024-03-02T02:00:00Z", "2025-02-28T21:00:00Z" },
	{ &julian, "2023-01-01T00:00:00Z", H, 0, "2022-03-02T02:00:00Z", "2023-02-28T21:00:00Z" },
	/* a fixed offset after the table; the big bang is folded into the first offset */
	{ &fixed, "1800-01-01T00:00:00Z", -7 * H - 180, -7 * H - 180, NULL, "1901-01-01T00:00:00Z" },
	{ &fixed, "1950-01-01T00:00:00Z", -7 * H, -7 * H - 180, "1901-01-01T00:00:00Z", "1970-06-01T00:00:00Z" },
	{ &fixed, "2500-01-01T00:00:00Z", -6 * H, -7 * H, "1970-06-01T00:00:00Z", NULL },
};

/* Seconds of an instant written as text, years past 9999 included (for span ends). */
static int64_t secs_of(const char *text)
{
	if (strncmp(text, "10000-", 6) == 0) {
		char shifted[40];
		snprintf(shifted, sizeof(shifted), "9600-%s", text + 6);
		return S(shifted) + INT64_C(146097) * 86400; /* 400 Gregorian years */
	}
	return S(text);
}

static void check_query(size_t i, const struct query *q, const struct tz_rules *r, const char *what)
{
	struct tz_span s;
	int64_t t = S(q->t);
	int64_t start = q->start ? secs_of(q->start) : TZ_NONE, end = q->end ? secs_of(q->end) : TZ_NEVER;

	tz_span_at(r, t, &s);
	if (s.offset != q->offset || s.prev_offset != q->prev_offset || s.start != start || s.end != end)
		fail_msg("query %zu (%s) at %s: offset %d prev %d [%lld, %lld), want %d prev %d [%lld, %lld)", i, what,
			q->t, s.offset, s.prev_offset, (long long)s.start, (long long)s.end, q->offset, q->prev_offset,
			(long long)start, (long long)end);
	assert_int_equal(tz_offset_at(r, t), q->offset);
	if (s.start != TZ_NONE)
		assert_int_equal(tz_offset_at(r, s.start - 1), s.prev_offset);
	if (s.end != TZ_NEVER)
		assert_int_equal(tz_offset_at(r, s.end - 1), s.offset);
}

static void test_queries(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(queries); i++) {
		struct tz_rules *r = parse_spec(queries[i].zone);

		check_query(i, &queries[i], r, "as read");
		/* writing the footer out as transitions changes no answer, before or past the point it stops */
		tz_rules_expand(r, S("2100-06-01T00:00:00Z"));
		check_query(i, &queries[i], r, "expanded");
		tz_rules_free(r);
	}
}

static void test_expand(void **state)
{
	struct tz_rules *r = parse_spec(&new_york);
	(void)state;

	assert_int_equal(r->n, 2);
	tz_rules_expand(r, S("2010-01-01T00:00:00Z"));
	/* 2008 and 2009, two transitions each */
	assert_int_equal(r->n, 6);
	assert_int_equal(r->at[5], S("2009-11-01T06:00:00Z"));
	assert_int_equal(r->off[5], -5 * H);
	tz_rules_free(r);
	r = parse_spec(&fixed);
	tz_rules_expand(r, S("2100-01-01T00:00:00Z"));
	assert_int_equal(r->n, 2);
	tz_rules_free(r);
}

/* ---- footers ------------------------------------------------------------------------------------------- */

#define BAD_START "the daylight time's start must be Jn, n or Mm.w.d, with an optional /time"
#define BAD_END "the daylight time's end must be Jn, n or Mm.w.d, with an optional /time"

struct posix_row {
	const char *text, *why; /* why: NULL if valid */
	int32_t std_off, dst_off;
	bool has_dst;
	struct tz_date start, end;
};

static const struct posix_row posix_rows[] = {
	{ "EST5EDT,M3.2.0,M11.1.0", NULL, -5 * H, -4 * H, true, { TZ_DATE_MWD, 3, 2, 0, 0, 2 * H },
		{ TZ_DATE_MWD, 11, 1, 0, 0, 2 * H } },
	{ "CET-1CEST,M3.5.0,M10.5.0/3", NULL, H, 2 * H, true, { TZ_DATE_MWD, 3, 5, 0, 0, 2 * H },
		{ TZ_DATE_MWD, 10, 5, 0, 0, 3 * H } },
	{ "<+0530>-5:30", NULL, 5 * H + 1800, 5 * H + 1800, false, { 0 }, { 0 } },
	{ "<-00>0", NULL, 0, 0, false, { 0 }, { 0 } },
	{ "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45", NULL, 12 * H + 2700, 13 * H + 2700, true,
		{ TZ_DATE_MWD, 9, 5, 0, 0, 2 * H + 2700 }, { TZ_DATE_MWD, 4, 1, 0, 0, 3 * H + 2700 } },
	{ "<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", NULL, -3 * H, -2 * H, true, { TZ_DATE_MWD, 3, 5, 0, 0, -2 * H },
		{ TZ_DATE_MWD, 10, 5, 0, 0, -1 * H } },
	{ "EST5EDT,0/0,J365/25", NULL, -5 * H, -4 * H, true, { TZ_DATE_JULIAN0, 0, 0, 0, 0, 0 },
		{ TZ_DATE_JULIAN1, 0, 0, 0, 365, 25 * H } },
	{ "IST-1GMT0,M10.5.0,M3.5.0/1", NULL, H, 0, true, { TZ_DATE_MWD, 10, 5, 0, 0, 2 * H },
		{ TZ_DATE_MWD, 3, 5, 0, 0, H } },
	{ "AAA-1:02:03BBB-2:03:04,J1/167:59:59,365/-167", NULL, 3723, 7384, true,
		{ TZ_DATE_JULIAN1, 0, 0, 0, 1, 167 * H + 3599 }, { TZ_DATE_JULIAN0, 0, 0, 0, 365, -167 * H } },
	{ "AAA3BBB3,M1.1.0,M2.1.0", NULL, -3 * H, -3 * H, false, { TZ_DATE_MWD, 1, 1, 0, 0, 2 * H },
		{ TZ_DATE_MWD, 2, 1, 0, 0, 2 * H } },
	{ .text = "AB5", .why = "the standard time's name must have 3 or more letters" },
	{ .text = "<AB>5", .why = "the standard time's name must have 3 or more letters" },
	{ .text = "<ABC5", .why = "the standard time's name must have 3 or more letters" },
	{ .text = "EST", .why = "the standard time's offset must be [+-]hh[:mm[:ss]] with hours up to 24" },
	{ .text = "EST25", .why = "the standard time's offset must be [+-]hh[:mm[:ss]] with hours up to 24" },
	{ .text = "EST5:60", .why = "the standard time's offset must be [+-]hh[:mm[:ss]] with hours up to 24" },
	{ .text = "EST5EDT", .why = "daylight time needs the rules of its start and end" },
	{ .text = "<+24>-24", .why = "the standard time's offset is out of range" },
	{ .text = "<+2359>-23:59:59<+2459>,M3.2.0,M11.1.0", .why = "the daylight time's offset is out of range" },
	{ .text = "EST5E", .why = "the daylight time's name must have 3 or more letters" },
	{ .text = "EST5EDT,M13.1.0,M11.1.0", .why = BAD_START },
	{ .text = "EST5EDT,M3.6.0,M11.1.0", .why = BAD_START },
	{ .text = "EST5EDT,M3.2.7,M11.1.0", .why = BAD_START },
	{ .text = "EST5EDT,J0,J365", .why = BAD_START },
	{ .text = "EST5EDT,366,J365", .why = BAD_START },
	{ .text = "EST5EDT,M3.2.0/168,M11.1.0", .why = BAD_START },
	{ .text = "EST5EDT,M3.2.0,M11.1.0,", .why = BAD_END },
	{ .text = "EST5EDT,M3.2.0", .why = BAD_START },
	{ .text = "EST5 ", .why = "the daylight time's name must have 3 or more letters" },
};

static void test_posix(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(posix_rows); i++) {
		const struct posix_row *r = &posix_rows[i];
		struct tz_posix p;
		const char *why = tz_posix_parse(r->text, strlen(r->text), &p);

		if ((why == NULL) != (r->why == NULL) || (why != NULL && strcmp(why, r->why) != 0))
			fail_msg("row %zu '%s': got %s, want %s", i, r->text, why ? why : "valid", r->why ? r->why : "valid");
		if (why != NULL)
			continue;
		if (p.std_off != r->std_off || p.dst_off != r->dst_off || p.has_dst != r->has_dst)
			fail_msg("row %zu '%s': offsets %d %d dst %d", i, r->text, p.std_off, p.dst_off, p.has_dst);
		if (r->has_dst && (memcmp(&p.start, &r->start, sizeof(p.start)) != 0 ||
				   memcmp(&p.end, &r->end, sizeof(p.end)) != 0))
			fail_msg("row %zu '%s': rule dates differ", i, r->text);
	}
}

/* ---- malformed files ----------------------------------------------------------------------------------- */

enum mutation { M_NONE, M_MAGIC, M_VERSION, M_TRUNCATE, M_TYPES_ZERO, M_LEAP, M_IDX, M_ORDER, M_OFFSET,
	M_ISDST, M_NO_FOOTER_NL, M_FOOTER, M_DESIG, M_TOO_MANY, M_FAR_FUTURE };

struct bad_row {
	enum mutation m;
	const char *why;
};

static const struct bad_row bad_rows[] = {
	{ M_MAGIC, "not a TZif file (no TZif header)" },
	{ M_VERSION, "unknown TZif version" },
	{ M_TRUNCATE, "the file is shorter than its second header says" },
	{ M_TYPES_ZERO, "the number of local time types must be 1 to 256" },
	{ M_LEAP, "leap seconds are not supported (a right/ zone?)" },
	{ M_IDX, "a transition's type index is out of range" },
	{ M_ORDER, "transition times are not in increasing order" },
	{ M_OFFSET, "a UT offset is out of range" },
	{ M_ISDST, "a DST indicator is neither 0 nor 1" },
	{ M_NO_FOOTER_NL, "the footer must end with a newline (and be short)" },
	{ M_FOOTER, "daylight time needs the rules of its start and end" },
	{ M_DESIG, "a designation index is out of range" },
	{ M_TOO_MANY, "too many transitions" },
	{ M_FAR_FUTURE, "a transition time is out of range" },
};

static void test_malformed(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(bad_rows); i++) {
		struct spec s = new_york;
		uint8_t buf[1024];
		size_t len, second;
		struct tz_rules *r = NULL;
		const char *why;

		if (bad_rows[i].m == M_FOOTER)
			s.footer = "EST5EDT";
		if (bad_rows[i].m == M_ORDER)
			s.at[1] = "2006-01-01T00:00:00Z";
		if (bad_rows[i].m == M_OFFSET)
			s.types[1].off = 24 * H; /* RFC 8536 allows it; no ISO 8601 offset (so no start gnomon prints) can */
		if (bad_rows[i].m == M_IDX)
			s.idx[1] = 2;
		if (bad_rows[i].m == M_ISDST)
			s.types[0].dst = 2;
		len = build(&s, buf);
		second = 44 + 6 + 4; /* the minimal version 1 block */
		switch (bad_rows[i].m) {
		case M_MAGIC: buf[0] = 'X'; break;
		case M_VERSION: buf[4] = '1'; break;
		case M_TRUNCATE: len = second + 44 + 10; break;
		case M_TYPES_ZERO: put32(buf + second + 36, 0); break;
		case M_LEAP: put32(buf + second + 28, 1); break;
		case M_NO_FOOTER_NL: len--; break;
		case M_DESIG: buf[second + 44 + 2 * 8 + 2 + 5] = 4; break;
		case M_TOO_MANY: put32(buf + second + 32, TZIF_MAX_TRANSITIONS + 1); break;
		case M_FAR_FUTURE: put64(buf + second + 44 + 8, TZ_TIME_LIMIT + 1); break;
		default: break;
		}
		why = tzif_parse(buf, len, &r);
		if (why == NULL || strcmp(why, bad_rows[i].why) != 0)
			fail_msg("row %zu: got %s, want %s", i, why ? why : "valid", bad_rows[i].why);
		assert_null(r);
	}
	/* every shorter prefix of a valid file is refused, and nothing is read past the end */
	{
		uint8_t buf[1024], *copy;
		size_t len = build(&new_york, buf);
		struct tz_rules *r;

		for (size_t n = 0; n < len; n++) {
			copy = malloc(n ? n : 1);
			memcpy(copy, buf, n);
			assert_non_null(tzif_parse(copy, n, &r));
			free(copy);
		}
		assert_false(tzif_is_tzif((const uint8_t *)"TZi", 3));
		assert_true(tzif_is_tzif(buf, len));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queries),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_posix),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
