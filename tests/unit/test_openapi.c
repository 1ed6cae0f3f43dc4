/* GET /api/v1/openapi.json (docs/openapi.json, embedded) against the server's route table, both ways: every route
 * of api_routes() is in the document with its method (a Chronos route under /v1/scheduler and /scheduler), and
 * the document names no route the table lacks; and the document is well-formed OpenAPI 3.0 as far as its
 * structure goes (required top-level keys, every operation with responses, every path parameter declared, every
 * $ref resolving). */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "api/gnomon_openapi.h"
#include "api/router.h"

#define KEY_MAX 256

static const char *const methods[] = {"get", "put", "post", "delete", "options", "head", "patch", "trace"};

static json_t *load(void)
{
	json_error_t err;
	json_t *doc = json_loadb((const char *)openapi_json, openapi_json_len, 0, &err);
	if (doc == NULL)
		fail_msg("docs/openapi.json: line %d: %s", err.line, err.text);
	return doc;
}

/* "METHOD path" with every {capture} as "{}" and no leading '/'. */
static void route_key(char *out, size_t len, const char *method, const char *prefix, const char *path)
{
	size_t n = (size_t)snprintf(out, len, "%s ", method);

	for (const char *c = method; *c && n > 0; c++)
		out[c - method] = (char)toupper((unsigned char)*c);
	n += (size_t)snprintf(out + n, len - n, "%s", prefix);
	for (const char *p = path + (*path == '/'); *p && n + 3 < len; p++) {
		if (*p == '{') {
			const char *end = strchr(p, '}');
			assert_non_null(end);
			memcpy(out + n, "{}", 2);
			n += 2;
			p = end;
		} else {
			out[n++] = *p;
		}
	}
	out[n] = '\0';
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add key to the list unless it is there. */
static void add(char ***list, size_t *n, const char *key)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*list)[i], key) == 0)
			return;
	*list = realloc(*list, (*n + 1) * sizeof(**list));
	assert_non_null(*list);
	(*list)[(*n)++] = strdup(key);
}

static void free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

/* Is key in the sorted list? */
static int has(char **list, size_t n, const char *key)
{
	return bsearch(&key, list, n, sizeof(*list), by_str) != NULL;
}

static void test_same_routes(void **state)
{
	static const char *const chronos_prefixes[] = {"v1/scheduler/", "scheduler/"};
	json_t *doc = load(), *paths = json_object_get(doc, "paths"), *item;
	char **table = NULL, **documented = NULL, key[KEY_MAX];
	size_t nt = 0, nd = 0, nroutes, missing = 0;
	const struct api_route *r = api_routes(&nroutes);
	const char *path;
	(void)state;

	for (size_t i = 0; i < nroutes; i++) {
		if (r[i].chronos) {
			for (size_t k = 0; k < 2; k++) {
				route_key(key, sizeof(key), r[i].method, chronos_prefixes[k], r[i].pattern);
				add(&table, &nt, key);
			}
		} else {
			route_key(key, sizeof(key), r[i].method, "", r[i].pattern);
			add(&table, &nt, key);
		}
	}
	assert_true(json_is_object(paths));
	json_object_foreach(paths, path, item) {
		for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
			if (json_object_get(item, methods[m]) == NULL)
				continue;
			route_key(key, sizeof(key), methods[m], "", path);
			add(&documented, &nd, key);
		}
	}
	qsort(table, nt, sizeof(*table), by_str);
	qsort(documented, nd, sizeof(*documented), by_str);
	for (size_t i = 0; i < nt; i++) {
		if (!has(documented, nd, table[i])) {
			fprintf(stderr, "route not in docs/openapi.json: %s\n", table[i]);
			missing++;
		}
	}
	for (size_t i = 0; i < nd; i++) {
		if (!has(table, nt, documented[i])) {
			fprintf(stderr, "docs/openapi.json names a route the server lacks: %s\n", documented[i]);
			missing++;
		}
	}
	assert_int_equal(missing, 0);
	assert_int_equal(nt, nd);
	free_list(table, nt);
	free_list(documented, nd);
	json_decref(doc);
}

/* Every {name} of path is a required path parameter of op (or of the path item). */
static void check_path_params(const char *path, json_t *item, json_t *op)
{
	for (const char *p = strchr(path, '{'); p; p = strchr(p + 1, '{')) {
		const char *end = strchr(p, '}');
		char name[KEY_MAX];
		int found = 0;
		assert_non_null(end);
		snprintf(name, sizeof(name), "%.*s", (int)(end - p - 1), p + 1);
		json_t *lists[2] = {json_object_get(op, "parameters"), json_object_get(item, "parameters")};
		for (size_t l = 0; l < 2 && !found; l++) {
			size_t i;
			json_t *prm;
			json_array_foreach(lists[l], i, prm) {
				const char *pname = json_string_value(json_object_get(prm, "name"));
				const char *in = json_string_value(json_object_get(prm, "in"));
				if (pname && in && strcmp(pname, name) == 0 && strcmp(in, "path") == 0 &&
				    json_is_true(json_object_get(prm, "required")))
					found = 1;
			}
		}
		if (!found)
			fail_msg("%s: path parameter '%s' is not declared (in: path, required: true)", path, name);
	}
}

/* Every "$ref" under v points into the document's components. */
static void check_refs(json_t *doc, json_t *v)
{
	const char *key;
	json_t *child;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach(v, key, child) {
			if (strcmp(key, "$ref") == 0) {
				char kind[64], name[128];
				const char *ref = json_string_value(child);
				assert_non_null(ref);
				if (sscanf(ref, "#/components/%63[^/]/%127s", kind, name) != 2 ||
				    json_object_get(json_object_get(json_object_get(doc, "components"), kind), name) == NULL)
					fail_msg("$ref '%s' resolves to nothing", ref);
			} else {
				check_refs(doc, child);
			}
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, child)
			check_refs(doc, child);
	}
}

static void test_well_formed(void **state)
{
	json_t *doc = load(), *info, *paths, *item, *op, *responses, *resp;
	const char *path, *verb, *code, *version;
	size_t operations = 0;
	(void)state;

	version = json_string_value(json_object_get(doc, "openapi"));
	assert_non_null(version);
	assert_true(strncmp(version, "3.0.", 4) == 0);
	info = json_object_get(doc, "info");
	assert_true(json_is_string(json_object_get(info, "title")));
	assert_true(json_is_string(json_object_get(info, "version")));
	assert_string_equal(json_string_value(json_object_get(info, "version")), GNOMON_VERSION); /* the project's */
	paths = json_object_get(doc, "paths");
	assert_true(json_is_object(paths) && json_object_size(paths) > 0);
	json_object_foreach(paths, path, item) {
		if (path[0] != '/')
			fail_msg("path '%s' does not start with '/'", path);
		json_object_foreach(item, verb, op) {
			int is_method = 0;
			for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++)
				is_method |= strcmp(verb, methods[m]) == 0;
			if (!is_method) {
				if (strcmp(verb, "parameters") != 0 && strcmp(verb, "summary") != 0 &&
				    strcmp(verb, "description") != 0)
					fail_msg("%s: '%s' is not an operation", path, verb);
				continue;
			}
			operations++;
			responses = json_object_get(op, "responses");
			if (!json_is_object(responses) || json_object_size(responses) == 0)
				fail_msg("%s %s: no responses", verb, path);
			json_object_foreach(responses, code, resp) {
				if (!(strcmp(code, "default") == 0 || (strlen(code) == 3 && code[0] >= '1' && code[0] <= '5')))
					fail_msg("%s %s: response '%s' is not a status code", verb, path, code);
				if (!json_is_string(json_object_get(resp, "description")) &&
				    !json_is_string(json_object_get(resp, "$ref")))
					fail_msg("%s %s: response %s has no description", verb, path, code);
			}
			check_path_params(path, item, op);
		}
	}
	assert_true(operations > 40);
	check_refs(doc, doc);
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_routes),
		cmocka_unit_test(test_well_formed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
