/* The agent's options (one table: flags, GNOMON_* variables, the config file, --help, --check-config) and what is
 * derived from them: the servers' URLs, the token, the attributes, the name and the resources it offers. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "agent/agent_internal.h"
#include "runner/agent_wire.h"
#include "runner/workdirs.h"
#include "util/container_rules.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define OPT(field) offsetof(struct agent_config, field)

const struct config_option agent_options[] = {
	{"server", CONFIG_STRING, NULL, 0, 0, OPT(servers),
	    "the servers' URLs (http://host:port, comma-separated), tried in turn until one answers (required)"},
	{"data-dir", CONFIG_STRING, "./gnomon-agent-data", 0, 0, OPT(data_dir),
	    "directory of the agent's id, epoch, task journal, output and working directories"},
	{"name", CONFIG_STRING, NULL, 0, 0, OPT(name),
	    "the agent's name, unique among the live agents (default: the host name)"},
	{"attribute", CONFIG_LIST, NULL, 0, 0, OPT(attributes),
	    "KEY=VALUE that jobs' constraints match (repeatable; GNOMON_ATTRIBUTE: one a line)"},
	{"cpus", CONFIG_DOUBLE, "0", 0, 100000, OPT(cpus), "cpus offered (0: the machine's)"},
	{"mem", CONFIG_INT, "0", 0, LLONG_MAX >> 20, OPT(mem), "memory offered, MiB (0: the machine's)"},
	{"disk", CONFIG_INT, "0", 0, LLONG_MAX >> 20, OPT(disk),
	    "disk offered, MiB (0: what is free on the data directory's file system)"},
	{"agent-token-file", CONFIG_STRING, NULL, 0, 0, OPT(token_file),
	    "file whose first line is the secret shared with the servers (at least 16 bytes), sent on every request"},
	{"tls-ca", CONFIG_STRING, NULL, 0, 0, OPT(tls_ca),
	    "PEM CA certificates https:// servers are verified with (default: the system's)"},
	{"tls-cert", CONFIG_STRING, NULL, 0, 0, OPT(tls_cert),
	    "PEM client certificate presented to https:// servers (those with --tls-client-ca require one)"},
	{"tls-key", CONFIG_STRING, NULL, 0, 0, OPT(tls_key), "PEM private key of --tls-cert"},
	{"lease", CONFIG_INT, "20", 1, 3600, OPT(lease),
	    "seconds after the last answer from a server during which the agent still starts tasks"},
	{"keep-work-dirs", CONFIG_STRING, "never", 0, 0, OPT(keep_work_dirs),
	    "which tasks keep their working directory when released: never, failed (failed or lost) or always"},
	{"keep-work-dirs-max-size", CONFIG_SIZE, "1G", 0, 1LL << 50, OPT(keep_work_dirs_max_size),
	    "disk space the kept working directories may use together; past it the oldest go first (0: no limit)"},
	{"spawn-threads", CONFIG_INT, "0", 0, 64, OPT(spawn_threads),
	    "tasks that start together are spawned this many at a time (0: 2 per core, at most 8; 1: one by one)"},
	{"enforce-resources", CONFIG_BOOL, "true", 0, 0, OPT(enforce_resources),
	    "run each shell or argv task in a cgroup of its own, its job's mem a hard memory limit and cpus a CPU quota, "
	    "where the host allows (false: no cgroups)"},
	{"task-pids-max", CONFIG_INT, "4096", 0, 4194304, OPT(task_pids_max),
	    "processes and threads a task's cgroup may hold at once (0: no limit)"},
	{"stop-tasks-on-exit", CONFIG_BOOL, "false", 0, 0, OPT(stop_tasks_on_exit),
	    "kill the running tasks when the agent stops (default: they go on under their executors, for the next "
	    "start to adopt)"},
	{"container-runtime", CONFIG_STRING, "auto", 0, 0, OPT(container_runtime),
	    "what runs container jobs: auto (podman, else docker), podman, docker or none"},
	{"container-host-paths", CONFIG_STRING, "", 0, 0, OPT(container_host_paths),
	    "the host paths container volumes may mount, comma-separated prefixes (default: any absolute path but /, "
	    "the runtimes' sockets and the directories that hold them)"},
	{"log-level", CONFIG_STRING, "info", 0, 0, OPT(log_level), "error, warn, info or debug"},
	{"log-json", CONFIG_BOOL, "false", 0, 0, OPT(log_json), "log JSON lines instead of text"},
	{"config", CONFIG_FILE, NULL, 0, 0, OPT(config_file),
	    "read options from FILE, one 'name = value' a line; the environment and the flags override it"},
	{NULL, CONFIG_INT, NULL, 0, 0, 0, NULL},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: gnomon agent --server URL[,URL...] [options]\n\nRuns the tasks its servers assign to it "
		     "(docs/agent-protocol.md).\n\nOptions (also from GNOMON_<NAME> environment variables):\n");
	config_print_help(agent_options, out);
	config_print_actions(out);
}

int agent_token_read(const char *path, char **out, char *err, size_t errlen)
{
	char why[480];
	int rc = config_read_token_file(path, AGENT_TOKEN_MIN, AGENT_TOKEN_MAX, out, why, sizeof(why));

	if (rc < 0)
		snprintf(err, errlen, "--agent-token-file: %s", why);
	return rc;
}

int agent_attributes_parse(const char *list, json_t **out, char *err, size_t errlen)
{
	json_t *obj = json_object();
	const char *item = list, *nl;
	size_t n = 0;

	for (; item && *item; item = nl ? nl + 1 : NULL) {
		size_t len, klen;
		const char *eq;
		char *key;

		nl = strchr(item, '\n');
		len = nl ? (size_t)(nl - item) : strlen(item);
		eq = memchr(item, '=', len);
		klen = eq ? (size_t)(eq - item) : 0;
		if (eq == NULL || klen == 0 || klen > AGENT_ATTRIBUTE_KEY_MAX || len - klen - 1 > AGENT_ATTRIBUTE_VALUE_MAX) {
			snprintf(err, errlen, "--attribute: '%.*s' must be KEY=VALUE (a key of 1 to %d bytes, a value of at "
			    "most %d)", (int)(len > 200 ? 200 : len), item, AGENT_ATTRIBUTE_KEY_MAX, AGENT_ATTRIBUTE_VALUE_MAX);
			goto bad;
		}
		if (++n > AGENT_ATTRIBUTES_MAX) {
			snprintf(err, errlen, "--attribute: at most %d", AGENT_ATTRIBUTES_MAX);
			goto bad;
		}
		key = xstrndup(item, klen);
		if (json_object_get(obj, key) != NULL) {
			snprintf(err, errlen, "--attribute: %s is given twice", key);
			free(key);
			goto bad;
		}
		json_t *value = json_stringn(eq + 1, len - klen - 1);
		if (value == NULL || json_object_set_new(obj, key, value) < 0) { /* not UTF-8 */
			snprintf(err, errlen, "--attribute: '%.*s' is not valid UTF-8", (int)(len > 200 ? 200 : len), item);
			free(key);
			goto bad;
		}
		free(key);
	}
	*out = obj;
	return 0;
bad:
	json_decref(obj);
	return -EINVAL;
}


/* Everything the options imply besides the table's values; 0, or -EINVAL with err. */
static int derive(struct agent *a, char *err, size_t errlen)
{
	enum workdirs_keep keep;
	char *token = NULL;

	if (workdirs_keep_parse(a->cfg.keep_work_dirs, &keep) < 0) {
		snprintf(err, errlen, "--keep-work-dirs: invalid value '%s' (never, failed, always)", a->cfg.keep_work_dirs);
		return -EINVAL;
	}
	if (!container_runtime_name_ok(a->cfg.container_runtime)) {
		snprintf(err, errlen, "--container-runtime: invalid value '%.100s' (auto, podman, docker, none)",
		    a->cfg.container_runtime);
		return -EINVAL;
	}
	if (!container_rules_host_paths_valid(a->cfg.container_host_paths)) {
		snprintf(err, errlen, "--container-host-paths: invalid value '%.200s' (absolute paths, comma-separated, "
		    "without ':')", a->cfg.container_host_paths);
		return -EINVAL;
	}
	if (agent_servers_parse(a, err, errlen) < 0)
		return -EINVAL;
	if (gethostname(a->hostname, sizeof(a->hostname) - 1) < 0)
		snprintf(a->hostname, sizeof(a->hostname), "localhost");
	if (a->cfg.name[0] == '\0') {
		free(a->cfg.name);
		a->cfg.name = xstrdup(a->hostname);
	}
	if (!agent_wire_name_ok(a->cfg.name)) {
		snprintf(err, errlen, "--name: '%.200s' must be 1 to %d bytes of A-Z a-z 0-9 . _ : @ -", a->cfg.name,
		    AGENT_WIRE_ID_MAX);
		return -EINVAL;
	}
	if (a->cfg.token_file[0] != '\0') {
		if (agent_token_read(a->cfg.token_file, &token, err, errlen) < 0)
			return -EINVAL;
		a->auth_header = xasprintf("Authorization: Bearer %s", token);
		free(token);
	}
	return agent_attributes_parse(a->cfg.attributes, &a->attributes, err, errlen);
}

int agent_configure(struct agent *a, int argc, char **argv)
{
	char err[1024];
	enum log_level level;
	bool check;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0)
			argv[i] = (char *)(uintptr_t)"--help";
	}
	if (config_take_flag(&argc, argv, "help")) {
		usage(stdout);
		return 0;
	}
	if (config_take_flag(&argc, argv, "version")) {
		printf("gnomon %s\n", GNOMON_VERSION);
		return 0;
	}
	check = config_take_flag(&argc, argv, "check-config"); /* an action, not a setting */
	if (config_load(agent_options, &a->cfg, argc - 1, argv + 1, err, sizeof(err)) < 0)
		goto bad;
	if (log_level_parse(a->cfg.log_level, &level) < 0) {
		snprintf(err, sizeof(err), "--log-level: invalid value '%s' (error, warn, info, debug)", a->cfg.log_level);
		goto bad;
	}
	log_init(level, a->cfg.log_json);
	if (derive(a, err, sizeof(err)) < 0)
		goto bad;
	if (check) {
		config_print(agent_options, &a->cfg, stdout);
		return 0;
	}
	return -1;
bad:
	fprintf(stderr, "gnomon agent: %s (see gnomon agent --help)\n", err);
	return 2;
}

void agent_default_resources(struct agent *a)
{
	uint64_t total = uv_get_total_memory(), limit = uv_get_constrained_memory();
	struct statvfs vfs;

	a->cpus = a->cfg.cpus > 0 ? a->cfg.cpus : (double)uv_available_parallelism();
	if (limit > 0 && limit < total)
		total = limit; /* a cgroup's limit */
	a->mem = a->cfg.mem > 0 ? a->cfg.mem : (int64_t)(total >> 20);
	if (a->cfg.disk > 0)
		a->disk = a->cfg.disk;
	else if (statvfs(a->cfg.data_dir, &vfs) == 0)
		a->disk = (int64_t)(((uint64_t)vfs.f_bavail * vfs.f_frsize) >> 20);
	else
		log_warn("statvfs %s: the agent offers no disk (--disk MiB sets it)", a->cfg.data_dir);
}
