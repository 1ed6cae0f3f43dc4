#include "exec/exec_order.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
#include "util/xmalloc.h"

#define PRUNE_MIN 64 /* tail runs before the first prune */

uint32_t order_entry(int stream, uint32_t len)
{
	return (stream ? ORDER_STREAM_BIT : 0) | len;
}

void order_entry_put(uint8_t out[ORDER_ENTRY_SIZE], uint32_t e)
{
	for (int i = 0; i < ORDER_ENTRY_SIZE; i++)
		out[i] = (uint8_t)(e >> (8 * i));
}

uint32_t order_entry_get(const uint8_t in[ORDER_ENTRY_SIZE])
{
	return (uint32_t)in[0] | (uint32_t)in[1] << 8 | (uint32_t)in[2] << 16 | (uint32_t)in[3] << 24;
}

void order_rec_init(struct order_rec *r, uint64_t head_cap, uint64_t tail_cap)
{
	memset(r, 0, sizeof(*r));
	r->head_cap = head_cap;
	r->tail_cap = tail_cap;
	r->prune_at = PRUNE_MIN;
}

void order_rec_free(struct order_rec *r)
{
	free(r->tail);
	r->tail = NULL;
	r->ntail = r->alloc = 0;
}

/* Drop the runs left empty and join neighbours of one stream and kind. */
static void compact(struct order_rec *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->ntail; i++) {
		struct order_run *t = &r->tail[i];
		if (t->len == 0)
			continue;
		if (n > 0 && r->tail[n - 1].stream == t->stream && r->tail[n - 1].head == t->head)
			r->tail[n - 1].len += t->len;
		else
			r->tail[n++] = *t;
	}
	r->ntail = n;
}

/* Drop the bytes past each stream's head that are no longer in its tail (the oldest ones). */
static void prune(struct order_rec *r)
{
	uint64_t drop[2];

	for (int s = 0; s < 2; s++)
		drop[s] = r->past[s] > r->tail_cap ? r->past[s] - r->tail_cap : 0;
	for (size_t i = 0; i < r->ntail && (drop[0] || drop[1]); i++) {
		struct order_run *t = &r->tail[i];
		uint64_t d = t->head ? 0 : (drop[t->stream] < t->len ? drop[t->stream] : t->len);
		t->len -= d;
		drop[t->stream] -= d;
		r->past[t->stream] -= d;
	}
	compact(r);
	r->prune_at = 2 * r->ntail + PRUNE_MIN;
}

static void tail_add(struct order_rec *r, int s, bool head, uint64_t len)
{
	struct order_run *last = r->ntail ? &r->tail[r->ntail - 1] : NULL;

	if (!head)
		r->past[s] += len;
	if (last && last->stream == s && last->head == head) {
		last->len += len;
		return;
	}
	if (r->ntail == r->alloc) {
		r->alloc = r->alloc ? 2 * r->alloc : PRUNE_MIN;
		r->tail = xrealloc(r->tail, r->alloc * sizeof(*r->tail));
	}
	r->tail[r->ntail++] = (struct order_run){s, head, len};
	if (r->ntail > r->prune_at)
		prune(r);
}

long order_rec_feed(struct order_rec *r, int s, uint64_t len)
{
	uint64_t head = r->total[s] < r->head_cap ? r->head_cap - r->total[s] : 0;
	long idx = -1;

	if (head > len)
		head = len;
	r->total[s] += len;
	if (head && r->ntail == 0) {
		/* no stream has passed its head yet: the run goes to the file now */
		uint32_t last = r->last & ~ORDER_STREAM_BIT;
		if (r->nhead && (int)(r->last >> 31) == s && last + head <= ORDER_RUN_MAX) {
			r->last += (uint32_t)head;
			idx = (long)r->nhead - 1;
		} else {
			r->last = order_entry(s, (uint32_t)head);
			idx = (long)r->nhead++;
		}
	} else if (head) {
		tail_add(r, s, true, head);
	}
	if (len > head)
		tail_add(r, s, false, len - head);
	return idx;
}

/* Append a run as entries (split at ORDER_RUN_MAX), joined with the one before of its stream. */
static void put_run(uint32_t *out, size_t *n, int s, uint64_t len)
{
	while (len > 0) {
		uint32_t *prev = *n ? &out[*n - 1] : NULL;
		uint64_t room = prev && (int)(*prev >> 31) == s ? ORDER_RUN_MAX - (*prev & ~ORDER_STREAM_BIT) : 0;
		uint64_t k;
		if (room) {
			k = len < room ? len : room;
			*prev += (uint32_t)k;
		} else {
			k = len < ORDER_RUN_MAX ? len : ORDER_RUN_MAX;
			out[(*n)++] = order_entry(s, (uint32_t)k);
		}
		len -= k;
	}
}

void order_rec_finish(struct order_rec *r, const size_t marker_len[2], uint32_t **out, size_t *n)
{
	bool marked[2] = {marker_len[0] == 0, marker_len[1] == 0};
	size_t max;

	prune(r);
	*n = 0;
	/* every run may need splitting: a bound on the entries, runs of up to 2^64 bytes being 2^33 entries at most,
	 * but none is longer than a cap (EXECUTOR_CAP_MAX, 2^30) and a marker: 2 entries each */
	max = 2 * (r->ntail + 2);
	*out = xmalloc(max * sizeof(**out));
	for (size_t i = 0; i < r->ntail; i++) {
		const struct order_run *t = &r->tail[i];
		if (!t->head && !marked[t->stream]) {
			put_run(*out, n, t->stream, marker_len[t->stream]);
			marked[t->stream] = true;
		}
		put_run(*out, n, t->stream, t->len);
	}
	for (int s = 0; s < 2; s++)
		if (!marked[s])
			put_run(*out, n, s, marker_len[s]);
	if (*n == 0) {
		free(*out);
		*out = NULL;
	}
}

void exec_order_init(struct exec_order *o, const char *path, uint64_t head_cap, uint64_t tail_cap)
{
	memset(o, 0, sizeof(*o));
	o->fd = -1;
	order_rec_init(&o->rec, head_cap, tail_cap);
	if (!path)
		return;
	o->path = xstrdup(path);
	if (unlink(path) < 0 && errno != ENOENT)
		log_warn("executor: cannot remove '%s'", path);
}

/* Write entries at index idx of the file, creating it first. */
static void put_entries(struct exec_order *o, size_t idx, const uint32_t *e, size_t n)
{
	uint8_t buf[256 * ORDER_ENTRY_SIZE];

	if (o->error || n == 0)
		return;
	if (o->fd < 0 && (o->fd = open(o->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		o->error = -errno;
		log_warn("executor: cannot create '%s'", o->path);
		return;
	}
	while (n > 0 && !o->error) {
		size_t k = n < 256 ? n : 256, len = k * ORDER_ENTRY_SIZE, off = 0;
		for (size_t i = 0; i < k; i++)
			order_entry_put(buf + i * ORDER_ENTRY_SIZE, e[i]);
		while (off < len) {
			ssize_t w = pwrite(o->fd, buf + off, len - off, (off_t)(idx * ORDER_ENTRY_SIZE + off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				o->error = -errno;
				log_warn("executor: cannot write '%s'", o->path);
				break;
			}
			off += (size_t)w;
		}
		idx += k;
		e += k;
		n -= k;
	}
}

void exec_order_feed(struct exec_order *o, int s, size_t len)
{
	long idx;

	if (!o->path || o->done || len == 0)
		return;
	idx = order_rec_feed(&o->rec, s, len);
	if (idx >= 0)
		put_entries(o, (size_t)idx, &o->rec.last, 1);
}

void exec_order_finish(struct exec_order *o, const size_t marker_len[2])
{
	uint32_t *e;
	size_t n;

	if (!o->path || o->done)
		return;
	o->done = true;
	order_rec_finish(&o->rec, marker_len, &e, &n);
	put_entries(o, o->rec.nhead, e, n);
	free(e);
	if (o->fd >= 0 && close(o->fd) < 0 && !o->error)
		o->error = -errno;
	o->fd = -1;
}

void exec_order_free(struct exec_order *o)
{
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	free(o->path);
	o->path = NULL;
	order_rec_free(&o->rec);
}
