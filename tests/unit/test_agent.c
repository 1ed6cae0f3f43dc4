/* Table tests of the agent's pure parts (agent/agent.h): the token file, the --attribute list, the journal of
 * tasks, the agent id and the epoch in the data directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/agent.h"
#include "history/run_name.h"
#include "util/rmtree.h"

static char *make_dir(void)
{
	char tmpl[] = "/tmp/gnomon-test-agent-XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	return strdup(tmpl);
}

static void remove_dir(char *dir)
{
	char err[256];
	assert_int_equal(rmtree_at(AT_FDCWD, dir, err, sizeof(err)), 0);
	free(dir);
}

static void write_text(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
}

struct token_row {
	const char *text;
	size_t len;          /* 0: strlen(text) */
	const char *token;   /* NULL: refused */
	const char *err;     /* what the message holds */
};

static const struct token_row token_rows[] = {
	{"0123456789abcdef\n", 0, "0123456789abcdef", NULL},
	{"  \t0123456789abcdef  \r\nsecond line\n", 0, "0123456789abcdef", NULL},
	{"a token with spaces inside it", 0, "a token with spaces inside it", NULL},
	{"0123456789abcde\n", 0, NULL, "must hold a token of 16 to 4096 bytes (it has 15)"},
	{"", 0, NULL, "(it has 0)"},
	{"\n0123456789abcdef\n", 0, NULL, "(it has 0)"}, /* the first line only */
	{"0123456789\0abcdefgh\n", 20, NULL, "holds a NUL byte"},
	{"0123456789\x01" "abcdefgh\n", 0, NULL, "holds a control character"},
};

static void test_token(void **state)
{
	char *dir = make_dir(), path[256], err[512], *token;
	(void)state;

	snprintf(path, sizeof(path), "%s/token", dir);
	for (size_t i = 0; i < sizeof(token_rows) / sizeof(token_rows[0]); i++) {
		const struct token_row *r = &token_rows[i];
		token = NULL;
		err[0] = '\0';
		write_text(path, r->text, r->len ? r->len : strlen(r->text));
		int rc = agent_token_read(path, &token, err, sizeof(err));
		if (r->token) {
			assert_int_equal(rc, 0);
			assert_string_equal(token, r->token);
			free(token);
		} else {
			assert_int_equal(rc, -EINVAL);
			assert_non_null(strstr(err, r->err));
			assert_null(strchr(err, '\n'));
		}
	}
	assert_int_equal(agent_token_read("/nonexistent/token", &token, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "--agent-token-file: cannot read '/nonexistent/token': No such file or directory");
	remove_dir(dir);
}

struct attr_row {
	const char *list;
	const char *json;    /* NULL: refused */
	const char *err;
};

static const struct attr_row attr_rows[] = {
	{NULL, "{}", NULL},
	{"rack=a", "{\"rack\":\"a\"}", NULL},
	{"rack=a\nos=debian", "{\"rack\":\"a\",\"os\":\"debian\"}", NULL},
	{"empty=", "{\"empty\":\"\"}", NULL},
	{"expr=a=b", "{\"expr\":\"a=b\"}", NULL},
	{"noequals", NULL, "--attribute: 'noequals' must be KEY=VALUE"},
	{"=value", NULL, "--attribute: '=value' must be KEY=VALUE"},
	{"rack=a\nrack=b", NULL, "--attribute: rack is given twice"},
	{"bad=\xff", NULL, "is not valid UTF-8"},
};

static void test_attributes(void **state)
{
	char err[512], key[200], big[2048];
	json_t *j;
	(void)state;

	for (size_t i = 0; i < sizeof(attr_rows) / sizeof(attr_rows[0]); i++) {
		const struct attr_row *r = &attr_rows[i];
		int rc = agent_attributes_parse(r->list, &j, err, sizeof(err));
		if (r->json) {
			assert_int_equal(rc, 0);
			char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
			json_t *want = json_loads(r->json, 0, NULL);
			char *wtext = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
			assert_string_equal(text, wtext);
			free(text);
			free(wtext);
			json_decref(want);
			json_decref(j);
		} else {
			assert_int_equal(rc, -EINVAL);
			assert_non_null(strstr(err, r->err));
		}
	}
	/* the protocol's bounds: 128-byte keys, 1 KiB values, 64 attributes */
	memset(key, 'k', 129);
	snprintf(key + 129, sizeof(key) - 129, "=v");
	assert_int_equal(agent_attributes_parse(key, &j, err, sizeof(err)), -EINVAL);
	memset(big, 'v', sizeof(big));
	memcpy(big, "k=", 2);
	big[2 + 1025] = '\0';
	assert_int_equal(agent_attributes_parse(big, &j, err, sizeof(err)), -EINVAL);
	big[2 + 1024] = '\0';
	assert_int_equal(agent_attributes_parse(big, &j, err, sizeof(err)), 0);
	json_decref(j);
	char many[65 * 8] = "";
	for (int i = 0; i < 65; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%sk%d=v", i ? "\n" : "", i);
	assert_int_equal(agent_attributes_parse(many, &j, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "--attribute: at most 64");
	*strrchr(many, '\n') = '\0';
	assert_int_equal(agent_attributes_parse(many, &j, err, sizeof(err)), 0);
	assert_int_equal(json_object_size(j), 64);
	json_decref(j);
}

static json_t *task(const char *task_id, uint64_t epoch)
{
	return json_pack("{s:s, s:I, s:s, s:s, s:I, s:i, s:s, s:s, s:[], s:b, s:n, s:[], s:s, s:f, s:f, s:f, s:I, s:I, "
	    "s:I}", "taskId", task_id, "epoch", (json_int_t)epoch, "job", "backup", "owner", "", "dueMs",
	    (json_int_t)1765084800000, "attempt", 0, "parents", "", "command", "true", "args", "shell", 1, "container",
	    "env", "runAsUser", "", "cpus", 0.1, "mem", 32.0, "disk", 0.0, "deadlineMs", (json_int_t)0, "graceMs",
	    (json_int_t)1000, "outputCap", (json_int_t)65536);
}

static void test_journal(void **state)
{
	char *dir = make_dir(), err[512], path[512], name[RUN_NAME_MAX];
	const char *ids[] = {"ct:1765084800000:0:backup:", "ct:1765084800000:1:we/ird name:--x", "ct:2:0:a:"};
	struct agent_journal_entry *e;
	size_t n;
	(void)state;

	/* an empty journal: tasks/ is made */
	assert_int_equal(agent_journal_load(dir, &e, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	agent_journal_entries_free(e, n);
	for (size_t i = 0; i < 3; i++) {
		json_t *t = task(ids[i], i + 1);
		assert_int_equal(agent_journal_write(dir, t, 0, 0, err, sizeof(err)), 0);
		if (i == 1) /* written again once it runs */
			assert_int_equal(agent_journal_write(dir, t, 4242, 1765084800012, err, sizeof(err)), 0);
		json_decref(t);
	}
	/* what a crash may leave: a temporary file (dropped) and a torn entry (moved aside) */
	snprintf(path, sizeof(path), "%s/tasks/x.json.tmp", dir);
	write_text(path, "{", 1);
	snprintf(path, sizeof(path), "%s/tasks/torn.json", dir);
	write_text(path, "{\"version\":1,\"task\":{\"taskId\":", 30);
	assert_int_equal(agent_journal_remove(dir, ids[2]), 0);
	assert_int_equal(agent_journal_remove(dir, ids[2]), -ENOENT);

	assert_int_equal(agent_journal_load(dir, &e, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		bool second = strcmp(e[i].task_id, ids[1]) == 0;
		assert_true(second || strcmp(e[i].task_id, ids[0]) == 0);
		assert_string_equal(e[i].job, "backup");
		assert_int_equal(e[i].pid, second ? 4242 : 0);
		assert_int_equal(e[i].start_ms, second ? 1765084800012 : 0);
		assert_int_equal(json_integer_value(json_object_get(e[i].task, "epoch")), second ? 2 : 1);
		/* named by run_name(): bounded and safe, whatever the task id holds */
		run_name(e[i].task_id, name);
		snprintf(path, sizeof(path), "%s/tasks/%s.json", dir, name);
		assert_int_equal(access(path, F_OK), 0);
	}
	agent_journal_entries_free(e, n);
	snprintf(path, sizeof(path), "%s/tasks/x.json.tmp", dir);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/tasks/torn.json.bad", dir);
	assert_int_equal(access(path, F_OK), 0);
	remove_dir(dir);
}

static void test_id_and_epoch(void **state)
{
	char *dir = make_dir(), err[512], id[AGENT_ID_LEN + 1], again[AGENT_ID_LEN + 1], path[512];
	uint64_t epoch = 99;
	(void)state;

	assert_int_equal(agent_id_load(dir, id, err, sizeof(err)), 0);
	assert_int_equal(strlen(id), AGENT_ID_LEN);
	assert_int_equal(strspn(id, "0123456789abcdef"), AGENT_ID_LEN);
	assert_int_equal(agent_id_load(dir, again, err, sizeof(err)), 0);
	assert_string_equal(id, again); /* kept */
	snprintf(path, sizeof(path), "%s/agent-id", dir);
	write_text(path, "not an id\n", 10);
	assert_int_equal(agent_id_load(dir, again, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "holds no agent id"));

	assert_int_equal(agent_epoch_load(dir, &epoch, err, sizeof(err)), 0);
	assert_int_equal(epoch, 0); /* none yet */
	assert_int_equal(agent_epoch_store(dir, 5, err, sizeof(err)), 0);
	assert_int_equal(agent_epoch_load(dir, &epoch, err, sizeof(err)), 0);
	assert_int_equal(epoch, 5);
	snprintf(path, sizeof(path), "%s/epoch", dir);
	write_text(path, "-3\n", 3);
	assert_int_equal(agent_epoch_load(dir, &epoch, err, sizeof(err)), -EINVAL);
	remove_dir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_attributes),
		cmocka_unit_test(test_journal),
		cmocka_unit_test(test_id_and_epoch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
