/* The arrival order of a task's two captured streams: the order record (written by exec with exec_capture.h, read
 * by history/run_merge.c).
 *
 * The record is a file of 4-byte little-endian entries, each a run of one stream's bytes as they lie in that
 * stream's capture file: bit 31 the stream (0 stdout, 1 stderr), bits 0-30 the byte count (at least 1). Taking each
 * run's bytes from its stream's file in turn gives both files' contents, marker lines included, in the order they
 * arrived (two entries in a row may be of one stream). It is bounded and consistent with the capture's caps: until
 * a stream passes its head, the runs are written as they arrive (the last entry rewritten in place while its stream
 * goes on); from then on they are kept in memory, the bytes that fall out of a stream's tail dropped as they do
 * (runs of head bytes stay), and appended at the end with each omitted-bytes marker placed just before its
 * stream's first tail byte. So the record holds at most one entry per kept byte, and each stream's runs add up to
 * its file. While the task runs, the bytes of a file past its stream's recorded runs are not placed yet. A stream
 * without a file (discarded) is not recorded. */
#ifndef GNOMON_EXEC_EXEC_ORDER_H
#define GNOMON_EXEC_EXEC_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ORDER_ENTRY_SIZE 4
#define ORDER_RUN_MAX ((uint32_t)0x7fffffff) /* bytes of one entry */
#define ORDER_STREAM_BIT ((uint32_t)1 << 31)

struct order_run {
	int stream;
	bool head;    /* bytes of the stream's head: never dropped */
	uint64_t len;
};

/* The pure part: what the record says, fed the chunks' sizes. */
struct order_rec {
	uint64_t head_cap, tail_cap;
	uint64_t total[2];        /* bytes fed per stream */
	size_t nhead;             /* head entries */
	uint32_t last;            /* the last head entry (valid when nhead > 0) */
	struct order_run *tail;   /* the runs since a stream passed its head, in arrival order */
	size_t ntail, alloc, prune_at;
	uint64_t past[2];         /* bytes of each stream past its head, in tail */
};

void order_rec_init(struct order_rec *r, uint64_t head_cap, uint64_t tail_cap);
void order_rec_free(struct order_rec *r);
/* A chunk of len bytes (at most ORDER_RUN_MAX) of stream s (0 or 1) arrived. Returns the index of the head entry
 * written or rewritten by it (its value: r->last), or -1 when the head record did not change. */
long order_rec_feed(struct order_rec *r, int s, uint64_t len) __attribute__((warn_unused_result));
/* The entries that end the record (after the head's), given each stream's marker length (0: none): into a new
 * array (*out, free() it; NULL when none) of *n entries. */
void order_rec_finish(struct order_rec *r, const size_t marker_len[2], uint32_t **out, size_t *n);

/* One entry's encoding. */
uint32_t order_entry(int stream, uint32_t len);
void order_entry_put(uint8_t out[ORDER_ENTRY_SIZE], uint32_t entry);
uint32_t order_entry_get(const uint8_t in[ORDER_ENTRY_SIZE]);

/* The record's file: created at its first entry (a stale one removed at the start). */
struct exec_order {
	struct order_rec rec;
	char *path;   /* NULL: no record */
	int fd;       /* -1 until created */
	int error;    /* the first write error (negative errno) */
	bool done;
};

/* path NULL: nothing is recorded. */
void exec_order_init(struct exec_order *o, const char *path, uint64_t head_cap, uint64_t tail_cap);
void exec_order_feed(struct exec_order *o, int s, size_t len);
/* Append the tails' runs and close the file (marker_len as order_rec_finish). Once; later calls do nothing. */
void exec_order_finish(struct exec_order *o, const size_t marker_len[2]);
/* Close and free what is left (after finish or not). */
void exec_order_free(struct exec_order *o);

#endif
