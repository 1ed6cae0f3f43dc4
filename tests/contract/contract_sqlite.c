/* The SQLite backends under the contract suites: the state's (state/state_sqlite.h) and the history's
 * (history/history_sqlite.h) over a store in a temporary data dir of each test's own, with commits failed on
 * demand through tests/support/fail_vfs.h. Each contract runs twice: as it is (commits complete before they
 * return), and through contract_deferred (their completion is held until settle), which checks that the tests fit
 * a backend that completes later. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "contract.h"
#include "fail_vfs.h"
#include "history/history_sqlite.h"
#include "state/state_sqlite.h"
#include "store/store.h"
#include "util/rmtree.h"

/* A data dir with its store, and the backends over it. */
struct sqlite_fx {
	char dir[64]; /* "" until made */
	struct store *store;
	struct state *s;
	struct history *h;
};

static void sqlite_close(void *fx)
{
	struct sqlite_fx *q = fx;
	char err[256];

	state_free(q->s);
	history_free(q->h);
	store_close(q->store);
	if (q->dir[0] && rmtree_at(AT_FDCWD, q->dir, err, sizeof(err)) < 0)
		fprintf(stderr, "contract: removing %s: %s\n", q->dir, err);
	free(q);
}

/* A fresh data dir, or one whose gnomon.db is a symbolic link to db's (db not NULL), with its store and
 * backends. */
static struct sqlite_fx *sqlite_make(const char *db)
{
	struct sqlite_fx *q = calloc(1, sizeof(*q));
	char dir[] = "/tmp/gnomon-contract-XXXXXX", path[96], err[256] = "";

	if (q == NULL)
		return NULL;
	if (mkdtemp(dir) == NULL) {
		perror("contract: mkdtemp");
		free(q);
		return NULL;
	}
	snprintf(q->dir, sizeof(q->dir), "%s", dir);
	snprintf(path, sizeof(path), "%s/gnomon.db", dir);
	if (db && symlink(db, path) < 0) {
		perror("contract: symlink");
		sqlite_close(q);
		return NULL;
	}
	if (store_open(q->dir, &q->store, err, sizeof(err)) < 0 ||
	    history_sqlite_new(store_connection(q->store), &q->h, err, sizeof(err)) < 0) {
		fprintf(stderr, "contract: %s\n", err);
		sqlite_close(q);
		return NULL;
	}
	q->s = state_sqlite_new(q->store);
	return q;
}

static int sqlite_open(const void *arg, void **fx, struct state **s, struct history **h)
{
	struct sqlite_fx *q = sqlite_make(NULL);

	(void)arg;
	fail_vfs_arm(false); /* a failure a test armed and never met must not meet this one */
	if (q == NULL)
		return -EIO;
	*fx = q;
	*s = q->s;
	*h = q->h;
	return 0;
}

static void sqlite_fail_next_write(void *fx)
{
	(void)fx;
	fail_vfs_arm(true);
}

/* A second store over the test's database, as another server would read it: store_open locks its data dir (one
 * server per dir), so the reader's is a dir of its own whose gnomon.db is a symbolic link to the test's. SQLite
 * resolves the link, so both connections share the database, its WAL and its locks. */
static int sqlite_open_reader(void *fx, void **rd, struct state **s, struct history **h)
{
	const struct sqlite_fx *q = fx;
	struct sqlite_fx *r;
	char db[96];

	snprintf(db, sizeof(db), "%s/gnomon.db", q->dir);
	if ((r = sqlite_make(db)) == NULL)
		return -EIO;
	*rd = r;
	*s = r->s;
	*h = r->h;
	return 0;
}

static void sqlite_close_reader(void *fx, void *rd)
{
	(void)fx;
	sqlite_close(rd);
}

int main(void)
{
	static const struct contract_backend sqlite = {
		.name = "sqlite",
		.completes_at_once = true,
		.fail_message = "database or disk is full",
		.open = sqlite_open,
		.close = sqlite_close,
		.fail_next_write = sqlite_fail_next_write,
		.open_reader = sqlite_open_reader,
		.close_reader = sqlite_close_reader,
	};
	const struct contract_backend deferred = contract_deferred(&sqlite, "sqlite, completing in settle");
	int failed;

	if (fail_vfs_install() < 0) {
		fprintf(stderr, "contract: SQLite refused the failing VFS\n");
		return 2;
	}
	failed = contract_state_run(&sqlite);
	failed += contract_state_run(&deferred);
	failed += contract_history_run(&sqlite);
	failed += contract_history_run(&deferred);
	return failed ? 1 : 0;
}
