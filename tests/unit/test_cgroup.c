/* The pure half of exec/cgroup.h, in tables: task names, limits from a job's cpus and mem, the file names and
 * limit texts of v1 and v2, the parsers of memory.events / memory.oom_control / cpu.stat and single numbers, and
 * the gnomon directories worked out of /proc/self/mountinfo and /proc/self/cgroup for hybrid, v1 (co-mounted
 * controllers, a cgroup namespace), pure v2 and hosts without a usable hierarchy. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "exec/cgroup.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void test_names(void **state)
{
	static const struct {
		const char *task_id, *name; /* name NULL: "task-" and a hash */
	} rows[] = {
		{"ct:1700000000000:0:backup:", "ct_1700000000000_0_backup_-b92ac91f109169b2"},
		{"ct:1:0:a/b:../../etc", "ct_1_0_a_b_.._.._etc-cd56579c7c42528d"},
		{"a b;c\n", "a_b_c_-7ac16aa1e67f9734"},
		{"ct_1_0_j_", "ct_1_0_j_"}, /* nothing to change: no hash */
		{"-rf", "-rf"},
		{"..", NULL},
		{".", NULL},
		{"", NULL},
		{CGROUP_EXECUTORS, NULL},
	};
	char name[CGROUP_NAME_MAX + 1];
	(void)state;

	for (size_t i = 0; i < COUNT(rows); i++) {
		cgroup_name(rows[i].task_id, name);
		if (rows[i].name)
			assert_string_equal(name, rows[i].name);
		else
			assert_true(strncmp(name, "task-", 5) == 0 && strlen(name) == 5 + 16);
	}
}

/* A long task id is cut, with a hash of all of it: ids that differ past the cut get different names. */
static void test_long_names(void **state)
{
	char id[1000], a[CGROUP_NAME_MAX + 1], b[CGROUP_NAME_MAX + 1];
	(void)state;

	memset(id, 'x', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	cgroup_name(id, a);
	id[sizeof(id) - 2] = 'y';
	cgroup_name(id, b);
	assert_true(strlen(a) == CGROUP_NAME_MAX && strlen(b) == CGROUP_NAME_MAX);
	assert_string_not_equal(a, b);
	assert_memory_equal(a, b, CGROUP_NAME_MAX - 17);
}

static void test_limits(void **state)
{
	static const struct {
		double cpus, mem;
		uint64_t pids;
		struct cgroup_limits want;
	} rows[] = {
		{0.5, 128, 20, {134217728, 50000, 20}},
		{0.1, 64, 4096, {67108864, 10000, 4096}},
		{2, 1024, 0, {1073741824, 200000, 0}},
		{0.001, 0.5, 1, {524288, 1000, 1}}, /* the quota's floor: 1 ms a period */
		{0, 0, 0, {0, 0, 0}},
		{-1, -5, 7, {0, 0, 7}},
	};
	(void)state;

	for (size_t i = 0; i < COUNT(rows); i++) {
		struct cgroup_limits got;
		cgroup_limits_of(rows[i].cpus, rows[i].mem, rows[i].pids, &got);
		assert_int_equal(got.mem_bytes, rows[i].want.mem_bytes);
		assert_int_equal(got.cpu_quota_us, rows[i].want.cpu_quota_us);
		assert_int_equal(got.pids_max, rows[i].want.pids_max);
	}
}

static void test_files(void **state)
{
	static const struct {
		enum cgroup_item item;
		const char *v1, *v2;
	} rows[] = {
		{CGROUP_PROCS, "cgroup.procs", "cgroup.procs"},
		{CGROUP_MEM_LIMIT, "memory.limit_in_bytes", "memory.max"},
		{CGROUP_SWAP_LIMIT, "memory.memsw.limit_in_bytes", "memory.swap.max"},
		{CGROUP_MEM_PEAK, "memory.max_usage_in_bytes", "memory.peak"},
		{CGROUP_MEM_EVENTS, "memory.oom_control", "memory.events"},
		{CGROUP_CPU_LIMIT, "cpu.cfs_quota_us", "cpu.max"},
		{CGROUP_CPU_PERIOD, "cpu.cfs_period_us", NULL},
		{CGROUP_CPU_USER, "cpuacct.usage_user", "cpu.stat"},
		{CGROUP_CPU_SYSTEM, "cpuacct.usage_sys", "cpu.stat"},
		{CGROUP_PIDS_LIMIT, "pids.max", "pids.max"},
		{CGROUP_KILL, NULL, "cgroup.kill"},
	};
	(void)state;

	for (size_t i = 0; i < COUNT(rows); i++) {
		const char *v1 = cgroup_file(CGROUP_V1, rows[i].item), *v2 = cgroup_file(CGROUP_V2, rows[i].item);
		assert_true((v1 == NULL) == (rows[i].v1 == NULL) && (v2 == NULL) == (rows[i].v2 == NULL));
		if (v1)
			assert_string_equal(v1, rows[i].v1);
		if (v2)
			assert_string_equal(v2, rows[i].v2);
		assert_null(cgroup_file(CGROUP_NONE, rows[i].item));
	}
}

static void test_limit_texts(void **state)
{
	static const struct {
		enum cgroup_version v;
		enum cgroup_item item;
		uint64_t value;
		const char *want;
	} rows[] = {
		{CGROUP_V1, CGROUP_MEM_LIMIT, 134217728, "134217728"},
		{CGROUP_V1, CGROUP_MEM_LIMIT, 0, "-1"},
		{CGROUP_V1, CGROUP_CPU_LIMIT, 25000, "25000"},
		{CGROUP_V1, CGROUP_CPU_LIMIT, 0, "-1"},
		{CGROUP_V1, CGROUP_CPU_PERIOD, CGROUP_PERIOD_US, "100000"},
		{CGROUP_V1, CGROUP_PIDS_LIMIT, 20, "20"},
		{CGROUP_V1, CGROUP_PIDS_LIMIT, 0, "max"},
		{CGROUP_V2, CGROUP_MEM_LIMIT, 67108864, "67108864"},
		{CGROUP_V2, CGROUP_MEM_LIMIT, 0, "max"},
		{CGROUP_V2, CGROUP_CPU_LIMIT, 50000, "50000 100000"},
		{CGROUP_V2, CGROUP_CPU_LIMIT, 0, "max 100000"},
		{CGROUP_V2, CGROUP_PIDS_LIMIT, 0, "max"},
	};
	char text[64];
	(void)state;

	for (size_t i = 0; i < COUNT(rows); i++) {
		cgroup_limit_text(rows[i].v, rows[i].item, rows[i].value, text, sizeof(text));
		assert_string_equal(text, rows[i].want);
	}
}

static void test_parse_keyed(void **state)
{
	static const char events_v2[] = "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n";
	static const char oom_v1[] = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";
	static const char stat_v2[] = "usage_usec 2500123\nuser_usec 2000100\nsystem_usec 500023\nnr_periods 30\n";
	static const struct {
		const char *text, *key;
		int rc;
		int64_t want;
	} rows[] = {
		{events_v2, "oom_kill", 0, 1},
		{events_v2, "oom", 0, 1},
		{events_v2, "max", 0, 12},
		{oom_v1, "oom_kill", 0, 3},
		{oom_v1, "under_oom", 0, 0},
		{stat_v2, "user_usec", 0, 2000100},
		{stat_v2, "system_usec", 0, 500023},
		{stat_v2, "usage", -ENOENT, 0},
		{"oom_kill 4", "oom_kill", 0, 4},           /* no newline at the end */
		{"oom_kill x\n", "oom_kill", -EINVAL, 0},
		{"oom_kill 4 5\n", "oom_kill", -EINVAL, 0},
		{"oom_kill\n", "oom_kill", -ENOENT, 0},
		{"", "oom_kill", -ENOENT, 0},
	};
	(void)state;

	for (size_t i = 0; i < COUNT(rows); i++) {
		int64_t v = -7;
		int rc = cgroup_parse_keyed(rows[i].text, rows[i].key, &v);
		if (rc != rows[i].rc || (rc == 0 && v != rows[i].want))
			fail_msg("row %zu: rc %d value %lld", i, rc, (long long)v);
	}
}

static void test_parse_number(void **state)
{
	static const struct {
		const char *text;
		int rc;
		int64_t want;
	} rows[] = {
		{"52428800\n", 0, 52428800}, {"0", 0, 0}, {"max\n", 0, -1}, {"1234567890123\n", 0, 1234567890123},
		{"", -EINVAL, 0}, {"\n", -EINVAL, 0}, {"12ab\n", -EINVAL, 0}, {"maximum\n", -EINVAL, 0},
	};
	(void)state;

	for (size_t i = 0; i < COUNT(rows); i++) {
		int64_t v = -7;
		int rc = cgroup_parse_number(rows[i].text, &v);
		if (rc != rows[i].rc || (rc == 0 && v != rows[i].want))
			fail_msg("row %zu ('%s'): rc %d value %lld", i, rows[i].text, rc, (long long)v);
	}
}

/* This host's kind: v1 controllers, cpu and cpuacct apart, a v2 tree without controllers; the agent in a
 * memory cgroup of its own. */
static const char mi_hybrid[] =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
static const char pc_hybrid[] = "9:name=systemd:/\n8:pids:/\n4:memory:/api/a05b\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n"
				"0::/\n";
/* systemd's v1: cpu and cpuacct mounted together, services in their slices */
static const char mi_v1[] =
    "25 24 0:22 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:8 - cgroup cgroup rw,cpu,cpuacct\n"
    "26 24 0:23 / /sys/fs/cgroup/memory rw,nosuid shared:9 - cgroup cgroup rw,memory\n"
    "27 24 0:24 / /sys/fs/cgroup/pids rw,nosuid shared:10 - cgroup cgroup rw,pids\n";
static const char pc_v1[] = "4:pids:/system.slice/gnomon.service\n3:memory:/system.slice/gnomon.service\n"
			    "2:cpu,cpuacct:/system.slice/gnomon.service\n";
/* a container with a cgroup namespace: the mounts' root is the namespace's */
static const char mi_ns[] = "50 40 0:26 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n"
			    "51 40 0:27 /docker/abc /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n";
static const char pc_ns[] = "3:memory:/docker/abc/job\n2:pids:/docker/abc\n";
static const char mi_v2[] = "30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev - cgroup2 cgroup2 rw,nsdelegate\n";
static const char pc_v2[] = "0::/user.slice/gnomon.service\n";

static void test_host_parse(void **state)
{
	static const struct {
		const char *mi, *pc;
		int rc;
		enum cgroup_version version;
		const char *layout;
		const char *dir[CGROUP_NCTL]; /* "" where missing */
		const char *why;
	} rows[] = {
		{mi_hybrid, pc_hybrid, 0, CGROUP_V1, "hybrid", {"/sys/fs/cgroup/memory/api/a05b/gnomon",
		    "/sys/fs/cgroup/cpu/gnomon", "/sys/fs/cgroup/cpuacct/gnomon", "/sys/fs/cgroup/pids/gnomon"}, ""},
		{mi_v1, pc_v1, 0, CGROUP_V1, "v1", {"/sys/fs/cgroup/memory/system.slice/gnomon.service/gnomon",
		    "/sys/fs/cgroup/cpu,cpuacct/system.slice/gnomon.service/gnomon",
		    "/sys/fs/cgroup/cpu,cpuacct/system.slice/gnomon.service/gnomon",
		    "/sys/fs/cgroup/pids/system.slice/gnomon.service/gnomon"}, ""},
		{mi_ns, pc_ns, 0, CGROUP_V1, "v1", {"/sys/fs/cgroup/memory/job/gnomon", "", "",
		    "/sys/fs/cgroup/pids/gnomon"}, ""},
		{mi_v2, pc_v2, 0, CGROUP_V2, "v2", {"/sys/fs/cgroup/user.slice/gnomon.service/gnomon",
		    "/sys/fs/cgroup/user.slice/gnomon.service/gnomon", "/sys/fs/cgroup/user.slice/gnomon.service/gnomon",
		    "/sys/fs/cgroup/user.slice/gnomon.service/gnomon"}, ""},
		{mi_v2, "0::/\n", 0, CGROUP_V2, "v2", {"/sys/fs/cgroup/gnomon", "/sys/fs/cgroup/gnomon",
		    "/sys/fs/cgroup/gnomon", "/sys/fs/cgroup/gnomon"}, ""},
		{"41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n", "0::/\n", -ENOENT, CGROUP_NONE, "v2",
		    {"", "", "", ""}, "cgroup v2 is not mounted at /sys/fs/cgroup with its controllers"},
		{"", "", -ENOENT, CGROUP_NONE, "none", {"", "", "", ""}, "no cgroup hierarchy is mounted"},
		{mi_v1, "3:memory:/a\n", -ENOENT, CGROUP_NONE, "v1", {"/sys/fs/cgroup/memory/a/gnomon", "", "", ""},
		    "cgroup v1 without the pids controller"},
	};
	(void)state;

	for (size_t i = 0; i < COUNT(rows); i++) {
		struct cgroup_host h;
		int rc = cgroup_host_parse(rows[i].mi, rows[i].pc, &h);
		if (rc != rows[i].rc || h.version != rows[i].version || strcmp(h.layout, rows[i].layout) != 0 ||
		    strcmp(h.why, rows[i].why) != 0)
			fail_msg("row %zu: rc %d version %d layout %s why '%s'", i, rc, h.version, h.layout, h.why);
		for (int c = 0; c < CGROUP_NCTL && rc == 0; c++)
			if (strcmp(h.dir[c], rows[i].dir[c]) != 0)
				fail_msg("row %zu: dir[%d] '%s', want '%s'", i, c, h.dir[c], rows[i].dir[c]);
	}
}

static void test_spec_and_description(void **state)
{
	struct cgroup_host h;
	struct cgroup_spec s;
	struct cgroup_limits lim = {1 << 20, 5000, 20};
	char bufs[CGROUP_NCTL][PATH_MAX], text[PATH_MAX + 128];
	(void)state;

	assert_int_equal(cgroup_host_parse(mi_ns, pc_ns, &h), 0);
	cgroup_spec_of(&h, "ct_1_0_j_", &lim, bufs, &s);
	assert_int_equal(s.version, CGROUP_V1);
	assert_string_equal(s.dir[CGROUP_MEMORY], "/sys/fs/cgroup/memory/job/gnomon/ct_1_0_j_");
	assert_null(s.dir[CGROUP_CPU]);
	assert_null(s.dir[CGROUP_CPUACCT]);
	assert_string_equal(s.dir[CGROUP_PIDS], "/sys/fs/cgroup/pids/gnomon/ct_1_0_j_");
	assert_int_equal(s.lim.pids_max, 20);
	cgroup_host_describe(&h, text, sizeof(text));
	assert_string_equal(text, "v1 (v1): memory pids under /sys/fs/cgroup/memory/job/gnomon");

	h.version = CGROUP_NONE;
	snprintf(h.why, sizeof(h.why), "not root");
	cgroup_spec_of(&h, "x", &lim, bufs, &s);
	assert_int_equal(s.version, CGROUP_NONE);
	assert_null(s.dir[CGROUP_MEMORY]);
	cgroup_spec_of(NULL, "x", &lim, bufs, &s);
	assert_int_equal(s.version, CGROUP_NONE);
	cgroup_host_describe(&h, text, sizeof(text));
	assert_string_equal(text, "none (v1): not root");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_long_names),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_limit_texts),
		cmocka_unit_test(test_parse_keyed),
		cmocka_unit_test(test_parse_number),
		cmocka_unit_test(test_host_parse),
		cmocka_unit_test(test_spec_and_description),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
