/* The order record of a task's two streams (exec/exec_order.h) and the merged view read from it
 * (history/run_merge.h): tables of chunks fed under caps, with the entries the record must hold (coalesced runs,
 * the head written as it comes, the tails trimmed to their caps and each marker before its stream's tail), and of
 * records and files merged into tagged lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exec/exec_order.h"
#include "history/run_merge.h"
#include "util/buf.h"

/* "o2 e13" into entries. */
static size_t parse_runs(const char *text, uint32_t *out, size_t max)
{
	size_t n = 0;

	for (const char *p = text; *p;) {
		char *end;
		if (*p == ' ') {
			p++;
			continue;
		}
		assert_true(n < max);
		assert_true(*p == 'o' || *p == 'e');
		out[n++] = order_entry(*p == 'e', (uint32_t)strtoul(p + 1, &end, 10));
		p = end;
	}
	return n;
}

static void format_runs(const uint32_t *e, size_t n, char *out, size_t len)
{
	size_t off = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(out + off, len - off, "%s%c%u", i ? " " : "", (e[i] & ORDER_STREAM_BIT) ? 'e' : 'o',
		    (unsigned)(e[i] & ~ORDER_STREAM_BIT));
}

static void test_record(void **state)
{
	static const struct {
		uint64_t head_cap, tail_cap;
		const char *feeds;
		size_t marker[2];
		const char *head;  /* the entries written as they came */
		const char *end;   /* the entries appended at the end */
	} rows[] = {
		/* runs of one stream coalesce */
		{100, 100, "o3 o4 e2 e1 o5", {0, 0}, "o7 e3 o5", ""},
		{100, 100, "o1 e1 o1 e1", {0, 0}, "o1 e1 o1 e1", ""},
		{100, 100, "", {0, 0}, "", ""},
		/* a chunk that fills the head exactly: still all head */
		{4, 4, "o4 e1", {0, 0}, "o4 e1", ""},
		/* past the head, within the tail: nothing omitted, the rest kept in order at the end */
		{4, 10, "o2 e2 o5 e1 o4", {0, 0}, "o2 e2 o2", "o3 e1 o4"},
		/* the omitted middle: stdout's 11 bytes keep 4 + 3; the marker stands before its tail, stderr's head run
		 * between keeps its place */
		{4, 3, "o2 e2 o5 e1 o4", {10, 0}, "o2 e2 o2", "e1 o13"},
		/* no tail kept: the marker ends the record */
		{2, 0, "o5 e1", {8, 0}, "o2", "e1 o8"},
		/* both streams capped, markers before each tail */
		{2, 2, "o3 e3 o3 e3", {5, 6}, "o2", "e2 o7 e8"},
		/* a stream whose tail is all old: its tail bytes keep their early place */
		{2, 2, "o4 e2 e50 e1", {0, 6}, "o2", "o2 e10"},
	};
	char got[512];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint32_t feeds[64], head[64], *end;
		size_t nfeeds = parse_runs(rows[i].feeds, feeds, 64), nhead = 0, nend;
		struct order_rec r;
		uint64_t sum[2] = {0, 0}, total[2] = {0, 0};

		order_rec_init(&r, rows[i].head_cap, rows[i].tail_cap);
		for (size_t k = 0; k < nfeeds; k++) {
			int s = (feeds[k] & ORDER_STREAM_BIT) ? 1 : 0;
			long idx = order_rec_feed(&r, s, feeds[k] & ~ORDER_STREAM_BIT);
			total[s] += feeds[k] & ~ORDER_STREAM_BIT;
			if (idx >= 0) {
				assert_true((size_t)idx <= nhead);
				head[idx] = r.last;
				nhead = (size_t)idx + 1 > nhead ? (size_t)idx + 1 : nhead;
			}
		}
		format_runs(head, nhead, got, sizeof(got));
		if (strcmp(got, rows[i].head) != 0)
			fail_msg("row %zu: head '%s', expected '%s'", i, got, rows[i].head);
		order_rec_finish(&r, rows[i].marker, &end, &nend);
		format_runs(end, nend, got, sizeof(got));
		if (strcmp(got, rows[i].end) != 0)
			fail_msg("row %zu: end '%s', expected '%s'", i, got, rows[i].end);
		/* each stream's runs add up to its file: head, marker, tail */
		for (size_t k = 0; k < nhead + nend; k++) {
			uint32_t e = k < nhead ? head[k] : end[k - nhead];
			sum[(e & ORDER_STREAM_BIT) ? 1 : 0] += e & ~ORDER_STREAM_BIT;
		}
		for (int s = 0; s < 2; s++) {
			uint64_t h = total[s] < rows[i].head_cap ? total[s] : rows[i].head_cap, past = total[s] - h;
			uint64_t t = past < rows[i].tail_cap ? past : rows[i].tail_cap;
			assert_int_equal(sum[s], h + t + (past > t ? rows[i].marker[s] : 0));
		}
		free(end);
		order_rec_free(&r);
	}
}

/* A million alternating one-byte chunks past small caps: the runs in memory stay few, and the record is the heads,
 * the markers and the last runs. */
static void test_bounded(void **state)
{
	struct order_rec r;
	size_t marker[2] = {30, 31}, n;
	uint32_t *end;
	char got[256];

	(void)state;
	order_rec_init(&r, 1, 2);
	for (int i = 0; i < 1000000; i++) {
		long idx = order_rec_feed(&r, i % 2, 1);
		assert_true(idx < 2);
		assert_true(r.alloc <= 256);
	}
	assert_int_equal(r.nhead, 2);
	order_rec_finish(&r, marker, &end, &n);
	format_runs(end, n, got, sizeof(got));
	assert_string_equal(got, "o31 e32 o1 e1");
	free(end);
	order_rec_free(&r);
}

static void test_entry_bytes(void **state)
{
	uint8_t b[ORDER_ENTRY_SIZE];

	(void)state;
	order_entry_put(b, order_entry(1, 0x123456));
	assert_memory_equal(b, "\x56\x34\x12\x80", 4);
	assert_int_equal(order_entry_get(b), 0x80123456u);
}

static void test_merge(void **state)
{
	static const struct {
		const char *order; /* runs, or NULL: no record */
		const char *out, *err;
		const char *merged;
	} rows[] = {
		{NULL, "a\nb\n", "x\n", "1 a\n1 b\n2 x\n"},
		{"o2 e2 o2", "a\nb\n", "x\n", "1 a\n2 x\n1 b\n"},
		/* a line takes its place at its newline */
		{"o1 e2 o2", "ab\n", "x\n", "2 x\n1 ab\n"},
		/* bytes not placed yet (a running task) follow: stdout's then stderr's */
		{"e2", "a\nb\n", "x\ny\n", "2 x\n1 a\n1 b\n2 y\n"},
		/* last lines without a newline end it */
		{NULL, "a", "x", "1 a\n2 x\n"},
		{"e1 o1", "a", "x", "1 a\n2 x\n"},
		/* a record that says more than the files hold */
		{"o100 e2 o5", "a\n", "x\n", "1 a\n2 x\n"},
		/* the marker line of a capped stream, in place */
		{"o2 e2 o30 e2", "a\n\n[gnomon: 9 bytes omitted]\nz\n", "x\ny\n",
		    "1 a\n2 x\n1 \n1 [gnomon: 9 bytes omitted]\n1 z\n2 y\n"},
		{"", "", "", ""},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint32_t runs[16];
		uint8_t order[16 * ORDER_ENTRY_SIZE + 2];
		size_t n = rows[i].order ? parse_runs(rows[i].order, runs, 16) : 0;
		const char *data[2] = {rows[i].out, rows[i].err};
		size_t len[2] = {strlen(rows[i].out), strlen(rows[i].err)};
		struct buf b;

		for (size_t k = 0; k < n; k++)
			order_entry_put(order + k * ORDER_ENTRY_SIZE, runs[k]);
		/* a part entry at the end (being written) is ignored */
		order[n * ORDER_ENTRY_SIZE] = 7;
		buf_init(&b, 0);
		assert_int_equal(run_merge((const char *)order, n * ORDER_ENTRY_SIZE + (n ? 2 : 0), data, len, &b), 0);
		if (strcmp(b.data ? b.data : "", rows[i].merged) != 0)
			fail_msg("row %zu: '%s', expected '%s'", i, b.data ? b.data : "", rows[i].merged);
		buf_free(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_entry_bytes),
		cmocka_unit_test(test_merge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
