/* The name of a run's files on a machine (its output streams DATA_DIR/logs/<name>.stdout|.stderr, its working
 * directory DATA_DIR/work/<name>), made from its task id alone. A task id (`ct:<dueMillis>:<attempt>:<job>:<args>`)
 * cannot be a file name as it is: the job and the arguments are any UTF-8 (a '/', "..", kilobytes of arguments),
 * and the names must stay under NAME_MAX with a suffix. The name is `<prefix>-<hash>`: prefix, the task id's first
 * RUN_NAME_PREFIX bytes with every byte outside [A-Za-z0-9._-] turned into '_' (so an operator can tell whose files
 * these are: `ct_1700000000000_0_backup_`), and hash, the first 128 bits of the SHA-256 of the whole task id in
 * lowercase hex, which tells apart ids that share their prefix (an empty id: the hash alone). Safe (no '/', never
 * "." or ".." or a leading '.' or '-'), bounded (at most RUN_NAME_MAX - 1 bytes), and free of collisions as far as
 * anyone can produce them: a collision needs a second preimage of SHA-256 truncated to 128 bits (2^64 work for a
 * birthday pair among ids a client chooses). The same id always gives the same name, on any machine and across
 * releases. */
#ifndef GNOMON_HISTORY_RUN_NAME_H
#define GNOMON_HISTORY_RUN_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RUN_NAME_PREFIX 48
#define RUN_NAME_MAX (RUN_NAME_PREFIX + 1 + 32 + 1)

/* Write the file name of the run with task_id into out (NUL-terminated). */
void run_name(const char *task_id, char out[RUN_NAME_MAX]);

/* Data dirs of earlier releases (up to 9f56547) named a run's files by its row id in the history (`12.stdout`,
 * `work/12`); the start-up migrations (run_output_files_migrate(), the embedded agent's sweep) rename them. */
/* The task id of the run with that row id (allocated into *task_id): 0, -ENOENT when the history no longer has
 * it, or another negative errno (history_sqlite_legacy_task_id() is one). */
typedef int (*run_legacy_fn)(void *ctx, int64_t id, char **task_id);
/* Is name an old one: a positive decimal row id with no leading zero, followed by suffix ("" or ".stdout")?
 * Then *id is it. */
bool run_name_legacy(const char *name, const char *suffix, int64_t *id);

#endif
