/* An in-memory backend of the state (state/state.h) and its history (history/history.h): one store in memory
 * shared by both, as the SQLite backends share one database, held to the SQLite backends' behaviour by the
 * contract suites (tests/contract/contract_mem.c). Commits complete before state_commit returns, as SQLite's do.
 * It is the deterministic simulation's backend (tests/sim), which SQLite's system calls slowed down, and the copy
 * in memory that the PostgreSQL backends read from (state/state_pg.h): they apply to it what they committed.
 *
 * Differences from SQLite that the contracts leave open: the reads do not see the transaction being made, only
 * what was committed; no second reader on another thread (nothing here is locked). */
#ifndef GNOMON_STORE_MEM_BACKEND_H
#define GNOMON_STORE_MEM_BACKEND_H

#include "history/history.h"
#include "state/state.h"

/* A new, empty store: its state into *s and its history into *h, each freed on its own (state_free,
 * history_free); the store goes with the second. */
void mem_backend_new(struct state **s, struct history **h);
/* The next write of s's store fails with -ENOSPC, as on a full disk: a commit, or a history write outside a
 * transaction (a record made inside one fails with its commit). The writes after it do not. */
void mem_backend_fail_next(struct state *s);

#endif
