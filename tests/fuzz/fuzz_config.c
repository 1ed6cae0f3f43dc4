/* libFuzzer target: the config file parser (src/util/config.c, `name = value` lines, what `--config FILE` and the
 * Debian package's /etc/gnomon/server.conf holds), over a table with an option of every type. A file is refused with
 * one message naming the file and a line ("fuzz:N: ...", N a line the input has), or loads values within their
 * bounds; what --check-config prints of them (config_print) loads again to the same numbers, booleans, strings
 * and list items (which found values with white space at an end, or in quotes, printed so that they came back
 * otherwise). */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "util/config.h"
#include "util/log.h"

struct conf {
	long long port, size;
	double ratio;
	bool flag;
	char *name, *secret, *file, *list;
};

#define OFF(f) offsetof(struct conf, f)
static const struct config_option table[] = {
	{"http-port", CONFIG_INT, "4400", 0, 65535, OFF(port), "port"},
	{"log-cap", CONFIG_SIZE, "64K", 0, 1LL << 40, OFF(size), "bytes"},
	{"ratio", CONFIG_DOUBLE, "0.5", 0, 100, OFF(ratio), "a ratio"},
	{"stop-tasks-on-exit", CONFIG_BOOL, "false", 0, 0, OFF(flag), "a flag"},
	{"hostname", CONFIG_STRING, NULL, 0, 0, OFF(name), "a string"},
	{"mail-password", CONFIG_SECRET, NULL, 0, 0, OFF(secret), "a secret"},
	{"config", CONFIG_FILE, NULL, 0, 0, OFF(file), "the file"},
	{"attribute", CONFIG_LIST, NULL, 0, 0, OFF(list), "a list"},
	{"master", CONFIG_IGNORED, NULL, 0, 0, 0, "ignored"},
	{NULL, 0, NULL, 0, 0, 0, NULL},
};

/* A string as the file gives it back: NULL and "" alike. */
static bool same_text(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The ignored options' warnings would fill the output. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init(LOG_LEVEL_ERROR, false);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf c, again;
	char err[1024], *printed = NULL;
	size_t printed_len = 0, lines = 1;
	FILE *out;
	int rc;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	config_defaults(table, &c);
	rc = config_load_text(table, &c, "fuzz", (const char *)data, size, err, sizeof(err));
	if (rc < 0) {
		char *end;
		unsigned long line;
		CHECK(rc == -EINVAL, "rc %d", rc);
		CHECK(strncmp(err, "fuzz:", 5) == 0, "a refusal that names no file: %s", err);
		line = strtoul(err + 5, &end, 10);
		CHECK(end != err + 5 && *end == ':' && line >= 1 && line <= lines, "line %lu of %zu: %s", line, lines,
		    err);
		config_free(table, &c);
		return 0;
	}
	CHECK(c.port >= 0 && c.port <= 65535, "port %lld", c.port);
	CHECK(c.size >= 0 && c.size <= 1LL << 40, "size %lld", c.size);
	CHECK(c.ratio >= 0 && c.ratio <= 100, "ratio %g", c.ratio);
	CHECK(c.file == NULL || *c.file == '\0', "the file set from a file: %s", c.file);

	out = open_memstream(&printed, &printed_len);
	CHECK(out != NULL, "open_memstream");
	config_print(table, &c, out);
	CHECK(fclose(out) == 0, "fclose");
	config_defaults(table, &again);
	rc = config_load_text(table, &again, "printed", printed, printed_len, err, sizeof(err));
	CHECK(rc == 0, "what config_print wrote does not load: %s\n%s", err, printed);
	CHECK(again.port == c.port && again.size == c.size && again.flag == c.flag, "numbers changed:\n%s", printed);
	CHECK(same_text(c.name, again.name), "'%s' came back as '%s'", c.name, again.name);
	CHECK(same_text(c.list, again.list), "list '%s' came back as '%s'", c.list, again.list);
	free(printed);
	config_free(table, &again);
	config_free(table, &c);
	return 0;
}
