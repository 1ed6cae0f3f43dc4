/* Container jobs (Chronos's `container`) through the podman or docker command line. container_runtime_detect()
 * finds the runtime an agent uses and how this host lets it run (once, at start-up: it runs `<runtime>
 * --version` and looks at /sys/fs/cgroup); the rest is pure: the argv of a task's `run`, of the `rm -f` that
 * ends it, of the `ps` that finds the containers an earlier agent left, and the container's name.
 *
 * Hybrid cgroup hosts (v1 controllers, a v2 tree without them): crun refuses to run there ("cgroups in hybrid
 * mode not supported"). As root, the runtime is run in a private mount namespace whose /sys/fs/cgroup is a pure
 * cgroup2 mount, with --cgroups=disabled: conmon and the container's processes then stay in the cgroups of the
 * process that ran the runtime (the executor's task), which is what limits them; --cpus and --memory are not
 * given (the runtime cannot enforce them there). Podman's default nofile/nproc ulimits may exceed this process's
 * hard limits (crun's setrlimit then fails): they are always given explicitly, as this process's own. */
#ifndef GNOMON_EXEC_CONTAINER_H
#define GNOMON_EXEC_CONTAINER_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#define CONTAINER_NAME_MAX 128 /* a container name with its NUL */
/* The attribute of an agent that can run containers: its runtime, "podman" or "docker" (beside it
 * container.<runtime> holds the runtime's version). A task with a container is placed only where it is. */
#define CONTAINER_ATTRIBUTE "container.runtime"
/* The attribute of an agent that cannot run containers: why (a waiting container run's reason quotes it). */
#define CONTAINER_UNAVAILABLE "container.unavailable"

enum container_kind { CONTAINER_NONE, CONTAINER_PODMAN, CONTAINER_DOCKER };

/* The runtime an agent runs containers with, as detected. */
struct container_runtime {
	enum container_kind kind;
	char path[PATH_MAX];     /* the runtime's binary, absolute */
	char version[64];        /* as `--version` says it: "4.3.1" */
	bool hybrid;             /* through the private cgroup2 mount namespace, with --cgroups=disabled */
	char unshare[PATH_MAX];  /* hybrid: the unshare binary that makes the namespace */
	bool limits;             /* cpus and mem become --cpus and --memory */
	bool init;               /* --init: a small init as PID 1 passes SIGTERM on to the command */
	long long nofile, nproc; /* --ulimit for both soft and hard; -1: not given */
	char why[512];           /* kind NONE: why this agent cannot run containers (a run's reason) */
	const char *host_paths;  /* --container-host-paths (borrowed): the host paths volumes may mount; NULL: default */
};

/* What one task's container is made of; strings borrowed. */
struct container_task {
	const char *container;     /* the job's container, as its normalised JSON (job_container.c) */
	const char *task_id, *job, *agent, *data_dir;
	const char *command;       /* shell: the command line; else the command (may be "": the image's own) */
	const char *const *args;
	size_t n_args;
	bool shell;
	double cpus, mem;          /* mem in MiB; 0: none */
	const char *env_file;      /* the task's variables for the container (--env-file); NULL: none */
};

/* Which runtime `want` (auto, podman, docker or none) gives on this host. Never fails: a host that cannot run
 * containers gets kind CONTAINER_NONE with the reason in why ("no podman or docker in PATH", ...). auto takes
 * podman when both are there, and a docker whose daemon does not answer counts as absent. */
void container_runtime_detect(const char *want, struct container_runtime *out);
/* Say in the log, once at start-up, what runs container jobs here or why nothing does. */
void container_log(const struct container_runtime *rt);
/* Whether want is auto, podman, docker or none. */
bool container_runtime_name_ok(const char *want);
/* "podman", "docker" or "none". */
const char *container_kind_name(enum container_kind kind);

/* Add the runtime's attributes to attrs (a JSON object): container.runtime and container.<runtime>=<version>,
 * or container.unavailable=<why> when rt cannot run containers; unless attrs has them (an operator's
 * --attribute wins). */
void container_runtime_attributes(const struct container_runtime *rt, json_t *attrs);

/* The container's name: "gnomon-" and the task id, every character but [A-Za-z0-9_.-] replaced by '_'; one
 * with a character replaced, or cut for length, ends with '-' and a hash of the whole id (two ids never share a
 * name by their replaced characters). out: CONTAINER_NAME_MAX bytes. */
void container_name(const char *task_id, char *out);

/* The argv of `run` for a task, in ONE allocation the caller frees with free(); NULL with err when the
 * container cannot be read (not a JSON object, no image), breaks a rule of util/container_rules.h (a job stored
 * before the rule) or mounts a host path rt->host_paths does not allow. The image always follows `--`. */
char **container_run_argv(const struct container_runtime *rt, const struct container_task *t, char *err,
    size_t errlen);
/* The argv of `rm -f` of one container (in ONE allocation). */
char **container_rm_argv(const struct container_runtime *rt, const char *name);
/* The argv of `ps -a` listing the names of the containers labelled with data_dir (in ONE allocation). */
char **container_ps_argv(const struct container_runtime *rt, const char *data_dir);

/* The runtime's own message for a run it could not start: the last line of its stderr (tail, len bytes), when
 * the exit code is the runtime's own (125, 126, 127), the run printed nothing on stdout (printed false: the
 * container never ran) and the line reads as its error. Writes "" otherwise. */
void container_failure_reason(const struct container_runtime *rt, int exit_code, bool printed, const char *tail,
    size_t len, char *out, size_t outlen);

#endif
