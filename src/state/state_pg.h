/* The state's PostgreSQL backend (HA), over a pg_store (store/pg_store.h says how it reads and writes: a copy in
 * memory that its writes change once the database committed them).
 *
 * A transaction's writes are held (state/state_log.h) until its commit, which sends them as one request: the
 * fence first (the epoch row read FOR SHARE and compared with this server's epoch: -ESTALE when a newer leader
 * raised it, store/pg_schema.h), then the writes; the database commits it all or nothing. Its done runs once the
 * database answered, on the loop, after the copy was changed; commits complete in the order they were made, and
 * a transaction may begin while earlier ones are in flight (one is made at a time: -EBUSY).
 *
 * Fencing: a transaction that raises the epoch is not fenced (the raise updates the epoch row, so it waits for the
 * transactions that hold it and orders itself after them); once its commit completed, the epoch it raised fences
 * every later write of this server's, its history's too. Until this server raised an epoch its writes are not
 * fenced: the server raises one at every election before it writes (server_role.c).
 *
 * state_claim_run answers at once, as state.h asks: -EEXIST when the copy has a run with that task id (open or
 * ended), or a transaction in flight or the one being made claims it or ends it. That is exact because this
 * server is the only writer (the fence refuses any other); a claim taken by a commit that then fails is answered
 * -EEXIST meanwhile (the engine keeps one commit in flight, and puts its memory back when one fails). The
 * database's unique key stays the last word: a claim that finds the task id taken there inserts nothing.
 *
 * A commit in flight when the connection broke fails (-ECONNRESET, -ETIMEDOUT): its outcome is unknown, and every
 * later commit fails (-EIO) until pg_store_load read the database again. */
#ifndef GNOMON_STATE_STATE_PG_H
#define GNOMON_STATE_STATE_PG_H

#include "state/state.h"

struct pg_store;

/* The state over p (which it holds a reference of). Commits in flight when it is freed never complete. */
struct state *state_pg_new(struct pg_store *p);

#endif
