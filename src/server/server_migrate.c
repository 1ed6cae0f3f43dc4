#include "server/server_migrate.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "history/history.h"
#include "history/history_sqlite.h"
#include "history/run_output_files.h"
#include "history/run_output_pg.h"
#include "history/run_record.h"
#include "server/server_pg.h"
#include "state/state.h"
#include "state/state_sqlite.h"
#include "store/store.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define MIGRATE_TIMEOUT_MS (30 * 60 * 1000) /* the copy is one request: a large history takes a while */
#define OUTPUT_IN_FLIGHT 64                 /* runs' output shipped at once */

/* The standalone server's store, read. */
struct from {
	struct store *store;
	struct state *state;
	struct history *history;
};

/* What the copy wrote into the PostgreSQL transaction, and how the commit ended. */
struct copy {
	struct state_txn *t;
	size_t jobs, open, ended, rounds;
	bool committed;
	int status;
};

static void usage(FILE *out)
{
	fprintf(out, "usage: gnomon migrate --from DATA_DIR --to postgres://USER@HOST:PORT/DATABASE\n\n"
		     "Copy a stopped standalone server's jobs, their state, the open runs, the history and the dependency\n"
		     "rounds from DATA_DIR (SQLite) into an existing PostgreSQL database that holds no gnomon data yet\n"
		     "(the schema is made), for `gnomon server --state postgres://...`; then the runs' captured output\n"
		     "(DATA_DIR/logs, by task id) into its table run_output.\n");
}

static int count_job(void *ctx, const struct state_job *job)
{
	(void)job;
	(*(size_t *)ctx)++;
	return 0;
}

static int count_run(void *ctx, const struct run_record *r)
{
	(void)r;
	(*(size_t *)ctx)++;
	return 0;
}

static int copy_job(void *ctx, const struct state_job *j)
{
	struct copy *c = ctx;
	int rc;

	if ((rc = state_put_job(c->t, j->name, j->definition)) < 0 ||
	    (j->has_progress && (rc = state_put_progress(c->t, j->name, &j->progress)) < 0) ||
	    (j->has_outcome && (rc = state_put_outcome(c->t, j->name, &j->outcome)) < 0))
		return rc;
	c->jobs++;
	return 0;
}

/* A run, with its task id, status, start and attempt as they were: an ended one recorded in the history as a run
 * that was never open (as a skipped slot is), an open one claimed. */
static int copy_run(struct copy *c, const struct run_record *r, bool ended)
{
	struct run_record w;
	int rc;

	run_record_init(&w);
	run_record_copy(&w, r);
	w.id = 0; /* PostgreSQL numbers it again, in the same order */
	rc = ended ? state_end_run(c->t, &w) : state_claim_run(c->t, &w);
	run_record_clear(&w);
	if (rc == 0)
		(*(ended ? &c->ended : &c->open))++;
	return rc;
}

static int copy_ended(void *ctx, const struct run_record *r)
{
	return copy_run(ctx, r, true);
}

static int copy_open(void *ctx, const struct run_record *r)
{
	return copy_run(ctx, r, false);
}

static int copy_round(void *ctx, const char *child, const char *parent, const char *task_id)
{
	struct copy *c = ctx;
	int rc = state_round_put(c->t, child, parent, task_id);

	c->rounds += rc == 0;
	return rc;
}

static void committed(void *ctx, int status)
{
	struct copy *c = ctx;

	c->committed = true;
	c->status = status;
}

/* Open DIR's store (its lock refuses a running server's) for reading. */
static int from_open(const char *dir, struct from *f, char *err, size_t errlen)
{
	struct stat sb;
	char *db = xasprintf("%s/gnomon.db", dir);
	int rc = stat(db, &sb);

	free(db);
	if (rc < 0) {
		snprintf(err, errlen, "--from %s: no gnomon data there (%s/gnomon.db: %s)", dir, dir, strerror(errno));
		return -ENOENT;
	}
	if ((rc = store_open(dir, &f->store, err, errlen)) < 0)
		return rc;
	f->state = state_sqlite_new(f->store);
	if ((rc = history_sqlite_new(store_connection(f->store), &f->history, err, errlen)) < 0) {
		state_free(f->state);
		store_close(f->store);
	}
	return rc;
}

static void from_close(struct from *f)
{
	history_free(f->history);
	state_free(f->state);
	store_close(f->store);
}

/* Refuse a database a server used: jobs, open runs or an epoch in its copy. */
static int check_empty(struct server_pg *sp, const char *url, char *err, size_t errlen)
{
	struct state *copy = server_pg_copy(sp);
	size_t jobs = 0, open = 0;
	uint64_t epoch = 0;
	int rc;

	if ((rc = state_load_jobs(copy, count_job, &jobs)) < 0 || (rc = state_load_open_runs(copy, count_run, &open)) < 0 ||
	    (rc = state_stored_epoch(copy, &epoch)) < 0) {
		snprintf(err, errlen, "--to %s: cannot read what it holds (%s)", url, strerror(-rc));
		return rc;
	}
	if (jobs || open || epoch) {
		snprintf(err, errlen, "--to %s: the database already holds gnomon data (%zu jobs, %zu open runs, epoch "
		    "%" PRIu64 "): give an empty one", url, jobs, open, epoch);
		return -EEXIST;
	}
	return 0;
}

/* Write everything from f into one transaction of to, and commit it, running loop until it ended. */
static int copy_all(uv_loop_t *loop, struct from *f, struct state *to, struct copy *c, char *err, size_t errlen)
{
	uint64_t epoch = 0, raised;
	int rc;

	if ((rc = state_stored_epoch(f->state, &epoch)) < 0) {
		snprintf(err, errlen, "--from: reading the epoch: %s", state_errmsg(f->state));
		return rc;
	}
	if ((rc = state_begin(to, &c->t)) < 0) {
		snprintf(err, errlen, "--to: %s", strerror(-rc));
		return rc;
	}
	if ((rc = state_raise_epoch(c->t, epoch ? epoch : 1, &raised)) < 0 ||
	    (rc = state_load_jobs(f->state, copy_job, c)) < 0 || (rc = history_sqlite_each(f->history, copy_ended, c)) < 0 ||
	    (rc = state_load_open_runs(f->state, copy_open, c)) < 0 ||
	    (rc = state_load_rounds(f->state, copy_round, c)) < 0) {
		state_abort(c->t);
		snprintf(err, errlen, "copying: %s", strerror(-rc));
		return rc;
	}
	state_commit(c->t, committed, c);
	while (!c->committed)
		uv_run(loop, UV_RUN_ONCE);
	if (c->status < 0) {
		snprintf(err, errlen, "--to: the copy was not committed (nothing was written): %s", state_errmsg(to));
		return c->status;
	}
	return 0;
}

/* Copying the runs' output, after the state committed (its rows reference the runs'). */
struct output_copy {
	uv_loop_t *loop;
	struct run_output *o;
	const char *dir;
	size_t in_flight, runs, failed;
	int status; /* the first failure */
};

static void output_shipped(void *ctx, int status)
{
	struct output_copy *oc = ctx;

	oc->in_flight--;
	if (status == 0) {
		oc->runs++;
	} else {
		oc->failed++;
		if (oc->status == 0)
			oc->status = status;
	}
}

/* Ship one run's output files, when it has any. */
static int copy_output(void *ctx, const struct run_record *r)
{
	struct output_copy *oc = ctx;
	struct run_output_key key = {.task_id = r->task_id};
	char path[2][4096];
	int rc;

	for (int s = 0; s < 2; s++)
		run_output_files_path(oc->dir, &key, (enum run_stream)s, path[s], sizeof(path[s]));
	if (access(path[0], F_OK) < 0 && access(path[1], F_OK) < 0)
		return 0;
	while (oc->in_flight >= OUTPUT_IN_FLIGHT)
		uv_run(oc->loop, UV_RUN_ONCE);
	if ((rc = run_output_ship(oc->o, &key, output_shipped, oc)) < 0)
		return rc;
	oc->in_flight++;
	return 0;
}

/* Copy every run's output files from f's data dir into the database, running loop until done. */
static int copy_outputs(uv_loop_t *loop, struct server_pg *sp, struct from *f, const char *dir,
    struct output_copy *oc, char *err, size_t errlen)
{
	struct run_output *files;
	int rc;

	*oc = (struct output_copy){.loop = loop, .dir = dir};
	if ((rc = run_output_files_new(dir, &files, err, errlen)) < 0 ||
	    (rc = server_pg_output(sp, files, &oc->o, err, errlen)) < 0)
		return rc;
	if ((rc = history_sqlite_each(f->history, copy_output, oc)) == 0)
		rc = state_load_open_runs(f->state, copy_output, oc);
	while (oc->in_flight > 0)
		uv_run(loop, UV_RUN_ONCE);
	if (rc == 0 && oc->failed)
		rc = oc->status;
	if (rc < 0)
		snprintf(err, errlen, "the state was copied, but the output of %zu run(s) was not (%s): it stays in "
		    "%s/logs", oc->failed, strerror(-rc), dir);
	return rc;
}

static int parse_args(int argc, char **argv, const char **from, const char **to)
{
	static const struct option longopts[] = {
		{"from", required_argument, NULL, 'f'},
		{"to", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ch;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			*from = optarg;
			break;
		case 't':
			*to = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "gnomon migrate: unknown option or missing value: %s (see gnomon migrate --help)\n",
			    argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc || !*from || !*to || !server_pg_wanted(*to)) {
		fprintf(stderr, "gnomon migrate: give --from DATA_DIR and --to postgres://... (see gnomon migrate "
				"--help)\n");
		return 2;
	}
	return -1;
}

int server_migrate_main(int argc, char **argv)
{
	const char *dir = NULL, *url = NULL;
	struct server_pg_config cfg = {.timeout_ms = MIGRATE_TIMEOUT_MS, .load_timeout_ms = MIGRATE_TIMEOUT_MS};
	struct from f = {0};
	struct copy c = {0};
	struct output_copy oc = {0};
	struct server_pg *sp = NULL;
	struct state *to = NULL;
	uv_loop_t loop;
	char err[1024] = "";
	int rc;

	if ((rc = parse_args(argc, argv, &dir, &url)) >= 0)
		return rc;
	log_init(LOG_LEVEL_ERROR, false);
	if ((rc = from_open(dir, &f, err, sizeof(err))) < 0)
		goto refused;
	if ((rc = uv_loop_init(&loop)) < 0) {
		snprintf(err, sizeof(err), "uv_loop_init: %s", uv_strerror(rc));
		from_close(&f);
		goto refused;
	}
	cfg.conninfo = url;
	if ((rc = server_pg_open(&loop, &cfg, &sp, err, sizeof(err))) < 0)
		goto out;
	if ((rc = check_empty(sp, url, err, sizeof(err))) < 0)
		goto out;
	to = server_pg_state(sp);
	if ((rc = copy_all(&loop, &f, to, &c, err, sizeof(err))) < 0)
		goto out;
	if ((rc = copy_outputs(&loop, sp, &f, dir, &oc, err, sizeof(err))) < 0)
		goto out;
	printf("migrated %s to PostgreSQL: %zu jobs, %zu open runs, %zu ended runs, %zu dependency round entries, "
	       "the output of %zu runs\n", dir, c.jobs, c.open, c.ended, c.rounds, oc.runs);
out:
	state_free(to);
	server_pg_close(sp);
	uv_run(&loop, UV_RUN_DEFAULT); /* the connection's handles close */
	run_output_free(oc.o);
	server_pg_free(sp);
	if (uv_loop_close(&loop) < 0)
		fprintf(stderr, "gnomon migrate: the loop still had handles at exit\n");
	from_close(&f);
	if (rc == 0)
		return 0;
refused:
	fprintf(stderr, "gnomon migrate: %s\n", err[0] ? err : strerror(-rc));
	return 1;
}
