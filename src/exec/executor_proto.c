#include "exec/executor_proto.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec/exec.h"
#include "util/buf.h"
#include "util/xmalloc.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* A spec key: how many times it may appear and what its value is. */
enum key_kind { KEY_STR, KEY_LIST, KEY_BOOL, KEY_NUM };

struct spec_key {
	const char *name;
	enum key_kind kind;
	bool required;
	uint64_t max;  /* KEY_NUM */
	size_t offset; /* of the const char * or uint64_t member; KEY_LIST: unused */
};

#define STR_KEY(name, member, req) {name, KEY_STR, req, 0, offsetof(struct executor_spec, member)}
#define NUM_KEY(name, member, max) {name, KEY_NUM, false, max, offsetof(struct executor_spec, member)}

static const struct spec_key spec_keys[] = {
	STR_KEY("prog", prog, true),
	{"arg", KEY_LIST, true, 0, 0},
	{"env", KEY_LIST, false, 0, 0},
	STR_KEY("cwd", cwd, false),
	STR_KEY("out", out_path[0], false),
	STR_KEY("err", out_path[1], false),
	{"lazy", KEY_BOOL, false, 1, offsetof(struct executor_spec, lazy)},
	NUM_KEY("cap_head", cap_head, EXECUTOR_CAP_MAX),
	NUM_KEY("cap_tail", cap_tail, EXECUTOR_CAP_MAX),
	NUM_KEY("deadline_ms", deadline_ms, UINT64_MAX),
	NUM_KEY("grace_ms", grace_ms, UINT64_MAX),
	NUM_KEY("drain_ms", drain_ms, UINT64_MAX),
	STR_KEY("journal", journal, true),
	NUM_KEY("cg_version", cg_version, 2),
	STR_KEY("cg_memory", cg_dir[0], false),
	STR_KEY("cg_cpu", cg_dir[1], false),
	STR_KEY("cg_cpuacct", cg_dir[2], false),
	STR_KEY("cg_pids", cg_dir[3], false),
	NUM_KEY("mem_limit", mem_limit, UINT64_MAX),
	NUM_KEY("cpu_quota_us", cpu_quota_us, UINT64_MAX),
	NUM_KEY("pids_max", pids_max, UINT64_MAX),
	STR_KEY("lease", lease, false),
	STR_KEY("order", order_path, false),
};
#define KEY_ARG 1
#define KEY_ENV 2

void executor_spec_init(struct executor_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->lazy = true;
	s->cap_head = 65536;
	s->cap_tail = 65536;
	s->grace_ms = 5000;
	s->drain_ms = 2000;
}

void executor_spec_free(struct executor_spec *s)
{
	free(s->mem_);
	free(s->vec_);
	executor_spec_init(s);
}

/* A decimal number of 1 to 20 digits that fits in 64 bits. */
static bool parse_u64(const char *p, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 20)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(p[i] - '0');
		if (p[i] < '0' || p[i] > '9' || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* The same with an optional '-', within [min, max]. */
static bool parse_i64(const char *p, size_t n, int64_t min, int64_t max, int64_t *out)
{
	bool neg = n > 0 && p[0] == '-';
	uint64_t mag;
	int64_t v;

	if (!parse_u64(p + neg, n - neg, &mag) || mag > (uint64_t)INT64_MAX + neg)
		return false;
	v = neg ? (mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag) : (int64_t)mag;
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Up to 40 bytes of an untrusted key for a message, other bytes than printable ASCII as '?'. */
static const char *printable(const char *s, size_t n, char out[48])
{
	size_t i;

	for (i = 0; i < n && i < 40; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (n > 40)
		memcpy(out + i, "...", 4);
	else
		out[i] = '\0';
	return out;
}

static void put_record(struct buf *b, const char *key, const char *value, int *rc)
{
	if (*rc == 0)
		*rc = buf_append(b, key, strlen(key) + 1);
	if (*rc == 0)
		*rc = buf_append(b, value, strlen(value) + 1);
}

static void put_number(struct buf *b, const char *key, uint64_t v, int *rc)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRIu64, v);
	put_record(b, key, num, rc);
}

/* Refuse what the decoder would refuse. */
static int check_spec(const struct executor_spec *s, char *err, size_t errlen)
{
	static const char *const names[] = {"prog", "arg", "journal", "cwd", "out", "err", "lease"};
	const char *const values[] = {s->prog, NULL, s->journal, s->cwd, s->out_path[0], s->out_path[1], s->lease};

	for (size_t i = 0; i < COUNT(names); i++) {
		bool absent = i == 1 ? !s->argv || !s->argv[0] : !values[i];
		if ((absent && i < 3) || (!absent && i != 1 && !*values[i])) {
			snprintf(err, errlen, "spec: %s '%s'", absent ? "missing" : "empty", names[i]);
			return -EINVAL;
		}
	}
	if (s->cap_head > EXECUTOR_CAP_MAX || s->cap_tail > EXECUTOR_CAP_MAX) {
		const char *key = s->cap_head > EXECUTOR_CAP_MAX ? "cap_head" : "cap_tail";
		snprintf(err, errlen, "spec: '%s' over %" PRIu64, key, EXECUTOR_CAP_MAX);
		return -EINVAL;
	}
	if (s->order_path && !*s->order_path) {
		snprintf(err, errlen, "spec: empty 'order'");
		return -EINVAL;
	}
	for (char *const *e = s->envp; e && *e; e++) {
		if (!strchr(*e, '=') || **e == '=') {
			snprintf(err, errlen, "spec: 'env' is not NAME=value: '%s'", *e);
			return -EINVAL;
		}
	}
	return 0;
}

int executor_spec_encode(const struct executor_spec *s, struct buf *out, char *err, size_t errlen)
{
	static const char *const paths[] = {"out", "err"};
	size_t start = out->len;
	int rc = check_spec(s, err, errlen);

	if (rc < 0)
		return rc;
	put_record(out, "prog", s->prog, &rc);
	for (char *const *a = s->argv; *a; a++)
		put_record(out, "arg", *a, &rc);
	for (char *const *e = s->envp; e && *e; e++)
		put_record(out, "env", *e, &rc);
	if (s->cwd)
		put_record(out, "cwd", s->cwd, &rc);
	for (int i = 0; i < 2; i++)
		if (s->out_path[i])
			put_record(out, paths[i], s->out_path[i], &rc);
	put_record(out, "lazy", s->lazy ? "1" : "0", &rc);
	put_number(out, "cap_head", s->cap_head, &rc);
	put_number(out, "cap_tail", s->cap_tail, &rc);
	put_number(out, "deadline_ms", s->deadline_ms, &rc);
	put_number(out, "grace_ms", s->grace_ms, &rc);
	put_number(out, "drain_ms", s->drain_ms, &rc);
	put_record(out, "journal", s->journal, &rc);
	if (s->cg_version) {
		static const char *const cg_keys[] = {"cg_memory", "cg_cpu", "cg_cpuacct", "cg_pids"};
		put_number(out, "cg_version", s->cg_version, &rc);
		for (size_t i = 0; i < COUNT(cg_keys); i++)
			if (s->cg_dir[i] && *s->cg_dir[i])
				put_record(out, cg_keys[i], s->cg_dir[i], &rc);
		put_number(out, "mem_limit", s->mem_limit, &rc);
		put_number(out, "cpu_quota_us", s->cpu_quota_us, &rc);
		put_number(out, "pids_max", s->pids_max, &rc);
	}
	if (s->lease)
		put_record(out, "lease", s->lease, &rc);
	if (s->order_path)
		put_record(out, "order", s->order_path, &rc);
	if (rc == 0 && out->len - start > EXECUTOR_SPEC_MAX)
		rc = -E2BIG;
	if (rc < 0) {
		snprintf(err, errlen, "spec: over %zu bytes", EXECUTOR_SPEC_MAX);
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
	}
	return rc;
}

/* The record at *pos of data: its key and value (both NUL-terminated in data). 1 and *pos past it, 0 at the end,
 * -EINVAL for a truncated one. */
static int next_record(const char *data, size_t len, size_t *pos, const char **key, const char **value, char *err,
    size_t errlen)
{
	const char *k = data + *pos, *v;
	size_t klen, vlen;
	char shown[48];

	if (*pos >= len)
		return 0;
	klen = strnlen(k, len - *pos);
	if (*pos + klen == len) {
		snprintf(err, errlen, "spec: truncated record: key '%s' has no end", printable(k, klen, shown));
		return -EINVAL;
	}
	v = k + klen + 1;
	vlen = strnlen(v, len - *pos - klen - 1);
	if (*pos + klen + 1 + vlen == len) {
		snprintf(err, errlen, "spec: truncated record '%s': its value has no end", printable(k, klen, shown));
		return -EINVAL;
	}
	*pos += klen + 1 + vlen + 1;
	*key = k;
	*value = v;
	return 1;
}

/* Check one record's value and store it in s (lists: counted only). */
static int take_record(const struct spec_key *k, const char *value, struct executor_spec *s, size_t *count,
    char *err, size_t errlen)
{
	char *base = (char *)s;
	uint64_t v;

	switch (k->kind) {
	case KEY_STR:
		if (!*value) {
			snprintf(err, errlen, "spec: empty '%s'", k->name);
			return -EINVAL;
		}
		memcpy(base + k->offset, &value, sizeof(value));
		return 0;
	case KEY_LIST:
		if (k == &spec_keys[KEY_ENV] && (!strchr(value, '=') || *value == '=')) {
			snprintf(err, errlen, "spec: 'env' is not NAME=value");
			return -EINVAL;
		}
		(*count)++;
		return 0;
	case KEY_BOOL:
	case KEY_NUM:
		if ((k->kind == KEY_BOOL && strlen(value) != 1) || !parse_u64(value, strlen(value), &v) || v > k->max) {
			char shown[48];
			snprintf(err, errlen, "spec: bad number for '%s': '%s'", k->name,
			    printable(value, strlen(value), shown));
			return -EINVAL;
		}
		if (k->kind == KEY_BOOL)
			s->lazy = v == 1;
		else
			memcpy(base + k->offset, &v, sizeof(v));
		return 0;
	}
	return -EINVAL;
}

/* First pass over the copy in s->mem_: check every record, fill the single keys, count the lists. */
static int decode_records(size_t len, struct executor_spec *s, size_t counts[COUNT(spec_keys)], char *err,
    size_t errlen)
{
	const char *key, *value;
	size_t pos = 0;
	int rc;

	while ((rc = next_record(s->mem_, len, &pos, &key, &value, err, errlen)) > 0) {
		size_t i;
		char shown[48];

		for (i = 0; i < COUNT(spec_keys) && strcmp(key, spec_keys[i].name) != 0; i++)
			;
		if (i == COUNT(spec_keys)) {
			snprintf(err, errlen, "spec: unknown key '%s'", printable(key, strlen(key), shown));
			return -EINVAL;
		}
		if (spec_keys[i].kind != KEY_LIST && counts[i]++ > 0) {
			snprintf(err, errlen, "spec: duplicate '%s'", spec_keys[i].name);
			return -EINVAL;
		}
		if ((rc = take_record(&spec_keys[i], value, s, &counts[i], err, errlen)) < 0)
			return rc;
	}
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < COUNT(spec_keys); i++) {
		if (spec_keys[i].required && counts[i] == 0) {
			snprintf(err, errlen, "spec: missing '%s'", spec_keys[i].name);
			return -EINVAL;
		}
	}
	return 0;
}

int executor_spec_decode(const char *data, size_t len, struct executor_spec *out, char *err, size_t errlen)
{
	size_t counts[COUNT(spec_keys)] = {0}, pos = 0, a = 0, e;
	const char *key, *value;
	int rc;

	executor_spec_init(out);
	if (len > EXECUTOR_SPEC_MAX) {
		snprintf(err, errlen, "spec: %zu bytes, over the limit of %zu", len, EXECUTOR_SPEC_MAX);
		return -E2BIG;
	}
	out->mem_ = xmalloc(len ? len : 1);
	if (len)
		memcpy(out->mem_, data, len);
	rc = decode_records(len, out, counts, err, errlen);
	if (rc < 0) {
		executor_spec_free(out);
		return rc;
	}
	/* second pass: the lists, argv then envp in one NULL-separated vector */
	out->vec_ = xcalloc(counts[KEY_ARG] + counts[KEY_ENV] + 2, sizeof(char *));
	e = counts[KEY_ARG] + 1;
	while (next_record(out->mem_, len, &pos, &key, &value, err, errlen) > 0) {
		char *v = out->mem_ + (value - out->mem_);
		if (strcmp(key, "arg") == 0)
			out->vec_[a++] = v;
		else if (strcmp(key, "env") == 0)
			out->vec_[e++] = v;
	}
	out->argv = out->vec_;
	out->envp = out->vec_ + counts[KEY_ARG] + 1;
	return 0;
}

void executor_frame_header_encode(uint8_t out[EXECUTOR_FRAME_HEADER], const struct executor_frame_header *h)
{
	out[0] = h->type;
	out[1] = h->stream;
	out[2] = out[3] = 0;
	for (int i = 0; i < 4; i++)
		out[4 + i] = (uint8_t)(h->len >> (8 * i));
}

int executor_frame_header_decode(const uint8_t in[EXECUTOR_FRAME_HEADER], struct executor_frame_header *h,
    char *err, size_t errlen)
{
	h->type = in[0];
	h->stream = in[1];
	h->len = (uint32_t)in[4] | (uint32_t)in[5] << 8 | (uint32_t)in[6] << 16 | (uint32_t)in[7] << 24;
	if (!strchr("SFOE", h->type) || h->type == 0) {
		snprintf(err, errlen, "events: unknown frame type 0x%02x", h->type);
		return -EPROTO;
	}
	if (h->stream > (h->type == EXECUTOR_FRAME_OUTPUT) || in[2] || in[3]) {
		snprintf(err, errlen, "events: bad stream or reserved bytes in a '%c' frame", h->type);
		return -EPROTO;
	}
	if (h->len > EXECUTOR_FRAME_MAX) {
		snprintf(err, errlen, "events: '%c' frame of %" PRIu32 " bytes, over %d", h->type, h->len,
		    EXECUTOR_FRAME_MAX);
		return -EPROTO;
	}
	return 0;
}

void executor_reader_init(struct executor_reader *r)
{
	memset(r, 0, sizeof(*r));
}

void executor_reader_free(struct executor_reader *r)
{
	free(r->buf);
	executor_reader_init(r);
}

bool executor_reader_partial(const struct executor_reader *r)
{
	return r->hdr_len > 0;
}

static void advance(const char **data, size_t *len, size_t n)
{
	*data += n;
	*len -= n;
}

int executor_reader_feed(struct executor_reader *r, const char **data, size_t *len, struct executor_frame *out,
    char *err, size_t errlen)
{
	size_t n;

	if (r->error) {
		snprintf(err, errlen, "events: the stream broke at a bad frame header");
		return r->error;
	}
	if (r->hdr_len < EXECUTOR_FRAME_HEADER) {
		n = EXECUTOR_FRAME_HEADER - r->hdr_len < *len ? EXECUTOR_FRAME_HEADER - r->hdr_len : *len;
		memcpy(r->hdr + r->hdr_len, *data, n);
		r->hdr_len += n;
		advance(data, len, n);
		if (r->hdr_len < EXECUTOR_FRAME_HEADER)
			return 0;
		if ((r->error = executor_frame_header_decode(r->hdr, &r->h, err, errlen)) < 0)
			return r->error;
		r->got = 0;
		if (*len >= r->h.len) {
			/* the whole payload is at hand: no copy */
			out->h = r->h;
			out->payload = *data;
			advance(data, len, r->h.len);
			r->hdr_len = 0;
			return 1;
		}
		if (r->buf_cap < r->h.len) {
			r->buf = xrealloc(r->buf, r->h.len);
			r->buf_cap = r->h.len;
		}
	}
	n = r->h.len - r->got < *len ? r->h.len - r->got : *len;
	memcpy(r->buf + r->got, *data, n);
	r->got += n;
	advance(data, len, n);
	if (r->got < r->h.len)
		return 0;
	out->h = r->h;
	out->payload = r->buf;
	r->hdr_len = 0;
	return 1;
}

size_t executor_started_format(char *out, size_t outlen, pid_t task_pid, int64_t start_ms)
{
	int n = snprintf(out, outlen, "%d %" PRId64, (int)task_pid, start_ms);
	return n < 0 ? 0 : (size_t)n < outlen ? (size_t)n : outlen - 1;
}

/* Split "<number> <rest>" at its first space. */
static bool split_word(const char *p, size_t len, size_t *word_len)
{
	const char *sp = memchr(p, ' ', len);

	if (!sp)
		return false;
	*word_len = (size_t)(sp - p);
	return true;
}

int executor_started_parse(const char *p, size_t len, pid_t *task_pid, int64_t *start_ms)
{
	size_t w;
	int64_t pid, ms;

	if (!split_word(p, len, &w) || !parse_i64(p, w, 1, INT32_MAX, &pid) ||
	    !parse_i64(p + w + 1, len - w - 1, 0, INT64_MAX, &ms))
		return -EINVAL;
	*task_pid = (pid_t)pid;
	*start_ms = ms;
	return 0;
}

size_t executor_failed_format(char *out, size_t outlen, int errnum, const char *msg)
{
	int n = snprintf(out, outlen, "%d %s", errnum, msg);
	return n < 0 ? 0 : (size_t)n < outlen ? (size_t)n : outlen - 1;
}

int executor_failed_parse(const char *p, size_t len, int *errnum, char *msg, size_t msglen)
{
	size_t w, mlen;
	int64_t e;

	if (!split_word(p, len, &w) || !parse_i64(p, w, 1, 4095, &e) || msglen == 0)
		return -EINVAL;
	mlen = len - w - 1 < msglen - 1 ? len - w - 1 : msglen - 1;
	memcpy(msg, p + w + 1, mlen);
	msg[mlen] = '\0';
	*errnum = (int)e;
	return 0;
}

/* A result key: its member and its range. */
enum result_type { RES_INT, RES_BOOL, RES_I64, RES_U64, RES_PID };

struct result_key {
	const char *name;
	enum result_type type;
	int64_t min, max;
	size_t offset;
	bool optional;
};

#define RES(name, type, min, max) {#name, type, min, max, offsetof(struct executor_result, name), false}
#define RES_OPT(name, type, min, max) {#name, type, min, max, offsetof(struct executor_result, name), true}

static const struct result_key result_keys[] = {
	RES(exit_code, RES_INT, -1, 255),
	RES(term_signal, RES_INT, 0, 127),
	RES(core_dumped, RES_BOOL, 0, 1),
	RES(timed_out, RES_BOOL, 0, 1),
	RES(killed, RES_BOOL, 0, 1),
	RES(start_ms, RES_I64, 0, INT64_MAX),
	RES(end_ms, RES_I64, 0, INT64_MAX),
	RES(duration_us, RES_I64, 0, INT64_MAX),
	RES(stdout_bytes, RES_U64, 0, 0),
	RES(stdout_omitted, RES_U64, 0, 0),
	RES(stderr_bytes, RES_U64, 0, 0),
	RES(stderr_omitted, RES_U64, 0, 0),
	RES(io_error, RES_INT, -4095, 0),
	RES(user_cpu_us, RES_I64, -1, INT64_MAX),
	RES(system_cpu_us, RES_I64, -1, INT64_MAX),
	RES(max_rss_kib, RES_I64, -1, INT64_MAX),
	RES(task_pid, RES_PID, 1, INT32_MAX),
	RES_OPT(peak_mem_bytes, RES_I64, -1, INT64_MAX),
	RES_OPT(oom_killed, RES_BOOL, 0, 1),
	RES_OPT(mem_limit, RES_I64, 0, INT64_MAX),
	RES_OPT(cgroup, RES_BOOL, 0, 1),
	RES_OPT(lease_lapsed, RES_BOOL, 0, 1),
	RES_OPT(lease_silent_ms, RES_I64, 0, INT64_MAX),
};

size_t executor_result_format(const struct executor_result *r, char *out, size_t outlen)
{
	const char *base = (const char *)r;
	size_t n = 0;

	if (outlen)
		out[0] = '\0';
	for (size_t i = 0; i < COUNT(result_keys) && n < outlen; i++) {
		const struct result_key *k = &result_keys[i];
		const void *m = base + k->offset;
		int w;

		if (k->type == RES_U64) {
			uint64_t v;
			memcpy(&v, m, sizeof(v));
			w = snprintf(out + n, outlen - n, "%s %" PRIu64 "\n", k->name, v);
		} else {
			int64_t v;
			if (k->type == RES_I64) {
				memcpy(&v, m, sizeof(v));
			} else if (k->type == RES_BOOL) {
				bool b;
				memcpy(&b, m, sizeof(b));
				v = b;
			} else {
				int iv; /* int and pid_t */
				memcpy(&iv, m, sizeof(iv));
				v = iv;
			}
			w = snprintf(out + n, outlen - n, "%s %" PRId64 "\n", k->name, v);
		}
		n += w > 0 ? (size_t)w : 0;
	}
	return n < outlen ? n : outlen ? outlen - 1 : 0;
}

/* Check and store one known key's value. */
static bool result_store(const struct result_key *k, const char *v, size_t vlen, struct executor_result *out)
{
	char *m = (char *)out + k->offset;
	int64_t iv;

	if (k->type == RES_U64) {
		uint64_t u;
		if (!parse_u64(v, vlen, &u))
			return false;
		memcpy(m, &u, sizeof(u));
		return true;
	}
	if (!parse_i64(v, vlen, k->min, k->max, &iv))
		return false;
	if (k->type == RES_I64) {
		memcpy(m, &iv, sizeof(iv));
	} else if (k->type == RES_BOOL) {
		bool b = iv != 0;
		memcpy(m, &b, sizeof(b));
	} else {
		int i = (int)iv;
		memcpy(m, &i, sizeof(i));
	}
	return true;
}

int executor_result_parse(const char *p, size_t len, struct executor_result *out, char *err, size_t errlen)
{
	bool seen[COUNT(result_keys)] = {false};
	const char *end = p + len;
	char shown[48];

	memset(out, 0, sizeof(*out));
	out->peak_mem_bytes = -1;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *sp;
		size_t i, klen;

		if (!nl) {
			printable(p, (size_t)(end - p), shown);
			snprintf(err, errlen, "result: the last line '%s' has no end", shown);
			return -EINVAL;
		}
		sp = memchr(p, ' ', (size_t)(nl - p));
		if (!sp || sp == p) {
			printable(p, (size_t)(nl - p), shown);
			snprintf(err, errlen, "result: line '%s' is not 'key value'", shown);
			return -EINVAL;
		}
		klen = (size_t)(sp - p);
		for (i = 0; i < COUNT(result_keys); i++)
			if (strlen(result_keys[i].name) == klen && memcmp(result_keys[i].name, p, klen) == 0)
				break;
		if (i < COUNT(result_keys)) {
			if (seen[i]) {
				snprintf(err, errlen, "result: duplicate '%s'", result_keys[i].name);
				return -EINVAL;
			}
			if (!result_store(&result_keys[i], sp + 1, (size_t)(nl - sp - 1), out)) {
				snprintf(err, errlen, "result: bad value for '%s': '%s'", result_keys[i].name,
				    printable(sp + 1, (size_t)(nl - sp - 1), shown));
				return -EINVAL;
			}
			seen[i] = true;
		}
		p = nl + 1;
	}
	for (size_t i = 0; i < COUNT(result_keys); i++) {
		if (!seen[i] && !result_keys[i].optional) {
			snprintf(err, errlen, "result: missing '%s'", result_keys[i].name);
			return -EINVAL;
		}
	}
	return 0;
}

void executor_result_to_exec(const struct executor_result *r, struct exec_result *out)
{
	memset(out, 0, sizeof(*out));
	out->exit_code = r->exit_code;
	out->term_signal = r->term_signal;
	out->core_dumped = r->core_dumped;
	out->timed_out = r->timed_out;
	out->killed = r->killed;
	out->status_lost = r->exit_code < 0 && r->term_signal == 0;
	out->start_ms = r->start_ms;
	out->end_ms = r->end_ms;
	out->duration_us = r->duration_us;
	out->stream[0].bytes = r->stdout_bytes;
	out->stream[0].omitted = r->stdout_omitted;
	out->stream[1].bytes = r->stderr_bytes;
	out->stream[1].omitted = r->stderr_omitted;
	for (int s = 0; s < 2; s++)
		out->stream[s].truncated = out->stream[s].omitted > 0;
	out->io_error = r->io_error;
	out->user_cpu_us = r->user_cpu_us;
	out->system_cpu_us = r->system_cpu_us;
	out->max_rss_kib = r->max_rss_kib;
	out->peak_mem_bytes = r->peak_mem_bytes >= 0 ? r->peak_mem_bytes
	    : r->max_rss_kib >= 0 ? r->max_rss_kib * 1024 : -1;
	out->oom_killed = r->oom_killed;
	out->mem_limit = r->mem_limit;
	out->cgroup = r->cgroup;
	out->lease_lapsed = r->lease_lapsed;
	out->lease_silent_ms = r->lease_silent_ms;
}

size_t executor_pidfile_format(const struct executor_pidfile *p, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%d %" PRIu64 " %d %" PRId64 "\n", (int)p->executor_pid, p->executor_start,
	    (int)p->task_pid, p->start_ms);
	return n < 0 ? 0 : (size_t)n < outlen ? (size_t)n : outlen - 1;
}

int executor_pidfile_parse(const char *p, size_t len, struct executor_pidfile *out)
{
	const char *end = p + len, *f[4];
	size_t flen[4];
	int64_t epid, tpid, ms;
	uint64_t start;

	if (len == 0 || p[len - 1] != '\n')
		return -EINVAL;
	end--;
	for (int i = 0; i < 4; i++) {
		const char *sp = i < 3 ? memchr(p, ' ', (size_t)(end - p)) : end;
		if (!sp)
			return -EINVAL;
		f[i] = p;
		flen[i] = (size_t)(sp - p);
		p = sp + 1;
	}
	if (!parse_i64(f[0], flen[0], 1, INT32_MAX, &epid) || !parse_u64(f[1], flen[1], &start) ||
	    !parse_i64(f[2], flen[2], 1, INT32_MAX, &tpid) || !parse_i64(f[3], flen[3], 0, INT64_MAX, &ms))
		return -EINVAL;
	*out = (struct executor_pidfile){(pid_t)epid, start, (pid_t)tpid, ms};
	return 0;
}

int executor_stat_start_time(const char *stat, size_t len, uint64_t *out)
{
	const char *p = stat, *end = stat + len;

	/* the command name (field 2) may hold spaces and parentheses: count from its last ')' */
	for (const char *q = stat; q < end; q++)
		if (*q == ')')
			p = q + 1;
	if (p == stat)
		return -EINVAL;
	/* fields 3 to 21, each after one space */
	for (int field = 3; field <= 22; field++) {
		const char *word, *sp;
		if (p >= end || *p != ' ')
			return -EINVAL;
		word = p + 1;
		sp = memchr(word, ' ', (size_t)(end - word));
		if (!sp)
			sp = memchr(word, '\n', (size_t)(end - word));
		if (!sp)
			sp = end;
		if (field == 22)
			return parse_u64(word, (size_t)(sp - word), out) ? 0 : -EINVAL;
		p = sp;
	}
	return -EINVAL;
}

int executor_proc_start_time(pid_t pid, uint64_t *out)
{
	char path[64], stat[1024];
	ssize_t n;
	int fd;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/stat");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	do
		n = read(fd, stat, sizeof(stat));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return (int)n;
	/* the state after "pid (comm) ": an exited process (a zombie nobody reaped yet) is gone too */
	const char *end = memrchr(stat, ')', (size_t)n);
	if (end && end + 2 < stat + n && (end[2] == 'Z' || end[2] == 'X'))
		return -ESRCH;
	return executor_stat_start_time(stat, (size_t)n, out);
}
