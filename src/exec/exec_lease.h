/* The agent's lease, shared with its tasks' executors (DESIGN.md, "epochs and leases"). A gnomon agent keeps
 * LEASE_FILE in its data directory: one page, mapped shared, holding when it last heard from a server
 * (CLOCK_MONOTONIC ms, the moment the request that got the answer left) and the lease its servers allow:
 * lease_for_timeout() of the --agent-timeout its registration's answer gives. Each executor it starts maps the
 * same file read-only and kills its task once the lease has lapsed: a paused, partitioned or dead agent's tasks
 * end before a server calls them lost (after --agent-timeout of silence, counted from a later moment than the
 * agent's) and runs them elsewhere. A server holds a poll at most a quarter of its --agent-timeout, so a live
 * agent renews well within the lease. The file is written in place (no new blocks once it exists, so a full disk
 * does not stop the renewals) and never replaced, so executors adopted by a restarted agent keep reading what it
 * writes. Monotonic times compare across processes of one boot; after a reboot no executor is left. Libc only
 * (the executor links nothing else). */
#ifndef GNOMON_EXEC_EXEC_LEASE_H
#define GNOMON_EXEC_EXEC_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LEASE_FILE "lease"
#define LEASE_MARGIN_MS 1000 /* a server's --agent-timeout exceeds the lease by this, or a quarter of it */
#define LEASE_CHECK_MS 250   /* how often an executor reads the lease while its task runs */

/* The shared page's layout. Each field is written and read whole (8-byte aligned, atomically). */
struct lease_page {
	uint64_t magic;    /* LEASE_MAGIC once initialised */
	uint64_t heard_ms; /* CLOCK_MONOTONIC ms; 0: never heard */
	uint64_t lease_ms; /* 0: none (no server has said its --agent-timeout yet) */
};

struct exec_lease {
	struct lease_page *page; /* mapped (every access atomic); NULL: none */
	int fd;
};

/* The agent's side: open (creating it, mode 0644) and map path read-write, keeping what an earlier agent wrote
 * (a new file has no lease). 0, or a negative errno with a message in err. */
int lease_open_writer(struct exec_lease *l, const char *path, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* The lease executors enforce from now on (0: none). */
void lease_set(struct exec_lease *l, uint64_t lease_ms);
/* Pure: the lease under a server's --agent-timeout of timeout_ms: that less LEASE_MARGIN_MS or a quarter of it,
 * whichever is less. */
uint64_t lease_for_timeout(uint64_t timeout_ms);
/* Record that the agent heard from a server at heard_ms (monotonic); an older time than the recorded one is
 * ignored. */
void lease_renew(struct exec_lease *l, uint64_t heard_ms);
/* An executor's side: map path read-only. 0, or a negative errno with a message in err. */
int lease_open_reader(struct exec_lease *l, const char *path, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Unmap and close; harmless on a closed one. */
void lease_close(struct exec_lease *l);

/* Pure: whether a lease heard at heard_ms (0: never) for lease_ms (0: no lease, never lapses) has lapsed at
 * now_ms (all monotonic ms); a heard_ms after now_ms (another boot's) has lapsed. */
bool lease_lapsed(uint64_t heard_ms, uint64_t lease_ms, uint64_t now_ms);
/* Whether l's lease has lapsed at now_ms; *silent_ms (optional) is how long since the agent last heard (0 when
 * it never did). An unreadable page (not initialised) counts as lapsed. */
bool lease_check(const struct exec_lease *l, uint64_t now_ms, uint64_t *silent_ms);

#endif
