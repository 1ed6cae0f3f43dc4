/* The history's PostgreSQL backend (HA), over the pg_store its state shares (store/pg_store.h): the reads are
 * those of the copy in memory; a record, a prune or a job's deletion is one request (fenced with this server's
 * epoch once it has one, state/state_pg.h), applied to the copy once committed, then told (removed, done). A
 * prune's runs are those the database removed (DELETE ... RETURNING), taken out of the copy by task id. */
#ifndef GNOMON_HISTORY_HISTORY_PG_H
#define GNOMON_HISTORY_HISTORY_PG_H

#include "history/history.h"

struct pg_store;

/* The history over p (which it holds a reference of). Writes in flight when it is freed never complete. */
struct history *history_pg_new(struct pg_store *p);

#endif
