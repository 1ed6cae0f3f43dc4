/* runAsUser: a root server runs the task as another user through the launcher (this test binary re-executed as
 * `__exec-as USER -- argv`, as gnomon is); unknown users and a non-root server fail at start. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "exec/exec.h"
#include "exec/exec_env.h"
#include "exec/launcher.h"
#include "util/buf.h"

#define WATCHDOG_MS 20000

struct run {
	bool done, fired;
	struct exec_result res;
	struct buf live[2];
};

static uv_loop_t loop;

static void on_output(void *ctx, enum exec_stream s, const char *data, size_t len)
{
	struct run *r = ctx;
	assert_int_equal(buf_append(&r->live[s], data, len), 0);
}

/* This binary, as the launcher is reached: /proc/<pid>/exe (a task's own /proc/self/exe is its executor). */
static char self_exe[32];

static void on_exit_cb(void *ctx, struct exec_task *t, const struct exec_result *res)
{
	struct run *r = ctx;
	r->res = *res;
	r->done = true;
	exec_task_free(t);
}

static void on_watchdog(uv_timer_t *h)
{
	((struct run *)h->data)->fired = true;
}

/* The environment a task of user gets (HOME "/" for an unknown user). */
static char **env_for(const char *user)
{
	struct exec_user u;
	char err[256];
	struct exec_env_input in = {.task_id = "ct:1:0:t:", .job_name = "t", .user = user};

	if (exec_user_lookup(user, &u, err, sizeof(err)) == 0)
		in.home = u.home;
	return exec_env_build(&in);
}

/* Run argv as user (NULL: as this process) in cwd; the caller frees r's buffers. */
static int run_as(struct run *r, const char *user, const char *cwd, const char *const *args, size_t n, char *err,
    size_t errlen)
{
	struct exec_spec spec;
	struct exec_task *t = NULL;
	char **argv = exec_argv_build(args[0], args + 1, n - 1, false);
	char **envp = env_for(user ? user : "root");
	uv_timer_t wd;
	int rc;

	memset(r, 0, sizeof(*r));
	buf_init(&r->live[0], 0);
	buf_init(&r->live[1], 0);
	exec_spec_init(&spec);
	spec.executor = GNOMON_EXECUTOR;
	spec.journal = "/tmp/gnomon-test-exec-user.journal";
	spec.argv = argv;
	spec.envp = envp;
	spec.cwd = cwd;
	spec.run_as_user = user;
	spec.on_output = on_output;
	spec.on_exit = on_exit_cb;
	spec.ctx = r;
	rc = exec_start(&loop, &spec, &t, err, errlen);
	free(argv);
	free(envp);
	if (rc < 0)
		return rc;
	uv_timer_init(&loop, &wd);
	wd.data = r;
	uv_timer_start(&wd, on_watchdog, WATCHDOG_MS, 0);
	while (!r->done && !r->fired)
		uv_run(&loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&wd, NULL);
	if (!r->done)
		exec_task_free(t);
	uv_run(&loop, UV_RUN_NOWAIT);
	assert_true(r->done);
	return 0;
}

static void run_free(struct run *r)
{
	buf_free(&r->live[0]);
	buf_free(&r->live[1]);
}

static const char *out(const struct run *r, int s)
{
	return r->live[s].data ? r->live[s].data : "";
}

static void test_run_as_nobody(void **state)
{
	static const struct {
		const char *user, *cwd;
		const char *argv[4];
		int code;
		const char *out, *err;
	} rows[] = {
		{"nobody", NULL, {"id", "-un"}, 0, "nobody\n", ""},
		{"nobody", NULL, {"id", "-u"}, 0, "65534\n", ""},
		{"nobody", "/", {"pwd"}, 0, "/\n", ""},
		{"nobody", NULL, {"sh", "-c", "echo $HOME $USER $LOGNAME"}, 0, "/nonexistent nobody nobody\n", ""},
		{"nobody", NULL, {"no-such-command-gnomon"}, 127, "",
		    "gnomon __exec-as: cannot run 'no-such-command-gnomon': No such file or directory\n"},
		{"nobody", "/nonexistent-dir", {"true"}, 126, "",
		    "gnomon __exec-as: cannot change to working directory '/nonexistent-dir': "
		    "No such file or directory\n"},
		{"root", NULL, {"id", "-un"}, 0, "root\n", ""},
		{NULL, NULL, {"id", "-un"}, 0, "root\n", ""},
		/* the launcher itself, as gnomon would run it */
		{NULL, NULL, {self_exe, EXEC_LAUNCHER_ARG, "nobody", "--"}, 2, "",
		    "gnomon __exec-as: usage: gnomon __exec-as USER [--cwd DIR] -- COMMAND [ARG...]\n"},
	};
	(void)state;

	if (geteuid() != 0)
		skip();
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct run r;
		char err[256] = "";
		size_t n = 0;
		while (n < 4 && rows[i].argv[n])
			n++;
		assert_int_equal(run_as(&r, rows[i].user, rows[i].cwd, rows[i].argv, n, err, sizeof(err)), 0);
		assert_int_equal(r.res.exit_code, rows[i].code);
		assert_string_equal(out(&r, 0), rows[i].out);
		if (rows[i].err)
			assert_string_equal(out(&r, 1), rows[i].err);
		run_free(&r);
	}
}

/* The launcher's own failures, with full argv (4 slots are too few for the table above). */
static void test_launcher_errors(void **state)
{
	static const char *const unknown[] = {self_exe, EXEC_LAUNCHER_ARG, "no-such-user-gnomon", "--", "true"};
	static const char *const nested[] = {"/proc/self/exe", EXEC_LAUNCHER_ARG, "daemon", "--", "true"};
	static const char *const cwd[] = {self_exe, EXEC_LAUNCHER_ARG, "nobody", "--cwd", "/", "--", "pwd"};
	struct run r;
	char err[256];
	(void)state;

	if (geteuid() != 0)
		skip();
	assert_int_equal(run_as(&r, NULL, NULL, unknown, 5, err, sizeof(err)), 0);
	assert_int_equal(r.res.exit_code, 126);
	assert_string_equal(out(&r, 1), "gnomon __exec-as: runAsUser: unknown user 'no-such-user-gnomon'\n");
	run_free(&r);

	/* as nobody, the launcher (run by the launcher itself: its own /proc/self/exe) cannot become someone else */
	assert_int_equal(run_as(&r, "nobody", NULL, nested, 5, err, sizeof(err)), 0);
	assert_int_equal(r.res.exit_code, 126);
	assert_string_equal(out(&r, 1),
	    "gnomon __exec-as: runAsUser: cannot become 'daemon': Operation not permitted\n");
	run_free(&r);

	assert_int_equal(run_as(&r, NULL, NULL, cwd, 7, err, sizeof(err)), 0);
	assert_int_equal(r.res.exit_code, 0);
	assert_string_equal(out(&r, 0), "/\n");
	run_free(&r);
}

static void test_unknown_user(void **state)
{
	static const char *const argv[] = {"true"};
	struct run r;
	char err[256] = "";
	(void)state;

	assert_int_equal(run_as(&r, "no-such-user-gnomon", NULL, argv, 1, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "runAsUser: unknown user 'no-such-user-gnomon'");
	run_free(&r);
}

/* In a child that became nobody: another user is refused, an unknown one is unknown, its own name is fine. */
static int nonroot_checks(void)
{
	static const struct {
		const char *user;
		int rc;
		const char *err;
	} rows[] = {
		{"root", -EPERM, "gnomon runs as 'nobody', not root: cannot run jobs as 'root'"},
		{"daemon", -EPERM, "gnomon runs as 'nobody', not root: cannot run jobs as 'daemon'"},
		{"no-such-user-gnomon", -ENOENT, "runAsUser: unknown user 'no-such-user-gnomon'"},
	};
	static char true_cmd[] = "/bin/true";
	static char *argv[] = {true_cmd, NULL};
	uv_loop_t l;

	if (uv_loop_init(&l) != 0)
		return 10;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct exec_spec spec;
		struct exec_task *t = NULL;
		char err[256] = "";
		exec_spec_init(&spec);
		spec.executor = GNOMON_EXECUTOR;
		spec.journal = "/tmp/gnomon-test-exec-user.journal";
		spec.argv = argv;
		spec.run_as_user = rows[i].user;
		spec.on_exit = on_exit_cb;
		if (exec_start(&l, &spec, &t, err, sizeof(err)) != rows[i].rc || strcmp(err, rows[i].err) != 0) {
			fprintf(stderr, "row %zu: got '%s'\n", i, err);
			return 11 + (int)i;
		}
	}
	return uv_loop_close(&l) == 0 ? 0 : 20;
}

static void test_not_root(void **state)
{
	struct passwd *pw = getpwnam("nobody");
	int status;
	pid_t pid;
	(void)state;

	if (geteuid() != 0)
		skip();
	assert_non_null(pw);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
			_exit(9);
		_exit(nonroot_checks());
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* The one runAsUser check, against a given server account (no lookup of the server's own: any thread may call
 * it, with the account looked up once at start-up). */
static void test_account_check(void **state)
{
	static const struct {
		uid_t self_uid;
		const char *self_name, *run_as;
		int rc;
		bool launcher;
		const char *name, *err;
	} rows[] = {
		{0, "root", NULL, 0, false, "root", ""},
		{0, "root", "", 0, false, "root", ""},
		{0, "root", "root", 0, false, "root", ""},
		{0, "root", "nobody", 0, true, "nobody", ""},
		{0, "root", "no-such-user-gnomon", -ENOENT, false, NULL, "runAsUser: unknown user 'no-such-user-gnomon'"},
		{65534, "nobody", "nobody", 0, false, "nobody", ""},
		{65534, "nobody", NULL, 0, false, "nobody", ""},
		{65534, "nobody", "root", -EPERM, false, NULL, "gnomon runs as 'nobody', not root: cannot run jobs as 'root'"},
		{65534, "nobody", "no-such-user-gnomon", -ENOENT, false, NULL,
		    "runAsUser: unknown user 'no-such-user-gnomon'"},
		/* another name of the server's uid runs as the server, with the server's home */
		{0, "admin", "root", 0, false, "admin", ""},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct exec_user self = {.uid = rows[i].self_uid, .gid = rows[i].self_uid};
		struct exec_account acct;
		char err[256] = "";
		snprintf(self.name, sizeof(self.name), "%s", rows[i].self_name);
		snprintf(self.home, sizeof(self.home), "/home/self");
		assert_int_equal(exec_account_check(&self, rows[i].run_as, &acct, err, sizeof(err)), rows[i].rc);
		assert_string_equal(err, rows[i].err);
		if (rows[i].rc < 0)
			continue;
		assert_int_equal(acct.launcher, rows[i].launcher);
		assert_string_equal(acct.user.name, rows[i].name);
		if (!rows[i].launcher)
			assert_string_equal(acct.user.home, "/home/self");
	}
}

static int setup(void **state)
{
	(void)state;
	return uv_loop_init(&loop);
}

static int teardown(void **state)
{
	(void)state;
	uv_run(&loop, UV_RUN_NOWAIT);
	return uv_loop_close(&loop) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_as_nobody),
		cmocka_unit_test(test_launcher_errors),
		cmocka_unit_test(test_unknown_user),
		cmocka_unit_test(test_not_root),
		cmocka_unit_test(test_account_check),
	};

	/* the launcher re-executes this binary, as it does gnomon */
	if (argc > 1 && strcmp(argv[1], EXEC_LAUNCHER_ARG) == 0)
		return exec_launcher_main(argc, argv);
	snprintf(self_exe, sizeof(self_exe), "/proc/%ld/exe", (long)getpid());
	return cmocka_run_group_tests(tests, setup, teardown);
}
