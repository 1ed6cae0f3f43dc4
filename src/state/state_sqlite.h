/* The state's SQLite backend, over the store's database (store/store.h): standalone gnomon. One transaction at a
 * time (state_begin answers -EBUSY while one is being made), committed before state_commit returns. Ended runs
 * are rows of the same table as the open ones (history/run_row_sqlite.h says why), so state_end_run records them
 * in the history's SQLite backend over the same database, in the same transaction. Create it after store_open()
 * (which migrates the schema), free it before store_close(). */
#ifndef GNOMON_STATE_STATE_SQLITE_H
#define GNOMON_STATE_STATE_SQLITE_H

#include "state/state.h"

struct store;

/* A backend over store (borrowed: it must outlive the backend). */
struct state *state_sqlite_new(struct store *store);

#endif
