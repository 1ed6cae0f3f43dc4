/* The pure half of container.h: container names and the runtime's argv (run, rm -f, ps). */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/container.h"
#include "util/container_rules.h"
#include "util/xmalloc.h"

/* Private mount namespace, pure cgroup2 on /sys/fs/cgroup, then the runtime ($0) with its arguments. */
#define HYBRID_SCRIPT "umount -l /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup && exec \"$0\" \"$@\""
#define LABEL_DATA_DIR "gnomon.data-dir"

/* An argv being built: strings copied, packed into one allocation at the end. */
struct words {
	char **v;
	size_t n, cap;
};

static void add(struct words *w, const char *s)
{
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 32;
		w->v = xrealloc(w->v, w->cap * sizeof(*w->v));
	}
	w->v[w->n++] = xstrdup(s);
}

static void addf(struct words *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addf(struct words *w, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	s = xmalloc((size_t)(n < 0 ? 0 : n) + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)(n < 0 ? 0 : n) + 1, fmt, ap);
	va_end(ap);
	add(w, s);
	free(s);
}

/* The NULL-terminated argv in one allocation; w is emptied. */
static char **pack(struct words *w)
{
	size_t bytes = (w->n + 1) * sizeof(char *);
	char **out, *p;

	for (size_t i = 0; i < w->n; i++)
		bytes += strlen(w->v[i]) + 1;
	out = xmalloc(bytes);
	p = (char *)(out + w->n + 1);
	for (size_t i = 0; i < w->n; i++) {
		size_t len = strlen(w->v[i]) + 1;
		memcpy(p, w->v[i], len);
		out[i] = p;
		p += len;
		free(w->v[i]);
	}
	out[w->n] = NULL;
	free(w->v);
	*w = (struct words){0};
	return out;
}

/* The runtime's command: through the hybrid wrapper when it needs one. */
static void runtime(struct words *w, const struct container_runtime *rt)
{
	if (rt->hybrid) {
		add(w, rt->unshare);
		add(w, "-m");
		add(w, "/bin/sh");
		add(w, "-c");
		add(w, HYBRID_SCRIPT);
	}
	add(w, rt->path);
}

const char *container_kind_name(enum container_kind kind)
{
	return kind == CONTAINER_PODMAN ? "podman" : kind == CONTAINER_DOCKER ? "docker" : "none";
}

void container_runtime_attributes(const struct container_runtime *rt, json_t *attrs)
{
	char key[64];

	if (rt->kind == CONTAINER_NONE) {
		if (json_object_get(attrs, CONTAINER_UNAVAILABLE) == NULL)
			json_object_set_new(attrs, CONTAINER_UNAVAILABLE, json_string(rt->why));
		return;
	}
	if (json_object_get(attrs, CONTAINER_ATTRIBUTE) == NULL)
		json_object_set_new(attrs, CONTAINER_ATTRIBUTE, json_string(container_kind_name(rt->kind)));
	snprintf(key, sizeof(key), "container.%s", container_kind_name(rt->kind));
	if (json_object_get(attrs, key) == NULL)
		json_object_set_new(attrs, key, json_string(rt->version));
}

static bool name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
	    c == '-';
}

void container_name(const char *task_id, char *out)
{
	static const char prefix[] = "gnomon-";
	size_t n = strlen(task_id), keep = CONTAINER_NAME_MAX - sizeof(prefix);
	uint32_t h = 2166136261u; /* FNV-1a of the whole id, when it is cut or a character was replaced */
	size_t o = sizeof(prefix) - 1;
	bool hash = n > keep;

	memcpy(out, prefix, o);
	for (size_t i = 0; i < n; i++) {
		h = (h ^ (unsigned char)task_id[i]) * 16777619u;
		hash = hash || !name_char_ok(task_id[i]);
	}
	if (hash && n > keep - 9)
		keep -= 9;
	for (size_t i = 0; i < n && i < keep; i++)
		out[o++] = name_char_ok(task_id[i]) ? task_id[i] : '_';
	if (hash)
		o += (size_t)snprintf(out + o, 10, "-%08x", h);
	out[o] = '\0';
}

/* --network for Chronos's network (HOST by default; USER joins networkName). */
static void network(struct words *w, json_t *c)
{
	const char *net = json_string_value(json_object_get(c, "network"));
	const char *name = json_string_value(json_object_get(c, "networkName"));

	if (net == NULL || strcmp(net, "HOST") == 0)
		add(w, "--network=host");
	else if (strcmp(net, "NONE") == 0)
		add(w, "--network=none");
	else if (strcmp(net, "USER") == 0 && name && name[0])
		addf(w, "--network=%s", name);
	else
		add(w, "--network=bridge");
}

/* -v hostPath:containerPath:ro|rw for each volume with a host path; one without is an anonymous volume. A host
 * path the agent does not let containers mount (rt->host_paths) is an error. */
static int volumes(struct words *w, const struct container_runtime *rt, json_t *c, char *err, size_t errlen)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(c, "volumes"), i, v) {
		const char *host = json_string_value(json_object_get(v, "hostPath"));
		const char *path = json_string_value(json_object_get(v, "containerPath"));
		const char *mode = json_string_value(json_object_get(v, "mode"));
		const char *m = mode && strcmp(mode, "RO") == 0 ? "ro" : "rw";
		if (path == NULL)
			continue;
		if (host && host[0] && !container_rules_host_path_ok(host, rt->host_paths)) {
			snprintf(err, errlen, "container.volumes[%zu].hostPath: '%.200s' may not be mounted on this agent "
			    "(--container-host-paths %.200s)", i, host, rt->host_paths && rt->host_paths[0] ?
			    rt->host_paths : "not given: " CONTAINER_RULES_DEFAULT);
			return -EINVAL;
		}
		add(w, "-v");
		if (host && host[0])
			addf(w, "%s:%s:%s", host, path, m);
		else
			addf(w, "%s:%s", path, m);
	}
	return 0;
}

/* --KEY=VALUE for each parameter (container_rules_check() allowed the keys). */
static void parameters(struct words *w, json_t *c)
{
	json_t *p;
	size_t i;

	json_array_foreach(json_object_get(c, "parameters"), i, p) {
		const char *k = json_string_value(json_object_get(p, "key"));
		const char *v = json_string_value(json_object_get(p, "value"));
		if (k && v)
			addf(w, "--%s=%s", k, v);
	}
}

/* The command after the image, as Mesos's docker containerizer gave it: shell runs `/bin/sh -c "command args"`
 * (the entrypoint replaced by /bin/sh); else the command (when there is one) and the arguments go to the
 * image's entrypoint. */
static void command(struct words *w, const struct container_task *t, const char *image)
{
	if (t->shell) {
		size_t len = strlen(t->command ? t->command : "") + 1;
		for (size_t i = 0; i < t->n_args; i++)
			len += strlen(t->args[i]) + 1;
		char *line = xmalloc(len), *p = line;
		p += sprintf(p, "%s", t->command ? t->command : "");
		for (size_t i = 0; i < t->n_args; i++)
			p += sprintf(p, " %s", t->args[i]);
		add(w, "--entrypoint=/bin/sh");
		add(w, "--");
		add(w, image);
		add(w, "-c");
		add(w, line);
		free(line);
		return;
	}
	add(w, "--");
	add(w, image);
	if (t->command && t->command[0])
		add(w, t->command);
	for (size_t i = 0; i < t->n_args; i++)
		add(w, t->args[i]);
}

char **container_run_argv(const struct container_runtime *rt, const struct container_task *t, char *err,
    size_t errlen)
{
	json_t *c = json_loads(t->container ? t->container : "", 0, NULL), *force;
	const char *image = json_string_value(json_object_get(c, "image"));
	char name[CONTAINER_NAME_MAX];
	struct words w = {0};

	if (!json_is_object(c) || image == NULL || image[0] == '\0') {
		snprintf(err, errlen, "container: no image");
		json_decref(c);
		return NULL;
	}
	if (container_rules_check(c, err, errlen) < 0) { /* a job stored before a rule existed */
		json_decref(c);
		return NULL;
	}
	container_name(t->task_id, name);
	runtime(&w, rt);
	add(&w, "run");
	add(&w, "--rm");
	addf(&w, "--name=%s", name);
	addf(&w, "--label=gnomon.job=%s", t->job ? t->job : "");
	addf(&w, "--label=gnomon.task=%s", t->task_id);
	addf(&w, "--label=gnomon.agent=%s", t->agent ? t->agent : "");
	addf(&w, "--label=" LABEL_DATA_DIR "=%s", t->data_dir ? t->data_dir : "");
	if ((force = json_object_get(c, "forcePullImage")) && json_is_true(force))
		add(&w, "--pull=always");
	if (rt->hybrid)
		add(&w, "--cgroups=disabled");
	if (rt->init)
		add(&w, "--init");
	if (rt->nofile >= 0)
		addf(&w, "--ulimit=nofile=%lld:%lld", rt->nofile, rt->nofile);
	if (rt->nproc >= 0)
		addf(&w, "--ulimit=nproc=%lld:%lld", rt->nproc, rt->nproc);
	network(&w, c);
	if (volumes(&w, rt, c, err, errlen) < 0) {
		json_decref(c);
		for (size_t i = 0; i < w.n; i++)
			free(w.v[i]);
		free(w.v);
		return NULL;
	}
	if (t->env_file != NULL)
		addf(&w, "--env-file=%s", t->env_file);
	parameters(&w, c);
	if (rt->limits && t->cpus > 0) /* after the parameters: the job's own limits win (the last flag counts) */
		addf(&w, "--cpus=%g", t->cpus);
	if (rt->limits && t->mem > 0)
		addf(&w, "--memory=%lldm", (long long)(t->mem + 0.5));
	command(&w, t, image);
	json_decref(c);
	return pack(&w);
}

char **container_rm_argv(const struct container_runtime *rt, const char *name)
{
	struct words w = {0};

	add(&w, rt->path); /* rm needs no cgroup: never through the hybrid wrapper */
	add(&w, "rm");
	add(&w, "-f");
	if (rt->kind == CONTAINER_PODMAN) {
		add(&w, "--time=0");
		add(&w, "--ignore");
	}
	add(&w, name);
	return pack(&w);
}

char **container_ps_argv(const struct container_runtime *rt, const char *data_dir)
{
	struct words w = {0};

	add(&w, rt->path);
	add(&w, "ps");
	add(&w, "-a");
	addf(&w, "--filter=label=" LABEL_DATA_DIR "=%s", data_dir);
	add(&w, "--format={{.Names}}");
	return pack(&w);
}

void container_failure_reason(const struct container_runtime *rt, int exit_code, bool printed, const char *tail,
    size_t len, char *out, size_t outlen)
{
	const char *line, *end = tail + len;

	out[0] = '\0';
	if (exit_code < 125 || exit_code > 127 || printed) /* output: the container ran, the code is its own */
		return;
	while (end > tail && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	for (line = end; line > tail && line[-1] != '\n'; line--)
		;
	if (end - line >= 6 && (strncmp(line, "Error:", 6) == 0 || strncmp(line, "docker:", 7) == 0 ||
	    strncmp(line, "unshare:", 8) == 0 || strncmp(line, "mount:", 6) == 0))
		snprintf(out, outlen, "%s: %.*s", container_kind_name(rt->kind), (int)(end - line), line);
}
