/* Runs' output in PostgreSQL (issue 13: "output stored there too, so nothing is lost with a server's disk"): a
 * run_output.h backend that reads, tails and removes through the local backend it is given (the files in
 * DATA_DIR/logs that the embedded agent and the fleet write), and keeps a durable copy of every run's output in
 * the table run_output (store/pg_schema.c, version 2), which any server reads.
 *
 * Writing (the leader's; fenced by the store's epoch, on a connection of its own: a state commit never waits behind
 * output; several runs' output go in one request, one transaction, when they wait together):
 * - run_output_chunk(): live chunks of a running run, coalesced per stream in memory and sent when 64 KiB
 *   gathered or 2 s passed; appended only while the run's row is open (a chunk late after its run's end is
 *   dropped by the database). Best effort: a chunk that fails is dropped.
 * - run_output_ship(): the run ended and its local output is final; both streams and their order record (stream
 *   2, schema version 6) are read from the local backend (at most RUN_OUTPUT_PG_FINAL_MAX bytes each) and replace what the table holds of the run, in one request,
 *   idempotent; its done comes once that committed. The fleet sends a remote agent's `release` (the
 *   acknowledgement that lets the agent forget the result) only then: see runner_remote.c.
 *
 * PostgreSQL down (or a request of unknown outcome): a shipment that fails for a reason that may pass
 * (-ENOTCONN, -ECONNRESET, -ETIMEDOUT, -EAGAIN, -ENOSPC) stays in memory and is sent again every second, in
 * order, with a warning when the trouble starts and a line when the output is stored again. The memory is
 * bounded (RUN_OUTPUT_PG_BUFFER_MAX bytes of output waiting): past it the oldest waiting shipment is given up
 * (its done gets -ENOBUFS, a warning names the run; its output stays in this server's DATA_DIR/logs only).
 * A fence (-ESTALE: a newer leader) or another error (the database refused it) gives a shipment up at once, with
 * its status.
 *
 * Reading: run_output_fetch() reads a stream's rows (an ended run's final content, or the chunks of a running
 * one) with one query (3 s at most; -ENOTCONN at once while a connection that was up is broken); the API answers an ended run's log with it, and falls back to
 * the local files when the table has nothing. Tails (the notifier's, any thread) are the local files'.
 *
 * Threads: the loop thread, except tail (the local backend's, any thread). */
#ifndef GNOMON_HISTORY_RUN_OUTPUT_PG_H
#define GNOMON_HISTORY_RUN_OUTPUT_PG_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "history/run_output.h"

struct pg_store;

#define RUN_OUTPUT_PG_BUFFER_MAX ((size_t)64 << 20) /* output waiting for PostgreSQL, in bytes */
#define RUN_OUTPUT_PG_FINAL_MAX ((size_t)8 << 20)   /* of one stream shipped at a run's end (its head) */

/* The backend over local (taken: freed with it, also on a failure) and p (a reference taken: its epoch fences the
 * writes), with a connection of its own to conninfo, so that output never waits behind the state's writes, nor
 * they behind it. 0, or -EINVAL with a message in err (libpq refuses conninfo). */
int run_output_pg_new(uv_loop_t *loop, struct pg_store *p, const char *conninfo, struct run_output *local,
    struct run_output **out, char *err, size_t errlen) __attribute__((warn_unused_result));
/* For the tests: the buffer's bound in bytes, the delay before a failed shipment is sent again (ms), and a
 * request's deadline (ms; default PGCONN_TIMEOUT_DEFAULT_MS). */
void run_output_pg_set_limits(struct run_output *o, size_t buffer_max, uint64_t retry_ms, uint64_t timeout_ms);
/* Stop: what waits unsent is given up, and what is in flight ends as its connection closes (-ECANCELED, from
 * inside this call); keep running the loop, then free. */
void run_output_pg_stop(struct run_output *o);
/* Shipments and chunk batches waiting or in flight, and the bytes of output they hold. */
size_t run_output_pg_pending(const struct run_output *o, size_t *bytes);

#endif
