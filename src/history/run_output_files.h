/* The run-output backend over files on this machine: DATA_DIR/logs/<name>.stdout and .stderr (the name made from
 * the task id by run_name.h), as the embedded
 * agent's capture writes them (each created at its stream's first byte; past the cap, the head and the tail of
 * the stream with a marker line between them). */
#ifndef GNOMON_HISTORY_RUN_OUTPUT_FILES_H
#define GNOMON_HISTORY_RUN_OUTPUT_FILES_H

#include <stddef.h>

#include "history/run_name.h"
#include "history/run_output.h"

/* A backend over DATA_DIR/logs, which is created (mode 0750: the output is the server's) when missing. 0, or a
 * negative errno with a message in err. */
int run_output_files_new(const char *data_dir, struct run_output **out, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* The file a stream of a run is written to on this machine: the writer's side of this backend (the embedded
 * agent captures into it). */
void run_output_files_path(const char *data_dir, const struct run_output_key *key, enum run_stream s, char *out,
    size_t len);
/* Rename the files earlier releases named by row id (DATA_DIR/logs/<id>.stdout|.stderr) to their task-id names;
 * those of runs the history no longer has are removed. Start-up, before anything reads or writes logs/. Returns how
 * many files were renamed, or a negative errno when logs/ cannot be read (a file that cannot be renamed is logged
 * and left, its output unreadable through the API). */
int run_output_files_migrate(const char *data_dir, run_legacy_fn task_id_of, void *ctx)
    __attribute__((warn_unused_result));

#endif
