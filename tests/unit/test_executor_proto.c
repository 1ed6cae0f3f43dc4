/* The executor protocol (exec/executor_proto.h) as tables: the spec's encoding and every refusal of its decoder,
 * frame headers, the frame reader fed byte by byte and in random pieces, the 'S' and 'F' payloads, the result
 * text both ways and onto struct exec_result, the .pid journal file and /proc's start time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <unistd.h>

#include "exec/exec.h"
#include "exec/executor_proto.h"
#include "util/buf.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
/* A byte string literal with its NULs, and its length. */
#define BYTES(s) s, sizeof(s) - 1

static char s_true[] = "true", s_sh[] = "sh", s_c[] = "-c", s_empty[] = "", s_a1[] = "A=1",
	    s_path[] = "PATH=/bin:/usr/bin", s_xeq[] = "X==", s_eq_empty[] = "EMPTY=", s_b[] = "B";
static char *argv_true[] = {s_true, NULL};
static char *argv_three[] = {s_sh, s_c, s_empty, NULL}; /* an empty argument is an argument */
static char *env_two[] = {s_a1, s_path, NULL};
static char *env_eq[] = {s_xeq, s_eq_empty, NULL};

static void assert_spec_equal(const struct executor_spec *a, const struct executor_spec *b)
{
	size_t i;

	assert_string_equal(a->prog, b->prog);
	for (i = 0; a->argv[i] || b->argv[i]; i++) {
		assert_non_null(a->argv[i]);
		assert_non_null(b->argv[i]);
		assert_string_equal(a->argv[i], b->argv[i]);
	}
	for (i = 0; (a->envp && a->envp[i]) || (b->envp && b->envp[i]); i++) {
		assert_true(a->envp && a->envp[i] && b->envp && b->envp[i]);
		assert_string_equal(a->envp[i], b->envp[i]);
	}
	assert_true((a->cwd == NULL) == (b->cwd == NULL));
	if (a->cwd)
		assert_string_equal(a->cwd, b->cwd);
	for (int s = 0; s < 2; s++) {
		assert_true((a->out_path[s] == NULL) == (b->out_path[s] == NULL));
		if (a->out_path[s])
			assert_string_equal(a->out_path[s], b->out_path[s]);
	}
	assert_int_equal(a->lazy, b->lazy);
	assert_int_equal(a->cap_head, b->cap_head);
	assert_int_equal(a->cap_tail, b->cap_tail);
	assert_int_equal(a->deadline_ms, b->deadline_ms);
	assert_int_equal(a->grace_ms, b->grace_ms);
	assert_int_equal(a->drain_ms, b->drain_ms);
	assert_string_equal(a->journal, b->journal);
	assert_true((a->lease == NULL) == (b->lease == NULL));
	if (a->lease)
		assert_string_equal(a->lease, b->lease);
	assert_true((a->order_path == NULL) == (b->order_path == NULL));
	if (a->order_path)
		assert_string_equal(a->order_path, b->order_path);
}

/* Specs survive encoding and decoding; the decoded one owns its copies. */
static void test_spec_round_trip(void **state)
{
	struct executor_spec rows[5];
	(void)state;

	for (size_t i = 0; i < COUNT(rows); i++) {
		executor_spec_init(&rows[i]);
		rows[i].prog = "/bin/true";
		rows[i].argv = argv_true;
		rows[i].journal = "/run/j/task";
	}
	rows[1].argv = argv_three;
	rows[1].envp = env_two;
	rows[1].cwd = "/tmp";
	rows[1].out_path[0] = "/tmp/out";
	rows[1].out_path[1] = "/tmp/err";
	rows[1].order_path = "/tmp/order";
	rows[2].lazy = false;
	rows[2].cap_head = 0;
	rows[2].cap_tail = EXECUTOR_CAP_MAX;
	rows[2].out_path[1] = "/tmp/only-err";
	rows[2].envp = env_eq;
	rows[3].deadline_ms = UINT64_MAX;
	rows[3].grace_ms = 0;
	rows[3].drain_ms = 123456789012345ull;
	rows[3].lease = "/var/lib/gnomon-agent/lease";
	rows[4].prog = "/weird path/\x01\xff";
	rows[4].journal = "j";

	for (size_t i = 0; i < COUNT(rows); i++) {
		struct executor_spec got;
		struct buf b;
		char err[256] = "";

		buf_init(&b, 0);
		assert_int_equal(buf_append(&b, "keep", 4), 0);
		assert_int_equal(executor_spec_encode(&rows[i], &b, err, sizeof(err)), 0);
		assert_memory_equal(b.data, "keep", 4); /* appended */
		assert_int_equal(executor_spec_decode(b.data + 4, b.len - 4, &got, err, sizeof(err)), 0);
		buf_free(&b); /* got must not point into the input */
		assert_spec_equal(&rows[i], &got);
		assert_non_null(got.envp);
		executor_spec_free(&got);
		executor_spec_free(&got); /* twice is harmless */
	}
}

/* The smallest spec gets the defaults; records may come in any order. */
static void test_spec_defaults(void **state)
{
	struct executor_spec s;
	char err[256];
	(void)state;

	assert_int_equal(executor_spec_decode(BYTES("journal\0/j\0arg\0a0\0prog\0/p\0arg\0a1\0"), &s, err, sizeof(err)),
	    0);
	assert_string_equal(s.prog, "/p");
	assert_string_equal(s.argv[0], "a0");
	assert_string_equal(s.argv[1], "a1");
	assert_null(s.argv[2]);
	assert_null(s.envp[0]);
	assert_null(s.cwd);
	assert_null(s.out_path[0]);
	assert_null(s.out_path[1]);
	assert_true(s.lazy);
	assert_int_equal(s.cap_head, 65536);
	assert_int_equal(s.cap_tail, 65536);
	assert_int_equal(s.deadline_ms, 0);
	assert_int_equal(s.grace_ms, 5000);
	assert_int_equal(s.drain_ms, 2000);
	assert_string_equal(s.journal, "/j");
	assert_null(s.order_path);
	executor_spec_free(&s);
}

#define OK_SPEC "prog\0/bin/true\0arg\0true\0journal\0/j\0"

/* Every refusal of the decoder, with the message naming the key. */
static void test_spec_refusals(void **state)
{
	static const struct {
		const char *data;
		size_t len;
		const char *err;
	} rows[] = {
		{BYTES(OK_SPEC "colour\0blue\0"), "spec: unknown key 'colour'"},
		{BYTES(OK_SPEC "\0x\0"), "spec: unknown key ''"},
		{BYTES(OK_SPEC "Prog\0/x\0"), "spec: unknown key 'Prog'"},
		{BYTES(OK_SPEC "k\x01\0v\0"), "spec: unknown key 'k?'"},
		{BYTES("arg\0true\0journal\0/j\0"), "spec: missing 'prog'"},
		{BYTES("prog\0/bin/true\0journal\0/j\0"), "spec: missing 'arg'"},
		{BYTES("prog\0/bin/true\0arg\0true\0"), "spec: missing 'journal'"},
		{BYTES(""), "spec: missing 'prog'"},
		{BYTES(OK_SPEC "prog\0/bin/false\0"), "spec: duplicate 'prog'"},
		{BYTES(OK_SPEC "journal\0/k\0"), "spec: duplicate 'journal'"},
		{BYTES(OK_SPEC "cwd\0/\0cwd\0/\0"), "spec: duplicate 'cwd'"},
		{BYTES(OK_SPEC "out\0/o\0out\0/o\0"), "spec: duplicate 'out'"},
		{BYTES(OK_SPEC "err\0/o\0err\0/p\0"), "spec: duplicate 'err'"},
		{BYTES(OK_SPEC "lazy\0" "1\0lazy\0" "1\0"), "spec: duplicate 'lazy'"},
		{BYTES(OK_SPEC "cap_head\0" "1\0cap_head\0" "2\0"), "spec: duplicate 'cap_head'"},
		{BYTES(OK_SPEC "cap_tail\0" "1\0cap_tail\0" "2\0"), "spec: duplicate 'cap_tail'"},
		{BYTES(OK_SPEC "deadline_ms\0" "1\0deadline_ms\0" "1\0"), "spec: duplicate 'deadline_ms'"},
		{BYTES(OK_SPEC "grace_ms\0" "1\0grace_ms\0" "1\0"), "spec: duplicate 'grace_ms'"},
		{BYTES(OK_SPEC "drain_ms\0" "1\0drain_ms\0" "1\0"), "spec: duplicate 'drain_ms'"},
		{BYTES(OK_SPEC "cap_head\0abc\0"), "spec: bad number for 'cap_head': 'abc'"},
		{BYTES(OK_SPEC "cap_head\0\0"), "spec: bad number for 'cap_head': ''"},
		{BYTES(OK_SPEC "cap_tail\0-1\0"), "spec: bad number for 'cap_tail': '-1'"},
		{BYTES(OK_SPEC "cap_tail\0" "1073741825\0"), "spec: bad number for 'cap_tail': '1073741825'"},
		{BYTES(OK_SPEC "grace_ms\0 5\0"), "spec: bad number for 'grace_ms': ' 5'"},
		{BYTES(OK_SPEC "grace_ms\0" "5 \0"), "spec: bad number for 'grace_ms': '5 '"},
		{BYTES(OK_SPEC "grace_ms\0+5\0"), "spec: bad number for 'grace_ms': '+5'"},
		{BYTES(OK_SPEC "drain_ms\0" "0x10\0"), "spec: bad number for 'drain_ms': '0x10'"},
		{BYTES(OK_SPEC "deadline_ms\0" "18446744073709551616\0"),
		    "spec: bad number for 'deadline_ms': '18446744073709551616'"},
		{BYTES(OK_SPEC "deadline_ms\0" "000000000000000000001\0"),
		    "spec: bad number for 'deadline_ms': '000000000000000000001'"},
		{BYTES(OK_SPEC "lazy\0" "2\0"), "spec: bad number for 'lazy': '2'"},
		{BYTES(OK_SPEC "lazy\0" "01\0"), "spec: bad number for 'lazy': '01'"},
		{BYTES(OK_SPEC "lazy\0yes\0"), "spec: bad number for 'lazy': 'yes'"},
		{BYTES(OK_SPEC "prog"), "spec: truncated record: key 'prog' has no end"},
		{BYTES(OK_SPEC "cwd\0/tmp"), "spec: truncated record 'cwd': its value has no end"},
		{BYTES(OK_SPEC "cwd\0"), "spec: truncated record 'cwd': its value has no end"},
		{BYTES("prog\0/bin/true"), "spec: truncated record 'prog': its value has no end"},
		{BYTES("prog\0\0arg\0true\0journal\0/j\0"), "spec: empty 'prog'"},
		{BYTES(OK_SPEC "cwd\0\0"), "spec: empty 'cwd'"},
		{BYTES(OK_SPEC "out\0\0"), "spec: empty 'out'"},
		{BYTES(OK_SPEC "order\0\0"), "spec: empty 'order'"},
		{BYTES(OK_SPEC "order\0/a\0order\0/b\0"), "spec: duplicate 'order'"},
		{BYTES("prog\0/p\0arg\0true\0journal\0\0"), "spec: empty 'journal'"},
		{BYTES(OK_SPEC "env\0NOEQUALS\0"), "spec: 'env' is not NAME=value"},
		{BYTES(OK_SPEC "env\0=x\0"), "spec: 'env' is not NAME=value"},
		{BYTES(OK_SPEC "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\0v\0"),
		    "spec: unknown key 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'"},
	};
	(void)state;

	for (size_t i = 0; i < COUNT(rows); i++) {
		struct executor_spec s;
		char err[256] = "";
		int rc = executor_spec_decode(rows[i].data, rows[i].len, &s, err, sizeof(err));
		if (rc != -EINVAL || strcmp(err, rows[i].err) != 0)
			fail_msg("row %zu: rc %d, err '%s', want '%s'", i, rc, err, rows[i].err);
		assert_null(s.mem_); /* nothing to free */
	}
}

/* Over 16 MiB: refused before anything else is looked at; exactly 16 MiB is fine. */
static void test_spec_size_limit(void **state)
{
	static const char head[] = OK_SPEC "arg\0";
	size_t len = EXECUTOR_SPEC_MAX;
	char *big = malloc(len + 1), err[256];
	struct executor_spec s;
	(void)state;

	assert_non_null(big);
	memcpy(big, head, sizeof(head) - 1);
	memset(big + sizeof(head) - 1, 'x', len - sizeof(head));
	big[len - 1] = '\0';
	assert_int_equal(executor_spec_decode(big, len, &s, err, sizeof(err)), 0);
	assert_int_equal(strlen(s.argv[1]), len - sizeof(head));
	executor_spec_free(&s);
	big[len] = '\0';
	assert_int_equal(executor_spec_decode(big, len + 1, &s, err, sizeof(err)), -E2BIG);
	assert_string_equal(err, "spec: 16777217 bytes, over the limit of 16777216");
	free(big);
}

/* The encoder refuses what the decoder would, and leaves the buffer as it was. */
static void test_spec_encode_refusals(void **state)
{
	static char *argv_none[] = {NULL};
	static char *env_bad[] = {s_a1, s_b, NULL};
	struct executor_spec s;
	struct buf b;
	char err[256];
	char *huge;
	char *argv_huge[] = {NULL, NULL};
	(void)state;

	buf_init(&b, 0);
	assert_int_equal(buf_puts(&b, "before"), 0);
	executor_spec_init(&s);
	assert_int_equal(executor_spec_encode(&s, &b, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "spec: missing 'prog'");
	s.prog = "/bin/true";
	assert_int_equal(executor_spec_encode(&s, &b, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "spec: missing 'arg'");
	s.argv = argv_none;
	assert_int_equal(executor_spec_encode(&s, &b, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "spec: missing 'arg'");
	s.argv = argv_true;
	assert_int_equal(executor_spec_encode(&s, &b, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "spec: missing 'journal'");
	s.journal = "/j";
	s.envp = env_bad;
	assert_int_equal(executor_spec_encode(&s, &b, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "spec: 'env' is not NAME=value: 'B'");
	s.envp = NULL;
	s.cwd = "";
	assert_int_equal(executor_spec_encode(&s, &b, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "spec: empty 'cwd'");
	s.cwd = NULL;
	s.cap_tail = EXECUTOR_CAP_MAX + 1;
	assert_int_equal(executor_spec_encode(&s, &b, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "spec: 'cap_tail' over 1073741824");
	s.cap_tail = 1;
	huge = malloc(EXECUTOR_SPEC_MAX);
	assert_non_null(huge);
	memset(huge, 'y', EXECUTOR_SPEC_MAX - 1);
	huge[EXECUTOR_SPEC_MAX - 1] = '\0';
	argv_huge[0] = huge;
	s.argv = argv_huge;
	assert_int_equal(executor_spec_encode(&s, &b, err, sizeof(err)), -E2BIG);
	assert_string_equal(err, "spec: over 16777216 bytes");
	assert_int_equal(b.len, 6);
	assert_string_equal(b.data, "before");
	free(huge);
	buf_free(&b);
}

/* Frame headers: the bytes on the pipe, and what the decoder refuses. */
static void test_frame_headers(void **state)
{
	static const struct {
		struct executor_frame_header h;
		uint8_t bytes[8];
	} good[] = {
		{{'S', 0, 18}, {'S', 0, 0, 0, 18, 0, 0, 0}},
		{{'F', 0, 0}, {'F', 0, 0, 0, 0, 0, 0, 0}},
		{{'O', 1, 65536}, {'O', 1, 0, 0, 0, 0, 1, 0}},
		{{'O', 0, 0x1234}, {'O', 0, 0, 0, 0x34, 0x12, 0, 0}},
		{{'E', 0, 300}, {'E', 0, 0, 0, 0x2c, 1, 0, 0}},
	};
	static const struct {
		uint8_t bytes[8];
		const char *err;
	} bad[] = {
		{{'X', 0, 0, 0, 1, 0, 0, 0}, "events: unknown frame type 0x58"},
		{{0, 0, 0, 0, 1, 0, 0, 0}, "events: unknown frame type 0x00"},
		{{'S', 1, 0, 0, 1, 0, 0, 0}, "events: bad stream or reserved bytes in a 'S' frame"},
		{{'O', 2, 0, 0, 1, 0, 0, 0}, "events: bad stream or reserved bytes in a 'O' frame"},
		{{'E', 0, 1, 0, 1, 0, 0, 0}, "events: bad stream or reserved bytes in a 'E' frame"},
		{{'O', 0, 0, 1, 1, 0, 0, 0}, "events: bad stream or reserved bytes in a 'O' frame"},
		{{'O', 0, 0, 0, 1, 0, 1, 0}, "events: 'O' frame of 65537 bytes, over 65536"},
		{{'E', 0, 0, 0, 0, 0, 0, 0x80}, "events: 'E' frame of 2147483648 bytes, over 65536"},
	};
	(void)state;

	for (size_t i = 0; i < COUNT(good); i++) {
		uint8_t bytes[8];
		struct executor_frame_header h;
		char err[128];

		executor_frame_header_encode(bytes, &good[i].h);
		assert_memory_equal(bytes, good[i].bytes, 8);
		assert_int_equal(executor_frame_header_decode(bytes, &h, err, sizeof(err)), 0);
		assert_int_equal(h.type, good[i].h.type);
		assert_int_equal(h.stream, good[i].h.stream);
		assert_int_equal(h.len, good[i].h.len);
	}
	for (size_t i = 0; i < COUNT(bad); i++) {
		struct executor_frame_header h;
		char err[128] = "";

		assert_int_equal(executor_frame_header_decode(bad[i].bytes, &h, err, sizeof(err)), -EPROTO);
		assert_string_equal(err, bad[i].err);
	}
}

#define N_FRAMES 200

/* A stream of frames of every type and of sizes from 0 to the maximum, and what each one holds. */
struct frame_stream {
	struct buf bytes;
	struct executor_frame_header h[N_FRAMES];
	size_t offset[N_FRAMES]; /* of the payload in bytes */
};

static void make_stream(struct frame_stream *fs)
{
	static const char types[] = "SFOE";
	uint8_t hdr[8];

	buf_init(&fs->bytes, 0);
	for (size_t i = 0; i < N_FRAMES; i++) {
		struct executor_frame_header *h = &fs->h[i];
		h->type = (uint8_t)types[rand() % 4];
		h->stream = h->type == 'O' ? (uint8_t)(rand() % 2) : 0;
		h->len = i % 50 == 7 ? EXECUTOR_FRAME_MAX : i % 10 == 3 ? 0 : (uint32_t)(rand() % 3000);
		executor_frame_header_encode(hdr, h);
		assert_int_equal(buf_append(&fs->bytes, hdr, 8), 0);
		fs->offset[i] = fs->bytes.len;
		for (uint32_t k = 0; k < h->len; k++) {
			char c = (char)rand();
			assert_int_equal(buf_append(&fs->bytes, &c, 1), 0);
		}
	}
}

/* Feed the stream in pieces of at most max bytes (1: byte by byte; 0: random sizes) and check every frame. */
static void feed_stream(const struct frame_stream *fs, size_t max)
{
	struct executor_reader r;
	struct executor_frame f;
	size_t pos = 0, seen = 0;
	char err[128];

	executor_reader_init(&r);
	while (pos < fs->bytes.len) {
		size_t piece = max ? max : 1 + (size_t)rand() % (rand() % 2 ? 16 : 100000);
		const char *p = fs->bytes.data + pos;
		size_t n = piece < fs->bytes.len - pos ? piece : fs->bytes.len - pos;
		int rc;

		pos += n;
		while ((rc = executor_reader_feed(&r, &p, &n, &f, err, sizeof(err))) == 1) {
			assert_true(seen < N_FRAMES);
			assert_int_equal(f.h.type, fs->h[seen].type);
			assert_int_equal(f.h.stream, fs->h[seen].stream);
			assert_int_equal(f.h.len, fs->h[seen].len);
			assert_memory_equal(f.payload, fs->bytes.data + fs->offset[seen], f.h.len);
			seen++;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(n, 0);
	}
	assert_int_equal(seen, N_FRAMES);
	assert_false(executor_reader_partial(&r));
	executor_reader_free(&r);
}

static void test_reader(void **state)
{
	struct frame_stream fs;
	(void)state;

	srand(42);
	make_stream(&fs);
	feed_stream(&fs, 1);
	feed_stream(&fs, 7);
	feed_stream(&fs, 8);
	feed_stream(&fs, SIZE_MAX); /* all at once */
	for (int i = 0; i < 20; i++)
		feed_stream(&fs, 0);
	buf_free(&fs.bytes);
}

/* A bad header breaks the stream for good; a frame cut short is seen as partial. */
static void test_reader_errors(void **state)
{
	static const char data[] = "S\0\0\0\3\0\0\0abcX\0\0\0\0\0\0\0O\0\0\0\1\0\0\0z";
	struct executor_reader r;
	struct executor_frame f;
	const char *p = data;
	size_t n = sizeof(data) - 1;
	char err[128] = "";
	(void)state;

	executor_reader_init(&r);
	assert_int_equal(executor_reader_feed(&r, &p, &n, &f, err, sizeof(err)), 1);
	assert_memory_equal(f.payload, "abc", 3);
	assert_int_equal(executor_reader_feed(&r, &p, &n, &f, err, sizeof(err)), -EPROTO);
	assert_string_equal(err, "events: unknown frame type 0x58");
	assert_int_equal(executor_reader_feed(&r, &p, &n, &f, err, sizeof(err)), -EPROTO);
	assert_string_equal(err, "events: the stream broke at a bad frame header");
	executor_reader_free(&r);

	p = data;
	n = 5;
	assert_int_equal(executor_reader_feed(&r, &p, &n, &f, err, sizeof(err)), 0);
	assert_true(executor_reader_partial(&r));
	n = 4; /* the rest of the header and one payload byte */
	assert_int_equal(executor_reader_feed(&r, &p, &n, &f, err, sizeof(err)), 0);
	assert_true(executor_reader_partial(&r));
	n = 2;
	assert_int_equal(executor_reader_feed(&r, &p, &n, &f, err, sizeof(err)), 1);
	assert_memory_equal(f.payload, "abc", 3);
	assert_false(executor_reader_partial(&r));
	executor_reader_free(&r);
}

/* The 'S' and 'F' payloads. */
static void test_start_payloads(void **state)
{
	static const char *const bad_started[] = {"", "12", "12 ", " 12", "0 5", "-1 5", "12 -5", "12 5 ", "12  5",
	    "2147483648 1", "12 x", "12 9223372036854775808"};
	static const char *const bad_failed[] = {"", "2", "0 msg", "-2 msg", "x msg", "4096 msg", " 2 msg"};
	char buf[128], msg[16];
	pid_t pid;
	int64_t ms;
	int e;
	size_t n;
	(void)state;

	n = executor_started_format(buf, sizeof(buf), 4242, 1700000000123);
	assert_string_equal(buf, "4242 1700000000123");
	assert_int_equal(executor_started_parse(buf, n, &pid, &ms), 0);
	assert_int_equal(pid, 4242);
	assert_int_equal(ms, 1700000000123);
	for (size_t i = 0; i < COUNT(bad_started); i++)
		if (executor_started_parse(bad_started[i], strlen(bad_started[i]), &pid, &ms) != -EINVAL)
			fail_msg("'S' payload '%s' accepted", bad_started[i]);

	n = executor_failed_format(buf, sizeof(buf), ENOENT, "cannot run '/nope': No such file or directory");
	assert_string_equal(buf, "2 cannot run '/nope': No such file or directory");
	assert_int_equal(executor_failed_parse(buf, n, &e, msg, sizeof(msg)), 0);
	assert_int_equal(e, ENOENT);
	assert_string_equal(msg, "cannot run '/no"); /* truncated to msglen */
	assert_int_equal(executor_failed_parse("22 ", 3, &e, msg, sizeof(msg)), 0);
	assert_int_equal(e, 22);
	assert_string_equal(msg, "");
	for (size_t i = 0; i < COUNT(bad_failed); i++)
		if (executor_failed_parse(bad_failed[i], strlen(bad_failed[i]), &e, msg, sizeof(msg)) != -EINVAL)
			fail_msg("'F' payload '%s' accepted", bad_failed[i]);
	/* truncated formats stay NUL-terminated */
	n = executor_failed_format(buf, 8, 13, "Permission denied");
	assert_int_equal(n, 7);
	assert_string_equal(buf, "13 Perm");
}

static const struct executor_result result_rows[] = {
	{0, 0, false, false, false, 1700000000000, 1700000000010, 10000, 0, 0, 0, 0, 0, 5, 6, 1400, 123, 1433600, false,
	 0, false, false, 0},
	{-1, 9, true, true, true, 1, 2, 3, UINT64_MAX, UINT64_MAX - 1, 65536, 1, -28, -1, -1, -1, 2147483647, -1, true,
	 134217728, true, true, 6250},
	{255, 0, false, false, true, INT64_MAX, INT64_MAX, INT64_MAX, 7, 0, 8, 0, -4095, INT64_MAX, 0, 0, 1, INT64_MAX,
	 false, INT64_MAX, true, false, INT64_MAX},
};

static const char result_text0[] = "exit_code 0\nterm_signal 0\ncore_dumped 0\ntimed_out 0\nkilled 0\n"
				   "start_ms 1700000000000\nend_ms 1700000000010\nduration_us 10000\n"
				   "stdout_bytes 0\nstdout_omitted 0\nstderr_bytes 0\nstderr_omitted 0\nio_error 0\n"
				   "user_cpu_us 5\nsystem_cpu_us 6\nmax_rss_kib 1400\ntask_pid 123\n"
				   "peak_mem_bytes 1433600\noom_killed 0\nmem_limit 0\ncgroup 0\nlease_lapsed 0\n"
				   "lease_silent_ms 0\n";

static void test_result_round_trip(void **state)
{
	(void)state;

	for (size_t i = 0; i < COUNT(result_rows); i++) {
		char text[EXECUTOR_RESULT_MAX], err[128] = "";
		struct executor_result got;
		size_t n = executor_result_format(&result_rows[i], text, sizeof(text));

		assert_int_equal(n, strlen(text));
		if (i == 0)
			assert_string_equal(text, result_text0);
		assert_int_equal(executor_result_parse(text, n, &got, err, sizeof(err)), 0);
		assert_memory_equal(&got, &result_rows[i], sizeof(got));
	}
}

/* The text with one line replaced (or removed: with == NULL) by another. */
static size_t edit_result(char *out, size_t outlen, const char *key, const char *with)
{
	const char *line = strstr(result_text0, key), *nl = strchr(line, '\n');
	int n = snprintf(out, outlen, "%.*s%s%s", (int)(line - result_text0), result_text0, with ? with : "", nl + 1);

	return (size_t)n;
}

static void test_result_refusals(void **state)
{
	static const struct {
		const char *key, *with, *err;
	} rows[] = {
		{"exit_code", NULL, "result: missing 'exit_code'"},
		{"task_pid", NULL, "result: missing 'task_pid'"},
		{"max_rss_kib", NULL, "result: missing 'max_rss_kib'"},
		{"killed", "killed 1\nkilled 0\n", "result: duplicate 'killed'"},
		{"exit_code", "exit_code 256\n", "result: bad value for 'exit_code': '256'"},
		{"exit_code", "exit_code -2\n", "result: bad value for 'exit_code': '-2'"},
		{"exit_code", "exit_code \n", "result: bad value for 'exit_code': ''"},
		{"exit_code", "exit_code 1 \n", "result: bad value for 'exit_code': '1 '"},
		{"timed_out", "timed_out 2\n", "result: bad value for 'timed_out': '2'"},
		{"io_error", "io_error 5\n", "result: bad value for 'io_error': '5'"},
		{"stdout_bytes", "stdout_bytes -1\n", "result: bad value for 'stdout_bytes': '-1'"},
		{"stdout_bytes", "stdout_bytes 18446744073709551616\n",
		    "result: bad value for 'stdout_bytes': '18446744073709551616'"},
		{"start_ms", "start_ms 9223372036854775808\n",
		    "result: bad value for 'start_ms': '9223372036854775808'"},
		{"user_cpu_us", "user_cpu_us -2\n", "result: bad value for 'user_cpu_us': '-2'"},
		{"task_pid", "task_pid 0\n", "result: bad value for 'task_pid': '0'"},
		{"task_pid", "task_pid\n", "result: line 'task_pid' is not 'key value'"},
		{"task_pid", " 1\n", "result: line ' 1' is not 'key value'"},
		{"lease_silent_ms", "lease_silent_ms 1", "result: the last line 'lease_silent_ms 1' has no end"},
		{"oom_killed", "oom_killed 2\n", "result: bad value for 'oom_killed': '2'"},
		{"peak_mem_bytes", "peak_mem_bytes -2\n", "result: bad value for 'peak_mem_bytes': '-2'"},
	};
	(void)state;

	for (size_t i = 0; i < COUNT(rows); i++) {
		char text[2048], err[128] = "";
		struct executor_result got;
		size_t n = edit_result(text, sizeof(text), rows[i].key, rows[i].with);
		int rc = executor_result_parse(text, n, &got, err, sizeof(err));
		if (rc != -EINVAL || strcmp(err, rows[i].err) != 0)
			fail_msg("row %zu: rc %d, err '%s', want '%s'", i, rc, err, rows[i].err);
	}
}

/* An older executor's result has none of the optional keys: unknown resource use, no cgroup. */
static void test_result_old_executor(void **state)
{
	char text[2048], err[128] = "";
	struct executor_result got;
	struct exec_result e;
	const char *opt = strstr(result_text0, "peak_mem_bytes");
	size_t n = (size_t)snprintf(text, sizeof(text), "%.*s", (int)(opt - result_text0), result_text0);
	(void)state;

	assert_int_equal(executor_result_parse(text, n, &got, err, sizeof(err)), 0);
	assert_int_equal(got.peak_mem_bytes, -1);
	assert_false(got.oom_killed || got.cgroup || got.lease_lapsed);
	executor_result_to_exec(&got, &e);
	assert_int_equal(e.peak_mem_bytes, 1400 * 1024); /* the leader's max RSS stands in */
	got.max_rss_kib = -1;
	executor_result_to_exec(&got, &e);
	assert_int_equal(e.peak_mem_bytes, -1);
}

/* Keys a later version may add are skipped, wherever they are, whatever they hold. */
static void test_result_unknown_keys(void **state)
{
	char text[2048], err[128] = "";
	struct executor_result got;
	size_t n;
	(void)state;

	n = (size_t)snprintf(text, sizeof(text), "cgroup_oom 1\n%snote some words, even: colons\n", result_text0);
	assert_int_equal(executor_result_parse(text, n, &got, err, sizeof(err)), 0);
	assert_memory_equal(&got, &result_rows[0], sizeof(got));
	n = edit_result(text, sizeof(text), "killed", "killed 0\nexit_codes 7\n");
	assert_int_equal(executor_result_parse(text, n, &got, err, sizeof(err)), 0);
	assert_memory_equal(&got, &result_rows[0], sizeof(got));
}

/* What the server reads from the result: exec.c's struct, field by field. */
static void test_result_to_exec(void **state)
{
	static const struct executor_result lost = {-1, 0, false, false, false, 5, 6, 7, 0, 0, 0, 0, 0, -1, -1, -1, 9, -1,
		false, 0, false, false, 0};
	struct exec_result e;
	(void)state;

	executor_result_to_exec(&result_rows[1], &e);
	assert_int_equal(e.exit_code, -1);
	assert_int_equal(e.term_signal, 9);
	assert_true(e.core_dumped && e.timed_out && e.killed);
	assert_false(e.status_lost);
	assert_int_equal(e.start_ms, 1);
	assert_int_equal(e.end_ms, 2);
	assert_int_equal(e.duration_us, 3);
	assert_int_equal(e.stream[0].bytes, UINT64_MAX);
	assert_int_equal(e.stream[0].omitted, UINT64_MAX - 1);
	assert_true(e.stream[0].truncated);
	assert_int_equal(e.stream[1].bytes, 65536);
	assert_int_equal(e.stream[1].omitted, 1);
	assert_true(e.stream[1].truncated);
	assert_int_equal(e.io_error, -28);
	assert_int_equal(e.user_cpu_us, -1);
	assert_int_equal(e.max_rss_kib, -1);
	assert_true(e.lease_lapsed);
	assert_int_equal(e.lease_silent_ms, 6250);

	executor_result_to_exec(&result_rows[0], &e);
	assert_int_equal(e.exit_code, 0);
	assert_false(e.status_lost || e.killed || e.stream[0].truncated || e.stream[1].truncated);
	assert_int_equal(e.user_cpu_us, 5);
	assert_int_equal(e.system_cpu_us, 6);
	assert_int_equal(e.max_rss_kib, 1400);

	executor_result_to_exec(&lost, &e);
	assert_true(e.status_lost);
}

static void test_pidfile(void **state)
{
	static const char *const bad[] = {"", "\n", "1 2 3 4", "1 2 3\n", "1 2 3 4 5\n", "0 2 3 4\n", "1 2 0 4\n",
	    "1 -2 3 4\n", "1 2 3 -4\n", "1  2 3 4\n", "1 2 3 4\n\n", "a 2 3 4\n", "1 2 3 4 \n"};
	struct executor_pidfile in = {31337, 123456789012ull, 31338, 1700000000999}, out;
	char text[128];
	size_t n;
	(void)state;

	n = executor_pidfile_format(&in, text, sizeof(text));
	assert_string_equal(text, "31337 123456789012 31338 1700000000999\n");
	assert_int_equal(executor_pidfile_parse(text, n, &out), 0);
	assert_int_equal(out.executor_pid, in.executor_pid);
	assert_int_equal(out.executor_start, in.executor_start);
	assert_int_equal(out.task_pid, in.task_pid);
	assert_int_equal(out.start_ms, in.start_ms);
	for (size_t i = 0; i < COUNT(bad); i++)
		if (executor_pidfile_parse(bad[i], strlen(bad[i]), &out) != -EINVAL)
			fail_msg("pid file '%s' accepted", bad[i]);
}

/* Field 22 of /proc/<pid>/stat, whatever the command name holds. */
static void test_stat_start_time(void **state)
{
	static const struct {
		const char *stat;
		int rc;
		uint64_t want;
	} rows[] = {
		{"42 (sleep) S 1 42 42 0 -1 4194304 100 0 0 0 0 0 0 0 20 0 1 0 987654 5578752 131 18446744073709551615 "
		 "1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n", 0, 987654},
		{"7 (a b) c)) R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 1234\n", 0, 1234},
		{"7 (x) R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 99", 0, 99},
		{"7 (x) R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18\n", -EINVAL, 0},
		{"7 (x) R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 x1 2\n", -EINVAL, 0},
		{"7 x R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 1 2\n", -EINVAL, 0},
		{"", -EINVAL, 0},
	};
	uint64_t ticks = 0, again = 0;
	(void)state;

	for (size_t i = 0; i < COUNT(rows); i++) {
		uint64_t got = 0;
		assert_int_equal(executor_stat_start_time(rows[i].stat, strlen(rows[i].stat), &got), rows[i].rc);
		if (rows[i].rc == 0)
			assert_int_equal(got, rows[i].want);
	}
	/* this process: the same by pid 0 and by its own pid, and stable */
	assert_int_equal(executor_proc_start_time(0, &ticks), 0);
	assert_true(ticks > 0);
	assert_int_equal(executor_proc_start_time(getpid(), &again), 0);
	assert_int_equal(again, ticks);
	assert_int_equal(executor_proc_start_time(0x3fffffff, &again), -ESRCH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_round_trip),
		cmocka_unit_test(test_spec_defaults),
		cmocka_unit_test(test_spec_refusals),
		cmocka_unit_test(test_spec_size_limit),
		cmocka_unit_test(test_spec_encode_refusals),
		cmocka_unit_test(test_frame_headers),
		cmocka_unit_test(test_reader),
		cmocka_unit_test(test_reader_errors),
		cmocka_unit_test(test_start_payloads),
		cmocka_unit_test(test_result_round_trip),
		cmocka_unit_test(test_result_refusals),
		cmocka_unit_test(test_result_unknown_keys),
		cmocka_unit_test(test_result_old_executor),
		cmocka_unit_test(test_result_to_exec),
		cmocka_unit_test(test_pidfile),
		cmocka_unit_test(test_stat_start_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
