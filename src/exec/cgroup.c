/* The pure half of cgroup.h: names, limits, file names, parsers and the layout from /proc's texts. */
#include "exec/cgroup.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const ctl_names[CGROUP_NCTL] = {"memory", "cpu", "cpuacct", "pids"};

static bool name_byte(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
	    c == '-';
}

void cgroup_name(const char *task_id, char out[CGROUP_NAME_MAX + 1])
{
	size_t n = strlen(task_id), keep = n, i;
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	bool changed = false;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)task_id[i]) * 1099511628211ull;
	if (keep > CGROUP_NAME_MAX - 17)
		keep = CGROUP_NAME_MAX - 17;
	for (i = 0; i < keep; i++) {
		out[i] = name_byte(task_id[i]) ? task_id[i] : '_';
		changed = changed || out[i] != task_id[i];
	}
	out[i] = '\0';
	/* two ids that read the same once sanitised or cut ("a b" and "a_b") must not share a cgroup */
	if (keep < n || changed)
		snprintf(out + i, CGROUP_NAME_MAX + 1 - i, "-%016" PRIx64, h);
	if (out[0] == '\0' || strcmp(out, ".") == 0 || strcmp(out, "..") == 0 || strcmp(out, CGROUP_EXECUTORS) == 0)
		snprintf(out, CGROUP_NAME_MAX + 1, "task-%016" PRIx64, h);
}

void cgroup_agent_name(const char *key, char *out, size_t outlen)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	snprintf(out, outlen, "agent-%016" PRIx64, h);
}

void cgroup_limits_of(double cpus, double mem_mib, uint64_t pids_max, struct cgroup_limits *out)
{
	out->mem_bytes = mem_mib > 0 ? (uint64_t)(mem_mib * 1048576.0) : 0;
	out->cpu_quota_us = 0;
	if (cpus > 0) {
		double q = cpus * CGROUP_PERIOD_US;
		out->cpu_quota_us = q < 1000 ? 1000 : (uint64_t)q;
	}
	out->pids_max = pids_max;
}

const char *cgroup_file(enum cgroup_version v, enum cgroup_item item)
{
	static const char *const v1[] = {
		[CGROUP_PROCS] = "cgroup.procs", [CGROUP_MEM_LIMIT] = "memory.limit_in_bytes",
		[CGROUP_SWAP_LIMIT] = "memory.memsw.limit_in_bytes", [CGROUP_MEM_PEAK] = "memory.max_usage_in_bytes",
		[CGROUP_MEM_EVENTS] = "memory.oom_control", [CGROUP_CPU_LIMIT] = "cpu.cfs_quota_us",
		[CGROUP_CPU_PERIOD] = "cpu.cfs_period_us", [CGROUP_CPU_USER] = "cpuacct.usage_user",
		[CGROUP_CPU_SYSTEM] = "cpuacct.usage_sys", [CGROUP_PIDS_LIMIT] = "pids.max", [CGROUP_KILL] = NULL,
	};
	static const char *const v2[] = {
		[CGROUP_PROCS] = "cgroup.procs", [CGROUP_MEM_LIMIT] = "memory.max",
		[CGROUP_SWAP_LIMIT] = "memory.swap.max", [CGROUP_MEM_PEAK] = "memory.peak",
		[CGROUP_MEM_EVENTS] = "memory.events", [CGROUP_CPU_LIMIT] = "cpu.max", [CGROUP_CPU_PERIOD] = NULL,
		[CGROUP_CPU_USER] = "cpu.stat", [CGROUP_CPU_SYSTEM] = "cpu.stat", [CGROUP_PIDS_LIMIT] = "pids.max",
		[CGROUP_KILL] = "cgroup.kill",
	};

	if ((unsigned)item > CGROUP_KILL)
		return NULL;
	return v == CGROUP_V1 ? v1[item] : v == CGROUP_V2 ? v2[item] : NULL;
}

/* A decimal number at p (optionally negative), then only spaces and newlines up to end. */
static int number_at(const char *p, const char *end, int64_t *out)
{
	char *stop;
	long long v;

	if (p == end || !((*p >= '0' && *p <= '9') || *p == '-'))
		return -EINVAL;
	errno = 0;
	v = strtoll(p, &stop, 10);
	if (errno || stop == p || stop > end)
		return -EINVAL;
	for (; stop < end; stop++)
		if (*stop != ' ' && *stop != '\n')
			return -EINVAL;
	*out = v;
	return 0;
}

int cgroup_parse_keyed(const char *text, const char *key, int64_t *out)
{
	size_t klen = strlen(key);

	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n'), *end = nl ? nl : p + strlen(p);
		if ((size_t)(end - p) > klen && memcmp(p, key, klen) == 0 && p[klen] == ' ')
			return number_at(p + klen + 1, end, out);
		p = nl ? nl + 1 : NULL;
	}
	return -ENOENT;
}

int cgroup_parse_number(const char *text, int64_t *out)
{
	size_t n = strlen(text);

	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
		n--;
	if (n == 3 && memcmp(text, "max", 3) == 0) {
		*out = -1;
		return 0;
	}
	return number_at(text, text + n, out);
}

void cgroup_limit_text(enum cgroup_version v, enum cgroup_item item, uint64_t value, char *out, size_t outlen)
{
	if (v == CGROUP_V2 && item == CGROUP_CPU_LIMIT && value)
		snprintf(out, outlen, "%" PRIu64 " %d", value, CGROUP_PERIOD_US);
	else if (v == CGROUP_V2 && item == CGROUP_CPU_LIMIT)
		snprintf(out, outlen, "max %d", CGROUP_PERIOD_US);
	else if (value == 0)
		snprintf(out, outlen, "%s", v == CGROUP_V2 || item == CGROUP_PIDS_LIMIT ? "max" : "-1");
	else
		snprintf(out, outlen, "%" PRIu64, value);
}

/* A mount of mountinfo's line: its root, mount point, fs type and super options (borrowed, cut in line). */
struct mount_line {
	char *root, *point, *fstype, *opts;
};

static bool split_mount(char *line, struct mount_line *m)
{
	char *f[6], *save = NULL, *dash;
	int i = 0;

	if (!(dash = strstr(line, " - ")))
		return false;
	*dash = '\0';
	for (char *t = strtok_r(line, " ", &save); t && i < 6; t = strtok_r(NULL, " ", &save))
		f[i++] = t;
	if (i < 5)
		return false;
	m->root = f[3];
	m->point = f[4];
	save = NULL;
	m->fstype = strtok_r(dash + 3, " ", &save);
	(void)strtok_r(NULL, " ", &save); /* the source */
	m->opts = strtok_r(NULL, " \n", &save);
	return m->fstype && m->opts;
}

/* Whether the comma-separated list has word. */
static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, word, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

/* The agent's cgroup in the hierarchy whose /proc/self/cgroup controllers field is ctls ("" for v2). */
static bool own_path(const char *proc_cgroup, const char *ctl, bool v2, char *out, size_t outlen)
{
	for (const char *p = proc_cgroup; p && *p;) {
		const char *nl = strchr(p, '\n'), *end = nl ? nl : p + strlen(p);
		const char *c1 = memchr(p, ':', (size_t)(end - p)), *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
		if (c2) {
			char ctls[256];
			size_t n = (size_t)(c2 - c1 - 1);
			bool match;
			if (n >= sizeof(ctls))
				n = sizeof(ctls) - 1;
			memcpy(ctls, c1 + 1, n);
			ctls[n] = '\0';
			match = v2 ? n == 0 && strncmp(p, "0:", 2) == 0 : has_word(ctls, ctl);
			if (match) {
				snprintf(out, outlen, "%.*s", (int)(end - c2 - 1), c2 + 1);
				return true;
			}
		}
		p = nl ? nl + 1 : NULL;
	}
	return false;
}

/* mount point + (own path less the mount's root) + "/gnomon" into out; false when own is outside the root. */
static bool join_dir(const struct mount_line *m, const char *own, char *out, size_t outlen)
{
	size_t rl = strcmp(m->root, "/") == 0 ? 0 : strlen(m->root);
	const char *rest;

	if (rl && (strncmp(own, m->root, rl) != 0 || (own[rl] != '/' && own[rl] != '\0')))
		return false;
	rest = own + rl;
	if (strcmp(rest, "/") == 0)
		rest = "";
	return snprintf(out, outlen, "%s%s/%s", m->point, rest, CGROUP_DIR_NAME) < (int)outlen;
}

int cgroup_host_parse(const char *mountinfo, const char *proc_cgroup, struct cgroup_host *h)
{
	char *copy = strdup(mountinfo), *save = NULL, own[PATH_MAX], v2dir[PATH_MAX] = "";
	bool v1 = false, v2 = false, v2_has_ctls = false;

	memset(h, 0, sizeof(*h));
	if (!copy)
		abort();
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct mount_line m;
		if (!split_mount(line, &m))
			continue;
		if (strcmp(m.fstype, "cgroup2") == 0 && !v2) {
			v2 = true;
			if (own_path(proc_cgroup, "", true, own, sizeof(own)) && !join_dir(&m, own, v2dir, sizeof(v2dir)))
				v2dir[0] = '\0';
			/* the unified mount in a hybrid layout has no controllers; a pure v2 one is /sys/fs/cgroup */
			v2_has_ctls = strcmp(m.point, "/sys/fs/cgroup") == 0;
		} else if (strcmp(m.fstype, "cgroup") == 0) {
			for (int c = 0; c < CGROUP_NCTL; c++) {
				if (h->dir[c][0] || !has_word(m.opts, ctl_names[c]) ||
				    !own_path(proc_cgroup, ctl_names[c], false, own, sizeof(own)))
					continue;
				if (join_dir(&m, own, h->dir[c], sizeof(h->dir[c])))
					v1 = true;
				else
					h->dir[c][0] = '\0';
			}
		}
	}
	free(copy);
	snprintf(h->layout, sizeof(h->layout), "%s", v1 && v2 ? "hybrid" : v1 ? "v1" : v2 ? "v2" : "none");
	if (v1) {
		h->version = CGROUP_V1;
		if (!h->dir[CGROUP_MEMORY][0] || !h->dir[CGROUP_PIDS][0]) {
			h->version = CGROUP_NONE;
			snprintf(h->why, sizeof(h->why), "cgroup v1 without the %s controller",
			    h->dir[CGROUP_MEMORY][0] ? "pids" : "memory");
			return -ENOENT;
		}
		return 0;
	}
	if (v2 && v2_has_ctls && v2dir[0]) {
		h->version = CGROUP_V2;
		for (int c = 0; c < CGROUP_NCTL; c++)
			snprintf(h->dir[c], sizeof(h->dir[c]), "%s", v2dir);
		return 0;
	}
	snprintf(h->why, sizeof(h->why), "%s", v2 ? "cgroup v2 is not mounted at /sys/fs/cgroup with its controllers"
	    : "no cgroup hierarchy is mounted");
	return -ENOENT;
}

void cgroup_spec_of(const struct cgroup_host *h, const char *name, const struct cgroup_limits *lim,
    char bufs[CGROUP_NCTL][PATH_MAX], struct cgroup_spec *out)
{
	memset(out, 0, sizeof(*out));
	if (!h || h->version == CGROUP_NONE)
		return;
	out->version = h->version;
	out->lim = *lim;
	for (int c = 0; c < CGROUP_NCTL; c++) {
		size_t d = strlen(h->dir[c]), n = strlen(name);
		if (!h->dir[c][0] || d + 1 + n >= PATH_MAX)
			continue; /* a path too long to make: that controller is left out */
		memcpy(bufs[c], h->dir[c], d);
		bufs[c][d] = '/';
		memcpy(bufs[c] + d + 1, name, n + 1);
		out->dir[c] = bufs[c];
	}
}

void cgroup_host_describe(const struct cgroup_host *h, char *out, size_t outlen)
{
	size_t n;

	if (h->version == CGROUP_NONE) {
		snprintf(out, outlen, "none (%s): %s", h->layout, h->why);
		return;
	}
	n = (size_t)snprintf(out, outlen, "%s (%s):", h->version == CGROUP_V1 ? "v1" : "v2", h->layout);
	for (int c = 0; c < CGROUP_NCTL && n < outlen; c++)
		if (h->dir[c][0])
			n += (size_t)snprintf(out + n, outlen - n, " %s", ctl_names[c]);
	if (n < outlen)
		snprintf(out + n, outlen - n, " under %s", h->dir[CGROUP_MEMORY]);
}
