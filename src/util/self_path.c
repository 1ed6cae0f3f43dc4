#include "util/self_path.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/xmalloc.h"

int self_path_beside(const char *name, char **out, char *err, size_t errlen)
{
	char self[PATH_MAX], *slash;
	ssize_t n;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) < 0) {
		int rc = -errno;
		snprintf(err, errlen, "cannot find %s: /proc/self/exe: %s", name, strerror(-rc));
		return rc;
	}
	self[n] = '\0';
	slash = strrchr(self, '/');
	*out = xasprintf("%.*s/%s", slash ? (int)(slash - self) : 1, slash ? self : ".", name);
	return 0;
}
