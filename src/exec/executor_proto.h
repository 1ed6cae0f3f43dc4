/* The protocol between the server and gnomon-executor, the small process that runs one task, is its parent and
 * outlives the server (src/exec/executor.c). Pure functions (no I/O, no clock) for both sides, but the two that
 * read /proc at the end.
 *
 * Start. The server spawns gnomon-executor with fd 0 a pipe carrying the spec (the server writes it and closes
 * its end), fd 1 the write end of the events pipe (the server keeps the read end and closes its own copy of the
 * write end; the executor sets O_NONBLOCK on it), fd 2 for diagnostics (may be closed). No arguments.
 *
 * Spec (fd 0, until EOF; executor_spec_encode/decode): records KEY\0VALUE\0, at most EXECUTOR_SPEC_MAX bytes.
 *   prog         exactly one, not empty: the file to execute, already resolved (no PATH search)
 *   arg          one or more: argv in order, argv[0] first
 *   env          zero or more: NAME=value (NAME not empty); the task's whole environment
 *   cwd          0 or 1: the task's working directory (else the executor's)
 *   out, err     0 or 1 each: the stdout / stderr file (mode 0600); absent: the stream is discarded (still
 *                counted and sent in 'O' frames)
 *   lazy         0 or 1, "1" or "0", default 1: create each file at its stream's first byte and remove a stale
 *                one at start (a silent stream leaves no file); 0: create (truncate) both before the spawn
 *   cap_head     0 or 1, decimal, default 65536, at most EXECUTOR_CAP_MAX: bytes kept from a stream's start
 *   cap_tail     the same for the bytes kept from its end; between them the file gets exec_capture.c's marker
 *                line "\n[gnomon: N bytes omitted]\n"
 *   deadline_ms  0 or 1, decimal, default 0 (none): from the spawn; then timed_out, SIGTERM, grace, SIGKILL
 *   grace_ms     0 or 1, decimal, default 5000: SIGTERM to SIGKILL (0: SIGKILL at once)
 *   drain_ms     0 or 1, decimal, default 2000: how long the pipes are read after the leader's exit
 *   journal      exactly one, not empty: the path prefix P of the journal files (below)
 *   cg_version   0 or 1, 0 (default: no cgroup), 1 or 2: the task runs in a cgroup of its own (cgroup.h), made
 *                from cg_memory, cg_cpu, cg_cpuacct and cg_pids (0 or 1 each: that controller's directory of the
 *                task, the same one on v2) with the limits mem_limit (bytes), cpu_quota_us (per 100 ms) and
 *                pids_max (0 or 1 each, default 0: none); it is killed whole when the leader exits or is killed,
 *                its counters go into the result, and it is removed before the result is written
 *   lease        0 or 1: the path of its agent's lease file (exec_lease.h); the task is not started when the
 *                lease has lapsed (a start failure, ESTALE) and is killed at once (SIGKILL to its group) when it
 *                lapses while it runs, checked every LEASE_CHECK_MS; the result says so (lease_lapsed)
 *   order        0 or 1, not empty: the order record's file (exec_order.h: the arrival order of the bytes of the
 *                streams that have a file; created at its first entry, a stale one removed at start, complete
 *                before P.result is written); absent: none (an older server's spec, read as stdout then stderr)
 * Decimal numbers: ASCII digits only (no sign, no space), 1 to 20 of them, at most UINT64_MAX.
 *
 * Events (fd 1): frames of an 8-byte header, u8 type, u8 stream (0 stdout, 1 stderr; 0 for every type but 'O'),
 * u16 zero, u32 payload length little-endian (at most EXECUTOR_FRAME_MAX), then the payload:
 *   'S' started            "<task pid> <start_ms>" (decimal; start_ms CLOCK_REALTIME at the spawn)
 *   'F' failed to start    "<errno> <message>" (a positive errno; 22 EINVAL for a bad spec)
 *   'O' output chunk       the bytes (1 to 65536), every one while the read end is open: while a frame waits
 *                          for room, the executor reads no more of the task's output (the task blocks on its
 *                          full pipe, as it would writing to a slow reader); only what is left at the drain's
 *                          end (escaped processes) goes to the files alone
 *   'E' ended              the result text (below)
 * Sequences: 'F' alone (exit 2 or 3); or 'S', 'O'..., 'E' (exit 0 or 4). 'S' and 'E' are never dropped while
 * the read end is open; once it is closed (EPIPE) the executor writes no more frames and carries on.
 *
 * Journal (P the spec's journal prefix; each file written to "P.<name>.tmp", then renamed; no fsync):
 *   P.pid     after the spawn, before 'S': "<executor pid> <executor start time> <task pid> <start_ms>\n", the
 *             start time in clock ticks since boot (field 22 of /proc/<pid>/stat): a restarted server finds the
 *             executor by its pid and checks, by the start time, that the pid was not reused
 *   P.result  after the task ended and both streams were captured, before 'E': the result text
 * A start failure ('F') writes neither.
 *
 * Result text: one line "key value\n" per key, in this order: exit_code (0-255, -1 when a signal ended the task
 * or its status was lost), term_signal, core_dumped (0/1), timed_out (0/1), killed (0/1), start_ms, end_ms
 * (CLOCK_REALTIME ms), duration_us (CLOCK_MONOTONIC, spawn to reap), stdout_bytes, stdout_omitted, stderr_bytes,
 * stderr_omitted, io_error (0 or the negative errno of the first output-file write error), user_cpu_us,
 * system_cpu_us, max_rss_kib (-1 when the status was lost), task_pid; then, optional (an older executor's result
 * lacks them): peak_mem_bytes (-1 when unknown), oom_killed (0/1), mem_limit (bytes, 0 none), cgroup (0/1: the
 * CPU times and peak_mem_bytes are the cgroup's, else getrusage's), lease_lapsed (0/1: killed because its agent's
 * lease lapsed; killed is 1 too), lease_silent_ms (how long its agent had not heard from a server then, else 0).
 * A reader ignores keys it does not know and refuses a missing (but optional), repeated or malformed one.
 *
 * Executor exit status: 0 the task ended (P.result written, 'E' sent); 2 bad spec; 3 the task could not be
 * started (or watched, or P.pid written: it was killed then); 4 the task ended but P.result could not be
 * written ('E' was still sent); 1 out of memory. Signals to the executor: SIGTERM kills the task (SIGTERM and
 * SIGCONT to its process group, SIGKILL after grace_ms; a second SIGTERM does not restart the grace); SIGUSR1
 * kills it now (SIGKILL); both mark the result killed. SIGINT, SIGHUP and SIGPIPE are ignored; the executor is
 * in a session of its own.
 *
 * Fork server ("zygote"): `gnomon-executor --zygote`, one per server, started with fd 0 its end of a unix
 * SOCK_SEQPACKET socketpair, fds 1 and 2 for nothing and diagnostics, nothing else open. It goes into a session
 * of its own, has SIGCHLD ignored (the kernel reaps its children: no zombie executors) and sends a hello. Each
 * message is one struct executor_zygote_msg:
 *   'H' hello        zygote -> server, once at its start: pid its pid, err 0
 *   'R' fork         server -> zygote, with two descriptors (SCM_RIGHTS): the spec pipe's read end, then the
 *                    events pipe's write end
 *   'P' forked       zygote -> server, the answer to each 'R': pid the executor's and err 0, with one descriptor,
 *                    a pidfd of it (opened before the child could have been reaped); or pid 0 and a positive errno
 * For each 'R' it forks; the child puts the spec pipe on fd 0 and the events pipe on fd 1, closes every other
 * descriptor (the socket, other tasks' pipes: none are left after the answer) and is that task's executor
 * exactly as if spawned with them (Start above), in a session of its own; the zygote closes both descriptors
 * before it answers. It exits at the socket's end (its server is gone) without touching its children: they
 * carry on (reparented to init or a subreaper), so every property of a spawned executor holds. A request that
 * is not an 'R' with two descriptors is answered 'P' with EPROTO. */
#ifndef GNOMON_EXEC_EXECUTOR_PROTO_H
#define GNOMON_EXEC_EXECUTOR_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct buf;
struct exec_result;

#define EXECUTOR_SPEC_MAX ((size_t)16 << 20) /* bytes of an encoded spec */
#define EXECUTOR_CAP_MAX ((uint64_t)1 << 30) /* cap_head and cap_tail */
#define EXECUTOR_FRAME_HEADER 8
#define EXECUTOR_FRAME_MAX 65536 /* payload bytes */
#define EXECUTOR_RESULT_MAX 1024 /* bytes of a result text, with room to spare */

#define EXECUTOR_ZYGOTE_ARG "--zygote" /* gnomon-executor's one argument: run as the fork server */

enum executor_zygote_type {
	EXECUTOR_ZYGOTE_HELLO = 'H',
	EXECUTOR_ZYGOTE_FORK = 'R',
	EXECUTOR_ZYGOTE_FORKED = 'P',
};

/* Every message to and from the fork server (both sides are built together: native layout). */
struct executor_zygote_msg {
	uint8_t type;    /* enum executor_zygote_type */
	uint8_t zero[3];
	int32_t pid;
	int32_t err;     /* 'P': 0, or a positive errno when there is no executor */
};

/* The executor's exit statuses. */
enum {
	EXECUTOR_EXIT_ENDED = 0,
	EXECUTOR_EXIT_NOMEM = 1,
	EXECUTOR_EXIT_BAD_SPEC = 2,
	EXECUTOR_EXIT_START_FAILED = 3,
	EXECUTOR_EXIT_NO_RESULT = 4,
};

enum executor_frame_type {
	EXECUTOR_FRAME_STARTED = 'S',
	EXECUTOR_FRAME_FAILED = 'F',
	EXECUTOR_FRAME_OUTPUT = 'O',
	EXECUTOR_FRAME_ENDED = 'E',
};

/* What to run. Encoding reads it (borrowed pointers, argv and envp NULL-terminated, envp NULL for none);
 * decoding fills one that owns everything until executor_spec_free(). */
struct executor_spec {
	const char *prog;
	char *const *argv;
	char *const *envp;
	const char *cwd;           /* NULL: none */
	const char *out_path[2];   /* NULL: discard the stream */
	bool lazy;
	uint64_t cap_head, cap_tail;
	uint64_t deadline_ms, grace_ms, drain_ms;
	const char *journal;
	uint64_t cg_version;       /* 0: no cgroup; 1 or 2 (cgroup.h) */
	const char *cg_dir[4];     /* the task's cgroup per controller (enum cgroup_ctl), NULL: none */
	uint64_t mem_limit, cpu_quota_us, pids_max; /* the cgroup's limits, 0: none */
	const char *lease;         /* its agent's lease file, NULL: none */
	const char *order_path;    /* the order record (exec_order.h), NULL: none */
	char *mem_;                /* decoded: the strings (private) */
	char **vec_;               /* decoded: argv then envp (private) */
};

/* The defaults: lazy files, caps of 65536, no deadline, grace 5000 ms, drain 2000 ms, nothing else. */
void executor_spec_init(struct executor_spec *s);
/* Append s's encoding to out. 0, or -EINVAL (no prog, argv or journal, or an env entry without '=') or -E2BIG
 * (over EXECUTOR_SPEC_MAX, or out's limit) with a message in err; out is left as it was then. */
int executor_spec_encode(const struct executor_spec *s, struct buf *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Decode a spec into out, which then owns copies of everything (executor_spec_free). 0, or -EINVAL / -E2BIG
 * with a message naming the key in err ("spec: duplicate 'cwd'"); out needs no freeing then. */
int executor_spec_decode(const char *data, size_t len, struct executor_spec *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Free what a decoded spec owns. Harmless on an initialised or freed one. */
void executor_spec_free(struct executor_spec *s);

struct executor_frame_header {
	uint8_t type;   /* enum executor_frame_type */
	uint8_t stream; /* 'O': 0 stdout, 1 stderr */
	uint32_t len;   /* payload bytes */
};

/* The 8 header bytes of a frame. */
void executor_frame_header_encode(uint8_t out[EXECUTOR_FRAME_HEADER], const struct executor_frame_header *h);
/* Check and decode 8 header bytes: a known type, stream 0 (or 1 for 'O'), zero reserved bytes, len at most
 * EXECUTOR_FRAME_MAX. 0, or -EPROTO with a message in err. */
int executor_frame_header_decode(const uint8_t in[EXECUTOR_FRAME_HEADER], struct executor_frame_header *h,
    char *err, size_t errlen) __attribute__((warn_unused_result));

/* A whole frame from the reader: payload is valid until the next executor_reader_feed() or _free(). */
struct executor_frame {
	struct executor_frame_header h;
	const char *payload;
};

/* Reassembles frames from the events pipe, whatever the pieces it is fed. */
struct executor_reader {
	uint8_t hdr[EXECUTOR_FRAME_HEADER];
	size_t hdr_len;       /* header bytes buffered */
	struct executor_frame_header h;
	char *buf;            /* a payload split across feeds; grows to the largest one */
	size_t buf_cap, got;
	int error;            /* sticky: a bad header was seen */
};

void executor_reader_init(struct executor_reader *r);
void executor_reader_free(struct executor_reader *r);
/* Consume bytes from *data (*len of them) until a frame is whole: returns 1 with the frame in out and *data,
 * *len advanced past what was used; 0 when everything was consumed without completing a frame; -EPROTO (then
 * on every later call) with a message in err for a bad header. Loop while it returns 1. */
int executor_reader_feed(struct executor_reader *r, const char **data, size_t *len, struct executor_frame *out,
    char *err, size_t errlen) __attribute__((warn_unused_result));
/* Whether the reader holds part of a frame (the pipe closed mid-frame if so at EOF). */
bool executor_reader_partial(const struct executor_reader *r);

/* The 'S' payload into out (at least 48 bytes); returns its length. */
size_t executor_started_format(char *out, size_t outlen, pid_t task_pid, int64_t start_ms);
/* Parse an 'S' payload. 0 or -EINVAL. */
int executor_started_parse(const char *p, size_t len, pid_t *task_pid, int64_t *start_ms)
    __attribute__((warn_unused_result));
/* The 'F' payload into out (truncated to outlen); returns its length. */
size_t executor_failed_format(char *out, size_t outlen, int errnum, const char *msg);
/* Parse an 'F' payload: errnum positive, msg NUL-terminated (truncated to msglen). 0 or -EINVAL. */
int executor_failed_parse(const char *p, size_t len, int *errnum, char *msg, size_t msglen)
    __attribute__((warn_unused_result));

/* How a task ended: the result text's keys. */
struct executor_result {
	int exit_code;
	int term_signal;
	bool core_dumped, timed_out, killed;
	int64_t start_ms, end_ms, duration_us;
	uint64_t stdout_bytes, stdout_omitted, stderr_bytes, stderr_omitted;
	int io_error;
	int64_t user_cpu_us, system_cpu_us, max_rss_kib;
	pid_t task_pid;
	int64_t peak_mem_bytes;
	bool oom_killed;
	int64_t mem_limit;
	bool cgroup;
	bool lease_lapsed;
	int64_t lease_silent_ms;
};

/* The result text into out (at least EXECUTOR_RESULT_MAX bytes, NUL-terminated); returns its length. */
size_t executor_result_format(const struct executor_result *r, char *out, size_t outlen);
/* Parse a result text strictly (unknown keys are skipped). 0, or -EINVAL with a message naming the key. */
int executor_result_parse(const char *p, size_t len, struct executor_result *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* The exec_result of an executor's result: status_lost when neither an exit code nor a signal is known. */
void executor_result_to_exec(const struct executor_result *r, struct exec_result *out);

/* The content of P.pid. */
struct executor_pidfile {
	pid_t executor_pid;
	uint64_t executor_start; /* clock ticks since boot */
	pid_t task_pid;
	int64_t start_ms;
};

/* P.pid's content into out (at least 96 bytes); returns its length. */
size_t executor_pidfile_format(const struct executor_pidfile *p, char *out, size_t outlen);
/* Parse P.pid's content (one line ending with '\n'). 0 or -EINVAL. */
int executor_pidfile_parse(const char *p, size_t len, struct executor_pidfile *out)
    __attribute__((warn_unused_result));
/* The start time (field 22) in the text of a /proc/<pid>/stat. 0 or -EINVAL. */
int executor_stat_start_time(const char *stat, size_t len, uint64_t *out) __attribute__((warn_unused_result));
/* Read the start time of a process from /proc (pid 0: this one). 0, -ESRCH (no such process, or it has exited:
 * a zombie not reaped yet) or another negative errno. */
int executor_proc_start_time(pid_t pid, uint64_t *out) __attribute__((warn_unused_result));

#endif
