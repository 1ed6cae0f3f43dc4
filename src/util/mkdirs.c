#include "util/mkdirs.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "util/xmalloc.h"

int mkdirs(const char *dir, mode_t mode)
{
	char *path = xstrdup(dir);
	int rc = 0;

	for (char *p = path + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(path, mode) < 0 && errno != EEXIST) {
			rc = -errno;
			break;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	free(path);
	return rc;
}
