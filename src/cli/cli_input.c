#include "cli/cli_input.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

const char *cli_input_label(const char *path)
{
	return strcmp(path, "-") == 0 ? "stdin" : path;
}

int cli_input_read(FILE *f, struct buf *out)
{
	char chunk[16384];
	size_t n;
	int rc;

	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if ((rc = buf_append(out, chunk, n)) < 0)
			return rc;
	if (ferror(f))
		return errno ? -errno : -EIO;
	return 0;
}

json_t *cli_input_parse_json(const char *label, const char *data, size_t len, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loadb(data ? data : "", len, JSON_REJECT_DUPLICATES, &jerr);

	if (root)
		return root;
	if (jerr.line > 0)
		snprintf(err, errlen, "%s:%d:%d: invalid JSON: %s", label, jerr.line, jerr.column, jerr.text);
	else
		snprintf(err, errlen, "%s: invalid JSON: %s", label, jerr.text);
	return NULL;
}

json_t *cli_input_load_json(const char *path, size_t cap, char *err, size_t errlen)
{
	const char *label = cli_input_label(path);
	bool is_stdin = strcmp(path, "-") == 0;
	FILE *f = is_stdin ? stdin : fopen(path, "r");
	json_t *root = NULL;
	struct buf data;
	int rc;

	buf_init(&data, cap);
	if (!f) {
		snprintf(err, errlen, "cannot read %s: %s", label, strerror(errno));
		return NULL;
	}
	errno = 0;
	rc = cli_input_read(f, &data);
	if (rc == -E2BIG && cap % (1u << 20) == 0)
		snprintf(err, errlen, "%s: larger than %zu MiB", label, cap >> 20);
	else if (rc == -E2BIG)
		snprintf(err, errlen, "%s: larger than %zu bytes", label, cap);
	else if (rc < 0)
		snprintf(err, errlen, "cannot read %s: %s", label, strerror(-rc));
	else
		root = cli_input_parse_json(label, data.data, data.len, err, errlen);
	if (!is_stdin)
		fclose(f);
	buf_free(&data);
	return root;
}
