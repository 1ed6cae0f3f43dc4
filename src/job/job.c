/* The job model: construction, deep copy, setters, shared strings and packed arrays. */
#include "job/job.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "job/job_internal.h"
#include "util/xmalloc.h"

/* Values common enough across a million jobs to share instead of copying. Only these exact pointers are
 * treated as shared, so a string equal to one of them but allocated elsewhere is still freed. */
static const char *const shared_strings[] = {"", "root", "UTC", "PT60S", "PT5M", "PT1M", "PT30S"};
#define N_SHARED (sizeof(shared_strings) / sizeof(shared_strings[0]))

const char *job_str_new(const char *s, size_t len)
{
	if (len == 0)
		return shared_strings[0];
	for (size_t i = 1; i < N_SHARED; i++) {
		const char *c = shared_strings[i];
		if (c[0] == s[0] && strlen(c) == len && memcmp(c, s, len) == 0)
			return c;
	}
	return xstrndup(s, len);
}

void job_str_release(const char *s)
{
	for (size_t i = 0; i < N_SHARED; i++)
		if (s == shared_strings[i])
			return;
	/* The pointer came from xstrndup(); only the const of the field is dropped here. */
	free((void *)(uintptr_t)s);
}

/* Bump allocator over one block: the element array first, then the string bytes. */
struct pack {
	char *next;
};

static const char *pack_str(struct pack *p, const char *s)
{
	size_t n = strlen(s) + 1;
	char *dst = p->next;
	memcpy(dst, s, n);
	p->next += n;
	return dst;
}

char **job_strv_pack(const char *const *v, size_t n)
{
	size_t bytes = 0;
	if (n == 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
		bytes += strlen(v[i]) + 1;
	char **out = xmalloc((n + 1) * sizeof(char *) + bytes);
	struct pack p = {(char *)(out + n + 1)};
	for (size_t i = 0; i < n; i++) {
		out[i] = p.next;
		(void)pack_str(&p, v[i]);
	}
	out[n] = NULL;
	return out;
}

struct job_fetch *job_fetch_pack(const struct job_fetch *v, size_t n)
{
	size_t bytes = 0;
	if (n == 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
		bytes += strlen(v[i].uri) + strlen(v[i].output_file) + 2;
	struct job_fetch *out = xmalloc(n * sizeof(*out) + bytes);
	struct pack p = {(char *)(out + n)};
	for (size_t i = 0; i < n; i++) {
		out[i] = v[i];
		out[i].uri = pack_str(&p, v[i].uri);
		out[i].output_file = pack_str(&p, v[i].output_file);
	}
	return out;
}

struct job_env *job_env_pack(const struct job_env *v, size_t n)
{
	size_t bytes = 0;
	if (n == 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
		bytes += strlen(v[i].name) + strlen(v[i].value) + 2;
	struct job_env *out = xmalloc(n * sizeof(*out) + bytes);
	struct pack p = {(char *)(out + n)};
	for (size_t i = 0; i < n; i++) {
		out[i].name = pack_str(&p, v[i].name);
		out[i].value = pack_str(&p, v[i].value);
	}
	return out;
}

struct job_constraint *job_constraints_pack(const struct job_constraint *v, size_t n)
{
	size_t bytes = 0;
	if (n == 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
		bytes += strlen(v[i].attribute) + strlen(v[i].op) + strlen(v[i].value) + 3;
	struct job_constraint *out = xmalloc(n * sizeof(*out) + bytes);
	struct pack p = {(char *)(out + n)};
	for (size_t i = 0; i < n; i++) {
		out[i].attribute = pack_str(&p, v[i].attribute);
		out[i].op = pack_str(&p, v[i].op);
		out[i].value = pack_str(&p, v[i].value);
	}
	return out;
}

struct keyed {
	const char *s;
	size_t index;
};

static int keyed_cmp(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c = strcmp(x->s, y->s);
	if (c != 0)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Sort-based duplicate removal for long lists: O(n log n) whatever the input. */
static size_t unique_sorted(const char **v, size_t n)
{
	struct keyed *k = xmalloc(n * sizeof(*k));
	bool *drop = xcalloc(n, sizeof(*drop));
	size_t out = 0;

	for (size_t i = 0; i < n; i++)
		k[i] = (struct keyed){v[i], i};
	qsort(k, n, sizeof(*k), keyed_cmp);
	for (size_t i = 1; i < n; i++)
		if (strcmp(k[i].s, k[i - 1].s) == 0)
			drop[k[i].index] = true;
	for (size_t i = 0; i < n; i++)
		if (!drop[i])
			v[out++] = v[i];
	free(drop);
	free(k);
	return out;
}

size_t job_strv_unique(const char **v, size_t n)
{
	size_t out = 0;
	if (n > 16)
		return unique_sorted(v, n);
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;
		while (k < out && strcmp(v[k], v[i]) != 0)
			k++;
		if (k == out)
			v[out++] = v[i];
	}
	return out;
}

struct job *job_new(void)
{
	static const struct job_defaults def = JOB_DEFAULTS_INIT;
	struct job *j = xcalloc(1, sizeof(*j));
	const char *e = shared_strings[0];

	j->name = j->command = j->executor = j->executor_flags = j->task_info_data = e;
	j->owner = j->owner_name = j->description = j->schedule = j->schedule_time_zone = j->retry_delay = e;
	j->run_as_user = job_str_new(def.user, strlen(def.user));
	j->epsilon = job_str_new("PT60S", 5);
	j->last_success_ms = j->last_error_ms = JOB_TIME_NONE;
	j->cpus = def.cpus;
	j->mem = def.mem;
	j->disk = def.disk;
	j->retry_backoff = 1.0;
	j->retries = 2;
	j->shell = true;
	return j;
}

/* Offsets of the scalar string fields, for loops over all of them. */
static const size_t string_fields[] = {
	offsetof(struct job, name), offsetof(struct job, command), offsetof(struct job, executor),
	offsetof(struct job, executor_flags), offsetof(struct job, task_info_data), offsetof(struct job, owner),
	offsetof(struct job, owner_name), offsetof(struct job, description), offsetof(struct job, run_as_user),
	offsetof(struct job, schedule), offsetof(struct job, schedule_time_zone), offsetof(struct job, epsilon),
	offsetof(struct job, retry_delay),
};
#define N_STRING_FIELDS (sizeof(string_fields) / sizeof(string_fields[0]))

static const char **string_field(struct job *j, size_t i)
{
	return (const char **)(void *)((char *)j + string_fields[i]);
}

void job_free(struct job *j)
{
	if (j == NULL)
		return;
	for (size_t i = 0; i < N_STRING_FIELDS; i++)
		job_str_release(*string_field(j, i));
	if (j->container_json != NULL)
		job_str_release(j->container_json);
	free(j->arguments);
	free(j->uris);
	free(j->parents);
	free(j->fetch);
	free(j->env);
	free(j->constraints);
	free(j);
}

struct job *job_dup(const struct job *src)
{
	struct job *j = xmalloc(sizeof(*j));

	*j = *src;
	for (size_t i = 0; i < N_STRING_FIELDS; i++) {
		const char **f = string_field(j, i);
		*f = job_str_new(*f, strlen(*f));
	}
	if (src->container_json != NULL)
		j->container_json = xstrdup(src->container_json);
	j->arguments = job_strv_pack((const char *const *)src->arguments, src->n_arguments);
	j->uris = job_strv_pack((const char *const *)src->uris, src->n_uris);
	j->parents = job_strv_pack((const char *const *)src->parents, src->n_parents);
	j->fetch = job_fetch_pack(src->fetch, src->n_fetch);
	j->env = job_env_pack(src->env, src->n_env);
	j->constraints = job_constraints_pack(src->constraints, src->n_constraints);
	return j;
}

bool job_is_dependent(const struct job *j)
{
	return j->dependent;
}

void job_set_stringn(const char **field, const char *value, size_t len)
{
	const char *old = *field;
	*field = job_str_new(value, len);
	job_str_release(old);
}

void job_set_string(const char **field, const char *value)
{
	if (value == NULL)
		value = "";
	job_set_stringn(field, value, strlen(value));
}

void job_set_arguments(struct job *j, const char *const *v, size_t n)
{
	char **old = j->arguments;
	j->arguments = job_strv_pack(v, n);
	j->n_arguments = (uint32_t)n;
	free(old);
}

void job_set_uris(struct job *j, const char *const *v, size_t n)
{
	char **old = j->uris;
	j->uris = job_strv_pack(v, n);
	j->n_uris = (uint32_t)n;
	free(old);
}

void job_drop_uris_mirror(struct job *j)
{
	if (j->n_uris == 0 || j->n_uris != j->n_fetch)
		return;
	for (uint32_t i = 0; i < j->n_uris; i++)
		if (strcmp(j->uris[i], j->fetch[i].uri) != 0)
			return;
	job_set_uris(j, NULL, 0);
}

void job_set_parents(struct job *j, const char *const *v, size_t n)
{
	char **old = j->parents;
	const char **tmp = xmalloc((n ? n : 1) * sizeof(*tmp));

	memcpy(tmp, v, n * sizeof(*tmp));
	n = job_strv_unique(tmp, n);
	j->parents = job_strv_pack(tmp, n);
	j->n_parents = (uint32_t)n;
	j->dependent = true;
	job_set_string(&j->schedule, "");
	job_set_string(&j->schedule_time_zone, "");
	free(tmp);
	free(old);
}

void job_set_fetch(struct job *j, const struct job_fetch *v, size_t n)
{
	struct job_fetch *old = j->fetch;
	j->fetch = job_fetch_pack(v, n);
	j->n_fetch = (uint32_t)n;
	free(old);
}

void job_set_env(struct job *j, const struct job_env *v, size_t n)
{
	struct job_env *old = j->env;
	j->env = job_env_pack(v, n);
	j->n_env = (uint32_t)n;
	free(old);
}

void job_set_constraints(struct job *j, const struct job_constraint *v, size_t n)
{
	struct job_constraint *old = j->constraints;
	j->constraints = job_constraints_pack(v, n);
	j->n_constraints = (uint32_t)n;
	free(old);
}

void job_set_container_json(struct job *j, const char *text)
{
	const char *old = j->container_json;
	j->container_json = text != NULL ? xstrdup(text) : NULL;
	if (old != NULL)
		job_str_release(old);
}

void job_set_schedule(struct job *j, const char *schedule, const char *time_zone)
{
	free(j->parents);
	j->parents = NULL;
	j->n_parents = 0;
	j->dependent = false;
	job_set_string(&j->schedule, schedule);
	job_set_string(&j->schedule_time_zone, time_zone);
}

bool job_env_get(const struct job *j, size_t i, const char **name, const char **value)
{
	if (i >= j->n_env)
		return false;
	*name = j->env[i].name;
	*value = j->env[i].value;
	return true;
}

char *job_arguments_join(const struct job *j)
{
	size_t len = 0, off = 0;
	for (size_t i = 0; i < j->n_arguments; i++)
		len += strlen(j->arguments[i]) + 1;
	char *out = xmalloc(len + 1);
	for (size_t i = 0; i < j->n_arguments; i++) {
		size_t n = strlen(j->arguments[i]);
		if (i > 0)
			out[off++] = ' ';
		memcpy(out + off, j->arguments[i], n);
		off += n;
	}
	out[off] = '\0';
	return out;
}

const char *job_notify_on_name(unsigned notify_on)
{
	static const char *const names[] = {"failure", "always", "never", "invalid"};
	return notify_on < sizeof(names) / sizeof(names[0]) ? names[notify_on] : "invalid";
}
