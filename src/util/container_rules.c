/* What a container job may ask of the runtime: the image, network name, volume paths and parameters. */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "util/container_rules.h"

/* The image reference grammar (github.com/distribution/reference): domain components, an optional port, lower-case
 * path components with their separators, a tag, a digest. Anchored: the whole string or nothing. */
#define DOMAIN_COMPONENT "[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
#define PATH_COMPONENT "[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*"
#define IMAGE_REFERENCE                                                                                        \
	"^(" DOMAIN_COMPONENT "(\\." DOMAIN_COMPONENT ")*(:[0-9]+)?/)?" PATH_COMPONENT "(/" PATH_COMPONENT ")*" \
	"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"                                                                  \
	"(@[A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$"
#define IMAGE_MAX 1024

/* The `parameters` keys a container job may give, as --KEY=VALUE to the runtime: what changes the command's own
 * view (environment, labels, user, directory, names, temporary mounts, shared memory, entrypoint, stop signal)
 * or narrows what it may use (memory), never what widens its privileges (privileged, cap-add, device,
 * security-opt), escapes its isolation (pid, ipc, uts, userns, cgroup options, volume and mount beside
 * `volumes`, network beside `network`), lifts a limit (memory-swap: -1 is unlimited) or takes the run out of
 * gnomon's hands (name, rm, detach, pull, cpus, ulimit: gnomon sets them). */
static const char *const allowed_parameters[] = {"env", "label", "user", "workdir", "hostname", "add-host", "dns",
	"tmpfs", "read-only", "shm-size", "memory", "entrypoint", "stop-signal", NULL};

/* Variables gnomon sets in a container: an `env` parameter may not take their names. */
static const char *const own_env_prefixes[] = {"GNOMON_", "CHRONOS_", "MESOS_", NULL};

/* What a container may never mount by default: the runtimes' sockets (and, as ancestors, their directories). */
static const char *const sockets[] = {"/run/podman/podman.sock", "/var/run/podman/podman.sock",
	"/run/docker.sock", "/var/run/docker.sock", NULL};

/* s clipped for a message. */
static const char *clip(const char *s, char *out, size_t len)
{
	size_t n = strlen(s);

	if (n < len) {
		for (size_t i = 0; i <= n; i++)
			out[i] = (s[i] > 0 && s[i] < 0x20) || s[i] == 0x7f ? '?' : s[i];
		return out;
	}
	snprintf(out, len, "%.*s...", (int)(len - 4), s);
	for (size_t i = 0; out[i]; i++)
		if ((out[i] > 0 && out[i] < 0x20) || out[i] == 0x7f)
			out[i] = '?';
	return out;
}

bool container_rules_image_ok(const char *s)
{
	regex_t re;
	bool ok;

	if (s == NULL || s[0] == '\0' || strlen(s) > IMAGE_MAX)
		return false;
	if (regcomp(&re, IMAGE_REFERENCE, REG_EXTENDED | REG_NOSUB) != 0)
		return false;
	ok = regexec(&re, s, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

/* ^[A-Za-z0-9][A-Za-z0-9_.-]*$ */
static bool network_name_ok(const char *s)
{
	for (size_t i = 0; s[i]; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return false;
	}
	return s[0] != '\0';
}

/* Whether p starts with a "." or ".." component. */
static bool dot_component(const char *p)
{
	size_t n = strcspn(p, "/");

	return (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.');
}

/* Why path cannot be a volume's path, or NULL: absolute, no '.', '..' or empty components, no ':', ',' or
 * control characters. */
static const char *path_problem(const char *p)
{
	if (p[0] != '/')
		return "must be an absolute path";
	for (const char *c = p; *c; c++) {
		if (*c == ':' || *c == ',')
			return "may not hold ':' or ','";
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return "may not hold control characters";
		if (*c == '/' && (c[1] == '/' || dot_component(c + 1)))
			return "must be a plain absolute path (no '.', '..' or '//')";
	}
	return NULL;
}

static int check_volumes(json_t *c, char *err, size_t errlen)
{
	static const char *const keys[] = {"containerPath", "hostPath"};
	json_t *v;
	size_t i;
	char cl[96];

	json_array_foreach(json_object_get(c, "volumes"), i, v) {
		for (size_t k = 0; k < 2; k++) {
			const char *p = json_string_value(json_object_get(v, keys[k])), *why;
			if (p == NULL || (k == 1 && p[0] == '\0'))
				continue;
			if ((why = path_problem(p)) != NULL) {
				snprintf(err, errlen, "container.volumes[%zu].%s: '%s' %s", i, keys[k],
				    clip(p, cl, sizeof(cl)), why);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* Each parameter's key in the allow-list, no label in gnomon's own names, no env variable in gnomon's. */
static int check_parameters(json_t *c, char *err, size_t errlen)
{
	json_t *p;
	size_t i;
	char cl[96], list[256] = "";

	for (size_t k = 0; allowed_parameters[k] != NULL; k++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", k ? ", " : "", allowed_parameters[k]);
	json_array_foreach(json_object_get(c, "parameters"), i, p) {
		const char *key = json_string_value(json_object_get(p, "key"));
		const char *value = json_string_value(json_object_get(p, "value"));
		bool ok = false;
		for (size_t k = 0; key && allowed_parameters[k] != NULL; k++)
			ok = ok || strcmp(key, allowed_parameters[k]) == 0;
		if (!ok) {
			snprintf(err, errlen, "container.parameters[%zu].key: '%s' is not allowed (allowed: %s)", i,
			    clip(key ? key : "", cl, sizeof(cl)), list);
			return -EINVAL;
		}
		if (strcmp(key, "label") == 0 && value && strncmp(value, "gnomon.", 7) == 0) {
			snprintf(err, errlen, "container.parameters[%zu].value: labels gnomon.* are gnomon's own", i);
			return -EINVAL;
		}
		for (size_t k = 0; strcmp(key, "env") == 0 && value && own_env_prefixes[k] != NULL; k++) {
			if (strncmp(value, own_env_prefixes[k], strlen(own_env_prefixes[k])) == 0) {
				snprintf(err, errlen, "container.parameters[%zu].value: variables %s* are gnomon's own", i,
				    own_env_prefixes[k]);
				return -EINVAL;
			}
		}
	}
	return 0;
}

int container_rules_check(json_t *c, char *err, size_t errlen)
{
	const char *image = json_string_value(json_object_get(c, "image"));
	const char *net = json_string_value(json_object_get(c, "networkName"));
	char cl[96];

	if (!container_rules_image_ok(image)) {
		snprintf(err, errlen, "container.image: '%s' is not an image reference ([registry/]name[:tag][@digest])",
		    clip(image ? image : "", cl, sizeof(cl)));
		return -EINVAL;
	}
	if (net != NULL && net[0] != '\0' && !network_name_ok(net)) {
		snprintf(err, errlen, "container.networkName: '%s' is not a network name ([A-Za-z0-9][A-Za-z0-9_.-]*)",
		    clip(net, cl, sizeof(cl)));
		return -EINVAL;
	}
	if (check_volumes(c, err, errlen) < 0)
		return -EINVAL;
	return check_parameters(c, err, errlen);
}

/* Whether path is dir or below it (dir without its trailing slashes; "/" holds everything). */
static bool within(const char *path, const char *dir, size_t dlen)
{
	while (dlen > 0 && dir[dlen - 1] == '/')
		dlen--;
	if (dlen == 0)
		return path[0] == '/';
	return strncmp(path, dir, dlen) == 0 && (path[dlen] == '\0' || path[dlen] == '/');
}

bool container_rules_host_path_ok(const char *path, const char *prefixes)
{
	if (path == NULL || path_problem(path) != NULL)
		return false;
	if (prefixes != NULL && prefixes[0] != '\0') {
		for (const char *p = prefixes; *p; p += *p == ',') {
			size_t len = strcspn(p, ",");
			if (len > 0 && within(path, p, len))
				return true;
			p += len;
		}
		return false;
	}
	for (size_t i = 0; sockets[i] != NULL; i++) /* a socket, or a directory that holds one */
		if (within(sockets[i], path, strlen(path)))
			return false;
	return true;
}

bool container_rules_host_paths_valid(const char *prefixes)
{
	char one[4096];

	for (const char *p = prefixes ? prefixes : ""; *p; p += *p == ',') {
		size_t len = strcspn(p, ",");
		if (len == 0 || len >= sizeof(one))
			return false;
		memcpy(one, p, len);
		one[len] = '\0';
		if (path_problem(one) != NULL)
			return false;
		p += len;
	}
	return true;
}
