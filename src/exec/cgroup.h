/* Control groups for tasks: each shell or argv task runs in a cgroup of its own, DIR/<name> under a gnomon
 * directory of its agent in each controller's hierarchy (cgroup v1, or the one of v2), with `mem` a hard memory
 * limit, `cpus` a CPU quota and a pids limit; the whole cgroup is killed with its run, and its counters say what
 * the run used.
 *
 * Who does what. The agent (runner_local) detects the host's cgroups once at start-up (cgroup_host_detect(): the
 * mounts, its own cgroup, its gnomon directory made and checked writable) and hands each task's directories and
 * limits to its executor in the spec (executor_proto.h). The executor (cgroup_task_*, libc only) creates the
 * cgroup and writes its limits, moves itself into it for the spawn (the task inherits it before its exec) and
 * back out right after, kills everything in it when the task's leader exits or is killed, reads its counters and
 * removes it. An executor outlives its agent, so a recovered task's cgroup is cleaned by its own executor.
 *
 * v1 (or hybrid: v1 controllers beside a v2 tree without them): memory, cpu, cpuacct and pids hierarchies, each
 * DIR = <its mount><the agent's cgroup in it>/gnomon/agent-<hash of its data dir>. v2: the same under the one
 * mount, memory, cpu and pids enabled down to DIR; the agent, which cannot stay in a cgroup that hands
 * controllers to children, moves into <its cgroup>/gnomon-agent first when it must; executors step back into
 * DIR/executors.
 *
 * The pure functions (names, limits, paths, parsers) do no I/O. */
#ifndef GNOMON_EXEC_CGROUP_H
#define GNOMON_EXEC_CGROUP_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CGROUP_PERIOD_US 100000        /* the CPU quota's period */
#define CGROUP_DIR_NAME "gnomon"       /* the agent's directory in each hierarchy */
#define CGROUP_EXECUTORS "executors"   /* v2: the leaf executors step back into after the spawn */
#define CGROUP_AGENT_LEAF "gnomon-agent" /* v2: the leaf the agent moves into when its own cgroup must hand out */
#define CGROUP_PIDS_MAX_DEFAULT 4096   /* --task-pids-max */
#define CGROUP_NAME_MAX 200

enum cgroup_version { CGROUP_NONE = 0, CGROUP_V1 = 1, CGROUP_V2 = 2 };

/* The controllers a task's cgroup uses; on v2 they share one directory. */
enum cgroup_ctl { CGROUP_MEMORY, CGROUP_CPU, CGROUP_CPUACCT, CGROUP_PIDS, CGROUP_NCTL };

/* The files read and written, by version (cgroup_file()). */
enum cgroup_item {
	CGROUP_PROCS,       /* cgroup.procs */
	CGROUP_MEM_LIMIT,   /* memory.limit_in_bytes / memory.max */
	CGROUP_SWAP_LIMIT,  /* memory.memsw.limit_in_bytes / memory.swap.max (optional) */
	CGROUP_MEM_PEAK,    /* memory.max_usage_in_bytes / memory.peak */
	CGROUP_MEM_EVENTS,  /* memory.oom_control / memory.events: "oom_kill N" */
	CGROUP_CPU_LIMIT,   /* cpu.cfs_quota_us / cpu.max */
	CGROUP_CPU_PERIOD,  /* cpu.cfs_period_us / (none: in cpu.max) */
	CGROUP_CPU_USER,    /* cpuacct.usage_user (ns) / cpu.stat user_usec */
	CGROUP_CPU_SYSTEM,  /* cpuacct.usage_sys (ns) / cpu.stat system_usec */
	CGROUP_PIDS_LIMIT,  /* pids.max */
	CGROUP_KILL,        /* (none) / cgroup.kill */
};

/* A task's limits; 0: none. */
struct cgroup_limits {
	uint64_t mem_bytes;
	uint64_t cpu_quota_us; /* per CGROUP_PERIOD_US */
	uint64_t pids_max;
};

/* A task's cgroup as its executor gets it: the directory of each controller (NULL: that controller is missing;
 * on v2 all the same). */
struct cgroup_spec {
	unsigned version; /* enum cgroup_version; CGROUP_NONE: no cgroup */
	const char *dir[CGROUP_NCTL];
	struct cgroup_limits lim;
};

/* What a task's cgroup counted; -1 where unknown. */
struct cgroup_usage {
	int64_t user_us, system_us;
	int64_t peak_bytes;
	bool oom_killed;
};

/* The host as the agent found it at start-up. */
struct cgroup_host {
	enum cgroup_version version;   /* what tasks get; CGROUP_NONE: none (why says why) */
	char layout[8];                /* "v1", "v2", "hybrid" or "none": what the host mounts */
	char dir[CGROUP_NCTL][PATH_MAX]; /* the gnomon directory in each controller's hierarchy; "" where missing */
	char why[256];                 /* version NONE: why; else "" */
};

/* ---- pure ---- */

/* A cgroup's name for a task id: the id, its bytes other than [A-Za-z0-9._-] as '_' and cut to fit
 * CGROUP_NAME_MAX, then, when it had to be changed, '-' and 16 hex digits of a hash (FNV-1a, 64 bits) of the whole
 * id, so that no two ids share one; never "", ".", ".." or CGROUP_EXECUTORS. */
void cgroup_name(const char *task_id, char out[CGROUP_NAME_MAX + 1]);
/* A job's cpus and mem (MiB) as limits: mem_bytes mem MiB (0 when mem <= 0), the quota cpus * period (at least
 * 1000 us; 0 when cpus <= 0), pids_max as given. */
void cgroup_limits_of(double cpus, double mem_mib, uint64_t pids_max, struct cgroup_limits *out);
/* The file of an item in a version's cgroup, NULL when that version has none. */
const char *cgroup_file(enum cgroup_version v, enum cgroup_item item);
/* The value of `key` in text of "key value" lines (memory.events, memory.oom_control, cpu.stat, cpuacct.stat).
 * 0, or -ENOENT when absent, -EINVAL when not a number. */
int cgroup_parse_keyed(const char *text, const char *key, int64_t *out) __attribute__((warn_unused_result));
/* One decimal number (a whole file such as memory.peak, "max" counts as -1). 0 or -EINVAL. */
int cgroup_parse_number(const char *text, int64_t *out) __attribute__((warn_unused_result));
/* The text written to set an item (mem, quota, pids; v2's cpu.max "Q P", "max" for none) into out. */
void cgroup_limit_text(enum cgroup_version v, enum cgroup_item item, uint64_t value, char *out, size_t outlen);
/* Work out the gnomon directories from /proc/self/mountinfo's and /proc/self/cgroup's texts (the mounts in use,
 * the agent's cgroups, the layout; without creating anything): 0 with h filled, or -ENOENT with h->why when
 * the host has no usable hierarchy. */
int cgroup_host_parse(const char *mountinfo, const char *proc_cgroup, struct cgroup_host *h)
    __attribute__((warn_unused_result));
/* A task's spec on host h (NULL or version NONE: none): its directories (DIR/name, into bufs) and limits. */
void cgroup_spec_of(const struct cgroup_host *h, const char *name, const struct cgroup_limits *lim,
    char bufs[CGROUP_NCTL][PATH_MAX], struct cgroup_spec *out);
/* A one-line description of the host for logs and the agents API ("v1 (hybrid): memory, cpu, cpuacct, pids
 * under /sys/fs/cgroup/memory/gnomon...", or "none: ..."). */
void cgroup_host_describe(const struct cgroup_host *h, char *out, size_t outlen);

/* ---- the agent's side (cgroup_host.c) ---- */

/* Detect the host's cgroups and make the agent's directories, DIR = <the gnomon directory>/<sub> (sub: one name
 * per agent, stable across its restarts: agents that share a cgroup share the gnomon directory, never a DIR), and
 * on v2 the subtree controllers: 0 with h usable, or a negative errno with h->version NONE and h->why saying why
 * (not root, read-only, no controllers). */
int cgroup_host_detect(const char *sub, struct cgroup_host *h) __attribute__((warn_unused_result));
/* Remove the task cgroups of DIR that no process is in any more (their executor died before it could): at the
 * agent's start, before it starts anything (a live executor's cgroup holds its task and stays). Returns how many
 * were removed. */
int cgroup_host_sweep(const struct cgroup_host *h);
/* At the agent's stop: remove DIR when no task cgroup is left in it (tasks that go on keep it). */
void cgroup_host_release(const struct cgroup_host *h);
/* A name for cgroup_host_detect()'s sub: "agent-" and a hash of key (an agent's data directory). */
void cgroup_agent_name(const char *key, char *out, size_t outlen);

/* ---- the executor's side (cgroup_task.c) ---- */

/* Write text to dir/file. 0 or -errno. */
int cgroup_write(const char *dir, const char *file, const char *text) __attribute__((warn_unused_result));
/* Read dir/file (at most outlen - 1 bytes, NUL-terminated). 0 or -errno. */
int cgroup_read(const char *dir, const char *file, char *out, size_t outlen) __attribute__((warn_unused_result));

/* Create the task's cgroup and write its limits. 0, or a negative errno with a message. */
int cgroup_task_create(const struct cgroup_spec *s, char *err, size_t errlen) __attribute__((warn_unused_result));
/* Move this process into the task's cgroup (before the spawn: the task inherits it). 0 or -errno with a message. */
int cgroup_task_enter(const struct cgroup_spec *s, char *err, size_t errlen) __attribute__((warn_unused_result));
/* Move this process out of it again (into its parent on v1, DIR/executors on v2). */
void cgroup_task_leave(const struct cgroup_spec *s);
/* SIGKILL every process in the task's cgroup (all but this one), until it is empty or a bounded number of
 * rounds passed. */
void cgroup_task_kill(const struct cgroup_spec *s);
/* Send sig to every process in it but this one, once. */
void cgroup_task_signal(const struct cgroup_spec *s, int sig);
/* Read what it used. */
void cgroup_task_usage(const struct cgroup_spec *s, struct cgroup_usage *out);
/* Kill what is left and remove it (retrying while the dead leave it). */
void cgroup_task_remove(const struct cgroup_spec *s);

#endif
