#include "cli/cli_agents_fmt.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli_time.h"
#include "util/xmalloc.h"

#define MS_PER_S INT64_C(1000)

void cli_agents_ago(int64_t ms, char *out, size_t len)
{
	int64_t s = ms / MS_PER_S;

	if (ms < 0)
		snprintf(out, len, "-");
	else if (s == 0)
		snprintf(out, len, "now");
	else if (s < 120)
		snprintf(out, len, "%" PRId64 " s ago", s);
	else if (s < 2 * 3600)
		snprintf(out, len, "%" PRId64 " min ago", s / 60);
	else if (s < 2 * 86400)
		snprintf(out, len, "%" PRId64 " h ago", s / 3600);
	else
		snprintf(out, len, "%" PRId64 " d ago", s / 86400);
}

/* A number without needless decimals: 4, 0.5, 7.8. */
static void number(double v, char *out, size_t len)
{
	if (v == (double)(int64_t)v)
		snprintf(out, len, "%" PRId64, (int64_t)v);
	else
		snprintf(out, len, "%.1f", v);
}

void cli_agents_amount(double used, double total, const char *resource, char *out, size_t len)
{
	static const char *const units[] = {"MiB", "GiB", "TiB"};
	char u[32], t[32];
	size_t unit = 0;

	if (strcmp(resource, "cpus") != 0) {
		while (unit + 1 < sizeof(units) / sizeof(units[0]) && total >= 10 * 1024) {
			total /= 1024;
			used /= 1024;
			unit++;
		}
	}
	number(used, u, sizeof(u));
	number(total, t, sizeof(t));
	if (strcmp(resource, "cpus") == 0)
		snprintf(out, len, "%s/%s", u, t);
	else
		snprintf(out, len, "%s/%s %s", u, t, units[unit]);
}

char *cli_agents_attributes(const json_t *agent)
{
	json_t *attrs = json_object_get(agent, "attributes"); /* jansson hands out non-const children */
	const char *key;
	json_t *value;
	struct buf b;

	if (json_object_size(attrs) == 0)
		return xstrdup("-");
	buf_init(&b, 0);
	json_object_foreach(attrs, key, value) {
		const char *v = json_string_value(value);
		if (buf_printf(&b, "%s%s=%s", b.len ? "," : "", key, v ? v : "") < 0)
			break; /* no limit: cannot happen */
	}
	return buf_steal(&b, NULL);
}

static const char *str_of(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static double num_of(const json_t *o, const char *a, const char *b)
{
	return json_number_value(json_object_get(json_object_get(o, a), b));
}

static void resource_cell(const json_t *agent, const char *resource, char *out, size_t len)
{
	cli_agents_amount(num_of(agent, "used", resource), num_of(agent, "resources", resource), resource, out, len);
}

static void add_agent_row(struct cli_table *t, const json_t *a)
{
	char cpus[64], mem[64], running[24], heard[32];
	char *attrs = cli_agents_attributes(a);
	const char *cells[8];

	resource_cell(a, "cpus", cpus, sizeof(cpus));
	resource_cell(a, "mem", mem, sizeof(mem));
	snprintf(running, sizeof(running), "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(a, "running")));
	cli_agents_ago((int64_t)json_integer_value(json_object_get(a, "silentMs")), heard, sizeof(heard));
	cells[0] = str_of(a, "name");
	cells[1] = str_of(a, "state");
	cells[2] = str_of(a, "hostname");
	cells[3] = cpus;
	cells[4] = mem;
	cells[5] = running;
	cells[6] = heard;
	cells[7] = attrs;
	cli_table_add_row(t, cells);
	free(attrs);
}

struct cli_table *cli_agents_table(const json_t *answer, char *err, size_t errlen)
{
	static const char *const headers[] = {"NAME", "STATE", "HOSTNAME", "CPUS", "MEM", "RUNNING", "LAST HEARD",
		"ATTRIBUTES"};
	struct cli_table *t;

	if (!json_is_array(answer)) {
		snprintf(err, errlen, "unexpected answer from the server: not an array of agents");
		return NULL;
	}
	t = cli_table_new(sizeof(headers) / sizeof(headers[0]), headers);
	for (size_t i = 0; i < json_array_size(answer); i++) {
		const json_t *a = json_array_get(answer, i);
		if (json_is_object(a))
			add_agent_row(t, a);
	}
	return t;
}

/* An instant in ms since the epoch as the server writes them, then for people (cli_time.h); "-" for 0. */
static void instant(int64_t ms, char *out, size_t len)
{
	char iso[40];
	time_t s = (time_t)(ms / MS_PER_S);
	struct tm tm;

	if (ms <= 0 || !gmtime_r(&s, &tm)) {
		snprintf(out, len, "-");
		return;
	}
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(iso + strlen(iso), sizeof(iso) - strlen(iso), ".%03dZ", (int)(ms % MS_PER_S));
	cli_time_local(iso, out, len);
}

int cli_agents_show_text(const json_t *a, struct buf *out, char *err, size_t errlen)
{
	char cpus[64], mem[64], disk[64], heard[32], registered[CLI_TIME_MAX];
	const json_t *tasks = json_object_get(a, "tasks");
	char *attrs;
	int rc;

	if (!json_is_object(a) || !json_is_string(json_object_get(a, "name"))) {
		snprintf(err, errlen, "unexpected answer from the server: not an agent");
		return -EINVAL;
	}
	resource_cell(a, "cpus", cpus, sizeof(cpus));
	resource_cell(a, "mem", mem, sizeof(mem));
	resource_cell(a, "disk", disk, sizeof(disk));
	cli_agents_ago((int64_t)json_integer_value(json_object_get(a, "silentMs")), heard, sizeof(heard));
	instant((int64_t)json_integer_value(json_object_get(a, "registeredMs")), registered, sizeof(registered));
	attrs = cli_agents_attributes(a);
	rc = buf_printf(out,
	    "name:        %s\nid:          %s\nstate:       %s\nhostname:    %s\nembedded:    %s\nversion:     %s\n"
	    "cpus:        %s\nmem:         %s\ndisk:        %s\nattributes:  %s\nlast heard:  %s\nregistered:  %s\n"
	    "running:     %" JSON_INTEGER_FORMAT "\n",
	    str_of(a, "name"), str_of(a, "id"), str_of(a, "state"), str_of(a, "hostname"),
	    json_is_true(json_object_get(a, "embedded")) ? "yes" : "no", *str_of(a, "version") ? str_of(a, "version") : "-",
	    cpus, mem, disk, attrs, heard, registered, json_integer_value(json_object_get(a, "running")));
	free(attrs);
	for (size_t i = 0; rc == 0 && i < json_array_size(tasks); i++)
		rc = buf_printf(out, "  %s\n", json_string_value(json_array_get(tasks, i)) ?
		    json_string_value(json_array_get(tasks, i)) : "?");
	return rc < 0 ? rc : 0;
}
