/* POST /api/v1/backup: a consistent copy of the standalone server's data dir, streamed to the client as a ustar
 * archive (util/tar.h) that `gnomon backup DIR` unpacks: gnomon.db, the SQLite store as of one moment (VACUUM INTO
 * on a thread of the libuv pool, with a connection of its own, so the loop and its writes go on), then every file
 * of DATA_DIR/logs (the runs' output). Nothing is written where a client says: the copy goes to the client.
 * With --state postgres://... it answers 409 (pg_dump backs the database up); one backup at a time (409). */
#ifndef GNOMON_API_GNOMON_BACKUP_H
#define GNOMON_API_GNOMON_BACKUP_H

#include "api/api.h"

#define BACKUP_CONTENT_TYPE "application/x-tar"

void gnomon_backup(struct api_env *env, struct http_request *req, const char *const *args);

#endif
