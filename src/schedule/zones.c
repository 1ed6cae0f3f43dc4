#include "schedule/zones.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schedule/civil.h"
#include "schedule/errmsg.h"
#include "schedule/tzdb.h"
#include "schedule/tzrule.h"
#include "util/strmap.h"
#include "util/xmalloc.h"

/* Instants answered: a little past the 0000-9999 years either way. */
#define UTC_LIMIT (CIVIL_LOCAL_END + 2 * MS_PER_DAY)
/* Offsets are within 26 hours of UTC (RFC 8536), so the instants of a wall-clock time are within this of it. */
#define OFFSET_REACH (INT64_C(26) * 3600 * 1000)
/* A zone's footer rule is written out as transitions up to 2100-01-01T00:00Z: lookups in the years schedules
 * live in are one binary search. */
#define EXPAND_UNTIL INT64_C(4102444800)

struct zone {
	char *name;              /* canonical: a tz database zone, or "UTC" / "GMT+05:30" for fixed offsets */
	struct tz_rules *rules;  /* NULL for a fixed offset */
	int32_t offset;          /* the fixed offset, ms */
	bool has_memo;
	struct zone_segment memo; /* the segment last looked up: consecutive lookups mostly fall in it */
};

struct schedule_zones {
	struct zone *v;
	size_t n, cap;
	struct strmap *by_name; /* canonical names and the aliases seen, to index + 1 */
	char **aliases;         /* owned alias strings (keys of by_name) */
	size_t naliases;
	struct tzdb *db;        /* the system's tz database, opened at the first named zone */
};

/* Java's legacy zone ids as Joda-Time maps them (DateTimeZone.forTimeZone, its conversion map; the same in
 * every Joda-Time release from 2.0 to 2.14, thus in Chronos 2.x and 3.x). */
static const struct {
	const char *id, *zone;
} joda_legacy[] = {
	{ "GMT", "UTC" }, { "WET", "WET" }, { "CET", "CET" }, { "MET", "CET" }, { "ECT", "CET" }, { "EET", "EET" },
	{ "MIT", "Pacific/Apia" }, { "HST", "Pacific/Honolulu" }, { "AST", "America/Anchorage" },
	{ "PST", "America/Los_Angeles" }, { "MST", "America/Denver" }, { "PNT", "America/Phoenix" },
	{ "CST", "America/Chicago" }, { "EST", "America/New_York" }, { "IET", "America/Indiana/Indianapolis" },
	{ "PRT", "America/Puerto_Rico" }, { "CNT", "America/St_Johns" }, { "AGT", "America/Argentina/Buenos_Aires" },
	{ "BET", "America/Sao_Paulo" }, { "ART", "Africa/Cairo" }, { "CAT", "Africa/Harare" },
	{ "EAT", "Africa/Addis_Ababa" }, { "NET", "Asia/Yerevan" }, { "PLT", "Asia/Karachi" }, { "IST", "Asia/Kolkata" },
	{ "BST", "Asia/Dhaka" }, { "VST", "Asia/Ho_Chi_Minh" }, { "CTT", "Asia/Shanghai" }, { "JST", "Asia/Tokyo" },
	{ "ACT", "Australia/Darwin" }, { "AET", "Australia/Sydney" }, { "SST", "Pacific/Guadalcanal" },
	{ "NST", "Pacific/Auckland" },
};

/* The tz database's names of UTC, shown as "UTC" (its index in every cache). */
static const char *const utc_zones[] = { "UTC", "Etc/UTC", "Etc/GMT" };

static int add_zone(struct schedule_zones *z, char *name, struct tz_rules *rules, int32_t offset, uint16_t *zone)
{
	if (z->n > UINT16_MAX) {
		free(name);
		tz_rules_free(rules);
		return -ENOSPC;
	}
	if (z->n == z->cap) {
		z->cap = z->cap ? z->cap * 2 : 16;
		z->v = xrealloc(z->v, z->cap * sizeof(*z->v));
	}
	z->v[z->n] = (struct zone){ .name = name, .rules = rules, .offset = offset };
	strmap_put(z->by_name, name, (void *)(uintptr_t)(z->n + 1));
	*zone = (uint16_t)z->n++;
	return 0;
}

static void add_alias(struct schedule_zones *z, const char *alias, uint16_t zone)
{
	char *copy = xstrdup(alias);

	z->aliases = xrealloc(z->aliases, (z->naliases + 1) * sizeof(*z->aliases));
	z->aliases[z->naliases++] = copy;
	strmap_put(z->by_name, copy, (void *)(uintptr_t)(zone + 1));
}

static int lookup(const struct schedule_zones *z, const char *name, uint16_t *zone)
{
	uintptr_t v = (uintptr_t)strmap_get(z->by_name, name);

	if (v == 0)
		return -ENOENT;
	*zone = (uint16_t)(v - 1);
	return 0;
}

static void offset_name(int32_t offset_ms, char *buf, size_t len)
{
	int32_t a = offset_ms < 0 ? -offset_ms : offset_ms;
	int h = a / 3600000, m = a / 60000 % 60, s = a / 1000 % 60;
	char sign = offset_ms < 0 ? '-' : '+';

	if (offset_ms == 0)
		snprintf(buf, len, "UTC");
	else if (s != 0)
		snprintf(buf, len, "GMT%c%02d:%02d:%02d", sign, h, m, s);
	else
		snprintf(buf, len, "GMT%c%02d:%02d", sign, h, m);
}

int zones_intern_offset(struct schedule_zones *z, int32_t offset_ms, uint16_t *zone)
{
	char name[32];

	offset_name(offset_ms, name, sizeof(name));
	if (lookup(z, name, zone) == 0)
		return 0;
	return add_zone(z, xstrdup(name), NULL, offset_ms, zone);
}

struct schedule_zones *schedule_zones_new(void)
{
	struct schedule_zones *z = xcalloc(1, sizeof(*z));
	uint16_t utc;

	z->by_name = strmap_new();
	if (zones_intern_offset(z, 0, &utc) != 0 || utc != SCHEDULE_ZONE_UTC)
		abort(); /* cannot happen: the cache is empty */
	return z;
}

void schedule_zones_free(struct schedule_zones *z)
{
	if (z == NULL)
		return;
	for (size_t i = 0; i < z->n; i++) {
		tz_rules_free(z->v[i].rules);
		free(z->v[i].name);
	}
	for (size_t i = 0; i < z->naliases; i++)
		free(z->aliases[i]);
	free(z->aliases);
	free(z->v);
	strmap_free(z->by_name);
	tzdb_free(z->db);
	free(z);
}

/* Java's custom ids, as TimeZone.getTimeZone reads them: GMT+h, GMT+hh, GMT+hmm, GMT+hhmm, GMT+h:mm, GMT+hh:mm
 * (or -), hours up to 23; the offset in ms. Java also takes more leading zeros: not here, so that the names
 * one offset has (each an alias in the cache) are few. */
static bool java_custom_id(const char *name, int32_t *offset_ms)
{
	int64_t num = 0, hours = 0;
	int len = 0, delims = 0;
	const char *p = name + 4;

	if (strncmp(name, "GMT", 3) != 0 || (name[3] != '+' && name[3] != '-') || *p == '\0')
		return false;
	for (; *p != '\0'; p++) {
		if (*p == ':') {
			if (delims++ > 0 || len > 2)
				return false;
			hours = num;
			num = len = 0;
		} else if (*p >= '0' && *p <= '9' && len < 4) {
			num = num * 10 + (*p - '0');
			len++;
		} else {
			return false;
		}
	}
	if (delims == 0) {
		hours = len <= 2 ? num : num / 100;
		num = len <= 2 ? 0 : num % 100;
	} else if (len != 2) {
		return false;
	}
	if (hours > 23 || num > 59)
		return false;
	*offset_ms = (int32_t)((hours * 60 + num) * 60000) * (name[3] == '-' ? -1 : 1);
	return true;
}

/* The zone a scheduleTimeZone value names, as Chronos found it (Joda-Time's DateTimeZone.forTimeZone of
 * java.util.TimeZone.getTimeZone): a legacy id's zone, UTC, a custom GMT offset, or a zone of the system's tz
 * database, links followed. Interns it and returns its index; -ENOENT for unknown names. */
static int resolve(struct schedule_zones *z, const char *name, uint16_t *zone, const char **why)
{
	const char *target = name, *canon;
	struct tz_rules *rules;
	int32_t offset;
	int rc;

	*why = NULL;
	for (size_t i = 0; i < sizeof(joda_legacy) / sizeof(joda_legacy[0]); i++)
		if (strcmp(name, joda_legacy[i].id) == 0)
			target = joda_legacy[i].zone;
	if (java_custom_id(target, &offset))
		return zones_intern_offset(z, offset, zone);
	if (z->db == NULL)
		z->db = tzdb_open();
	canon = tzdb_resolve(z->db, target);
	for (size_t i = 0; canon != NULL && i < sizeof(utc_zones) / sizeof(utc_zones[0]); i++)
		if (strcmp(canon, utc_zones[i]) == 0 || strcmp(target, utc_zones[i]) == 0)
			canon = "UTC";
	if (canon == NULL)
		return -ENOENT;
	if (lookup(z, canon, zone) == 0)
		return 0;
	if ((rc = tzdb_load(z->db, canon, &rules, why)) != 0)
		return rc;
	tz_rules_expand(rules, EXPAND_UNTIL);
	return add_zone(z, xstrdup(canon), rules, 0, zone);
}

int schedule_zones_intern(struct schedule_zones *z, const char *name, uint16_t *zone, char *err, size_t errlen)
{
	char q[ERRMSG_QUOTE_MAX];
	const char *why;
	int rc;

	if (lookup(z, name, zone) == 0)
		return 0;
	rc = strlen(name) > SCHEDULE_ZONE_NAME_MAX ? -ENOENT : resolve(z, name, zone, &why);
	if (rc == -ENOENT) {
		errmsg_set(err, errlen, "scheduleTimeZone: unknown time zone '%s'", errmsg_quote(name, SIZE_MAX, q));
		return rc;
	}
	if (rc != 0) {
		errmsg_set(err, errlen, "scheduleTimeZone: cannot load time zone '%s': %s",
			errmsg_quote(name, SIZE_MAX, q), rc == -ENOSPC ? "too many zones" : why);
		return rc;
	}
	if (strcmp(name, z->v[*zone].name) != 0)
		add_alias(z, name, *zone);
	return 0;
}

int schedule_zone_canonical(const char *name, char *out, size_t outlen, char *err, size_t errlen)
{
	struct schedule_zones *z = schedule_zones_new();
	char q[ERRMSG_QUOTE_MAX];
	uint16_t zone;
	int rc = schedule_zones_intern(z, name, &zone, err, errlen);

	if (rc == 0 && strlen(z->v[zone].name) >= outlen) {
		errmsg_set(err, errlen, "scheduleTimeZone: buffer too small for the name of '%s'",
			errmsg_quote(name, SIZE_MAX, q));
		rc = -ENOSPC;
	}
	if (rc == 0)
		strcpy(out, z->v[zone].name);
	schedule_zones_free(z);
	return rc;
}

const char *schedule_zone_name(const struct schedule_zones *z, uint16_t zone)
{
	return zone < z->n ? z->v[zone].name : NULL;
}

static struct zone *get_zone(struct schedule_zones *z, uint16_t zone)
{
	return zone < z->n ? &z->v[zone] : NULL;
}

/* The segment holding an instant, with no range check (instants past the rules' limit get the limit's). */
static void segment_of(struct zone *e, int64_t utc_ms, struct zone_segment *seg)
{
	struct tz_span s;

	if (e->rules == NULL) {
		*seg = (struct zone_segment){ SCHEDULE_NONE, SCHEDULE_NEVER, e->offset, e->offset };
		return;
	}
	if (e->has_memo && utc_ms >= e->memo.start && utc_ms < e->memo.end) {
		*seg = e->memo;
		return;
	}
	tz_span_at(e->rules, civil_floor_div(utc_ms, 1000), &s);
	seg->start = s.start == TZ_NONE ? SCHEDULE_NONE : s.start * 1000;
	seg->end = s.end == TZ_NEVER ? SCHEDULE_NEVER : s.end * 1000;
	seg->offset = s.offset * 1000;
	seg->prev_offset = s.prev_offset * 1000;
	e->memo = *seg;
	e->has_memo = true;
}

int zones_segment(struct schedule_zones *z, uint16_t zone, int64_t utc_ms, struct zone_segment *seg)
{
	struct zone *e = get_zone(z, zone);

	if (e == NULL)
		return -EINVAL;
	if (e->rules != NULL && (utc_ms < -UTC_LIMIT || utc_ms > UTC_LIMIT))
		return -ERANGE;
	segment_of(e, utc_ms, seg);
	return 0;
}

int zones_offset_at(struct schedule_zones *z, uint16_t zone, int64_t utc_ms, int32_t *offset)
{
	struct zone_segment seg;
	int rc = zones_segment(z, zone, utc_ms, &seg);

	*offset = rc == 0 ? seg.offset : 0;
	return rc;
}

static int check_local(struct schedule_zones *z, uint16_t zone, int64_t local_ms, struct zone **e)
{
	if ((*e = get_zone(z, zone)) == NULL)
		return -EINVAL;
	if ((*e)->rules != NULL && (local_ms < -UTC_LIMIT || local_ms > UTC_LIMIT))
		return -ERANGE;
	return 0;
}

int zones_local_to_utc(struct schedule_zones *z, uint16_t zone, int64_t local_ms, int64_t *utc_ms)
{
	int64_t x, t, gap = SCHEDULE_NEVER;
	struct zone_segment seg;
	struct zone *e;
	int rc;

	if ((rc = check_local(z, zone, local_ms, &e)) != 0)
		return rc;
	/* Walk the segments an instant of this wall-clock time can be in, in time order: the first that holds
	 * local - its offset gives the earliest instant. When none does, the wall-clock time was skipped by a
	 * forward transition, and moves forward by the gap (the transition's previous offset). */
	for (x = local_ms - OFFSET_REACH;; x = seg.end) {
		segment_of(e, x, &seg);
		t = local_ms - seg.offset;
		if ((seg.start == SCHEDULE_NONE || t >= seg.start) && (seg.end == SCHEDULE_NEVER || t < seg.end)) {
			*utc_ms = t;
			return 0;
		}
		if (gap == SCHEDULE_NEVER && seg.start != SCHEDULE_NONE && seg.prev_offset < seg.offset &&
		    local_ms >= seg.start + seg.prev_offset && local_ms < seg.start + seg.offset)
			gap = local_ms - seg.prev_offset;
		if (seg.end == SCHEDULE_NEVER || seg.end > local_ms + OFFSET_REACH)
			break;
	}
	*utc_ms = gap;
	return gap == SCHEDULE_NEVER ? -ERANGE : 0; /* no gap either cannot happen: offsets are within reach */
}

/* Joda-Time's DateTimeZone.convertLocalToUTC(local, false): the offset at local taken as an instant, corrected
 * once; in a gap of a zone west of UTC, the first estimate. */
static int64_t joda_local_to_utc(struct zone *e, int64_t local_ms)
{
	struct zone_segment a, b, c;

	segment_of(e, local_ms, &a);
	segment_of(e, local_ms - a.offset, &b);
	if (a.offset != b.offset && a.offset < 0) {
		segment_of(e, local_ms - b.offset, &c);
		if (b.end != c.end) /* the next transitions after the two estimates differ: local is in a gap */
			return local_ms - a.offset;
	}
	return local_ms - b.offset;
}

int zones_local_to_utc_keep(struct schedule_zones *z, uint16_t zone, int64_t local_ms, int64_t original_ms,
	int64_t *utc_ms)
{
	struct zone_segment orig, at;
	struct zone *e;
	int rc;

	if ((rc = check_local(z, zone, local_ms, &e)) != 0 ||
	    (e->rules != NULL && (original_ms < -UTC_LIMIT || original_ms > UTC_LIMIT)))
		return rc != 0 ? rc : -ERANGE;
	segment_of(e, original_ms, &orig);
	segment_of(e, local_ms - orig.offset, &at);
	*utc_ms = at.offset == orig.offset ? local_ms - orig.offset : joda_local_to_utc(e, local_ms);
	return 0;
}
