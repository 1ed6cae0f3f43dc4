#include "cli/cli_job_fmt.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_job_util.h"
#include "cli/cli_time.h"
#include "util/log.h"
#include "util/strmap.h"
#include "util/xmalloc.h"

#define LIST_NAME_MAX 40
#define LIST_SCHEDULE_MAX 40
#define LIST_TZ_MAX 20
#define LIST_OWNER_MAX 30
#define LIST_COMMAND_MAX 50
#define REAL_FORMAT "%.15g"

/* When `job show` prints a field. */
enum show_rule {
	SHOW_ALWAYS,   /* "-" when missing or empty */
	SHOW_PRESENT,  /* when the key is there */
	SHOW_NONEMPTY, /* non-empty string, array or object */
	SHOW_TRUE,     /* a flag that defaults to false */
	SHOW_FALSE,    /* a flag that defaults to true */
	SHOW_NONZERO,  /* a number that defaults to 0 */
	SHOW_SCHEDULE, /* "parents" for a dependent job, else "schedule" */
};

/* How `job show` writes a field's value. */
enum show_format {
	AS_TEXT, /* strings as they are, lists joined */
	AS_JSON, /* compact JSON, e.g. argv where spaces matter */
	AS_TIME, /* an instant in the local zone, with the zone (cli_time_local) */
};

static const struct show_field {
	const char *key;
	enum show_rule rule;
	enum show_format format;
} show_fields[] = {
    {"name", SHOW_ALWAYS, AS_TEXT},
    {"description", SHOW_NONEMPTY, AS_TEXT},
    {"command", SHOW_ALWAYS, AS_TEXT},
    {"shell", SHOW_FALSE, AS_TEXT},
    {"arguments", SHOW_NONEMPTY, AS_JSON},
    {"schedule", SHOW_SCHEDULE, AS_TEXT},
    {"scheduleTimeZone", SHOW_NONEMPTY, AS_TEXT},
    {"owner", SHOW_ALWAYS, AS_TEXT},
    {"ownerName", SHOW_NONEMPTY, AS_TEXT},
    {"runAsUser", SHOW_NONEMPTY, AS_TEXT},
    {"container", SHOW_NONEMPTY, AS_TEXT},
    {"environmentVariables", SHOW_NONEMPTY, AS_TEXT},
    {"fetch", SHOW_NONEMPTY, AS_TEXT},
    {"uris", SHOW_NONEMPTY, AS_TEXT},
    {"constraints", SHOW_NONEMPTY, AS_TEXT},
    {"executor", SHOW_NONEMPTY, AS_TEXT},
    {"executorFlags", SHOW_NONEMPTY, AS_TEXT},
    {"taskInfoData", SHOW_NONEMPTY, AS_TEXT},
    {"cpus", SHOW_PRESENT, AS_TEXT},
    {"mem", SHOW_PRESENT, AS_TEXT},
    {"disk", SHOW_PRESENT, AS_TEXT},
    {"retries", SHOW_PRESENT, AS_TEXT},
    {"maxCompletionTime", SHOW_NONZERO, AS_TEXT},
    {"concurrent", SHOW_TRUE, AS_TEXT},
    {"highPriority", SHOW_TRUE, AS_TEXT},
    {"softError", SHOW_TRUE, AS_TEXT},
    {"dataProcessingJobType", SHOW_TRUE, AS_TEXT},
    {"disabled", SHOW_ALWAYS, AS_TEXT},
    {"successCount", SHOW_ALWAYS, AS_TEXT},
    {"errorCount", SHOW_ALWAYS, AS_TEXT},
    {"errorsSinceLastSuccess", SHOW_NONZERO, AS_TEXT},
    {"lastSuccess", SHOW_ALWAYS, AS_TIME},
    {"lastError", SHOW_ALWAYS, AS_TIME},
};

char *cli_job_schedule_text(const json_t *job)
{
	const json_t *parents = json_object_get(job, "parents");
	const char *schedule = json_string_value(json_object_get(job, "schedule"));
	struct buf text;
	int rc = 0;

	if (json_array_size(parents) == 0)
		return xstrdup(schedule ? schedule : "");
	buf_init(&text, 0);
	rc = buf_puts(&text, "after: ");
	for (size_t i = 0; i < json_array_size(parents) && rc == 0; i++) {
		const char *p = json_string_value(json_array_get(parents, i));
		rc = buf_printf(&text, "%s%s", i ? "," : "", p ? p : "?");
	}
	return buf_steal(&text, NULL);
}

static const char *name_of(const json_t *job)
{
	const char *name = json_string_value(json_object_get(job, "name"));

	return name ? name : "";
}

/* A summary entry with its name, for sorting. */
struct list_entry {
	const char *name;
	const json_t *entry;
};

static int compare_by_name(const void *a, const void *b)
{
	return strcmp(((const struct list_entry *)a)->name, ((const struct list_entry *)b)->name);
}

/* A string field of a job, "-" when missing or empty. */
static const char *field_or_dash(const json_t *job, const char *key)
{
	const char *s = json_string_value(json_object_get(job, key));

	return s && *s ? s : "-";
}

static struct cli_table *new_list_table(void)
{
	static const char *const headers[] = {"NAME", "SCHEDULE", "TZ", "LAST", "STATE", "DISABLED", "OWNER",
	    "COMMAND"};
	struct cli_table *t = cli_table_new(sizeof(headers) / sizeof(headers[0]), headers);

	cli_table_set_max_width(t, 0, LIST_NAME_MAX);
	cli_table_set_max_width(t, 1, LIST_SCHEDULE_MAX);
	cli_table_set_max_width(t, 2, LIST_TZ_MAX);
	cli_table_set_max_width(t, 6, LIST_OWNER_MAX);
	cli_table_set_max_width(t, 7, LIST_COMMAND_MAX);
	return t;
}

char *cli_job_command_text(const json_t *job)
{
	const char *command = json_string_value(json_object_get(job, "command"));
	const json_t *args = json_object_get(job, "arguments");
	const char **words;
	char *joined, *text;
	size_t n = 0;

	if (!command || !*command)
		return xstrdup("-");
	if (!json_is_false(json_object_get(job, "shell")) || json_array_size(args) == 0)
		return xstrdup(command);
	words = xcalloc(json_array_size(args), sizeof(*words));
	for (size_t i = 0; i < json_array_size(args); i++)
		if (json_is_string(json_array_get(args, i)))
			words[n++] = json_string_value(json_array_get(args, i));
	joined = cli_job_join_args((int)n, words);
	text = xasprintf("%s %s", command, joined);
	free(joined);
	free(words);
	return text;
}

/* Add one summary entry, completed from the full job when there is one. */
static void add_list_row(struct cli_table *t, const json_t *entry, const json_t *job)
{
	char *schedule = cli_job_schedule_text(entry), *command = cli_job_command_text(job);
	const char *cells[] = {
	    name_of(entry),
	    *schedule ? schedule : "-",
	    field_or_dash(job, "scheduleTimeZone"),
	    field_or_dash(entry, "status"),
	    field_or_dash(entry, "state"),
	    json_is_true(json_object_get(entry, "disabled")) ? "yes" : "no",
	    field_or_dash(job, "owner"),
	    command,
	};

	cli_table_add_row(t, cells);
	free(command);
	free(schedule);
}

struct cli_table *cli_job_list_table(const json_t *summary, const json_t *jobs, char *err, size_t errlen)
{
	const json_t *entries = json_object_get(summary, "jobs");
	size_t n = json_array_size(entries);
	struct list_entry *sorted;
	struct strmap *byname;
	struct cli_table *t;

	if (!json_is_array(entries) || !json_is_array(jobs)) {
		snprintf(err, errlen, "unexpected answer from the server: %s", !json_is_array(jobs) ?
		    "the job list is not an array" : "the job summary has no \"jobs\" array");
		return NULL;
	}
	byname = strmap_new();
	for (size_t i = 0; i < json_array_size(jobs); i++) {
		json_t *job = json_array_get(jobs, i);
		if (*name_of(job))
			strmap_put(byname, name_of(job), job);
	}
	sorted = xcalloc(n ? n : 1, sizeof(*sorted));
	for (size_t i = 0; i < n; i++) {
		sorted[i].entry = json_array_get(entries, i);
		sorted[i].name = name_of(sorted[i].entry);
	}
	qsort(sorted, n, sizeof(*sorted), compare_by_name);
	t = new_list_table();
	for (size_t i = 0; i < n; i++)
		add_list_row(t, sorted[i].entry, strmap_get(byname, sorted[i].name));
	free(sorted);
	strmap_free(byname);
	return t;
}

/* Whether `job show` prints this field of this job. */
static bool should_show(const json_t *job, const struct show_field *f, const json_t *v)
{
	switch (f->rule) {
	case SHOW_ALWAYS:
	case SHOW_SCHEDULE:
		return true;
	case SHOW_PRESENT:
		return v != NULL;
	case SHOW_NONEMPTY:
		/* Servers fill "fetch" from "uris" and back for old clients: show only one. */
		if (strcmp(f->key, "uris") == 0 && json_array_size(json_object_get(job, "fetch")) > 0)
			return false;
		return (json_is_string(v) && *json_string_value(v)) || json_array_size(v) > 0 || json_object_size(v) > 0;
	case SHOW_TRUE:
		return json_is_true(v);
	case SHOW_FALSE:
		return json_is_false(v);
	case SHOW_NONZERO:
		return json_is_number(v) && json_number_value(v) != 0;
	}
	return false;
}

static int append_json(const json_t *v, struct buf *out)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(15) | JSON_ENCODE_ANY);
	int rc;

	if (!s)
		fatalx("json_dumps: out of memory");
	rc = buf_puts(out, s);
	free(s);
	return rc;
}

static int append_scalar(const json_t *v, struct buf *out)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return buf_puts(out, json_string_value(v));
	case JSON_INTEGER:
		return buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	case JSON_REAL:
		return buf_printf(out, REAL_FORMAT, json_real_value(v));
	case JSON_TRUE:
		return buf_puts(out, "true");
	case JSON_FALSE:
		return buf_puts(out, "false");
	case JSON_NULL:
		return buf_puts(out, "-");
	default:
		return append_json(v, out);
	}
}

/* One element of a list: NAME=value pairs (environment, parameters), fetch URIs, constraint triples. */
static int append_item(const json_t *v, struct buf *out)
{
	const char *label = json_string_value(json_object_get(v, "name"));
	const json_t *value = json_object_get(v, "value");
	const char *uri = json_string_value(json_object_get(v, "uri"));
	int rc = 0;

	if (!label)
		label = json_string_value(json_object_get(v, "key"));
	if (label && value) {
		rc = buf_printf(out, "%s=", label);
		return rc ? rc : append_scalar(value, out);
	}
	if (uri)
		return buf_puts(out, uri);
	if (!json_is_array(v))
		return append_scalar(v, out);
	for (size_t i = 0; i < json_array_size(v) && rc == 0; i++) {
		if (i)
			rc = buf_puts(out, " ");
		if (rc == 0)
			rc = append_scalar(json_array_get(v, i), out);
	}
	return rc;
}

static int append_value(const json_t *v, enum show_format format, struct buf *out)
{
	const char *image = json_string_value(json_object_get(v, "image"));
	int rc = 0;

	if (format == AS_JSON)
		return append_json(v, out);
	if (format == AS_TIME && json_is_string(v)) {
		char when[CLI_TIME_MAX];
		cli_time_local(json_string_value(v), when, sizeof(when));
		return buf_puts(out, when);
	}
	if (image) {
		const char *type = json_string_value(json_object_get(v, "type"));
		const char *network = json_string_value(json_object_get(v, "network"));
		return buf_printf(out, "%s %s%s%s%s", type ? type : "DOCKER", image, network ? " (network " : "",
		    network ? network : "", network ? ")" : "");
	}
	if (!json_is_array(v))
		return json_is_string(v) && !*json_string_value(v) ? buf_puts(out, "-") : append_scalar(v, out);
	if (json_array_size(v) == 0)
		return buf_puts(out, "-");
	for (size_t i = 0; i < json_array_size(v) && rc == 0; i++) {
		if (i)
			rc = buf_puts(out, ", ");
		if (rc == 0)
			rc = append_item(json_array_get(v, i), out);
	}
	return rc;
}

/* Append "key: value\n"; a value's further lines are indented, other control characters replaced. */
static int append_line(const char *key, const char *value, struct buf *out)
{
	int rc = buf_printf(out, "%s: ", key);

	for (const char *p = value; *p && rc == 0; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '\n')
			rc = buf_puts(out, "\n  ");
		else if (c == '\r')
			continue;
		else
			rc = buf_append(out, (c < 0x20 && c != '\t') || c == 0x7f ? "?" : p, 1);
	}
	return rc ? rc : buf_puts(out, "\n");
}

int cli_job_describe(const json_t *job, struct buf *out)
{
	struct buf value;
	int rc = 0;

	buf_init(&value, out->limit);
	for (size_t i = 0; i < sizeof(show_fields) / sizeof(show_fields[0]) && rc == 0; i++) {
		const struct show_field *f = &show_fields[i];
		const char *key = f->key;
		const json_t *v;

		if (f->rule == SHOW_SCHEDULE && json_object_get(job, "parents"))
			key = "parents";
		v = json_object_get(job, key);
		if (!should_show(job, f, v))
			continue;
		buf_reset(&value);
		rc = v ? append_value(v, f->format, &value) : buf_puts(&value, "-");
		if (rc == 0)
			rc = append_line(key, value.data ? value.data : "", out);
	}
	buf_free(&value);
	return rc;
}
