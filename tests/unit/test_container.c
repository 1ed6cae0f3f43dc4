/* The pure half of exec/container.h: container names, the runtime's run argv (Chronos's shell and arguments,
 * network, volumes, parameters, limits, the hybrid wrapper), rm and ps, the runtime's failure reason and the
 * agent's attributes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exec/container.h"

/* argv joined with '|' into out. */
static const char *joined(char **argv, char *out, size_t len)
{
	out[0] = '\0';
	for (size_t i = 0; argv[i]; i++)
		snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? "|" : "", argv[i]);
	return out;
}

static void test_name(void **state)
{
	static const struct {
		const char *task_id, *want;
	} rows[] = {
		{"ct:1700000000000:0:job:", "gnomon-ct_1700000000000_0_job_-d3ec9747"},
		{"ct:1:2:my job.v2:a b", "gnomon-ct_1_2_my_job.v2_a_b-9c7c4583"},
		{"ct:1:0:j:\xc3\xa9", "gnomon-ct_1_0_j___-586b4305"},
		/* a character replaced: the hash of the whole id keeps apart the ids that read alike once replaced */
		{"ct:1:0:j:", "gnomon-ct_1_0_j_-72b11999"},
		{"ct:1:0:j_", "gnomon-ct_1_0_j_-95b150b2"},
		{"ct_1_0_j_", "gnomon-ct_1_0_j_"},
	};
	char name[CONTAINER_NAME_MAX], id[400];
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		container_name(rows[i].task_id, name);
		assert_string_equal(name, rows[i].want);
	}
	/* a long id is cut and ends with a hash of the whole: two ids alike at their start get two names */
	memset(id, 'a', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	container_name(id, name);
	assert_int_equal(strlen(name), CONTAINER_NAME_MAX - 1);
	char other[CONTAINER_NAME_MAX];
	id[sizeof(id) - 2] = 'b';
	container_name(id, other);
	assert_string_not_equal(name, other);
	assert_memory_equal(name, other, CONTAINER_NAME_MAX - 10);
}

static const char *const run_prefix =
    "/usr/bin/podman|run|--rm|--name=gnomon-ct_1_0_j_-72b11999|--label=gnomon.job=j|--label=gnomon.task=ct:1:0:j:|"
    "--label=gnomon.agent=a1|--label=gnomon.data-dir=/d";

static void test_run_argv(void **state)
{
	static const char *const args[] = {"a b", "$X"};
	static const struct {
		const char *container, *command;
		bool shell, limits;
		size_t n_args;
		const char *env_file;
		double cpus, mem;
		const char *want; /* after run_prefix */
	} rows[] = {
		/* Chronos's defaults: network HOST; shell: /bin/sh -c with the arguments after a space each */
		{"{\"image\":\"img\"}", "echo hi", true, false, 0, NULL, 0, 0,
		 "|--network=host|--entrypoint=/bin/sh|--|img|-c|echo hi"},
		{"{\"image\":\"img\"}", "echo", true, false, 2, NULL, 0, 0,
		 "|--network=host|--entrypoint=/bin/sh|--|img|-c|echo a b $X"},
		/* shell false: the command and the arguments after the image, to its entrypoint */
		{"{\"image\":\"img\"}", "echo", false, false, 2, NULL, 0, 0, "|--network=host|--|img|echo|a b|$X"},
		{"{\"image\":\"img\"}", "", false, false, 2, NULL, 0, 0, "|--network=host|--|img|a b|$X"},
		{"{\"image\":\"img\",\"network\":\"BRIDGE\",\"forcePullImage\":true}", "true", false, false, 0, NULL, 0, 0,
		 "|--pull=always|--network=bridge|--|img|true"},
		{"{\"image\":\"img\",\"network\":\"NONE\"}", "true", false, false, 0, NULL, 0, 0, "|--network=none|--|img|true"},
		{"{\"image\":\"img\",\"network\":\"USER\",\"networkName\":\"back\"}", "true", false, false, 0, NULL, 0, 0,
		 "|--network=back|--|img|true"},
		{"{\"image\":\"img\",\"volumes\":[{\"containerPath\":\"/c\",\"hostPath\":\"/h\",\"mode\":\"RO\"},"
		 "{\"containerPath\":\"/w\",\"hostPath\":\"/x\",\"mode\":\"RW\"},{\"containerPath\":\"/anon\"}]}",
		 "true", false, false, 0, NULL, 0, 0, "|--network=host|-v|/h:/c:ro|-v|/x:/w:rw|-v|/anon:rw|--|img|true"},
		{"{\"image\":\"img\",\"parameters\":[{\"key\":\"env\",\"value\":\"A=1\"},{\"key\":\"user\",\"value\":\"7\"}]}",
		 "true", false, false, 0, "/w/.container-env", 0, 0,
		 "|--network=host|--env-file=/w/.container-env|--env=A=1|--user=7|--|img|true"},
		/* limits where the runtime enforces them */
		{"{\"image\":\"img\",\"parameters\":[{\"key\":\"memory\",\"value\":\"1g\"}]}", "true", false, true, 0, NULL,
		 0.5, 128, "|--network=host|--memory=1g|--cpus=0.5|--memory=128m|--|img|true"},
		{"{\"image\":\"img\"}", "true", false, false, 0, NULL, 0.5, 128, "|--network=host|--|img|true"},
	};
	char got[2048], want[2048], err[256];
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct container_runtime rt = {.kind = CONTAINER_PODMAN, .path = "/usr/bin/podman", .limits = rows[i].limits,
			.nofile = -1, .nproc = -1};
		struct container_task t = {.container = rows[i].container, .task_id = "ct:1:0:j:", .job = "j", .agent = "a1",
			.data_dir = "/d", .command = rows[i].command, .args = args, .n_args = rows[i].n_args,
			.shell = rows[i].shell, .cpus = rows[i].cpus, .mem = rows[i].mem,
			.env_file = rows[i].env_file};
		char **argv = container_run_argv(&rt, &t, err, sizeof(err));
		assert_non_null(argv);
		snprintf(want, sizeof(want), "%s%s", run_prefix, rows[i].want);
		if (strcmp(joined(argv, got, sizeof(got)), want) != 0)
			fail_msg("row %zu:\n got %s\nwant %s", i, got, want);
		free(argv);
	}
}

/* A container that breaks a rule (a job stored before it) or mounts what this agent does not allow: no argv. */
static void test_run_refused(void **state)
{
	static const struct {
		const char *container, *host_paths, *want;
	} rows[] = {
		{"{\"image\":\"--privileged\"}", NULL,
		 "container.image: '--privileged' is not an image reference ([registry/]name[:tag][@digest])"},
		{"{\"image\":\"img\",\"networkName\":\"container:other\"}", NULL,
		 "container.networkName: 'container:other' is not a network name ([A-Za-z0-9][A-Za-z0-9_.-]*)"},
		{"{\"image\":\"img\",\"volumes\":[{\"containerPath\":\"/:/host\"}]}", NULL,
		 "container.volumes[0].containerPath: '/:/host' may not hold ':' or ','"},
		{"{\"image\":\"img\",\"parameters\":[{\"key\":\"privileged\",\"value\":\"true\"}]}", NULL,
		 "container.parameters[0].key: 'privileged' is not allowed (allowed: env, label, user, workdir, hostname, "
		 "add-host, dns, tmpfs, read-only, shm-size, memory, entrypoint, stop-signal)"},
		{"{\"image\":\"img\",\"parameters\":[{\"key\":\"memory-swap\",\"value\":\"-1\"}]}", NULL,
		 "container.parameters[0].key: 'memory-swap' is not allowed (allowed: env, label, user, workdir, hostname, "
		 "add-host, dns, tmpfs, read-only, shm-size, memory, entrypoint, stop-signal)"},
		{"{\"image\":\"img\",\"volumes\":[{\"containerPath\":\"/h\",\"hostPath\":\"/\"}]}", NULL,
		 "container.volumes[0].hostPath: '/' may not be mounted on this agent (--container-host-paths not given: "
		 "any path but /, the runtimes' sockets and their directories)"},
		{"{\"image\":\"img\",\"volumes\":[{\"containerPath\":\"/s\",\"hostPath\":\"/run/docker.sock\"}]}",
		 NULL, "container.volumes[0].hostPath: '/run/docker.sock' may not be mounted on this agent "
		 "(--container-host-paths not given: any path but /, the runtimes' sockets and their directories)"},
		{"{\"image\":\"img\",\"volumes\":[{\"containerPath\":\"/h\",\"hostPath\":\"/srv/other\"}]}",
		 "/data,/srv/x", "container.volumes[0].hostPath: '/srv/other' may not be mounted on this agent "
		 "(--container-host-paths /data,/srv/x)"},
	};
	char err[512];
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct container_runtime rt = {.kind = CONTAINER_PODMAN, .path = "/usr/bin/podman", .nofile = -1,
			.nproc = -1, .host_paths = rows[i].host_paths};
		struct container_task t = {.container = rows[i].container, .task_id = "ct:1:0:j:", .job = "j",
			.agent = "a1", .data_dir = "/d", .command = "true"};
		err[0] = '\0';
		if (container_run_argv(&rt, &t, err, sizeof(err)) != NULL)
			fail_msg("row %zu: an argv", i);
		if (strcmp(err, rows[i].want) != 0)
			fail_msg("row %zu:\n got %s\nwant %s", i, err, rows[i].want);
	}
}

/* The hybrid host's wrapper and flags, rm and ps (never wrapped), and a container without an image. */
static void test_hybrid_rm_ps(void **state)
{
	struct container_runtime rt = {.kind = CONTAINER_PODMAN, .path = "/usr/bin/podman", .hybrid = true,
		.unshare = "/usr/bin/unshare", .init = true, .nofile = 1024, .nproc = 4096, .limits = false};
	struct container_task t = {.container = "{\"image\":\"img\"}", .task_id = "ct:1:0:j:", .job = "j", .agent = "a1",
		.data_dir = "/d", .command = "true", .cpus = 1, .mem = 64};
	char got[2048], err[256];
	char **argv = container_run_argv(&rt, &t, err, sizeof(err));
	(void)state;

	assert_string_equal(joined(argv, got, sizeof(got)),
	    "/usr/bin/unshare|-m|/bin/sh|-c|umount -l /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup && exec "
	    "\"$0\" \"$@\"|/usr/bin/podman|run|--rm|--name=gnomon-ct_1_0_j_-72b11999|--label=gnomon.job=j|"
	    "--label=gnomon.task=ct:1:0:j:|--label=gnomon.agent=a1|--label=gnomon.data-dir=/d|--cgroups=disabled|--init|"
	    "--ulimit=nofile=1024:1024|--ulimit=nproc=4096:4096|--network=host|--|img|true");
	free(argv);
	argv = container_rm_argv(&rt, "gnomon-x");
	assert_string_equal(joined(argv, got, sizeof(got)), "/usr/bin/podman|rm|-f|--time=0|--ignore|gnomon-x");
	free(argv);
	argv = container_ps_argv(&rt, "/d");
	assert_string_equal(joined(argv, got, sizeof(got)),
	    "/usr/bin/podman|ps|-a|--filter=label=gnomon.data-dir=/d|--format={{.Names}}");
	free(argv);
	t.container = "{\"type\":\"DOCKER\"}";
	assert_null(container_run_argv(&rt, &t, err, sizeof(err)));
	assert_string_equal(err, "container: no image");
}

static void test_failure_reason(void **state)
{
	static const struct {
		int code;
		bool printed;
		const char *tail, *want;
	} rows[] = {
		{125, false, "Trying to pull x...\nError: initializing source docker://x: pinging: connection refused\n",
		 "podman: Error: initializing source docker://x: pinging: connection refused"},
		{126, false, "Error: crun: executable file `nope` not found\n",
		 "podman: Error: crun: executable file `nope` not found"},
		{125, false, "my own output\n", ""},  /* the command's own exit 125 */
		{3, false, "Error: but the command said it\n", ""},
		{127, false, "", ""},
		/* the container ran (it printed): its own exit 125 and "Error:" line are the command's */
		{125, true, "Error: the command's own words\n", ""},
	};
	struct container_runtime rt = {.kind = CONTAINER_PODMAN};
	char out[256];
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		container_failure_reason(&rt, rows[i].code, rows[i].printed, rows[i].tail, strlen(rows[i].tail), out, sizeof(out));
		assert_string_equal(out, rows[i].want);
	}
}

static void test_attributes(void **state)
{
	struct container_runtime rt = {.kind = CONTAINER_PODMAN, .version = "4.3.1"};
	json_t *attrs = json_pack("{s:s}", "rack", "a");
	(void)state;

	container_runtime_attributes(&rt, attrs);
	assert_string_equal(json_string_value(json_object_get(attrs, "container.runtime")), "podman");
	assert_string_equal(json_string_value(json_object_get(attrs, "container.podman")), "4.3.1");
	json_decref(attrs);
	/* an operator's own value wins; a host without a runtime says why */
	attrs = json_pack("{s:s}", "container.runtime", "none-here");
	container_runtime_attributes(&rt, attrs);
	assert_string_equal(json_string_value(json_object_get(attrs, "container.runtime")), "none-here");
	json_decref(attrs);
	rt.kind = CONTAINER_NONE;
	snprintf(rt.why, sizeof(rt.why), "no podman or docker in PATH");
	attrs = json_object();
	container_runtime_attributes(&rt, attrs);
	assert_int_equal(json_object_size(attrs), 1);
	assert_string_equal(json_string_value(json_object_get(attrs, "container.unavailable")),
	    "no podman or docker in PATH");
	json_decref(attrs);
	assert_true(container_runtime_name_ok("auto") && container_runtime_name_ok("none"));
	assert_false(container_runtime_name_ok("rkt") || container_runtime_name_ok(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_run_argv),
		cmocka_unit_test(test_run_refused),
		cmocka_unit_test(test_hybrid_rm_ps),
		cmocka_unit_test(test_failure_reason),
		cmocka_unit_test(test_attributes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
