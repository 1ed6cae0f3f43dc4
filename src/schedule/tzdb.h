/* The system's tz database, as the OS installs and updates it: a directory ($TZDIR, else /usr/share/zoneinfo)
 * of TZif files, and its tzdata.zi, whose Z and L lines list the zones and the links (old or alternative
 * names) to them. Only names the database lists are zones (when it has no tzdata.zi: any name of a TZif file
 * in it), and a name is checked before it becomes a path: no absolute paths, no "..", no odd characters.
 * Private to src/schedule. */
#ifndef GNOMON_SCHEDULE_TZDB_H
#define GNOMON_SCHEDULE_TZDB_H

#include "schedule/tzrule.h"

#define TZDB_DEFAULT_DIR "/usr/share/zoneinfo"
#define TZDB_FILE_MAX (1 << 20) /* a zone file is a few KiB */

struct tzdb;

/* Open the database of $TZDIR (or the default directory) and read its list of names, if it has one. */
struct tzdb *tzdb_open(void);
void tzdb_free(struct tzdb *db);
/* The zone a name stands for, links followed ("US/Eastern" gives "America/New_York"), borrowed from db or
 * name itself; NULL when the database has no such zone or the name cannot be one. */
const char *tzdb_resolve(const struct tzdb *db, const char *name);
/* Read and parse the file of a zone (a name tzdb_resolve returned). Returns 0 with the rules in *out (free with
 * tz_rules_free), -ENOENT when there is no such file or it is not a TZif file, or -EINVAL with why it is a bad
 * one. */
int tzdb_load(const struct tzdb *db, const char *zone, struct tz_rules **out, const char **why)
	__attribute__((warn_unused_result));

#endif
