/* `gnomon agent`: runs the tasks a server assigns to it (docs/agent-protocol.md, the agent's side). It connects out
 * to its servers over net/net.h, keeps what it was given in its data directory (its id, the highest leader epoch
 * it has seen, a journal of the tasks it holds) and runs them through an embedded runner_local, which leaves them
 * running under their executors when the agent stops: the next start adopts them. One loop thread.
 *
 * Besides agent_main(), the pure parts the unit tests reach: the token file, the --attribute list and the data
 * directory's journal. */
#ifndef GNOMON_AGENT_AGENT_H
#define GNOMON_AGENT_AGENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AGENT_TOKEN_MIN 16       /* bytes of a shared token, at least */
#define AGENT_TOKEN_MAX 4096     /* bytes of the token file's first line, at most */
#define AGENT_ID_LEN 32          /* hex digits of an agent id */
#define AGENT_ATTRIBUTES_MAX 64  /* the protocol's bounds on attributes */
#define AGENT_ATTRIBUTE_KEY_MAX 128
#define AGENT_ATTRIBUTE_VALUE_MAX 1024

/* Run `gnomon agent` (argv[0]: the program's name, skipped); returns the process's exit code. gnomon-agent's main()
 * (agent_main.c) calls it; `gnomon agent` execs gnomon-agent. */
int agent_main(int argc, char **argv);

/* The shared secret: the first line of path, white space trimmed, at least AGENT_TOKEN_MIN bytes. 0 with *out
 * (to free), or a negative errno with a one-line message in err. */
int agent_token_read(const char *path, char **out, char *err, size_t errlen) __attribute__((warn_unused_result));

/* The --attribute items ("KEY=VALUE" separated by '\n', util/config's CONFIG_LIST; NULL: none) as a JSON object
 * (a new reference): keys 1 to 128 bytes without '=', values at most 1 KiB, at most 64, valid UTF-8; a key given
 * twice is refused. 0, or -EINVAL with err naming the item. */
int agent_attributes_parse(const char *list, json_t **out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* One task of the journal, DATA_DIR/tasks/<name>.json (<name>: history/run_name.h's of its task id). */
struct agent_journal_entry {
	char *task_id, *job;
	json_t *task;              /* the assignment as the server sent it */
	int64_t pid, start_ms;     /* 0 until it was started */
};

/* Write the journal entry of a task (the assignment, and once it runs its pid and start), through a temporary
 * file, flushed (fsync of the file and of tasks/) before it is renamed in place. 0, or a negative errno with err. */
int agent_journal_write(const char *data_dir, const json_t *task, int64_t pid, int64_t start_ms, char *err,
    size_t errlen) __attribute__((warn_unused_result));
/* Remove the entry of task_id; 0 or a negative errno (-ENOENT: there was none). */
int agent_journal_remove(const char *data_dir, const char *task_id);
/* Every readable entry of DATA_DIR/tasks (created when missing), in no order: *out (free with
 * agent_journal_entries_free()). Entries that cannot be read are logged and moved aside (<name>.json.bad);
 * leftover temporary files are removed. 0, or a negative errno with err when tasks/ cannot be read. */
int agent_journal_load(const char *data_dir, struct agent_journal_entry **out, size_t *n, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void agent_journal_entries_free(struct agent_journal_entry *e, size_t n);

/* DATA_DIR/agent-id: read it, or make it (32 random hex digits, getrandom) at the first start. 0, or a negative
 * errno with err (a file that is there but is no id is an error, not replaced). */
int agent_id_load(const char *data_dir, char out[AGENT_ID_LEN + 1], char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* DATA_DIR/epoch: the highest leader epoch seen (0 when there is no file). */
int agent_epoch_load(const char *data_dir, uint64_t *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));
int agent_epoch_store(const char *data_dir, uint64_t epoch, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* DATA_DIR/servers: the servers learned from the cluster (one URL a line), read into *out (to free; NULL when
 * there is no file), or written whole (synced). 0, or a negative errno with err. */
int agent_servers_load(const char *data_dir, char **out, char *err, size_t errlen) __attribute__((warn_unused_result));
int agent_servers_store(const char *data_dir, const char *text, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
