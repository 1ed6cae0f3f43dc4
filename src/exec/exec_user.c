/* Accounts (exec.h): looking up runAsUser and the server's own account, and the one runAsUser check. Apart from
 * exec_spawn.c because it reads the password database (NSS): gnomon-executor, linked statically, does not. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec/exec.h"
#include "util/xmalloc.h"

int exec_user_lookup(const char *name, struct exec_user *out, char *err, size_t errlen)
{
	struct passwd pw, *res = NULL;
	size_t len = 1024;
	char *buf = NULL;
	int rc;

	for (;;) {
		buf = xrealloc(buf, len);
		rc = getpwnam_r(name, &pw, buf, len, &res);
		if (rc != ERANGE || len >= (size_t)1 << 20)
			break;
		len *= 2;
	}
	if (rc == 0 && res && strlen(pw.pw_name) < sizeof(out->name) && strlen(pw.pw_dir) < sizeof(out->home)) {
		out->uid = pw.pw_uid;
		out->gid = pw.pw_gid;
		snprintf(out->name, sizeof(out->name), "%s", pw.pw_name);
		snprintf(out->home, sizeof(out->home), "%s", pw.pw_dir);
		rc = 0;
	} else if (rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM) {
		snprintf(err, errlen, "runAsUser: unknown user '%s'", name);
		rc = -ENOENT;
	} else {
		snprintf(err, errlen, "runAsUser: cannot look up user '%s': %s", name, strerror(rc));
		rc = rc > 0 ? -rc : -EIO;
	}
	free(buf);
	return rc;
}

void exec_user_self(struct exec_user *out)
{
	struct passwd pw, *res = NULL;
	uid_t euid = geteuid();
	char buf[4096];

	memset(out, 0, sizeof(*out));
	out->uid = euid;
	out->gid = getegid();
	if (getpwuid_r(euid, &pw, buf, sizeof(buf), &res) == 0 && res && strlen(pw.pw_name) < sizeof(out->name) &&
	    strlen(pw.pw_dir) < sizeof(out->home)) {
		out->gid = pw.pw_gid;
		snprintf(out->name, sizeof(out->name), "%s", pw.pw_name);
		snprintf(out->home, sizeof(out->home), "%s", pw.pw_dir);
	} else {
		snprintf(out->name, sizeof(out->name), "%lu", (unsigned long)euid);
		snprintf(out->home, sizeof(out->home), "/");
	}
}

int exec_account_check(const struct exec_user *self, const char *run_as, struct exec_account *out, char *err,
    size_t errlen)
{
	int rc;

	out->launcher = false;
	if (!run_as || !*run_as || strcmp(run_as, self->name) == 0) {
		out->user = *self;
		return 0;
	}
	if ((rc = exec_user_lookup(run_as, &out->user, err, errlen)) < 0)
		return rc;
	if (out->user.uid == self->uid) {
		out->user = *self; /* another name of the server's own account */
		return 0;
	}
	if (self->uid != 0) {
		snprintf(err, errlen, "gnomon runs as '%s', not root: cannot run jobs as '%s'", self->name, run_as);
		return -EPERM;
	}
	out->launcher = true;
	return 0;
}
