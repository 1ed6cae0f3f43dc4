/* The run-output interface over local files: a stream that was never written reads as empty (and what is
 * written later is read by the same reader, as a follower sees it), tails of every size, removal. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "history/run_output.h"
#include "history/run_output_files.h"
#include "util/rmtree.h"

static char dir[] = "/tmp/gnomon-test-run-output-XXXXXX";

/* Append text to the file of a run's stream, as the embedded agent's capture does. */
static void put(const struct run_output_key *key, enum run_stream s, const char *text)
{
	char path[4096];
	int fd;

	run_output_files_path(dir, key, s, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* Everything a reader has now, as a string. */
static char *drain(struct run_output_reader *r, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while ((n = run_output_read(r, buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	assert_true(n == 0);
	buf[got] = '\0';
	return buf;
}

static void test_follow(void **state)
{
	struct run_output *o = *state;
	struct run_output_key key = {"ct:1:0:a:"};
	struct run_output_reader *r;
	char path[4096], buf[256];

	run_output_files_path(dir, &key, RUN_STDERR, path, sizeof(path));
	assert_string_equal(strrchr(path, '/'), "/ct_1_0_a_-d83de2802e6429eefaa2689cac61a5ae.stderr");
	assert_int_equal(run_output_open(o, &key, RUN_STDOUT, &r), 0);
	assert_string_equal(drain(r, buf, sizeof(buf)), ""); /* nothing written yet */
	put(&key, RUN_STDOUT, "one\n");
	assert_string_equal(drain(r, buf, sizeof(buf)), "one\n");
	put(&key, RUN_STDOUT, "two\n");
	assert_string_equal(drain(r, buf, sizeof(buf)), "two\n");
	run_output_close(r);
	assert_int_equal(run_output_open(o, &key, RUN_STDOUT, &r), 0);
	assert_string_equal(drain(r, buf, sizeof(buf)), "one\ntwo\n");
	run_output_close(r);
	run_output_close(NULL);
}

static void test_tail(void **state)
{
	static const struct {
		size_t max;
		const char *text;
		int64_t size;
	} rows[] = {
		{100, "0123456789", 10},
		{10, "0123456789", 10},
		{4, "6789", 10},
		{1, "9", 10},
	};
	struct run_output *o = *state;
	struct run_output_key key = {"ct:2:0:a:"};
	char buf[128];
	size_t len;
	int64_t size;

	assert_int_equal(run_output_tail(o, &key, RUN_STDOUT, buf, sizeof(buf), &len, &size), -ENOENT);
	put(&key, RUN_STDOUT, "0123456789");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(run_output_tail(o, &key, RUN_STDOUT, buf, rows[i].max, &len, &size), 0);
		assert_int_equal(len, strlen(rows[i].text));
		assert_memory_equal(buf, rows[i].text, len);
		assert_int_equal(size, rows[i].size);
	}
	assert_int_equal(run_output_tail(o, &key, RUN_STDERR, buf, sizeof(buf), &len, &size), -ENOENT);
}

static void test_remove(void **state)
{
	struct run_output *o = *state;
	struct run_output_key key = {"ct:3:0:a:"};
	char buf[16];
	size_t len;
	int64_t size;

	put(&key, RUN_STDOUT, "out");
	put(&key, RUN_STDERR, "err");
	run_output_remove(o, &key);
	assert_int_equal(run_output_tail(o, &key, RUN_STDOUT, buf, sizeof(buf), &len, &size), -ENOENT);
	assert_int_equal(run_output_tail(o, &key, RUN_STDERR, buf, sizeof(buf), &len, &size), -ENOENT);
	run_output_remove(o, &key); /* gone already: fine */
}

static void test_stream_names(void **state)
{
	enum run_stream s;
	(void)state;

	assert_string_equal(run_stream_name(RUN_STDOUT), "stdout");
	assert_string_equal(run_stream_name(RUN_STDERR), "stderr");
	assert_int_equal(run_stream_parse("stderr", &s), 0);
	assert_int_equal(s, RUN_STDERR);
	assert_int_equal(run_stream_parse("stdin", &s), -EINVAL);
}

/* Earlier releases' names for a run's files: row 5 is ct:5:0:a:, row 6 was pruned, row 7 cannot be looked up now. */
static int legacy(void *ctx, int64_t id, char **task_id)
{
	(void)ctx;
	if (id == 5) {
		*task_id = strdup("ct:5:0:a:");
		return 0;
	}
	return id == 7 ? -EIO : -ENOENT;
}

static void put_file(const char *name, const char *text)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/logs/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static bool file_exists(const char *name)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/logs/%s", dir, name);
	return stat(path, &st) == 0;
}

/* The migration from row-id names: renamed to the task id's, removed when the run is gone, left when unsure;
 * names that are not row ids are not touched. Run twice: the second time finds nothing to do. */
static void test_migrate(void **state)
{
	struct run_output *o = *state;
	struct run_output_key key = {"ct:5:0:a:"};
	struct run_output_reader *r;
	char buf[64];

	put_file("5.stdout", "five out\n");
	put_file("5.stderr", "five err\n");
	put_file("6.stdout", "pruned\n");
	put_file("7.stdout", "unsure\n");
	put_file("05.stdout", "not a row id\n");
	put_file("5.stdin", "not a stream\n");
	assert_int_equal(run_output_files_migrate(dir, legacy, NULL), 2);
	assert_false(file_exists("5.stdout"));
	assert_false(file_exists("5.stderr"));
	assert_false(file_exists("6.stdout"));
	assert_true(file_exists("7.stdout"));
	assert_true(file_exists("05.stdout"));
	assert_true(file_exists("5.stdin"));
	assert_int_equal(run_output_open(o, &key, RUN_STDERR, &r), 0);
	assert_string_equal(drain(r, buf, sizeof(buf)), "five err\n");
	run_output_close(r);
	assert_int_equal(run_output_files_migrate(dir, legacy, NULL), 0);
}

static int setup(void **state)
{
	struct run_output *o;
	char err[256];

	if (mkdtemp(dir) == NULL || run_output_files_new(dir, &o, err, sizeof(err)) < 0)
		return -1;
	*state = o;
	return 0;
}

static int teardown(void **state)
{
	char err[256];

	run_output_free(*state);
	return rmtree_at(AT_FDCWD, dir, err, sizeof(err)) < 0 ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_follow),
		cmocka_unit_test(test_tail),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_stream_names),
		cmocka_unit_test(test_migrate),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
