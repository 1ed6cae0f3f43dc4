#include "schedule/tzdb.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "schedule/schedule.h"
#include "schedule/tzif.h"
#include "util/strmap.h"
#include "util/xmalloc.h"

#define LINK_HOPS 8 /* links to links are allowed; a longer chain is a loop */

struct tzdb {
	char *dir;
	char *index_text;      /* tzdata.zi, its names NUL-terminated in place; NULL when there is none */
	struct strmap *names;  /* zone -> itself, link -> its target (keys and values point into index_text) */
};

/* Read a whole regular file of at most max bytes; -ENOENT if it is missing or not a regular file. */
static int read_file(const char *path, size_t max, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK), rc = 0;
	struct stat st;
	ssize_t n;

	*out = NULL;
	if (fd < 0)
		return -ENOENT;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = -ENOENT;
		goto out;
	}
	if ((size_t)st.st_size > max) {
		rc = -EFBIG;
		goto out;
	}
	*out = xmalloc((size_t)st.st_size + 1);
	*len = 0;
	while (*len <= (size_t)st.st_size && (n = read(fd, *out + *len, (size_t)st.st_size + 1 - *len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || *len + (size_t)n > (size_t)st.st_size) {
			rc = n < 0 ? -EIO : -EFBIG; /* an error, or a file that grew while we read it */
			break;
		}
		*len += (size_t)n;
	}
	(*out)[*len] = '\0';
out:
	if (rc != 0) {
		free(*out);
		*out = NULL;
	}
	close(fd);
	return rc;
}

/* Up to max whitespace-separated words of a NUL-terminated line, each NUL-terminated in place. */
static int split_words(char *line, char **w, int max)
{
	int n = 0;

	while (n < max) {
		line += strspn(line, " \t");
		if (*line == '\0')
			break;
		w[n++] = line;
		line += strcspn(line, " \t");
		if (*line != '\0')
			*line++ = '\0';
	}
	return n;
}

/* tzdata.zi's "Z name ..." and "L target name" lines into the name map. */
static void read_index(struct tzdb *db)
{
	char *path = xasprintf("%s/tzdata.zi", db->dir), *line, *next;
	size_t len;

	if (read_file(path, 16 * TZDB_FILE_MAX, &db->index_text, &len) != 0)
		goto out;
	db->names = strmap_new();
	for (line = db->index_text; *line != '\0'; line = next) {
		char *eol = strchr(line, '\n'), *w[3];
		int n;

		next = eol != NULL ? eol + 1 : line + strlen(line);
		if (eol != NULL)
			*eol = '\0';
		n = split_words(line, w, 3);
		if (n >= 2 && strcmp(w[0], "Z") == 0)
			strmap_put(db->names, w[1], w[1]);
		else if (n == 3 && strcmp(w[0], "L") == 0)
			strmap_put(db->names, w[2], w[1]);
	}
out:
	free(path);
}

struct tzdb *tzdb_open(void)
{
	struct tzdb *db = xcalloc(1, sizeof(*db));
	const char *dir = getenv("TZDIR");

	db->dir = xstrdup(dir != NULL && dir[0] != '\0' ? dir : TZDB_DEFAULT_DIR);
	read_index(db);
	return db;
}

void tzdb_free(struct tzdb *db)
{
	if (db == NULL)
		return;
	if (db->names != NULL)
		strmap_free(db->names);
	free(db->index_text);
	free(db->dir);
	free(db);
}

/* Whether a name can be a path below the directory: relative, no empty, "." or ".." component (no component
 * begins with a dot), only the characters tz names use. */
static bool name_is_safe(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > SCHEDULE_ZONE_NAME_MAX || name[0] == '/' || name[len - 1] == '/')
		return false;
	for (const char *p = name; *p != '\0'; p++) {
		bool ok = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
			*p == '_' || *p == '-' || *p == '+' || *p == '.' || *p == '/';
		if (!ok || (*p == '/' && p[1] == '/') || (*p == '.' && (p == name || p[-1] == '/')))
			return false;
	}
	return true;
}

const char *tzdb_resolve(const struct tzdb *db, const char *name)
{
	if (!name_is_safe(name))
		return NULL;
	if (db->names == NULL)
		return name;
	for (int hop = 0; hop < LINK_HOPS; hop++) {
		const char *target = strmap_get(db->names, name);
		if (target == NULL)
			return NULL;
		if (strcmp(target, name) == 0)
			return name_is_safe(target) ? target : NULL;
		name = target;
	}
	return NULL;
}

int tzdb_load(const struct tzdb *db, const char *zone, struct tz_rules **out, const char **why)
{
	char *path, *bytes = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	*why = NULL;
	if (!name_is_safe(zone))
		return -ENOENT;
	path = xasprintf("%s/%s", db->dir, zone);
	rc = read_file(path, TZDB_FILE_MAX, &bytes, &len);
	free(path);
	if (rc == -EFBIG || rc == -EIO) {
		*why = rc == -EFBIG ? "the file is too large" : "the file cannot be read";
		return -EINVAL;
	}
	if (rc != 0 || !tzif_is_tzif((const uint8_t *)bytes, len)) {
		free(bytes);
		return -ENOENT;
	}
	*why = tzif_parse((const uint8_t *)bytes, len, out);
	free(bytes);
	return *why == NULL ? 0 : -EINVAL;
}
