#include "schedule/zones.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/ucal.h>
#include <unicode/ustring.h>

#include "schedule/civil.h"
#include "schedule/errmsg.h"
#include "util/strmap.h"
#include "util/xmalloc.h"

/* ICU accepts instants far beyond this; we stay well inside double's exact integers and the 0000-9999 years. */
#define UTC_LIMIT (CIVIL_LOCAL_END + 2 * MS_PER_DAY)

struct zone {
	char *name;     /* canonical: an ICU id, or "UTC" / "GMT+05:30" for fixed offsets */
	UCalendar *cal; /* NULL for a fixed offset */
	int32_t offset; /* the fixed offset, ms */
};

struct schedule_zones {
	struct zone *v;
	size_t n, cap;
	struct strmap *by_name; /* canonical names and the aliases seen, to index + 1 */
	char **aliases;         /* owned alias strings (keys of by_name) */
	size_t naliases;
};

static int add_zone(struct schedule_zones *z, char *name, UCalendar *cal, int32_t offset, uint16_t *zone)
{
	if (z->n > UINT16_MAX) {
		free(name);
		if (cal != NULL)
			ucal_close(cal);
		return -ENOSPC;
	}
	if (z->n == z->cap) {
		z->cap = z->cap ? z->cap * 2 : 16;
		z->v = xrealloc(z->v, z->cap * sizeof(*z->v));
	}
	z->v[z->n] = (struct zone){ .name = name, .cal = cal, .offset = offset };
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
		if (z->v[i].cal != NULL)
			ucal_close(z->v[i].cal);
		free(z->v[i].name);
	}
	for (size_t i = 0; i < z->naliases; i++)
		free(z->aliases[i]);
	free(z->aliases);
	free(z->v);
	strmap_free(z->by_name);
	free(z);
}

/* ICU's canonical id of name into canon (UTF-8); -ENOENT for unknown names and for "Etc/Unknown". */
static int canonicalize(const char *name, char *canon, size_t len, UBool *system)
{
	UChar uname[SCHEDULE_ZONE_NAME_MAX + 1], ucanon[SCHEDULE_ZONE_NAME_MAX + 1];
	UErrorCode st = U_ZERO_ERROR;
	int32_t n;

	if (name[0] == '\0' || strlen(name) > SCHEDULE_ZONE_NAME_MAX)
		return -ENOENT;
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7E)
			return -ENOENT; /* ICU ids are printable ASCII; u_uastrcpy would mangle the rest */
	u_uastrcpy(uname, name);
	n = ucal_getCanonicalTimeZoneID(uname, -1, ucanon, SCHEDULE_ZONE_NAME_MAX, system, &st);
	if (U_FAILURE(st) || n <= 0 || n >= SCHEDULE_ZONE_NAME_MAX)
		return -ENOENT;
	ucanon[n] = 0;
	if ((size_t)n >= len)
		return -ENOSPC;
	u_austrcpy(canon, ucanon);
	if (strcmp(canon, "Etc/Unknown") == 0)
		return -ENOENT;
	return 0;
}

int schedule_zone_canonical(const char *name, char *out, size_t outlen, char *err, size_t errlen)
{
	char q[ERRMSG_QUOTE_MAX];
	UBool system;
	int rc = canonicalize(name, out, outlen, &system);

	if (rc == -ENOENT)
		errmsg_set(err, errlen, "scheduleTimeZone: unknown time zone '%s'", errmsg_quote(name, SIZE_MAX, q));
	else if (rc == -ENOSPC)
		errmsg_set(err, errlen, "scheduleTimeZone: buffer too small for the name of '%s'",
			errmsg_quote(name, SIZE_MAX, q));
	return rc;
}

static int32_t cal_offset(UCalendar *cal, UErrorCode *st)
{
	return ucal_get(cal, UCAL_ZONE_OFFSET, st) + ucal_get(cal, UCAL_DST_OFFSET, st);
}

/* Open a calendar for a canonical id; a zone with no transition since 1970 becomes a fixed offset. */
static int open_zone(const char *canon, UCalendar **calp, int32_t *offset)
{
	UChar id[SCHEDULE_ZONE_NAME_MAX + 1];
	UErrorCode st = U_ZERO_ERROR;
	UCalendar *cal;
	UDate next;

	u_uastrcpy(id, canon);
	cal = ucal_open(id, -1, "en_US_POSIX", UCAL_GREGORIAN, &st);
	if (U_FAILURE(st))
		return -EINVAL;
	ucal_setAttribute(cal, UCAL_REPEATED_WALL_TIME, UCAL_WALLTIME_FIRST);
	ucal_setAttribute(cal, UCAL_SKIPPED_WALL_TIME, UCAL_WALLTIME_LAST);
	ucal_setMillis(cal, 0, &st);
	*offset = cal_offset(cal, &st);
	if (!ucal_getTimeZoneTransitionDate(cal, UCAL_TZ_TRANSITION_NEXT, &next, &st) || U_FAILURE(st)) {
		ucal_close(cal);
		cal = NULL;
	}
	*calp = cal;
	return U_FAILURE(st) ? -EINVAL : 0;
}

int schedule_zones_intern(struct schedule_zones *z, const char *name, uint16_t *zone, char *err, size_t errlen)
{
	char canon[SCHEDULE_ZONE_NAME_MAX + 1], q[ERRMSG_QUOTE_MAX];
	UCalendar *cal;
	UBool system;
	int32_t offset;
	int rc;

	if (lookup(z, name, zone) == 0)
		return 0;
	if (canonicalize(name, canon, sizeof(canon), &system) != 0) {
		errmsg_set(err, errlen, "scheduleTimeZone: unknown time zone '%s'", errmsg_quote(name, SIZE_MAX, q));
		return -ENOENT;
	}
	if (lookup(z, canon, zone) != 0) {
		rc = open_zone(canon, &cal, &offset);
		if (rc == 0)
			rc = cal != NULL ? add_zone(z, xstrdup(canon), cal, 0, zone)
					 : zones_intern_offset(z, offset, zone);
		if (rc != 0) {
			errmsg_set(err, errlen, "scheduleTimeZone: cannot load time zone '%s'%s",
				errmsg_quote(name, SIZE_MAX, q), rc == -ENOSPC ? ": too many zones" : "");
			return rc;
		}
	}
	if (strcmp(name, canon) != 0 || z->v[*zone].cal == NULL)
		add_alias(z, name, *zone);
	return 0;
}

const char *schedule_zone_name(const struct schedule_zones *z, uint16_t zone)
{
	return zone < z->n ? z->v[zone].name : NULL;
}

static struct zone *get_zone(struct schedule_zones *z, uint16_t zone)
{
	return zone < z->n ? &z->v[zone] : NULL;
}

int zones_offset_at(struct schedule_zones *z, uint16_t zone, int64_t utc_ms, int32_t *offset)
{
	struct zone *e = get_zone(z, zone);
	UErrorCode st = U_ZERO_ERROR;

	if (e == NULL)
		return -EINVAL;
	if (e->cal == NULL) {
		*offset = e->offset;
		return 0;
	}
	if (utc_ms < -UTC_LIMIT || utc_ms > UTC_LIMIT)
		return -ERANGE;
	ucal_setMillis(e->cal, (UDate)utc_ms, &st);
	*offset = cal_offset(e->cal, &st);
	return U_FAILURE(st) ? -EINVAL : 0;
}

static int transition(UCalendar *cal, int64_t utc_ms, UTimeZoneTransitionType type, int64_t none, int64_t *out)
{
	UErrorCode st = U_ZERO_ERROR;
	UDate d;

	ucal_setMillis(cal, (UDate)utc_ms, &st);
	if (U_FAILURE(st))
		return -EINVAL;
	*out = ucal_getTimeZoneTransitionDate(cal, type, &d, &st) ? (int64_t)d : none;
	return U_FAILURE(st) ? -EINVAL : 0;
}

int zones_segment(struct schedule_zones *z, uint16_t zone, int64_t utc_ms, struct zone_segment *seg)
{
	struct zone *e = get_zone(z, zone);
	int rc;

	if (e == NULL)
		return -EINVAL;
	if (e->cal == NULL) {
		*seg = (struct zone_segment){ SCHEDULE_NONE, SCHEDULE_NEVER, e->offset, e->offset };
		return 0;
	}
	if ((rc = zones_offset_at(z, zone, utc_ms, &seg->offset)) != 0)
		return rc;
	if ((rc = transition(e->cal, utc_ms, UCAL_TZ_TRANSITION_NEXT, SCHEDULE_NEVER, &seg->end)) != 0)
		return rc;
	rc = transition(e->cal, utc_ms, UCAL_TZ_TRANSITION_PREVIOUS_INCLUSIVE, SCHEDULE_NONE, &seg->start);
	if (rc != 0)
		return rc;
	seg->prev_offset = seg->offset;
	if (seg->start != SCHEDULE_NONE)
		rc = zones_offset_at(z, zone, seg->start - 1, &seg->prev_offset);
	return rc;
}

int zones_local_to_utc(struct schedule_zones *z, uint16_t zone, int64_t local_ms, int64_t *utc_ms)
{
	struct zone *e = get_zone(z, zone);
	UErrorCode st = U_ZERO_ERROR;
	struct civil c;
	UDate d;

	if (e == NULL)
		return -EINVAL;
	if (e->cal == NULL) {
		*utc_ms = local_ms - e->offset;
		return 0;
	}
	if (local_ms < -UTC_LIMIT || local_ms > UTC_LIMIT)
		return -ERANGE;
	civil_from_local(local_ms, &c);
	ucal_clear(e->cal);
	ucal_setDateTime(e->cal, c.year, c.month - 1, c.day, c.hour, c.minute, c.second, &st);
	ucal_set(e->cal, UCAL_MILLISECOND, c.ms);
	d = ucal_getMillis(e->cal, &st);
	if (U_FAILURE(st))
		return -EINVAL;
	*utc_ms = (int64_t)d;
	return 0;
}
