/* Private to src/store/: WAL checkpoints on a thread of their own. A checkpoint copies the WAL into the database
 * and syncs it to disk, which takes milliseconds; done inside a commit on the loop thread (SQLite's
 * auto-checkpoint) it made every few hundredth run start late. This thread, with a connection of its own, runs
 * passive checkpoints (which never block the writer) at a fixed interval instead, and a restart checkpoint when
 * the WAL grows past about 64 MiB, so that it starts over. */
#ifndef GNOMON_STORE_CHECKPOINT_H
#define GNOMON_STORE_CHECKPOINT_H

struct checkpointer;

/* Start checkpointing the database at path every interval_ms; NULL (logged) when it cannot start, and the
 * caller then keeps SQLite's auto-checkpoint. */
struct checkpointer *checkpointer_start(const char *path, unsigned interval_ms);
/* Stop the thread (waiting for a checkpoint under way) and free it; NULL is fine. */
void checkpointer_stop(struct checkpointer *c);

#endif
