/* The `container` part of a job: normalised from the posted JSON into compact text in Chronos 3.x's
 * serialized order, and checked against the enumerations Chronos knows. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job/job_internal.h"
#include "util/container_rules.h"
#include "util/log.h"
#include "util/xmalloc.h"

/* Look up a member, treating JSON null as absent. */
static json_t *member(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_null(v) ? NULL : v;
}

/* Copy the string member `key` of in to out (by reference). Absent: an error if required, else left out. */
static int put_string(const struct jerr *e, const struct jpath *up, json_t *in, json_t *out, const char *key,
		      bool required)
{
	struct jpath path = {up, key, 0};
	json_t *v = member(in, key);
	const char *s;
	size_t len;

	if (v == NULL)
		return required ? jfail(e, &path, "required") : 0;
	if (jget_string(e, &path, v, &s, &len) < 0)
		return -EINVAL;
	jset(out, key, json_incref(v));
	return 0;
}

/* Copy the string member `key` upper-cased (dflt when absent; left out when dflt is NULL). */
static int put_upper(const struct jerr *e, const struct jpath *up, json_t *in, json_t *out, const char *key,
		     const char *dflt)
{
	struct jpath path = {up, key, 0};
	json_t *v = member(in, key);
	const char *s;
	size_t len;

	if (v == NULL) {
		if (dflt != NULL)
			jset(out, key, jstr(dflt));
		return 0;
	}
	if (jget_string(e, &path, v, &s, &len) < 0)
		return -EINVAL;
	char *up_s = xstrndup(s, len);
	for (char *c = up_s; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	jset(out, key, jstr(up_s));
	free(up_s);
	return 0;
}

/* Copy a [{key, value}] list (labels, options, parameters); absent gives []. */
static int put_kv_list(const struct jerr *e, const struct jpath *up, json_t *in, json_t *out, const char *key)
{
	struct jpath path = {up, key, 0};
	json_t *list = member(in, key), *arr = json_array(), *el;
	size_t i;

	jset(out, key, arr);
	if (list == NULL)
		return 0;
	if (jexpect(e, &path, list, JSON_ARRAY) < 0)
		return -EINVAL;
	json_array_foreach(list, i, el) {
		struct jpath at = {&path, NULL, i};
		json_t *kv = json_object();
		jappend(arr, kv);
		if (!json_is_object(el) || member(el, "key") == NULL || member(el, "value") == NULL)
			return jfail(e, &at, "expected an object with key and value");
		if (put_string(e, &at, el, kv, "key", true) < 0 || put_string(e, &at, el, kv, "value", true) < 0)
			return -EINVAL;
	}
	return 0;
}

/* Run fn over each element of the array member `key` (absent gives []); fn fills one output object. */
static int put_objects(const struct jerr *e, const struct jpath *up, json_t *in, json_t *out, const char *key,
		       int (*fn)(const struct jerr *, const struct jpath *, json_t *, json_t *))
{
	struct jpath path = {up, key, 0};
	json_t *list = member(in, key), *arr = json_array(), *el;
	size_t i;

	jset(out, key, arr);
	if (list == NULL)
		return 0;
	if (jexpect(e, &path, list, JSON_ARRAY) < 0)
		return -EINVAL;
	json_array_foreach(list, i, el) {
		struct jpath at = {&path, NULL, i};
		json_t *obj = json_object();
		jappend(arr, obj);
		if (jexpect(e, &at, el, JSON_OBJECT) < 0 || fn(e, &at, el, obj) < 0)
			return -EINVAL;
	}
	return 0;
}

/* A port number, written out as a string as Chronos does. */
static int put_port(const struct jerr *e, const struct jpath *up, json_t *in, json_t *out, const char *key)
{
	struct jpath path = {up, key, 0};
	json_t *v = member(in, key);
	char buf[16];
	int64_t port;

	if (v == NULL)
		return jfail(e, &path, "required");
	if (jget_int(e, &path, v, 0, 65535, &port) < 0)
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%d", (int)port);
	jset(out, key, jstr(buf));
	return 0;
}

static int port_mapping(const struct jerr *e, const struct jpath *path, json_t *in, json_t *out)
{
	if (put_port(e, path, in, out, "hostPort") < 0 || put_port(e, path, in, out, "containerPort") < 0)
		return -EINVAL;
	return put_string(e, path, in, out, "protocol", false);
}

static int network_info(const struct jerr *e, const struct jpath *path, json_t *in, json_t *out)
{
	if (member(in, "name") == NULL)
		jset(out, "name", jstr(""));
	else if (put_string(e, path, in, out, "name", false) < 0)
		return -EINVAL;
	if (put_string(e, path, in, out, "protocol", false) < 0 || put_kv_list(e, path, in, out, "labels") < 0)
		return -EINVAL;
	return put_objects(e, path, in, out, "portMappings", port_mapping);
}

static int external_volume(const struct jerr *e, const struct jpath *up, json_t *in, json_t *out)
{
	struct jpath path = {up, "external", 0};
	json_t *ext = member(in, "external"), *obj;

	if (ext == NULL)
		return 0;
	if (jexpect(e, &path, ext, JSON_OBJECT) < 0)
		return -EINVAL;
	obj = json_object();
	jset(out, "external", obj);
	if (put_string(e, &path, ext, obj, "name", true) < 0 || put_string(e, &path, ext, obj, "provider", true) < 0)
		return -EINVAL;
	return put_kv_list(e, &path, ext, obj, "options");
}

static int volume(const struct jerr *e, const struct jpath *path, json_t *in, json_t *out)
{
	if (put_string(e, path, in, out, "hostPath", false) < 0 ||
	    put_string(e, path, in, out, "containerPath", true) < 0 || put_upper(e, path, in, out, "mode", NULL) < 0)
		return -EINVAL;
	return external_volume(e, path, in, out);
}

int job_container_normalize(const struct jerr *e, const struct jpath *path, json_t *in, char **text)
{
	json_t *out, *force;
	bool force_pull = false;
	int rc = -EINVAL;

	*text = NULL;
	if (jexpect(e, path, in, JSON_OBJECT) < 0)
		return -EINVAL;
	if (member(in, "image") == NULL)
		return 0;
	out = json_object();
	if (put_upper(e, path, in, out, "type", "DOCKER") < 0 || put_string(e, path, in, out, "image", true) < 0 ||
	    put_upper(e, path, in, out, "network", "HOST") < 0 ||
	    put_string(e, path, in, out, "networkName", false) < 0 ||
	    put_objects(e, path, in, out, "networkInfos", network_info) < 0 ||
	    put_objects(e, path, in, out, "volumes", volume) < 0)
		goto out;
	if ((force = member(in, "forcePullImage")) != NULL) {
		struct jpath at = {path, "forcePullImage", 0};
		if (jget_bool(e, &at, force, &force_pull) < 0)
			goto out;
	}
	jset(out, "forcePullImage", json_boolean(force_pull));
	if (put_kv_list(e, path, in, out, "parameters") < 0)
		goto out;
	*text = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (*text == NULL)
		fatalx("out of memory dumping JSON");
	rc = 0;
out:
	json_decref(out);
	return rc;
}

/* Check that the string member `key` of obj is one of the NULL-terminated allowed values. */
static int check_enum(json_t *obj, const char *key, const char *const *allowed, const char *path, char *err,
		      size_t errlen)
{
	const char *v = json_string_value(json_object_get(obj, key));
	char list[64] = "", clip[96];

	if (v == NULL)
		return 0;
	for (size_t i = 0; allowed[i] != NULL; i++) {
		if (strcmp(v, allowed[i]) == 0)
			return 0;
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "", allowed[i]);
	}
	snprintf(err, errlen, "%s: '%s' is invalid (%s)", path, job_clip(v, clip, sizeof(clip)), list);
	return -EINVAL;
}

int job_container_validate(const char *text, char *err, size_t errlen)
{
	static const char *const types[] = {"DOCKER", "MESOS", NULL};
	static const char *const networks[] = {"HOST", "BRIDGE", "USER", "NONE", NULL};
	static const char *const modes[] = {"RW", "RO", NULL};
	json_t *c = json_loads(text, 0, NULL), *vol;
	char path[64];
	size_t i;
	int rc = -EINVAL;

	if (!json_is_object(c)) {
		snprintf(err, errlen, "container: stored form is not a JSON object");
		goto out;
	}
	if (check_enum(c, "type", types, "container.type", err, errlen) < 0 ||
	    check_enum(c, "network", networks, "container.network", err, errlen) < 0)
		goto out;
	json_array_foreach(json_object_get(c, "volumes"), i, vol) {
		snprintf(path, sizeof(path), "container.volumes[%zu].mode", i);
		if (check_enum(vol, "mode", modes, path, err, errlen) < 0)
			goto out;
	}
	if (container_rules_check(c, err, errlen) < 0)
		goto out;
	rc = 0;
out:
	json_decref(c);
	return rc;
}
