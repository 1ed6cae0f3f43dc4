/* workdirs: its thread removes the working directories of ended runs, or keeps those --keep-work-dirs says to
 * keep, and removes kept ones when their record goes; many posted at once from the calling thread while the
 * thread works (the ThreadSanitizer build runs this). What the thread does is seen on disk, waited for with a
 * deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runner/workdirs.h"

#define N 200

static char root[] = "/tmp/gnomon-test-workdirs-XXXXXX";

/* The directories here are named by a number (the work-dirs thread takes any name). */
static const char *name_of(int64_t id, char *buf)
{
	sprintf(buf, "%lld", (long long)id);
	return buf;
}
#define NAME(id) name_of((id), (char[24]){0})

static void make_dir(int64_t id)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%lld", root, (long long)id);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/%lld/sub", root, (long long)id);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/%lld/sub/file", root, (long long)id);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("some output\n", f);
	fclose(f);
}

static bool exists(int64_t id)
{
	char path[256];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%lld", root, (long long)id);
	return stat(path, &st) == 0;
}

/* Wait (10 s at most) until the directory of id is gone. */
static void wait_gone(int64_t id)
{
	struct timespec pause = {0, 5 * 1000 * 1000};
	for (int i = 0; i < 2000 && exists(id); i++)
		nanosleep(&pause, NULL);
	assert_false(exists(id));
}

static void test_keep_failed(void **state)
{
	struct workdirs *w;
	(void)state;

	for (int64_t id = 1; id <= N; id++)
		make_dir(id);
	assert_int_equal(workdirs_new(root, WORKDIRS_KEEP_FAILED, 0, &w), 0);
	for (int64_t id = 1; id <= N; id++)
		workdirs_ended(w, NAME(id), id % 3 == 0, "job", "ct:1:0:job:"); /* failed: 0, 3, 6, ... */
	workdirs_remove(w, NAME(3)); /* a kept one whose record went */
	/* a marker posted last: when it is gone, everything before it was handled */
	make_dir(N + 1);
	workdirs_ended(w, NAME(N + 1), false, "job", "ct:2:0:job:");
	wait_gone(N + 1);
	wait_gone(3);
	for (int64_t id = 1; id <= N; id++)
		assert_int_equal(exists(id), id % 3 == 0 && id != 3);
	for (int64_t id = 6; id <= N; id += 3)
		workdirs_remove(w, NAME(id));
	for (int64_t id = 6; id <= N; id += 3)
		wait_gone(id);
	workdirs_free(w);
	workdirs_free(NULL);
}

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(root));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keep_failed),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
