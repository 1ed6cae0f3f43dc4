/* A run's captured output (stdout and stderr), read through one interface by everything that shows it: the API
 * (GET /api/v1/runs/{id}/log, which the web UI and `gnomon logs -f` follow) and the notifier (the log tail in a
 * message). Backends keep the output where the runs' agent puts it: run_output_files.h reads the files that the
 * embedded agent (runner/runner_local.h) and the fleet (the remote agents' uploads) write on this machine;
 * run_output_pg.h keeps a durable copy of them in PostgreSQL besides, which any server reads.
 *
 * This is the output part of DESIGN.md's `history` component: history.h holds the ended runs' records, this the
 * output of every run, ended or not (a follower reads a running one's). A record removed from the history takes
 * its output with it (run_output_remove(), from history_prune()'s callback).
 *
 * Threads: open, read and close on the loop thread; tail may be called from any thread (the notifier's worker
 * reads tails). */
#ifndef GNOMON_HISTORY_RUN_OUTPUT_H
#define GNOMON_HISTORY_RUN_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* RUN_ORDER is the order record of the two (src/exec/exec_order.h), which every backend keeps as it keeps them:
 * absent for a run of an older agent or executor. */
enum run_stream { RUN_STDOUT = 0, RUN_STDERR = 1, RUN_ORDER = 2 };
#define RUN_NSTREAMS 3

/* Names one run's output: its task id. */
struct run_output_key {
	const char *task_id;
};

struct run_output;

/* An open stream of one run: what it holds now, and what the run writes later. */
struct run_output_reader {
	struct run_output *o;
};

/* The end of a fetch (run_output_fetch): status 0 with found (whether the durable copy holds the stream) and its
 * bytes (data, len: borrowed for the call), or a negative errno (found false). */
typedef void (*run_output_fetched_fn)(void *ctx, int status, bool found, const char *data, size_t len);
/* The end of a shipment (run_output_ship): 0 once the run's output is durable, else why it never will be. */
typedef void (*run_output_shipped_fn)(void *ctx, int status);

/* What a backend implements; see the functions below for each operation's contract. The last four are those of a
 * backend with a durable copy elsewhere (run_output_pg.h), NULL in the others. */
struct run_output_ops {
	int (*open)(struct run_output *o, const struct run_output_key *key, enum run_stream s,
	    struct run_output_reader **out);
	ssize_t (*read)(struct run_output_reader *r, char *buf, size_t len);
	void (*close)(struct run_output_reader *r);
	int (*tail)(struct run_output *o, const struct run_output_key *key, enum run_stream s, char *buf, size_t max,
	    size_t *len, int64_t *size);
	void (*remove)(struct run_output *o, const struct run_output_key *key);
	void (*free)(struct run_output *o);
	int (*fetch)(struct run_output *o, const struct run_output_key *key, enum run_stream s, run_output_fetched_fn done,
	    void *ctx);
	void (*chunk)(struct run_output *o, const struct run_output_key *key, enum run_stream s, int64_t offset,
	    const char *data, size_t len);
	int (*ship)(struct run_output *o, const struct run_output_key *key, run_output_shipped_fn done, void *ctx);
	bool (*shipping)(struct run_output *o, const struct run_output_key *key);
};

/* A backend's state starts with this. */
struct run_output {
	const struct run_output_ops *ops;
};

/* "stdout", "stderr" or "order". */
const char *run_stream_name(enum run_stream s);
/* Parse "stdout" or "stderr" (not "order": the API's names); 0 or -EINVAL. */
int run_stream_parse(const char *name, enum run_stream *out) __attribute__((warn_unused_result));

/* Open a stream of a run for reading from its start, also when nothing is stored yet (a run that has not
 * written: its reads find 0 bytes until it does). 0, or a negative errno when what is stored cannot be read. */
int run_output_open(struct run_output *o, const struct run_output_key *key, enum run_stream s,
    struct run_output_reader **out) __attribute__((warn_unused_result));
/* Read the next bytes: how many (> 0), 0 when none are there now (a run still going may write more: read again
 * later), or a negative errno. */
ssize_t run_output_read(struct run_output_reader *r, char *buf, size_t len) __attribute__((warn_unused_result));
/* Close a reader; NULL is fine. */
void run_output_close(struct run_output_reader *r);
/* The last bytes of a stream, at most max, into buf (*len), and how many bytes the stream holds in all (*size,
 * which is more than *len when the tail starts past the beginning). 0, -ENOENT when nothing is stored (the run
 * wrote nothing, or its output was removed), or a negative errno. Any thread. */
int run_output_tail(struct run_output *o, const struct run_output_key *key, enum run_stream s, char *buf, size_t max,
    size_t *len, int64_t *size) __attribute__((warn_unused_result));
/* Remove both streams of a run (its record was pruned, or it never started); what is not there is fine. */
void run_output_remove(struct run_output *o, const struct run_output_key *key);

/* --- The durable copy (run_output_pg.h: PostgreSQL), on the loop thread. Backends without one answer -ENOTSUP,
 * do nothing, or false. --- */

/* Read a stream of an ended run from the durable copy, in the background: done(ctx, ...) once, never from inside
 * this call. 0, or -ENOTSUP (no durable copy), or another negative errno (done not called then). */
int run_output_fetch(struct run_output *o, const struct run_output_key *key, enum run_stream s,
    run_output_fetched_fn done, void *ctx) __attribute__((warn_unused_result));
/* A chunk a running run wrote (whose first byte is byte offset of the stream): copied into the durable copy in
 * the background, best effort (a live follower elsewhere; the final content replaces it). */
void run_output_chunk(struct run_output *o, const struct run_output_key *key, enum run_stream s, int64_t offset,
    const char *data, size_t len);
/* The run ended and its output here is final: copy both streams (as they are now) into the durable copy; done(ctx,
 * 0) once they are durable, or a negative errno when they never will be (the backend gave up: see its header),
 * never from inside this call. 0, or -ENOTSUP (no durable copy: done not called). */
int run_output_ship(struct run_output *o, const struct run_output_key *key, run_output_shipped_fn done, void *ctx)
    __attribute__((warn_unused_result));
/* Whether a shipment of the run is waiting or in flight. */
bool run_output_shipping(struct run_output *o, const struct run_output_key *key);

/* Free the backend; NULL is fine. No reader may still be open. */
void run_output_free(struct run_output *o);

#endif
