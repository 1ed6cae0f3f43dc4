/* A reader on another thread beside the test's writer, for the contracts' tests of concurrent readers
 * (contract_state_readers.c, contract_history_readers.c): the reader reads a second state and history over the
 * same data (the backend's open_reader), over and over, while the writer commits on the test's thread.
 *
 * No sleeps: halfway through each transaction, the writer waits for the reader to make a whole read, so that
 * reads overlap transactions however fast either is (a backend whose transaction is not atomic shows half of it
 * then); the reader stops at a flag set after the last commit, and its last read, begun after the flag, sees
 * every commit. */
#ifndef GNOMON_TESTS_CONTRACT_READER_H
#define GNOMON_TESTS_CONTRACT_READER_H

#include <stdbool.h>
#include <stddef.h>

#include "contract_fixture.h"

/* One whole read, on the reader's thread (no cmocka there): 0, or -1 with what went wrong in failure. last: the
 * read begun after the writer's last commit. ctx is the reader's alone until it is joined. */
typedef int (*ct_read_fn)(void *ctx, struct state *s, struct history *h, bool last, char *failure, size_t size);
/* The writer's i-th write (0-based, counted over all batches) in the transaction t: 0 or a negative errno. */
typedef int (*ct_write_fn)(struct state_txn *t, int i);

/* Commit batches transactions of per writes each on the test's thread while a reader thread reads with read;
 * fail the test when a write, a commit or a read failed, or when the reader made no read inside a transaction
 * or none after the last commit. Skips the test for a backend without a second reader (open_reader NULL). */
void ct_with_reader(struct fixture *f, int batches, int per, ct_write_fn write, ct_read_fn read, void *read_ctx);

#endif
