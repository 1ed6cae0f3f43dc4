/* The contract suites: what every backend of the state (state/state.h) and of the history (history/history.h)
 * must do, tested through the interfaces alone and run once per backend (DESIGN.md: "One contract test suite runs
 * against every backend"). A backend comes as a state with the history it hands ended runs to; it takes part
 * through a struct contract_backend: how to make a fresh instance for one test, and the few things a test needs
 * that the interfaces do not offer (a commit that fails, the completion of the writes a backend holds, a second
 * reader on another thread). contract_state.c and contract_history.c say what each contract is, test by test. */
#ifndef GNOMON_TESTS_CONTRACT_H
#define GNOMON_TESTS_CONTRACT_H

#include <stdbool.h>

#include "history/history.h"
#include "state/state.h"

/* Every function gets the instance open made (fx) and runs on the test's thread (the loop thread) unless it says
 * otherwise. Returns are 0 or a negative errno. */
struct contract_backend {
	const char *name; /* in the names of the cmocka groups */
	const void *arg;  /* what open gets: the backend's configuration (a connection string), or NULL */
	/* true: every commit and history write has called its done by the time the call returns (SQLite). false:
	 * done may come later, when settle returns at the latest; the tests then settle before they look at what a
	 * write reported. */
	bool completes_at_once;
	/* Part of what errmsg says after a write that fail_next_write failed: its cause ("database or disk is full"),
	 * not what a clean-up after it said. NULL: anything but "". */
	const char *fail_message;

	/* A fresh, empty instance for one test: its state into *s, the history that state hands ended runs to into
	 * *h (both freed by close). */
	int (*open)(const void *arg, void **fx, struct state **s, struct history **h);
	/* Free all open made, whatever the test left: a failed test closes mid-way, a transaction maybe open. */
	void (*close)(void *fx);
	/* The next commit fails, as on a full disk or a lost connection; the commits after it do not. */
	void (*fail_next_write)(void *fx);
	/* Complete every write the backend holds: the done (and removed) callbacks of the commits and history writes
	 * made so far, and of those that these callbacks make, have run when it returns. NULL for a backend that
	 * completes at once. */
	void (*settle)(void *fx);
	/* A second state and history over the same data, made, used and closed on a thread of its own (a reader
	 * thread) while the test's thread writes; only their reads are used. *rd is the reader's own handle, which
	 * close_reader gets. NULL (both) for a backend that has no second reader, as an in-memory one that only the
	 * loop thread touches: the tests of concurrent readers are skipped for it. */
	int (*open_reader)(void *fx, void **rd, struct state **s, struct history **h);
	void (*close_reader)(void *fx, void *rd);
};

/* Run the state's (the history's) contract against b: cmocka's count of failed tests (0: all passed). */
int contract_state_run(const struct contract_backend *b);
int contract_history_run(const struct contract_backend *b);

/* inner (a backend that completes at once) as a backend over the network completes, named name: every commit and
 * history write returns at once, and its done (and removed) callbacks run in settle, a failure's too. It checks
 * that the tests wait for done where the contract says so. inner must outlive it. */
struct contract_backend contract_deferred(const struct contract_backend *inner, const char *name);

/* contract_deferred's state (contract_state_deferred.c): inner's, each transaction's writes held until settle
 * applies the committed ones, in order, each in a transaction of inner (whose history is inner_h), then calls its
 * done. state_free frees it (not inner), dropping what it still holds. */
struct state *contract_state_deferred_new(struct state *inner, struct history *inner_h);
/* Complete the commits held, and those their done callbacks make: whether there were any. */
bool contract_state_deferred_settle(struct state *s);

#endif
