/* libFuzzer target: the executor protocol's parsers (src/exec/executor_proto.c), each fed the whole input. A spec
 * the decoder accepts encodes and decodes again to the same spec; so does a result text, through its formatter,
 * and a .pid file. The events pipe's reader, fed the input whole, byte by byte and in pseudo-random pieces, sees
 * the same frames and the same error (or none) every way; every frame it gives is well-formed. The 'S' and 'F'
 * payload parsers and /proc's stat reader only must not crash. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exec/executor_proto.h"
#include "fuzz_check.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool same_vec(char *const *a, char *const *b)
{
	size_t i;

	for (i = 0; a[i] && b[i]; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return !a[i] && !b[i];
}

static void check_spec(const char *p, size_t n)
{
	struct executor_spec s, back;
	struct buf b;
	char err[256];

	if (executor_spec_decode(p, n, &s, err, sizeof(err)) != 0) {
		CHECK(strncmp(err, "spec: ", 6) == 0, "refusal without a message: '%s'", err);
		return;
	}
	buf_init(&b, 0);
	CHECK(executor_spec_encode(&s, &b, err, sizeof(err)) == 0, "a decoded spec does not encode: %s", err);
	CHECK(executor_spec_decode(b.data, b.len, &back, err, sizeof(err)) == 0, "its encoding does not decode: %s", err);
	CHECK(same_str(s.prog, back.prog) && same_vec(s.argv, back.argv) && same_vec(s.envp, back.envp) &&
	    same_str(s.cwd, back.cwd) && same_str(s.out_path[0], back.out_path[0]) &&
	    same_str(s.out_path[1], back.out_path[1]) && s.lazy == back.lazy && s.cap_head == back.cap_head &&
	    s.cap_tail == back.cap_tail && s.deadline_ms == back.deadline_ms && s.grace_ms == back.grace_ms &&
	    s.drain_ms == back.drain_ms && same_str(s.journal, back.journal), "the spec changed through its encoding");
	executor_spec_free(&back);
	executor_spec_free(&s);
	buf_free(&b);
}

static void check_result(const char *p, size_t n)
{
	struct executor_result r, back;
	char text[EXECUTOR_RESULT_MAX], err[256];
	size_t len;

	if (executor_result_parse(p, n, &r, err, sizeof(err)) != 0) {
		CHECK(strncmp(err, "result: ", 8) == 0, "refusal without a message: '%s'", err);
		return;
	}
	len = executor_result_format(&r, text, sizeof(text));
	CHECK(len < sizeof(text) - 1, "a result text of %zu bytes", len);
	CHECK(executor_result_parse(text, len, &back, err, sizeof(err)) == 0, "'%s' does not parse: %s", text, err);
	CHECK(memcmp(&r, &back, sizeof(r)) == 0, "the result changed through '%s'", text);
}

static void check_small(const char *p, size_t n)
{
	struct executor_pidfile pf, back;
	char text[128], msg[64];
	pid_t pid;
	int64_t ms;
	uint64_t ticks;
	int e;

	if (executor_pidfile_parse(p, n, &pf) == 0) {
		size_t len = executor_pidfile_format(&pf, text, sizeof(text));
		CHECK(executor_pidfile_parse(text, len, &back) == 0, "'%s' does not parse", text);
		CHECK(back.executor_pid == pf.executor_pid && back.executor_start == pf.executor_start &&
		    back.task_pid == pf.task_pid && back.start_ms == pf.start_ms, "the .pid changed through '%s'", text);
	}
	if (executor_started_parse(p, n, &pid, &ms) == 0)
		CHECK(pid > 0 && ms >= 0, "'S' gave pid %d, start %lld", (int)pid, (long long)ms);
	if (executor_failed_parse(p, n, &e, msg, sizeof(msg)) == 0)
		CHECK(e > 0 && strlen(msg) < sizeof(msg), "'F' gave errno %d", e);
	(void)executor_stat_start_time(p, n, &ticks);
}

/* How one way of feeding the reader went: a digest of the frames, their count, and the error. */
struct feed {
	uint64_t digest;
	size_t frames;
	int rc;
};

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Feed the input in pieces of step bytes (0: pseudo-random sizes). */
static struct feed feed_reader(const char *p, size_t n, size_t step)
{
	struct executor_reader r;
	struct executor_frame f;
	struct feed out = {1469598103934665603ull, 0, 0};
	uint64_t seed = 88172645463325252ull;
	size_t pos = 0;
	char err[256];

	executor_reader_init(&r);
	while (pos < n && out.rc == 0) {
		size_t piece = step ? step : 1 + (size_t)(next_rand(&seed) % 97);
		const char *at = p + pos;
		size_t left = piece < n - pos ? piece : n - pos;
		int rc;

		pos += left;
		while ((rc = executor_reader_feed(&r, &at, &left, &f, err, sizeof(err))) == 1) {
			CHECK(strchr("SFOE", f.h.type) && f.h.type && f.h.len <= EXECUTOR_FRAME_MAX &&
			    f.h.stream <= (f.h.type == 'O'), "a bad frame: type %d, stream %d, %u bytes", f.h.type,
			    f.h.stream, (unsigned)f.h.len);
			out.frames++;
			out.digest = (out.digest ^ f.h.type ^ (uint64_t)f.h.stream << 8 ^ (uint64_t)f.h.len << 16) *
			    1099511628211ull;
			for (uint32_t i = 0; i < f.h.len; i++)
				out.digest = (out.digest ^ (uint8_t)f.payload[i]) * 1099511628211ull;
		}
		out.rc = rc;
		CHECK(rc < 0 || left == 0, "the reader left %zu bytes of a piece", left);
	}
	executor_reader_free(&r);
	return out;
}

static void check_reader(const char *p, size_t n)
{
	struct feed whole = feed_reader(p, n, n ? n : 1), bytes = feed_reader(p, n, 1), pieces = feed_reader(p, n, 0);

	CHECK(whole.rc == bytes.rc && whole.rc == pieces.rc, "errors %d, %d, %d", whole.rc, bytes.rc, pieces.rc);
	CHECK(whole.frames == bytes.frames && whole.frames == pieces.frames, "%zu, %zu, %zu frames", whole.frames,
	    bytes.frames, pieces.frames);
	CHECK(whole.digest == bytes.digest && whole.digest == pieces.digest, "the frames differ");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;

	check_spec(p, size);
	check_result(p, size);
	check_small(p, size);
	check_reader(p, size);
	return 0;
}
