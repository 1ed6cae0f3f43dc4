#include "exec/launcher.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FAIL_SETUP 126
#define FAIL_NOTFOUND 127
#define FAIL_USAGE 2

/* Print "gnomon __exec-as: <message>" on stderr (the task's stderr file) and _exit with code: no atexit handler
 * of anything linked in runs after a privilege drop (LeakSanitizer's, for one, cannot ptrace any more). */
static _Noreturn void fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static _Noreturn void fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("gnomon " EXEC_LAUNCHER_ARG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	_exit(code);
}

/* Become pw: supplementary groups, then gid, then uid (the order that still has the privilege to do each),
 * then make sure none of root's ids can be taken back. Returns 0 or an errno. */
static int drop_to(const struct passwd *pw)
{
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
		return errno;
	if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid || getgid() != pw->pw_gid ||
	    getegid() != pw->pw_gid)
		return EPERM;
	if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0))
		return EPERM;
	return 0;
}

int exec_launcher_main(int argc, char **argv)
{
	struct passwd pw, *res = NULL;
	const char *user, *cwd = NULL;
	char buf[16384];
	int i = 3, rc;

	if (argc < 5 || strcmp(argv[1], EXEC_LAUNCHER_ARG) != 0)
		fail(FAIL_USAGE, "usage: gnomon %s USER [--cwd DIR] -- COMMAND [ARG...]", EXEC_LAUNCHER_ARG);
	user = argv[2];
	if (strcmp(argv[i], "--cwd") == 0 && i + 1 < argc) {
		cwd = argv[i + 1];
		i += 2;
	}
	if (i + 1 >= argc || strcmp(argv[i], "--") != 0)
		fail(FAIL_USAGE, "usage: gnomon %s USER [--cwd DIR] -- COMMAND [ARG...]", EXEC_LAUNCHER_ARG);
	i++;

	rc = getpwnam_r(user, &pw, buf, sizeof(buf), &res);
	if (rc != 0 || !res)
		fail(FAIL_SETUP, "runAsUser: unknown user '%s'", user);
	rc = drop_to(&pw);
	if (rc != 0)
		fail(FAIL_SETUP, "runAsUser: cannot become '%s': %s", user, strerror(rc));
	if (cwd && chdir(cwd) < 0)
		fail(FAIL_SETUP, "cannot change to working directory '%s': %s", cwd, strerror(errno));
	execvp(argv[i], argv + i);
	rc = errno;
	fail(rc == ENOENT ? FAIL_NOTFOUND : FAIL_SETUP, "cannot run '%s': %s", argv[i], strerror(rc));
}
