#include "store/checkpoint.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <uv.h>

#include "util/log.h"
#include "util/xmalloc.h"

#define RESTART_FRAMES 16384 /* about 64 MiB of WAL */

struct checkpointer {
	uv_thread_t thread;
	uv_mutex_t mu;
	uv_cond_t cv;
	bool stop;          /* under mu */
	sqlite3 *db;        /* the thread's own connection */
	uint64_t interval_ns;
};

static void run(void *arg)
{
	struct checkpointer *c = arg;
	int nlog, nckpt;

	uv_mutex_lock(&c->mu);
	while (!c->stop) {
		if (uv_cond_timedwait(&c->cv, &c->mu, c->interval_ns) != UV_ETIMEDOUT)
			continue; /* woken: stopping, or spurious */
		uv_mutex_unlock(&c->mu);
		int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &nlog, &nckpt);
		/* Under steady writes a passive checkpoint never reaches the WAL's end, and the WAL only starts over
		 * from an end fully copied: past RESTART_FRAMES, a restart checkpoint holds new writes back for the
		 * little the passive one left (once every RESTART_FRAMES frames, not every 1,000 as SQLite's own). */
		if (rc == SQLITE_OK && nlog > RESTART_FRAMES)
			rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_RESTART, &nlog, &nckpt);
		if (rc != SQLITE_OK && rc != SQLITE_BUSY)
			log_warnx("store: checkpoint: %s", sqlite3_errmsg(c->db));
		uv_mutex_lock(&c->mu);
	}
	uv_mutex_unlock(&c->mu);
}

struct checkpointer *checkpointer_start(const char *path, unsigned interval_ms)
{
	struct checkpointer *c = xcalloc(1, sizeof(*c));

	c->interval_ns = (uint64_t)interval_ms * 1000000;
	if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		log_warnx("store: cannot open '%s' for checkpoints: %s; checkpoints happen on commit", path,
		    sqlite3_errmsg(c->db));
		sqlite3_close(c->db);
		free(c);
		return NULL;
	}
	sqlite3_busy_timeout(c->db, 2000); /* a restart checkpoint waits this long for readers to move on */
	/* A connection learns the database is in WAL mode when it first reads it; until then a checkpoint on it is a
	 * no-op (it reports -1 frames). */
	if (sqlite3_exec(c->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) != SQLITE_OK) {
		log_warnx("store: cannot read '%s' for checkpoints: %s; checkpoints happen on commit", path,
		    sqlite3_errmsg(c->db));
		sqlite3_close(c->db);
		free(c);
		return NULL;
	}
	if (uv_mutex_init(&c->mu) != 0)
		fatalx("store: cannot create a mutex");
	if (uv_cond_init(&c->cv) != 0)
		fatalx("store: cannot create a condition variable");
	if (uv_thread_create(&c->thread, run, c) != 0) {
		log_warnx("store: cannot start the checkpoint thread; checkpoints happen on commit");
		uv_cond_destroy(&c->cv);
		uv_mutex_destroy(&c->mu);
		sqlite3_close(c->db);
		free(c);
		return NULL;
	}
	return c;
}

void checkpointer_stop(struct checkpointer *c)
{
	if (c == NULL)
		return;
	uv_mutex_lock(&c->mu);
	c->stop = true;
	uv_cond_signal(&c->cv);
	uv_mutex_unlock(&c->mu);
	uv_thread_join(&c->thread);
	uv_cond_destroy(&c->cv);
	uv_mutex_destroy(&c->mu);
	sqlite3_close(c->db);
	free(c);
}
