/* The contract suites: what every backend of an interface must do, tested through the interface alone
 * (history/history.h now, the state's later) and run once per backend (DESIGN.md: "One contract test suite runs
 * against every backend"). A backend takes part through a struct contract_backend: how to make a fresh instance
 * for one test, and the few things a test needs that the interface does not offer (a commit that fails, the
 * completion of the writes a backend holds, a second reader on another thread, and the open runs and transactions
 * that are the state's). contract_history.c says what the history's contract is, test by test. */
#ifndef GNOMON_TESTS_CONTRACT_H
#define GNOMON_TESTS_CONTRACT_H

#include <stdbool.h>

#include "history/history.h"

/* Every function gets the instance open made (fx) and runs on the test's thread (the loop thread) unless it says
 * otherwise. Returns are 0 or a negative errno. */
struct contract_backend {
	const char *name; /* in the names of the cmocka groups */
	const void *arg;  /* what open gets: the backend's configuration (a connection string), or NULL */
	/* true: every write has called its done by the time the call returns (SQLite). false: done may come later,
	 * when settle returns at the latest; the tests then settle before they look at what a write reported. */
	bool completes_at_once;
	/* Part of what errmsg says after a write that fail_next_write failed: its cause ("database or disk is full"),
	 * not what a clean-up after it said. NULL: anything but "". */
	const char *fail_message;

	/* A fresh, empty instance for one test: its own state into *fx, its history into *h. */
	int (*open)(const void *arg, void **fx, struct history **h);
	/* Free all open made, the history too, whatever the test left: a failed test closes mid-way. */
	void (*close)(void *fx);
	/* The next commit fails, as on a full disk or a lost connection; the commits after it do not. */
	void (*fail_next_write)(void *fx);
	/* Complete every write the backend holds: their removed and done callbacks have run when it returns. NULL
	 * for a backend that completes at once. */
	void (*settle)(void *fx);
	/* A second history over the same data, made, used and closed on a thread of its own (a reader thread) while
	 * the test's thread writes. *rd is the reader's own handle, which close_reader gets. */
	int (*open_reader)(void *fx, void **rd, struct history **reader);
	void (*close_reader)(void *fx, void *rd);
	/* The state's, until the contract covers it: make r (not ended) an open run of its job, which the history
	 * never shows and retention by count counts among the job's newest without removing it. */
	int (*put_open_run)(void *fx, const struct run_record *r);
	/* Begin the transaction (the state's: store_begin for SQLite) that the history's records join until commit. */
	int (*begin)(void *fx);
	/* Commit it, reporting as a history write does: 0 and done (may be NULL) gets the final status, or a negative
	 * errno and done is never called. A commit that fails leaves none of the transaction's records. */
	int (*commit)(void *fx, history_done_fn done, void *ctx);
};

/* Run the history's contract against b: cmocka's count of failed tests (0: all passed). */
int contract_history_run(const struct contract_backend *b);

/* inner (a backend that completes at once) with every write's completion held until settle, as a backend over
 * the network completes, named name: the call returns 0 and its removed and done callbacks run in settle, a
 * failure's too. It checks that the tests wait for done where the contract says so. inner must outlive it. */
struct contract_backend contract_deferred(const struct contract_backend *inner, const char *name);

#endif
