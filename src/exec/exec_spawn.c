#include "exec/exec_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/exec.h"
#include "exec/launcher.h"
#include "util/xmalloc.h"

#define LAUNCHER_PATH "/proc/self/exe"
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* The PATH of the task's environment, or the default one. */
static const char *env_path(char *const *envp)
{
	for (; envp && *envp; envp++)
		if (strncmp(*envp, "PATH=", 5) == 0)
			return *envp + 5;
	return DEFAULT_PATH;
}

/* Find file in path as execvp would (an empty entry is the working directory, the task's when cwd is set).
 * Returns 0 with the program in out, or -ENOENT / -EACCES. */
static int resolve(const char *file, const char *path, const char *cwd, char *out, size_t outlen)
{
	char check[PATH_MAX];
	int rc = -ENOENT;

	for (const char *p = path;; p++) {
		const char *end = strchrnul(p, ':');
		const char *dir = end == p ? "." : p;
		int dlen = end == p ? 1 : (int)(end - p);
		int n = snprintf(out, outlen, "%.*s/%s", dlen, dir, file);
		struct stat st;

		if (n > 0 && (size_t)n < outlen) {
			const char *s = out;
			if (out[0] != '/' && cwd) {
				n = snprintf(check, sizeof(check), "%s/%s", cwd, out);
				s = n > 0 && (size_t)n < sizeof(check) ? check : out;
			}
			if (stat(s, &st) == 0) {
				if (S_ISREG(st.st_mode) && (st.st_mode & 0111))
					return 0;
				rc = -EACCES;
			} else if (errno == EACCES) {
				rc = -EACCES;
			}
		}
		if (!*end)
			break;
		p = end;
	}
	return rc;
}

/* The launcher's argv for req, in one allocation the caller frees. */
static char **launcher_argv(const struct spawn_req *req)
{
	size_t n = 0, i = 0;
	char **v;

	while (req->argv[n])
		n++;
	v = xcalloc(n + 7, sizeof(*v));
	v[i++] = (char *)(uintptr_t) "gnomon";
	v[i++] = (char *)(uintptr_t)EXEC_LAUNCHER_ARG;
	v[i++] = (char *)(uintptr_t)req->account->user.name;
	if (req->cwd) {
		v[i++] = (char *)(uintptr_t) "--cwd";
		v[i++] = (char *)(uintptr_t)req->cwd;
	}
	v[i++] = (char *)(uintptr_t) "--";
	memcpy(v + i, req->argv, n * sizeof(*v));
	return v;
}

/* Every signal, including glibc's two internal ones (32 and 33, below SIGRTMIN): sigfillset() leaves those out,
 * and glibc's posix_spawn then sets them to SIG_IGN in the child, which the exec keeps. */
static void fill_all_signals(sigset_t *set)
{
	sigfillset(set);
#ifdef __GLIBC__
	for (int sig = 32; sig < SIGRTMIN; sig++) {
		size_t bits = 8 * sizeof(set->__val[0]);
		set->__val[(size_t)(sig - 1) / bits] |= 1UL << ((size_t)(sig - 1) % bits);
	}
#endif
}

/* Fill the spawn attributes and file actions: own process group, clean signal state, stdio. */
static int prepare(const struct spawn_req *req, bool chdir_here, posix_spawnattr_t *attr,
    posix_spawn_file_actions_t *fa)
{
	sigset_t none, all;
	int rc;

	sigemptyset(&none);
	fill_all_signals(&all);
	rc = posix_spawnattr_setflags(attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	if (!rc)
		rc = posix_spawnattr_setpgroup(attr, 0);
	if (!rc)
		rc = posix_spawnattr_setsigmask(attr, &none);
	if (!rc)
		rc = posix_spawnattr_setsigdefault(attr, &all);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(fa, req->out_fd, STDOUT_FILENO);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(fa, req->err_fd, STDERR_FILENO);
	if (!rc)
		rc = posix_spawn_file_actions_addopen(fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	/* gnomon opens everything close-on-exec; this also covers a library that does not (one close_range) */
	if (!rc)
		rc = posix_spawn_file_actions_addclosefrom_np(fa, STDERR_FILENO + 1);
	if (!rc && chdir_here && req->cwd)
		rc = posix_spawn_file_actions_addchdir_np(fa, req->cwd);
	return -rc;
}

int spawn_plan(const struct spawn_req *req, struct spawn_plan *plan, char *err, size_t errlen)
{
	const char *file = req->argv[0];
	int rc;

	plan->launcher_argv = NULL;
	plan->prog = file;
	plan->launcher = req->account->launcher;
	if (plan->launcher) {
		plan->launcher_argv = launcher_argv(req);
		plan->prog = LAUNCHER_PATH;
	} else if (!strchr(file, '/')) {
		rc = *file ? resolve(file, env_path(req->envp), req->cwd, plan->resolved, sizeof(plan->resolved))
			   : -ENOENT;
		if (rc < 0) {
			snprintf(err, errlen, "cannot run '%s': %s", file, strerror(-rc));
			return rc;
		}
		plan->prog = plan->resolved;
	}
	return 0;
}

void spawn_plan_free(struct spawn_plan *plan)
{
	free(plan->launcher_argv);
	plan->launcher_argv = NULL;
}

int spawn_run(const struct spawn_req *req, struct spawn_plan *plan, pid_t *pid, char *err, size_t errlen)
{
	static char *const empty_env[] = {NULL};
	char *const *argv = plan->launcher ? plan->launcher_argv : req->argv;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int rc = -ENOMEM;

	if (posix_spawnattr_init(&attr) != 0)
		goto out;
	if (posix_spawn_file_actions_init(&fa) != 0)
		goto out_attr;
	rc = prepare(req, !plan->launcher, &attr, &fa);
	if (!rc)
		rc = -posix_spawn(pid, plan->prog, &fa, &attr, argv, req->envp ? req->envp : empty_env);
	posix_spawn_file_actions_destroy(&fa);
out_attr:
	posix_spawnattr_destroy(&attr);
out:
	if (rc < 0 && req->cwd && !plan->launcher && access(req->cwd, X_OK) < 0)
		snprintf(err, errlen, "cannot run '%s': working directory '%s': %s", req->argv[0], req->cwd,
		    strerror(errno));
	else if (rc < 0)
		snprintf(err, errlen, "cannot run '%s': %s", req->argv[0], strerror(-rc));
	spawn_plan_free(plan);
	return rc;
}
