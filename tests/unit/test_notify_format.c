/* Table tests of what notifications say: subjects and bodies (Chronos's texts plus the run details), owner
 * splitting, text cleaning, the mail message, the JSON payloads and the Sentry DSN. */
#include <setjmp.h>
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "job/job.h"
#include "notify/notify_format.h"
#include "notify/notify_payload.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define WHEN_MS INT64_C(1767225600000) /* 2026-01-01T00:00:00.000Z */

/* A notice about job "nightly" and, with a run, its failed task. */
static struct notice *sample(enum notice_kind kind, bool with_run)
{
	struct notice *n = notice_new(kind);
	notice_set(&n->job, "nightly");
	notice_set(&n->owner, "ops@example.com, dev@example.com");
	notice_set(&n->command, "make backup");
	notice_set(&n->uris, "http://x/a.tgz");
	n->when_ms = WHEN_MS;
	n->cpus = 0.1;
	n->mem = 128;
	n->retries = 2;
	n->error_count = 3;
	n->errors_since_last_success = 3;
	n->success_count = 7;
	n->last_error_ms = WHEN_MS - 1000;
	if (with_run) {
		n->has_run = true;
		notice_set(&n->task_id, "ct:1767225600000:2:nightly:");
		notice_set(&n->status, "failed");
		notice_set(&n->host, "node1");
		n->exit_code = 3;
		n->out.text = strdup("line 1\nline 2\n");
		n->out.total = 14;
		n->err.text = strdup("oops");
		n->err.total = 100;
	}
	return n;
}

static void test_subjects(void **state)
{
	static const struct {
		enum notice_kind kind;
		const char *cluster;
		const char *status;
		const char *subject;
	} rows[] = {
		{NOTICE_DELETED, NULL, "", "[Chronos] Your job 'nightly' was deleted!"},
		{NOTICE_DISABLED, "", "", "[Chronos] job 'nightly' disabled"},
		{NOTICE_FAILED, NULL, "failed", "[Chronos] job 'nightly' failed!"},
		{NOTICE_FAILED, "prod", "failed", "[prod] [Chronos] job 'nightly' failed!"},
		{NOTICE_SKIPPED, "prod", "skipped", "[prod] [Chronos] job 'nightly' skipped a run"},
		{NOTICE_RECOVERED, NULL, "succeeded", "[Chronos] job 'nightly' recovered"},
		{NOTICE_FINISHED, NULL, "succeeded", "[Chronos] job 'nightly' run succeeded"},
		{NOTICE_FINISHED, NULL, "killed", "[Chronos] job 'nightly' run killed"},
	};
	(void)state;
	for (size_t i = 0; i < N(rows); i++) {
		struct notice *n = sample(rows[i].kind, false);
		notice_set(&n->status, rows[i].status);
		char *s = notify_subject(n, rows[i].cluster);
		assert_string_equal(s, rows[i].subject);
		free(s);
		notice_free(n);
	}
}

static const char details[] =
	"\nStatus: failed\nExit code: 3\nHost: node1\n"
	"\n--- stdout: 14 bytes ---\nline 1\nline 2\n"
	"\n--- stderr: last 4 of 100 bytes ---\noops\n";

static void test_bodies(void **state)
{
	static const struct {
		enum notice_kind kind;
		bool by_failures;
		bool run;
		const char *head; /* the body is head + details when run */
	} rows[] = {
		{NOTICE_DELETED, false, false, ""},
		{NOTICE_DISABLED, false, false,
		 "Job 'nightly' has exhausted all of its recurrences and has been disabled.\nPlease consider either "
		 "removing your job, or updating its schedule and re-enabling it.\n"},
		{NOTICE_DISABLED, true, true,
		 "\nFailed at '2026-01-01T00:00:00.000Z', 3 failures since last success\n"
		 "Task id: ct:1767225600000:2:nightly:\n"},
		{NOTICE_FAILED, false, true,
		 "\n'2026-01-01T00:00:00.000Z'. Retries attempted: 2.\nTask id: ct:1767225600000:2:nightly:\n"},
		{NOTICE_RECOVERED, false, true,
		 "\nSucceeded at '2026-01-01T00:00:00.000Z' after failing (last error at '2025-12-31T23:59:59.000Z')."
		 "\nTask id: ct:1767225600000:2:nightly:\n"},
		{NOTICE_FINISHED, false, true,
		 "\nRun failed at '2026-01-01T00:00:00.000Z'.\nTask id: ct:1767225600000:2:nightly:\n"},
	};
	(void)state;
	for (size_t i = 0; i < N(rows); i++) {
		struct notice *n = sample(rows[i].kind, rows[i].run);
		n->by_failures = rows[i].by_failures;
		char *body = notify_body(n), want[2048];
		snprintf(want, sizeof(want), "%s%s", rows[i].head, rows[i].run ? details : "");
		assert_string_equal(body, want);
		free(body);
		notice_free(n);
	}
}

/* A skipped run has no output; a killed one shows its signal; an unread log says so. */
static void test_run_details(void **state)
{
	struct notice *n = sample(NOTICE_SKIPPED, true);
	char *body;
	(void)state;

	notice_set(&n->status, "skipped");
	notice_set(&n->reason, "missed: the server was down");
	notice_set(&n->run_reason, "missed: the server was down");
	notice_set(&n->host, "");
	n->exit_code = -1;
	body = notify_body(n);
	assert_string_equal(body, "\nA run was skipped at '2026-01-01T00:00:00.000Z': missed: the server was down.\n"
				  "Task id: ct:1767225600000:2:nightly:\n\nStatus: skipped\n"
				  "Reason: missed: the server was down\n");
	free(body);
	notice_free(n);

	n = sample(NOTICE_FINISHED, true);
	notice_set(&n->status, "killed");
	n->signal = 9;
	free(n->out.text);
	n->out.text = NULL;
	n->err.total = 0;
	body = notify_body(n);
	assert_non_null(strstr(body, "\nStatus: killed\nSignal: 9 SIGKILL\nHost: node1\n"
				     "\n--- stdout: not available ---\n\n--- stderr: empty ---\n"));
	free(body);
	notice_free(n);
}

static void test_owner_split(void **state)
{
	static const struct {
		const char *owner;
		size_t max;
		const char *want[4];
	} rows[] = {
		{"", 8, {NULL}},
		{"a@x.org", 8, {"a@x.org"}},
		{"a@x.org,b@y.org", 8, {"a@x.org", "b@y.org"}},
		{" a@x.org ;  b@y.org\tc@z.org\n", 8, {"a@x.org", "b@y.org", "c@z.org"}},
		{"Ops Team <ops@x.org>, dev@y.org", 8, {"ops@x.org", "dev@y.org"}},
		{"a@x.org, a@x.org, nobody, @", 8, {"a@x.org"}},
		{"a@x.org b@x.org c@x.org", 2, {"a@x.org", "b@x.org"}},
		{"\"evil\"@x.org,<>", 8, {NULL}},
	};
	(void)state;
	for (size_t i = 0; i < N(rows); i++) {
		char *out[8];
		size_t n = notify_owner_split(rows[i].owner, out, rows[i].max), want = 0;
		while (want < 4 && rows[i].want[want])
			want++;
		assert_int_equal(n, want);
		for (size_t k = 0; k < n; k++) {
			assert_string_equal(out[k], rows[i].want[k]);
			free(out[k]);
		}
	}
}

static void test_clean_text(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		bool cut;
		const char *out;
	} rows[] = {
		{"plain\ttext\n", 11, false, "plain\ttext\n"},
		{"crlf\r\nnul\0x", 11, false, "crlf\nnulx"},
		{"bell\a", 5, false, "bell?"},
		{"caf\xc3\xa9", 5, false, "caf\xc3\xa9"},
		{"bad\xff!", 5, false, "bad\xef\xbf\xbd!"},
		{"\xa9tail", 5, true, "tail"},
		{"\xa9tail", 5, false, "\xef\xbf\xbdtail"},
		{"\xed\xa0\x80", 3, false, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* a surrogate is not UTF-8 */
		{"\xe2\x82", 2, false, "\xef\xbf\xbd\xef\xbf\xbd"},                 /* cut short */
	};
	(void)state;
	for (size_t i = 0; i < N(rows); i++) {
		char *s = notify_clean_text(rows[i].in, rows[i].len, rows[i].cut);
		assert_string_equal(s, rows[i].out);
		free(s);
	}
}

static void test_mail_message(void **state)
{
	const char *to[] = {"a@x.org", "b@y.org"};
	char long_line[1200];
	char *m;
	(void)state;

	m = notify_mail_message("gnomon@x.org", to, 2, "[Chronos] job 'a' failed!", "\nline\n", WHEN_MS, "<1@h>");
	assert_string_equal(m, "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\nFrom: gnomon@x.org\r\n"
			       "To: a@x.org,\r\n b@y.org\r\nMessage-ID: <1@h>\r\nSubject: [Chronos] job 'a' failed!\r\n"
			       "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
			       "Content-Transfer-Encoding: 8bit\r\n\r\n\r\nline\r\n");
	free(m);
	m = notify_mail_message("f@x", to, 1, "[\xc3\xa9t\xc3\xa9] [Chronos] job 'a' disabled", "", WHEN_MS, "<2@h>");
	assert_non_null(strstr(m, "\r\nSubject: =?UTF-8?B?W8OpdMOpXSBbQ2hyb25vc10gam9iICdhJyBkaXNhYmxlZA==?=\r\n"));
	free(m);
	memset(long_line, 'x', sizeof(long_line) - 1);
	long_line[sizeof(long_line) - 1] = '\0';
	m = notify_mail_message("f@x", to, 1, "s", long_line, WHEN_MS, "<3@h>");
	const char *body = strstr(m, "\r\n\r\n") + 4;
	assert_int_equal(strcspn(body, "\r"), 998);
	assert_int_equal(strlen(body), 1199 + 4);
	free(m);
}

static void test_chat_json(void **state)
{
	(void)state;
	char *s = notify_chat_json("[Chronos] job 'a' failed!", "\nTask id: x\n");
	assert_string_equal(s, "{\"text\":\"[Chronos] job 'a' failed!: \\nTask id: x\\n\"}");
	free(s);
	s = notify_chat_json("[Chronos] Your job 'a' was deleted!", "");
	assert_string_equal(s, "{\"text\":\"[Chronos] Your job 'a' was deleted!\"}");
	free(s);
}

static void test_webhook_json(void **state)
{
	struct notice *n = sample(NOTICE_FAILED, true);
	char *s;
	(void)state;

	s = notify_webhook_json(n, "S", "B", "ops@example.com,dev@example.com");
	assert_string_equal(s,
	    "{\"subject\":\"S\",\"message\":\"B\",\"to\":\"ops@example.com,dev@example.com\",\"job\":\"nightly\","
	    "\"command\":\"make backup\",\"cpus\":\"0.1\",\"softError\":\"false\",\"errorCount\":\"3\","
	    "\"errorsSinceLastSuccess\":\"3\",\"executor\":\"\",\"executorFlags\":\"\","
	    "\"lastError\":\"2025-12-31T23:59:59.000Z\",\"lastSuccess\":\"\",\"mem\":\"128.0\",\"retries\":\"2\","
	    "\"successCount\":\"7\",\"uris\":\"http://x/a.tgz\",\"event\":\"run.retries_exhausted\","
	    "\"taskId\":\"ct:1767225600000:2:nightly:\",\"status\":\"failed\",\"exitCode\":\"3\",\"signal\":\"\","
	    "\"host\":\"node1\",\"stdoutTail\":\"line 1\\nline 2\\n\",\"stderrTail\":\"oops\"}");
	free(s);
	notice_free(n);

	n = sample(NOTICE_DELETED, false);
	s = notify_webhook_json(n, "S", "", "");
	json_t *o = json_loads(s, 0, NULL);
	assert_non_null(o);
	assert_null(json_object_get(o, "message"));
	assert_null(json_object_get(o, "to"));
	assert_null(json_object_get(o, "taskId"));
	assert_string_equal(json_string_value(json_object_get(o, "event")), "job.deleted");
	json_decref(o);
	free(s);
	notice_free(n);
}

static void test_sentry_json(void **state)
{
	struct notice *n = sample(NOTICE_FAILED, true);
	char *s = notify_sentry_json(n, "S", "B", "0123456789abcdef0123456789abcdef", WHEN_MS, "node1");
	json_t *o = json_loads(s, 0, NULL), *tags, *extra;
	(void)state;

	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "event_id")), "0123456789abcdef0123456789abcdef");
	assert_string_equal(json_string_value(json_object_get(o, "level")), "error");
	assert_string_equal(json_string_value(json_object_get(o, "message")), "S\n\nB");
	assert_string_equal(json_string_value(json_object_get(o, "timestamp")), "2026-01-01T00:00:00.000Z");
	tags = json_object_get(o, "tags");
	assert_string_equal(json_string_value(json_object_get(tags, "owner")), "ops@example.com, dev@example.com");
	assert_string_equal(json_string_value(json_object_get(tags, "job")), "nightly");
	assert_string_equal(json_string_value(json_object_get(tags, "command")), "make backup");
	extra = json_object_get(o, "extra");
	assert_string_equal(json_string_value(json_object_get(extra, "mem")), "128.0");
	assert_string_equal(json_string_value(json_object_get(extra, "taskId")), "ct:1767225600000:2:nightly:");
	assert_null(json_object_get(extra, "job"));
	json_decref(o);
	free(s);
	notice_free(n);
}

/* An agent lost: no job, no owner; its subject, body and every payload say which agent and what became of its
 * runs, and carry none of a job's fields. */
static void test_agent_lost(void **state)
{
	static const char why[] = "silent for 31 s; 2 of its runs were recorded lost and are retried per their jobs' "
	    "policy";
	struct notice *n = notice_new(NOTICE_AGENT_LOST);
	char *subject, *body, *s;
	json_t *o;

	(void)state;
	n->when_ms = WHEN_MS;
	notice_set(&n->agent, "a1");
	notice_set(&n->agent_host, "host-1");
	notice_set(&n->reason, why);
	assert_string_equal(notice_kind_name(n->kind), "agent.lost");
	assert_true(notice_is_failure(n));
	subject = notify_subject(n, "");
	assert_string_equal(subject, "agent a1 (host-1) lost");
	free(subject);
	subject = notify_subject(n, "prod");
	assert_string_equal(subject, "[prod] agent a1 (host-1) lost");
	body = notify_body(n);
	assert_string_equal(body, "silent for 31 s; 2 of its runs were recorded lost and are retried per their jobs' "
	    "policy\nLost at '2026-01-01T00:00:00.000Z'.\n");
	s = notify_chat_json("agent a1 (host-1) lost", body);
	o = json_loads(s, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(o, "text")), "agent a1 (host-1) lost: silent for 31 s; 2 of "
	    "its runs were recorded lost and are retried per their jobs' policy\nLost at '2026-01-01T00:00:00.000Z'.\n");
	json_decref(o);
	free(s);
	s = notify_webhook_json(n, subject, body, "");
	o = json_loads(s, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(o, "event")), "agent.lost");
	assert_string_equal(json_string_value(json_object_get(o, "agent")), "a1");
	assert_string_equal(json_string_value(json_object_get(o, "hostname")), "host-1");
	assert_string_equal(json_string_value(json_object_get(o, "reason")), why);
	assert_string_equal(json_string_value(json_object_get(o, "subject")), "[prod] agent a1 (host-1) lost");
	assert_null(json_object_get(o, "job"));
	assert_null(json_object_get(o, "cpus"));
	assert_null(json_object_get(o, "to"));
	json_decref(o);
	free(s);
	s = notify_sentry_json(n, subject, body, "0123456789abcdef0123456789abcdef", WHEN_MS, "node1");
	o = json_loads(s, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(o, "level")), "error");
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "tags"), "agent")), "a1");
	assert_null(json_object_get(json_object_get(o, "tags"), "job"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "extra"), "reason")), why);
	json_decref(o);
	free(s);
	free(body);
	free(subject);
	notice_free(n);
}

static void test_dsn(void **state)
{
	static const struct {
		const char *dsn;
		const char *url, *key, *secret, *project;
	} rows[] = {
		{"https://pub@sentry.example.com/1", "https://sentry.example.com/api/1/store/", "pub", "", "1"},
		{"http://pub:sec@127.0.0.1:9000/42", "http://127.0.0.1:9000/api/42/store/", "pub", "sec", "42"},
		{"https://k@host/sentry/sub/7", "https://host/sentry/sub/api/7/store/", "k", "", "7"},
		{"ftp://k@host/1", NULL, NULL, NULL, NULL},
		{"https://host/1", NULL, NULL, NULL, NULL},
		{"https://k@host", NULL, NULL, NULL, NULL},
		{"https://k@host/", NULL, NULL, NULL, NULL},
		{"https://k@/1", NULL, NULL, NULL, NULL},
		{"https://k y@host/1", NULL, NULL, NULL, NULL},
		{"https://k@host/1?x=1", NULL, NULL, NULL, NULL},
		{"", NULL, NULL, NULL, NULL},
	};
	(void)state;
	for (size_t i = 0; i < N(rows); i++) {
		struct notify_dsn d;
		char err[256] = "";
		int rc = notify_dsn_parse(rows[i].dsn, &d, err, sizeof(err));
		if (rows[i].url == NULL) {
			assert_int_equal(rc, -EINVAL);
			assert_null(strstr(err, "k@")); /* the key is never echoed */
			continue;
		}
		assert_int_equal(rc, 0);
		assert_string_equal(d.store_url, rows[i].url);
		assert_string_equal(d.public_key, rows[i].key);
		assert_string_equal(d.secret_key, rows[i].secret);
		assert_string_equal(d.project, rows[i].project);
		char *auth = notify_sentry_auth(&d, 1767225600);
		assert_non_null(strstr(auth, "Sentry sentry_version=7, sentry_client=gnomon/"));
		assert_non_null(strstr(auth, ", sentry_timestamp=1767225600, sentry_key="));
		assert_true((strstr(auth, "sentry_secret=") != NULL) == (rows[i].secret[0] != '\0'));
		free(auth);
		notify_dsn_clear(&d);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subjects),
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_run_details),
		cmocka_unit_test(test_owner_split),
		cmocka_unit_test(test_clean_text),
		cmocka_unit_test(test_mail_message),
		cmocka_unit_test(test_chat_json),
		cmocka_unit_test(test_webhook_json),
		cmocka_unit_test(test_sentry_json),
		cmocka_unit_test(test_agent_lost),
		cmocka_unit_test(test_dsn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
