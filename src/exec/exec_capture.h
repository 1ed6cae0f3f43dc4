/* Capped capture of one output stream into a file (private to exec): the first head_cap bytes go to the file as
 * they arrive, the last tail_cap bytes wait in a ring buffer, and at the end the file gets a marker line saying
 * how many bytes were dropped in between (only when some were), then the tail. */
#ifndef GNOMON_EXEC_EXEC_CAPTURE_H
#define GNOMON_EXEC_EXEC_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct exec_capture {
	int fd;             /* the output file, owned; -1: not open (yet) */
	char *path;         /* owned; set while the file is still to be created at the first byte (lazy) */
	size_t head_cap, tail_cap;
	uint64_t total;     /* bytes fed */
	char *ring;         /* tail_cap bytes, allocated once the output passes the head */
	size_t ring_len;    /* valid bytes in ring */
	size_t ring_pos;    /* where the next byte goes */
	int error;          /* first write error (negative errno), else 0 */
	bool done;          /* capture_finish() completed the file */
};

/* Take ownership of fd (-1 for none). */
void capture_init(struct exec_capture *c, int fd, size_t head_cap, size_t tail_cap);
/* Create the file at path when the first byte arrives (no file at all for an empty stream). */
void capture_init_lazy(struct exec_capture *c, const char *path, size_t head_cap, size_t tail_cap);
/* Open an output file as exec does; returns the fd or -errno. */
int capture_open(const char *path) __attribute__((warn_unused_result));
void capture_feed(struct exec_capture *c, const char *data, size_t len);
/* Write the marker and the tail, close the file, free the ring. Safe to call twice. */
void capture_finish(struct exec_capture *c);
/* The marker line capture_finish() writes (or wrote) into out (at least 64 bytes); returns its length, 0 when
 * nothing was dropped or the stream has no file. */
size_t capture_marker(const struct exec_capture *c, char *out, size_t outlen);
/* Bytes dropped between the head and the tail. */
uint64_t capture_omitted(const struct exec_capture *c);

#endif
