/* posix_spawn of one task in its own process group (private to exec): the launcher for another account, the
 * PATH lookup and the spawn itself, with stdin from /dev/null and stdout/stderr onto the given pipe ends. */
#ifndef GNOMON_EXEC_EXEC_SPAWN_H
#define GNOMON_EXEC_EXEC_SPAWN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct exec_account;

struct spawn_req {
	char *const *argv;
	char *const *envp;
	const char *cwd;      /* NULL: keep the server's */
	const struct exec_account *account; /* checked: direct spawn, or through the launcher */
	int out_fd, err_fd;   /* the child's stdout and stderr */
};

/* How to start a task, decided before anything is created. */
struct spawn_plan {
	const char *prog;       /* the file to execute: resolved, argv[0] or the launcher */
	char **launcher_argv;   /* owned; NULL when running directly */
	bool launcher;
	char resolved[PATH_MAX];
};

/* Decide how to run req: through the launcher or not, and the PATH lookup. Returns 0, or a negative errno with a
 * message in err (nothing to free then). */
int spawn_plan(const struct spawn_req *req, struct spawn_plan *plan, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Spawn per plan; returns 0 and the pid (= the process group), or a negative errno with a message in err.
 * Frees the plan either way. */
int spawn_run(const struct spawn_req *req, struct spawn_plan *plan, pid_t *pid, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void spawn_plan_free(struct spawn_plan *plan);

#endif
