/* Reading the user's input files for the CLI: a path or "-" for standard input, size-capped, parsed as JSON with
 * errors that name the file, line and column. */
#ifndef GNOMON_CLI_CLI_INPUT_H
#define GNOMON_CLI_CLI_INPUT_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "util/buf.h"

/* How a path appears in messages: "stdin" for "-", else the path itself. */
const char *cli_input_label(const char *path);
/* Read all of f into out (whose limit caps it). Returns 0, -E2BIG past the limit, or -errno on a read error. */
int cli_input_read(FILE *f, struct buf *out) __attribute__((warn_unused_result));
/* Parse data as a JSON document (duplicate keys rejected). Returns a new reference, or NULL with a message like
 * "jobs.json:3:15: invalid JSON: ..." in err. */
json_t *cli_input_parse_json(const char *label, const char *data, size_t len, char *err, size_t errlen);
/* Read and parse the JSON file at path ("-": standard input), at most cap bytes. Returns a new reference, or
 * NULL with a one-line message naming the file in err. */
json_t *cli_input_load_json(const char *path, size_t cap, char *err, size_t errlen);

#endif
