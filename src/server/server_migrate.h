/* `gnomon migrate --from DATA_DIR --to postgres://...` (issue 13): copy a standalone server's SQLite store into
 * an existing PostgreSQL database that holds no gnomon data yet, so that `gnomon server --state postgres://...`
 * (one server, or an HA cluster) goes on from where the standalone server stopped.
 *
 * What is copied, in one PostgreSQL transaction (all or nothing), through the state's backends (state/state.h:
 * the SQLite one reads, the PostgreSQL one writes, so no SQL is written twice): the jobs in creation order with
 * their progress and outcome, the ended runs (oldest first, a deleted job's too) and the open ones with their
 * task ids, the dependency rounds, and the leader's epoch (the stored epoch, so the next leader's is higher). The
 * runs' row ids are numbered again by PostgreSQL, in the same order (nothing but the old `before=` cursor takes
 * them). Then the runs' output (DATA_DIR/logs, by task id) is copied into the table run_output, after the state
 * committed (its rows reference the runs').
 *
 * Refused, one line and exit 1: a data dir without a gnomon database, one in use by a running server (its lock),
 * a database out of reach, or one that already holds gnomon data (jobs, open runs, or a leader's epoch: a server
 * used it). The schema is made first when missing (pg_schema.h's migrations). The command blocks: it runs a loop
 * of its own until each step ended. */
#ifndef GNOMON_SERVER_SERVER_MIGRATE_H
#define GNOMON_SERVER_SERVER_MIGRATE_H

/* argv[0] is "migrate". Returns the process's exit status: 0, 1 (refused or failed, one line on stderr) or 2
 * (usage). */
int server_migrate_main(int argc, char **argv);

#endif
