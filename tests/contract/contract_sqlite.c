/* The SQLite backends under the contract suites: the history's (history/history_sqlite.h) over a store in a
 * temporary data dir of each test's own, with commits failed on demand through tests/support/fail_vfs.h. It runs
 * twice: as it is (writes complete before they return), and through contract_deferred (their completion is held
 * until settle), which checks that the tests fit a backend that completes later. */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

#include "contract.h"
#include "fail_vfs.h"
#include "history/history_sqlite.h"
#include "store/runs.h"
#include "store/store.h"
#include "util/rmtree.h"

struct sqlite_fx {
	char dir[64]; /* "" until made */
	struct store *store;
	struct history *h;
};

/* A reader's own connection (read-only) and history. */
struct sqlite_reader {
	sqlite3 *db;
	struct history *h;
};

static void sqlite_close(void *fx)
{
	struct sqlite_fx *s = fx;
	char err[256];

	fail_vfs_arm(false); /* a failure a test armed and never met must not meet the next test */
	history_free(s->h);
	store_close(s->store);
	if (s->dir[0] && rmtree_at(AT_FDCWD, s->dir, err, sizeof(err)) < 0)
		fprintf(stderr, "contract: removing %s: %s\n", s->dir, err);
	free(s);
}

static int sqlite_open(const void *arg, void **fx, struct history **h)
{
	struct sqlite_fx *s = calloc(1, sizeof(*s));
	char dir[] = "/tmp/gnomon-contract-XXXXXX", err[256];
	int rc;

	(void)arg;
	if (s == NULL)
		return -ENOMEM;
	if (mkdtemp(dir) == NULL) {
		rc = -errno;
		perror("contract: mkdtemp");
		free(s);
		return rc;
	}
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	if ((rc = store_open(s->dir, &s->store, err, sizeof(err))) < 0 ||
	    (rc = history_sqlite_new(store_connection(s->store), &s->h, err, sizeof(err))) < 0) {
		fprintf(stderr, "contract: %s\n", err);
		sqlite_close(s);
		return rc;
	}
	*fx = s;
	*h = s->h;
	return 0;
}

static void sqlite_fail_next_write(void *fx)
{
	(void)fx;
	fail_vfs_arm(true);
}

static void sqlite_close_reader(void *fx, void *rd)
{
	struct sqlite_reader *r = rd;

	(void)fx;
	history_free(r->h);
	sqlite3_close(r->db);
	free(r);
}

/* A second connection to the store's database file, read-only, as another process or thread reads it. */
static int sqlite_open_reader(void *fx, void **rd, struct history **reader)
{
	const struct sqlite_fx *s = fx;
	struct sqlite_reader *r = calloc(1, sizeof(*r));
	char path[96], err[256] = "";
	int rc;

	if (r == NULL)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/gnomon.db", s->dir);
	rc = sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(r->db, 5000);
	if (rc != SQLITE_OK || history_sqlite_new(r->db, &r->h, err, sizeof(err)) < 0) {
		fprintf(stderr, "contract: reader on %s: %s\n", path, err[0] ? err : sqlite3_errmsg(r->db));
		sqlite_close_reader(fx, r);
		return -EIO;
	}
	*rd = r;
	*reader = r->h;
	return 0;
}

static int sqlite_put_open_run(void *fx, const struct run_record *r)
{
	struct sqlite_fx *s = fx;
	struct run_record copy;
	int rc;

	run_record_init(&copy);
	run_record_copy(&copy, r);
	rc = store_claim_run(s->store, &copy);
	run_record_clear(&copy);
	return rc;
}

static int sqlite_begin(void *fx)
{
	return store_begin(((struct sqlite_fx *)fx)->store);
}

static int sqlite_commit(void *fx, history_done_fn done, void *ctx)
{
	struct sqlite_fx *s = fx;
	int rc = store_commit(s->store);

	if (rc < 0) {
		store_rollback(s->store);
		return rc;
	}
	if (done)
		done(ctx, 0);
	return 0;
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
		.put_open_run = sqlite_put_open_run,
		.begin = sqlite_begin,
		.commit = sqlite_commit,
	};
	const struct contract_backend deferred = contract_deferred(&sqlite, "sqlite, completing in settle");
	int failed;

	if (fail_vfs_install() < 0) {
		fprintf(stderr, "contract: SQLite refused the failing VFS\n");
		return 2;
	}
	failed = contract_history_run(&sqlite);
	failed += contract_history_run(&deferred);
	return failed ? 1 : 0;
}
