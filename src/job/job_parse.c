/* Chronos job JSON to struct job: lenient like Chronos's deserializer, strict about uncoercible values. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "job/job_internal.h"
#include "job/job_json.h"
#include "util/xmalloc.h"

/* Keys whose presence, not just value, changes the result. */
enum {
	SEEN_NAME = 1 << 0,
	SEEN_SCHEDULE = 1 << 1,
	SEEN_PARENTS = 1 << 2,
	SEEN_RUN_AS_USER = 1 << 3,
	SEEN_EPSILON = 1 << 4,
};

struct parser {
	struct jerr e;
	struct job *j;
	unsigned seen;
};

/* The string arrays, for parse_strv. */
enum strv { V_ARGUMENTS, V_URIS, V_PARENTS };

/* The boolean fields, which are bitfields and so have no offset. */
enum flag { F_SHELL, F_DISABLED, F_SOFT_ERROR, F_DATA_JOB, F_HIGH_PRIORITY, F_CONCURRENT, F_ASYNC };

struct field {
	const char *key;
	int (*parse)(struct parser *p, const struct jpath *path, json_t *v, size_t arg);
	size_t arg;    /* offset of the member, an enum flag or an enum strv */
	unsigned seen; /* SEEN_ bit to set when the key is present */
};

#define AT(p, off, type) ((type *)(void *)((char *)(p)->j + (off)))

static int parse_string(struct parser *p, const struct jpath *path, json_t *v, size_t off)
{
	const char *s;
	size_t len;

	if (jget_string(&p->e, path, v, &s, &len) < 0)
		return -EINVAL;
	job_set_stringn(AT(p, off, const char *), s, len);
	return 0;
}

static int parse_int32(struct parser *p, const struct jpath *path, json_t *v, size_t off)
{
	int64_t n;
	if (jget_int(&p->e, path, v, INT32_MIN, INT32_MAX, &n) < 0)
		return -EINVAL;
	*AT(p, off, int32_t) = (int32_t)n;
	return 0;
}

static int parse_int64(struct parser *p, const struct jpath *path, json_t *v, size_t off)
{
	return jget_int(&p->e, path, v, INT64_MIN, INT64_MAX, AT(p, off, int64_t));
}

static int parse_double(struct parser *p, const struct jpath *path, json_t *v, size_t off)
{
	return jget_number(&p->e, path, v, AT(p, off, double));
}

static int parse_time(struct parser *p, const struct jpath *path, json_t *v, size_t off)
{
	const char *s;
	size_t len;
	char got[64];

	if (jget_string(&p->e, path, v, &s, &len) < 0)
		return -EINVAL;
	if (job_time_parse(s, AT(p, off, int64_t)) < 0) {
		jdescribe(v, got, sizeof(got));
		return jfail(&p->e, path, "expected an ISO 8601 time such as 2014-03-08T16:57:17.507Z, got %s", got);
	}
	return 0;
}

static int parse_flag(struct parser *p, const struct jpath *path, json_t *v, size_t flag)
{
	struct job *j = p->j;
	bool b;

	if (jget_bool(&p->e, path, v, &b) < 0)
		return -EINVAL;
	switch ((enum flag)flag) {
	case F_SHELL: j->shell = b; break;
	case F_DISABLED: j->disabled = b; break;
	case F_SOFT_ERROR: j->soft_error = b; break;
	case F_DATA_JOB: j->data_processing_job_type = b; break;
	case F_HIGH_PRIORITY: j->high_priority = b; break;
	case F_CONCURRENT: j->concurrent = b; break;
	case F_ASYNC: j->async = b; break;
	}
	return 0;
}

/* A temporary vector of borrowed pointers, on the stack when small. */
#define SMALL 16
struct tmpvec {
	void *v;
	size_t n;
	union {
		const char *strings[SMALL];
		struct job_fetch fetch[SMALL];
		struct job_env env[SMALL];
		struct job_constraint constraints[SMALL];
	} small;
};

/* Point t at room for n elements of one of the union's types. */
static void *tmpvec_init(struct tmpvec *t, size_t n, size_t elem)
{
	t->n = n;
	t->v = n <= SMALL ? (void *)&t->small : xmalloc(n * elem);
	return t->v;
}

static void tmpvec_release(struct tmpvec *t)
{
	if (t->v != (void *)&t->small)
		free(t->v);
}

/* Collect an array of strings into t (borrowed from the JSON). */
static int collect_strings(struct parser *p, const struct jpath *path, json_t *arr, struct tmpvec *t)
{
	const char **v;
	size_t i, len;
	json_t *el;

	t->v = NULL;
	if (jexpect(&p->e, path, arr, JSON_ARRAY) < 0)
		return -EINVAL;
	v = tmpvec_init(t, json_array_size(arr), sizeof(*v));
	json_array_foreach(arr, i, el) {
		struct jpath at = {path, NULL, i};
		if (jget_string(&p->e, &at, el, &v[i], &len) < 0) {
			tmpvec_release(t);
			return -EINVAL;
		}
	}
	return 0;
}

static int parse_strv(struct parser *p, const struct jpath *path, json_t *v, size_t which)
{
	struct job *j = p->j;
	struct tmpvec t;

	if (collect_strings(p, path, v, &t) < 0)
		return -EINVAL;
	if (which == V_PARENTS) {
		size_t n = job_strv_unique(t.v, t.n);
		free(j->parents);
		j->parents = job_strv_pack(t.v, n);
		j->n_parents = (uint32_t)n;
	} else if (which == V_ARGUMENTS) {
		free(j->arguments);
		j->arguments = job_strv_pack(t.v, t.n);
		j->n_arguments = (uint32_t)t.n;
	} else {
		free(j->uris);
		j->uris = job_strv_pack(t.v, t.n);
		j->n_uris = (uint32_t)t.n;
	}
	tmpvec_release(&t);
	return 0;
}

/* An optional string member of an array element; absent or null leaves *out unchanged. */
static int member_string(struct parser *p, const struct jpath *up, json_t *obj, const char *key, const char **out)
{
	struct jpath path = {up, key, 0};
	json_t *v = json_object_get(obj, key);
	size_t len;

	if (v == NULL || json_is_null(v))
		return 0;
	return jget_string(&p->e, &path, v, out, &len);
}

/* An optional boolean member of an array element; absent or null leaves *out unchanged. */
static int member_bool(struct parser *p, const struct jpath *up, json_t *obj, const char *key, bool *out)
{
	struct jpath path = {up, key, 0};
	json_t *v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v))
		return 0;
	return jget_bool(&p->e, &path, v, out);
}

static int fetch_entry(struct parser *p, const struct jpath *at, json_t *el, struct job_fetch *f)
{
	*f = (struct job_fetch){.uri = "", .output_file = "", .extract = true};
	if (jexpect(&p->e, at, el, JSON_OBJECT) < 0 || member_string(p, at, el, "uri", &f->uri) < 0 ||
	    member_string(p, at, el, "output_file", &f->output_file) < 0 ||
	    member_bool(p, at, el, "executable", &f->executable) < 0 ||
	    member_bool(p, at, el, "cache", &f->cache) < 0 || member_bool(p, at, el, "extract", &f->extract) < 0)
		return -EINVAL;
	return 0;
}

static int parse_fetch(struct parser *p, const struct jpath *path, json_t *v, size_t unused)
{
	struct tmpvec t;
	struct job_fetch *f;
	json_t *el;
	size_t i;

	(void)unused;
	if (jexpect(&p->e, path, v, JSON_ARRAY) < 0)
		return -EINVAL;
	f = tmpvec_init(&t, json_array_size(v), sizeof(*f));
	json_array_foreach(v, i, el) {
		struct jpath at = {path, NULL, i};
		if (fetch_entry(p, &at, el, &f[i]) < 0) {
			tmpvec_release(&t);
			return -EINVAL;
		}
	}
	job_set_fetch(p->j, f, t.n);
	tmpvec_release(&t);
	return 0;
}

static int env_entry(struct parser *p, const struct jpath *at, json_t *el, struct job_env *env)
{
	json_t *name = json_object_get(el, "name"), *value = json_object_get(el, "value");
	size_t len;

	if (!json_is_object(el) || name == NULL || json_is_null(name) || value == NULL || json_is_null(value))
		return jfail(&p->e, at, "expected an object with name and value");
	struct jpath pn = {at, "name", 0}, pv = {at, "value", 0};
	if (jget_string(&p->e, &pn, name, &env->name, &len) < 0 ||
	    jget_string(&p->e, &pv, value, &env->value, &len) < 0)
		return -EINVAL;
	return 0;
}

static int parse_env(struct parser *p, const struct jpath *path, json_t *v, size_t unused)
{
	struct tmpvec t;
	struct job_env *env;
	json_t *el;
	size_t i;

	(void)unused;
	if (jexpect(&p->e, path, v, JSON_ARRAY) < 0)
		return -EINVAL;
	env = tmpvec_init(&t, json_array_size(v), sizeof(*env));
	json_array_foreach(v, i, el) {
		struct jpath at = {path, NULL, i};
		if (env_entry(p, &at, el, &env[i]) < 0) {
			tmpvec_release(&t);
			return -EINVAL;
		}
	}
	job_set_env(p->j, env, t.n);
	tmpvec_release(&t);
	return 0;
}

static int constraint_entry(struct parser *p, const struct jpath *at, json_t *el, struct job_constraint *c)
{
	const char **parts[3] = {&c->attribute, &c->op, &c->value};
	char got[64];
	size_t i, len;

	for (i = 0; json_is_array(el) && json_array_size(el) == 3 && i < 3; i++)
		if (!json_is_string(json_array_get(el, i)))
			break;
	if (i != 3) {
		jdescribe(el, got, sizeof(got));
		return jfail(&p->e, at, "expected an array of 3 strings [attribute, operator, value], got %s", got);
	}
	for (i = 0; i < 3; i++) {
		struct jpath pi = {at, NULL, i};
		if (jget_string(&p->e, &pi, json_array_get(el, i), parts[i], &len) < 0)
			return -EINVAL;
	}
	return 0;
}

static int parse_constraints(struct parser *p, const struct jpath *path, json_t *v, size_t unused)
{
	struct tmpvec t;
	struct job_constraint *c;
	json_t *el;
	size_t i;

	(void)unused;
	if (jexpect(&p->e, path, v, JSON_ARRAY) < 0)
		return -EINVAL;
	c = tmpvec_init(&t, json_array_size(v), sizeof(*c));
	json_array_foreach(v, i, el) {
		struct jpath at = {path, NULL, i};
		if (constraint_entry(p, &at, el, &c[i]) < 0) {
			tmpvec_release(&t);
			return -EINVAL;
		}
	}
	job_set_constraints(p->j, c, t.n);
	tmpvec_release(&t);
	return 0;
}

/* notifyOn: failure, always or never, in any case; another string is kept as invalid for job_validate(). */
static int parse_notify_on(struct parser *p, const struct jpath *path, json_t *v, size_t unused)
{
	static const char *const names[] = {"failure", "always", "never"};
	const char *s;
	size_t len;

	(void)unused;
	if (jget_string(&p->e, path, v, &s, &len) < 0)
		return -EINVAL;
	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	p->j->notify_on = len == 0 ? JOB_NOTIFY_FAILURE : JOB_NOTIFY_INVALID;
	for (unsigned i = 0; len > 0 && i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == len && strncasecmp(s, names[i], len) == 0)
			p->j->notify_on = i;
	return 0;
}

static int parse_container(struct parser *p, const struct jpath *path, json_t *v, size_t unused)
{
	char *text;

	(void)unused;
	if (job_container_normalize(&p->e, path, v, &text) < 0)
		return -EINVAL;
	if (p->j->container_json != NULL)
		job_str_release(p->j->container_json);
	p->j->container_json = text;
	return 0;
}

#define OFF(m) offsetof(struct job, m)

/* Every key the parser reads, sorted by strcmp for bsearch. Keys not here are ignored, as Chronos does. */
static const struct field fields[] = {
	{"arguments", parse_strv, V_ARGUMENTS, 0},
	{"async", parse_flag, F_ASYNC, 0},
	{"command", parse_string, OFF(command), 0},
	{"concurrent", parse_flag, F_CONCURRENT, 0},
	{"constraints", parse_constraints, 0, 0},
	{"container", parse_container, 0, 0},
	{"cpus", parse_double, OFF(cpus), 0},
	{"dataProcessingJobType", parse_flag, F_DATA_JOB, 0},
	{"description", parse_string, OFF(description), 0},
	{"disabled", parse_flag, F_DISABLED, 0},
	{"disk", parse_double, OFF(disk), 0},
	{"environmentVariables", parse_env, 0, 0},
	{"epsilon", parse_string, OFF(epsilon), SEEN_EPSILON},
	{"errorCount", parse_int64, OFF(error_count), 0},
	{"errorsSinceLastSuccess", parse_int64, OFF(errors_since_last_success), 0},
	{"executor", parse_string, OFF(executor), 0},
	{"executorFlags", parse_string, OFF(executor_flags), 0},
	{"fetch", parse_fetch, 0, 0},
	{"highPriority", parse_flag, F_HIGH_PRIORITY, 0},
	{"lastError", parse_time, OFF(last_error_ms), 0},
	{"lastSuccess", parse_time, OFF(last_success_ms), 0},
	{"maxCompletionTime", parse_int64, OFF(max_completion_time), 0},
	{"mem", parse_double, OFF(mem), 0},
	{"name", parse_string, OFF(name), SEEN_NAME},
	{"notifyOn", parse_notify_on, 0, 0},
	{"owner", parse_string, OFF(owner), 0},
	{"ownerName", parse_string, OFF(owner_name), 0},
	{"parents", parse_strv, V_PARENTS, SEEN_PARENTS},
	{"retries", parse_int32, OFF(retries), 0},
	{"retryBackoff", parse_double, OFF(retry_backoff), 0},
	{"retryDelay", parse_string, OFF(retry_delay), 0},
	{"runAsUser", parse_string, OFF(run_as_user), SEEN_RUN_AS_USER},
	{"schedule", parse_string, OFF(schedule), SEEN_SCHEDULE},
	{"scheduleTimeZone", parse_string, OFF(schedule_time_zone), 0},
	{"shell", parse_flag, F_SHELL, 0},
	{"softError", parse_flag, F_SOFT_ERROR, 0},
	{"successCount", parse_int64, OFF(success_count), 0},
	{"taskInfoData", parse_string, OFF(task_info_data), 0},
	{"uris", parse_strv, V_URIS, 0},
};

static int field_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct field *)elem)->key);
}

/* True if some array or object in v sits deeper than max (v itself being at depth 1). */
static bool too_deep(json_t *v, int max)
{
	const char *key;
	json_t *child;
	size_t i;

	if (!json_is_object(v) && !json_is_array(v))
		return false;
	if (max < 1)
		return true;
	if (json_is_array(v)) {
		json_array_foreach(v, i, child)
			if (too_deep(child, max - 1))
				return true;
		return false;
	}
	json_object_foreach(v, key, child)
		if (too_deep(child, max - 1))
			return true;
	return false;
}

/* Fill what the keys present did not: defaults, the job type, and the run-once schedule. */
static void apply_defaults(struct parser *p, const struct job_defaults *d, int64_t now_ms)
{
	struct job *j = p->j;
	char buf[64], when[JOB_TIME_BUFSZ];

	if (j->cpus == 0)
		j->cpus = d->cpus;
	if (j->mem == 0)
		j->mem = d->mem;
	if (j->disk == 0)
		j->disk = d->disk;
	if (!(p->seen & SEEN_RUN_AS_USER) && strcmp(j->run_as_user, d->user) != 0)
		job_set_string(&j->run_as_user, d->user);
	if (!(p->seen & SEEN_EPSILON) && d->epsilon_s != 60) {
		snprintf(buf, sizeof(buf), "PT%lldS", (long long)d->epsilon_s);
		job_set_string(&j->epsilon, buf);
	}
	if (p->seen & SEEN_PARENTS) {
		j->dependent = true;
		job_set_string(&j->schedule, "");
		job_set_string(&j->schedule_time_zone, "");
	} else if (!(p->seen & SEEN_SCHEDULE)) {
		job_time_format(now_ms, when);
		snprintf(buf, sizeof(buf), "R1/%s/PT24H", when);
		job_set_string(&j->schedule, buf);
		job_set_string(&j->schedule_time_zone, "");
	}
}

struct job *job_from_json_value(json_t *root, const struct job_defaults *defaults, int64_t now_ms, char *err,
				size_t errlen)
{
	static const struct job_defaults builtin = JOB_DEFAULTS_INIT;
	struct parser p = {{err, errlen}, NULL, 0};
	const char *key;
	json_t *v;

	if (!json_is_object(root)) {
		jfail(&p.e, NULL, "job: expected a JSON object");
		return NULL;
	}
	if (too_deep(root, JOB_JSON_DEPTH_MAX)) {
		jfail(&p.e, NULL, "job: nesting deeper than %d", JOB_JSON_DEPTH_MAX);
		return NULL;
	}
	p.j = job_new();
	p.j->cpus = p.j->mem = p.j->disk = 0; /* absent and 0 both mean the defaults given */
	json_object_foreach(root, key, v) {
		const struct field *f = bsearch(key, fields, sizeof(fields) / sizeof(fields[0]), sizeof(fields[0]),
						field_cmp);
		if (f == NULL || json_is_null(v))
			continue;
		struct jpath path = {NULL, f->key, 0};
		if (f->parse(&p, &path, v, f->arg) < 0)
			goto fail;
		p.seen |= f->seen;
	}
	if (p.j->name[0] == '\0') {
		struct jpath path = {NULL, "name", 0};
		jfail(&p.e, &path, "required");
		goto fail;
	}
	apply_defaults(&p, defaults != NULL ? defaults : &builtin, now_ms);
	return p.j;
fail:
	job_free(p.j);
	return NULL;
}

struct job *job_from_json(const char *text, size_t len, const struct job_defaults *defaults, int64_t now_ms,
			  char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
	struct job *j;

	if (root == NULL) {
		snprintf(err, errlen, "invalid JSON at line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	j = job_from_json_value(root, defaults, now_ms, err, errlen);
	json_decref(root);
	return j;
}
