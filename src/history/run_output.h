/* A run's captured output (stdout and stderr), read through one interface by everything that shows it: the API
 * (GET /api/v1/runs/{id}/log, which the web UI and `gnomon logs -f` follow) and the notifier (the log tail in a
 * message). Backends keep the output where the runs' agent puts it: run_output_files.h reads the files that the
 * embedded agent (runner/runner_local.h) writes on this machine; a backend over chunks that remote agents upload
 * into the history store implements the same operations.
 *
 * This is the output part of DESIGN.md's `history` component: history.h holds the ended runs' records, this the
 * output of every run, ended or not (a follower reads a running one's). A record removed from the history takes
 * its output with it (run_output_remove(), from history_prune()'s callback).
 *
 * Threads: open, read and close on the loop thread; tail may be called from any thread (the notifier's worker
 * reads tails). */
#ifndef GNOMON_HISTORY_RUN_OUTPUT_H
#define GNOMON_HISTORY_RUN_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum run_stream { RUN_STDOUT = 0, RUN_STDERR = 1 };

/* Names one run's output: its task id. */
struct run_output_key {
	const char *task_id;
};

struct run_output;

/* An open stream of one run: what it holds now, and what the run writes later. */
struct run_output_reader {
	struct run_output *o;
};

/* What a backend implements; see the functions below for each operation's contract. */
struct run_output_ops {
	int (*open)(struct run_output *o, const struct run_output_key *key, enum run_stream s,
	    struct run_output_reader **out);
	ssize_t (*read)(struct run_output_reader *r, char *buf, size_t len);
	void (*close)(struct run_output_reader *r);
	int (*tail)(struct run_output *o, const struct run_output_key *key, enum run_stream s, char *buf, size_t max,
	    size_t *len, int64_t *size);
	void (*remove)(struct run_output *o, const struct run_output_key *key);
	void (*free)(struct run_output *o);
};

/* A backend's state starts with this. */
struct run_output {
	const struct run_output_ops *ops;
};

/* "stdout" or "stderr". */
const char *run_stream_name(enum run_stream s);
/* Parse "stdout" or "stderr"; 0 or -EINVAL. */
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
/* Free the backend; NULL is fine. No reader may still be open. */
void run_output_free(struct run_output *o);

#endif
