/* Run one task on this machine through its executor: gnomon-executor (executor.c, protocol in
 * executor_proto.h), a small process of its own that spawns the task in its own process group, is its parent,
 * captures its stdout and stderr into capped files, kills it on request or at its deadline, and journals its
 * result (P.pid, P.result) so that the task and its result outlive this process. Here: the executor's spawn (the
 * task's plan, PATH lookup and runAsUser launcher decided before it), its events read on the loop (output chunks,
 * the end), its end reported once. Everything runs on the loop thread (but the spawns of exec_start_many(), which
 * it waits for); the executor's exit arrives as a loop event (a pidfd), never through signal handlers.
 *
 * Lifecycle: exec_start() starts the task and returns it once its executor said it runs. Exactly one exit
 * callback follows, once the executor has ended (exited and been reaped; or, for one its zygote forked, sent
 * the result it journaled: its exit, which the zygote reaps, is all that is left of it), its events have been
 * read to their end and every libuv handle of the task has been closed. The caller then frees the task with exec_task_free(), inside
 * the exit callback or later; the result stays valid until then. exec_task_free() on a task still running
 * abandons it: its executor kills it (SIGKILL to its group), no callback runs any more, and the module frees it
 * by itself once the executor has been reaped (keep running the loop).
 *
 * When the task's leader exits, the executor kills the rest of its process group, so no process of the run
 * outlives it (processes that left the group with setsid() or setpgid() are out of reach until cgroups are used).
 *
 * The executors are forked by a fork server, `gnomon-executor --zygote` (exec_zygote.c), which this module
 * starts at the first task and keeps (it exits with this process): the executors are its children, reaped by
 * it. When it cannot be started or dies, each start spawns its executor itself (a child of this process) until
 * a later start restarts it. The server must not set SIGCHLD to SIG_IGN (the zygote and those executors are its
 * children), and nothing else may waitpid(-1). Not thread-safe: every call on the loop's thread. */
#ifndef GNOMON_EXEC_EXEC_H
#define GNOMON_EXEC_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <uv.h>

#define EXEC_CAP_DEFAULT ((size_t)64 * 1024) /* bytes kept at the head and at the tail of each stream */
#define EXEC_GRACE_DEFAULT_MS 5000           /* SIGTERM to SIGKILL at the deadline */
#define EXEC_DRAIN_DEFAULT_MS 2000           /* wait for pipes held by escaped processes after the leader exit */

enum exec_stream { EXEC_STDOUT = 0, EXEC_STDERR = 1 };

struct exec_task;
struct exec_result;
struct cgroup_spec;

/* A chunk the task just wrote; data is only valid during the call. */
typedef void (*exec_output_cb)(void *ctx, enum exec_stream stream, const char *data, size_t len);
/* The task ended; see the lifecycle above. */
typedef void (*exec_exit_cb)(void *ctx, struct exec_task *task, const struct exec_result *result);

/* What to run. Nothing here is referenced after exec_start() returns, except the callbacks and ctx. */
struct exec_spec {
	const char *executor;      /* the gnomon-executor binary to run it under (required) */
	const char *journal;       /* its journal's path prefix P: P.pid and P.result (required; executor_proto.h) */
	char *const *argv;         /* argv[0]: a path, or a name looked up in the PATH of envp */
	char *const *envp;         /* the task's whole environment (exec_env_build()); NULL: empty */
	const char *cwd;           /* working directory; NULL: the server's */
	const char *run_as_user;   /* NULL, "" or the server's own user: run as the server's user */
	const struct exec_account *account; /* run_as_user already checked (exec_account_check(), e.g. by a
	                            * prepare function that needed its home); NULL: exec checks run_as_user */
	const char *out_path[2];   /* stdout and stderr files (two different paths), created or truncated, mode
	                            * 0600; NULL: discard (still counted and passed to on_output) */
	bool lazy_files;           /* create each file at its stream's first byte: a stream that wrote nothing
	                            * leaves NO file (a stale one is removed at start); saves the file creations
	                            * of quiet tasks, which can cost more than the spawn. Else create both at start */
	size_t cap_head, cap_tail; /* bytes of each stream kept from its start and from its end */
	uint64_t deadline_ms;      /* maxCompletionTime, from the start; 0: none */
	uint64_t grace_ms;         /* SIGTERM to SIGKILL delay when the deadline passes */
	uint64_t drain_ms;         /* how long the executor reads the output pipes after the leader's exit, for
	                            * processes that escaped the group and hold them */
	const struct cgroup_spec *cgroup; /* its cgroup (cgroup.h), NULL or version NONE: none */
	const char *lease;         /* its agent's lease file (exec_lease.h): killed when the lease lapses; NULL: none */
	const char *order_path;    /* the streams' arrival order record (exec_order.h), NULL: none */
	exec_output_cb on_output;  /* optional: every chunk read, as it arrives (live followers) */
	exec_exit_cb on_exit;      /* required */
	void *ctx;
};

struct exec_stream_result {
	uint64_t bytes;   /* everything the task wrote to the stream */
	uint64_t omitted; /* bytes dropped between the head and the tail; the file says so in a marker line */
	bool truncated;   /* omitted > 0 */
};

struct exec_result {
	int exit_code;       /* 0-255 when the leader exited; -1 when a signal ended it or the status was lost */
	int term_signal;     /* the signal that ended it, else 0 */
	bool core_dumped;
	bool timed_out;      /* the deadline passed and the task was killed */
	bool killed;         /* exec_kill() was called before it ended */
	bool status_lost;    /* the executor could not tell (it died, or its journal is unreadable); exit_code -1 */
	int64_t start_ms;    /* CLOCK_REALTIME at spawn */
	int64_t end_ms;      /* CLOCK_REALTIME when the leader was reaped */
	int64_t duration_us; /* CLOCK_MONOTONIC, spawn to reap */
	struct exec_stream_result stream[2];
	int io_error;        /* first error writing an output file (negative errno), else 0 */
	/* Resource use of the leader and the children it waited for (getrusage's RUSAGE_CHILDREN of one task);
	 * -1 when the status was lost. */
	int64_t user_cpu_us, system_cpu_us;
	int64_t max_rss_kib;
	/* With a cgroup (cgroup set), the CPU times above are the cgroup's (every process of the run, also those
	 * that left its group) and peak_mem_bytes its peak memory; else peak_mem_bytes is max_rss_kib in bytes.
	 * -1 when unknown. */
	int64_t peak_mem_bytes;
	bool oom_killed;     /* the cgroup's memory limit killed a process of the run */
	int64_t mem_limit;   /* that limit in bytes, 0: none */
	bool cgroup;         /* it ran in a cgroup of its own */
	bool lease_lapsed;   /* killed (killed is set too) because its agent's lease lapsed */
	int64_t lease_silent_ms; /* how long its agent had not heard from a server then */
};

/* The account a task runs as. */
struct exec_user {
	uid_t uid;
	gid_t gid;
	char name[256];
	char home[1024];
};

/* A task's account once checked against the server's (exec_account_check()). */
struct exec_account {
	struct exec_user user; /* the account the task runs as (the server's own when !launcher) */
	bool launcher;         /* another account than the server's: the task starts through the runAsUser launcher */
};

/* Fill in the defaults: caps of EXEC_CAP_DEFAULT, grace and drain times, lazy files, no deadline, everything
 * else empty. */
void exec_spec_init(struct exec_spec *spec);

/* Start a task. Returns 0 and the task, or a negative errno with a message in err (no callback follows):
 * -ENOENT  unknown runAsUser ("runAsUser: unknown user 'bob'"), missing executable or working directory;
 * -EPERM   runAsUser differs from the server's user and the server is not root
 *          ("gnomon runs as 'alice', not root: cannot run jobs as 'bob'");
 * -EACCES, -ENOEXEC, ... from the exec, -EMFILE, ... from pipes and output files; -EINVAL for a bad spec. */
int exec_start(uv_loop_t *loop, const struct exec_spec *spec, struct exec_task **out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

struct spawn_pool;

/* Fill in specs[i] right before its spawn, on whichever thread spawns it: it may only read what the loop
 * thread's owner leaves untouched until exec_start_many() returns (that thread is inside it). 0, or a negative
 * errno with a message in err (the task is not started). */
typedef int (*exec_prepare_fn)(void *ctx, size_t i, struct exec_spec *spec, char *err, size_t errlen);

/* Start n tasks, each as exec_start() would: rc[i] is 0 with out[i] the task, or a negative errno with a
 * message at errs + i * errlen (out[i] NULL). Their preparation (prepare, if not NULL), plans, pipes and spawns
 * run in parallel on the pool's threads and this one (exec/spawn_pool.h; pool NULL: one after the other), their
 * handles are then set up here; it returns once every task is started (its executor said so) or has failed.
 * Each task's result start_ms is when its executor spawned it. self: the server's account (exec_user_self(), looked up once by a
 * caller that starts many batches), against which the specs without an account are checked; NULL: looked up
 * now, on this thread. */
void exec_start_many(uv_loop_t *loop, struct spawn_pool *pool, const struct exec_user *self, struct exec_spec *specs,
    size_t n, exec_prepare_fn prepare, void *ctx, struct exec_task **out, int *rc, char *errs, size_t errlen);

/* Kill the task through its executor: grace_ms > 0 sends SIGTERM (and SIGCONT) to the task's process group, then
 * SIGKILL after the spec's grace_ms if the leader still runs (the executor's grace, whatever grace_ms says);
 * grace_ms 0 sends SIGKILL at once. The result says killed. Returns 0, or -ESRCH when the task has already ended.
 * A second call can only shorten the grace to 0. */
int exec_kill(struct exec_task *task, uint64_t grace_ms) __attribute__((warn_unused_result));

/* The leader's pid, which is also the process group id. */
pid_t exec_task_pid(const struct exec_task *task);
/* CLOCK_REALTIME when the task's spawn began (the result's start_ms, readable while it runs). */
int64_t exec_task_start_ms(const struct exec_task *task);

/* Free an ended task, or abandon a running one (see above). */
void exec_task_free(struct exec_task *task);
/* Stop watching a running task and leave it to its executor, which goes on (its events are no longer read: it
 * carries on when it finds the pipe closed) and journals the result for whoever adopts it (exec_adopt). For a
 * process that is exiting: the executor is its child, whose exit nobody here reaps any more. Frees the task once
 * its handles are closed (keep running the loop); an ended one is freed at once. NULL is fine. */
void exec_task_detach(struct exec_task *task);
/* Watch a task that an earlier process started, through its journal (the spec's journal prefix): its executor,
 * found by P.pid (and its start time: a reused pid is not it), is followed until it exits, then its result is
 * read from P.result (status_lost when there is none). No output chunks come (on_output is not called); kills
 * work as for any task. 0 with *out, -ENOENT when there is no readable P.pid, -ESRCH when the executor is gone
 * (P.result may then hold the result), or another negative errno; err says which. */
int exec_adopt(uv_loop_t *loop, const char *journal, exec_output_cb on_output, exec_exit_cb on_exit, void *ctx,
    struct exec_task **out, char *err, size_t errlen) __attribute__((warn_unused_result));
/* Read the result an executor journaled (P.result, P the journal prefix) into out: 0, -ENOENT when there is
 * none, -EINVAL when it is unreadable (err says why). */
int exec_journal_result(const char *journal, struct exec_result *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Look up an account by name (getpwnam_r; any thread). Returns 0, or -ENOENT with "runAsUser: unknown user
 * 'NAME'". */
int exec_user_lookup(const char *name, struct exec_user *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* The account of the effective uid, looked up now (getpwuid_r; any thread): its uid as the name and "/" as the
 * home when it has no entry. A server looks it up once at start-up and keeps it. */
void exec_user_self(struct exec_user *out);
/* The one runAsUser check: the account a task asking for run_as runs as, for a server running as self. NULL,
 * "" and self's name run as self; a name of self's uid too; any other account needs a root server (through the
 * launcher). Any thread. Returns 0, or a negative errno with a message in err: -ENOENT ("runAsUser: unknown user
 * 'bob'"), -EPERM ("gnomon runs as 'alice', not root: cannot run jobs as 'bob'"), -EIO... from the lookup. */
int exec_account_check(const struct exec_user *self, const char *run_as, struct exec_account *out, char *err,
    size_t errlen) __attribute__((warn_unused_result));

#endif
