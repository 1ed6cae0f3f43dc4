#include "util/config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/xmalloc.h"

/* Compare an option name with user spelling, treating '_' and '-' alike. */
static bool name_equals(const char *canon, const char *given, size_t given_len)
{
	size_t i;
	for (i = 0; i < given_len && canon[i]; i++) {
		char g = given[i] == '_' ? '-' : given[i];
		if (g != canon[i])
			return false;
	}
	return i == given_len && canon[i] == '\0';
}

static const struct config_option *lookup(const struct config_option *table, const char *name, size_t len)
{
	for (const struct config_option *o = table; o->name; o++)
		if (name_equals(o->name, name, len))
			return o;
	return NULL;
}

static int parse_size(const char *s, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	long long unit = 1;
	switch (toupper((unsigned char)*end)) {
	case 'K': unit = 1024LL; end++; break;
	case 'M': unit = 1024LL * 1024; end++; break;
	case 'G': unit = 1024LL * 1024 * 1024; end++; break;
	default: break;
	}
	if (__builtin_mul_overflow(v, unit, &v)) /* "9000000000G": not a size, whatever the bounds */
		return -EINVAL;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0')
		return -EINVAL;
	*out = v;
	return 0;
}

static int set_value(const struct config_option *o, void *target, const char *value, char *err, size_t errlen)
{
	char *field = (char *)target + o->offset, *end;
	long long ll;
	double d;

	switch (o->type) {
	case CONFIG_INT:
	case CONFIG_SIZE:
		if (o->type == CONFIG_INT) {
			errno = 0;
			ll = strtoll(value, &end, 10);
			if (errno || end == value || *end != '\0')
				goto bad;
		} else if (parse_size(value, &ll) < 0) {
			goto bad;
		}
		if (ll < o->min || ll > o->max) {
			snprintf(err, errlen, "--%s: %s is out of range [%lld, %lld]", o->name, value, o->min, o->max);
			return -EINVAL;
		}
		memcpy(field, &ll, sizeof(ll));
		return 0;
	case CONFIG_DOUBLE:
		errno = 0;
		d = strtod(value, &end);
		if (errno || end == value || *end != '\0' || !isfinite(d))
			goto bad;
		if (o->min < o->max && (d < (double)o->min || d > (double)o->max)) {
			snprintf(err, errlen, "--%s: %s is out of range [%lld, %lld]", o->name, value, o->min, o->max);
			return -EINVAL;
		}
		memcpy(field, &d, sizeof(d));
		return 0;
	case CONFIG_BOOL: {
		bool b;
		if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0 || strcmp(value, "yes") == 0)
			b = true;
		else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0 || strcmp(value, "no") == 0)
			b = false;
		else
			goto bad;
		memcpy(field, &b, sizeof(b));
		return 0;
	}
	case CONFIG_STRING:
	case CONFIG_SECRET:
	case CONFIG_FILE: {
		char *old, *copy = xstrdup(value);
		memcpy(&old, field, sizeof(old));
		free(old);
		memcpy(field, &copy, sizeof(copy));
		return 0;
	}
	case CONFIG_LIST: {
		char *old, *joined;
		if (strchr(value, '\n')) {
			snprintf(err, errlen, "--%s: a value may not hold a line break", o->name);
			return -EINVAL;
		}
		memcpy(&old, field, sizeof(old));
		joined = old ? xasprintf("%s\n%s", old, value) : xstrdup(value);
		free(old);
		memcpy(field, &joined, sizeof(joined));
		return 0;
	}
	case CONFIG_IGNORED:
		log_warnx("--%s is a Chronos/Mesos option that gnomon does not need; ignored", o->name);
		return 0;
	}
bad:
	snprintf(err, errlen, "--%s: invalid value '%s' (%s)", o->name, value,
	    o->type == CONFIG_BOOL ? "expected true or false" :
	    o->type == CONFIG_SIZE ? "expected bytes, e.g. 1048576 or 1M" :
	    o->type == CONFIG_DOUBLE ? "expected a number" : "expected an integer");
	return -EINVAL;
}

/* True for the types whose value is a char * the table owns. */
static bool is_string(enum config_type t)
{
	return t == CONFIG_STRING || t == CONFIG_SECRET || t == CONFIG_FILE || t == CONFIG_LIST;
}

void config_defaults(const struct config_option *table, void *target)
{
	char err[256];
	for (const struct config_option *o = table; o->name; o++) {
		if (o->type == CONFIG_IGNORED)
			continue;
		if (o->def == NULL) {
			if (is_string(o->type)) {
				char *empty = o->type == CONFIG_LIST ? NULL : xstrdup("");
				memcpy((char *)target + o->offset, &empty, sizeof(empty));
			}
			continue;
		}
		if (is_string(o->type)) {
			char *none = NULL;
			memcpy((char *)target + o->offset, &none, sizeof(none));
		}
		if (set_value(o, target, o->def, err, sizeof(err)) < 0)
			fatalx("config: bad default for --%s: %s", o->name, err);
	}
}

int config_set(const struct config_option *table, void *target, const char *name, const char *value, char *err,
    size_t errlen)
{
	const struct config_option *o = lookup(table, name, strlen(name));
	if (o == NULL) {
		snprintf(err, errlen, "unknown option --%s", name);
		return -ENOENT;
	}
	return set_value(o, target, value, err, errlen);
}

/* Apply the GNOMON_<NAME> variable of one option, if set. */
static int apply_env_one(const struct config_option *o, void *target, char *err, size_t errlen)
{
	char var[128];
	size_t n = (size_t)snprintf(var, sizeof(var), "GNOMON_%s", o->name);

	for (size_t i = 7; i < n && i < sizeof(var); i++)
		var[i] = var[i] == '-' ? '_' : (char)toupper((unsigned char)var[i]);
	const char *v = getenv(var);
	int rc = 0;

	if (v == NULL || o->type == CONFIG_IGNORED)
		return 0;
	if (o->type == CONFIG_LIST) { /* one item per line */
		for (const char *nl; rc == 0 && (nl = strchr(v, '\n')) != NULL; v = nl + 1) {
			char *item = xstrndup(v, (size_t)(nl - v));
			rc = set_value(o, target, item, err, errlen);
			free(item);
		}
	}
	if (rc < 0 || set_value(o, target, v, err, errlen) < 0) {
		size_t used = strlen(err);
		snprintf(err + used, errlen - used, " (from %s)", var);
		return -EINVAL;
	}
	return 0;
}

int config_apply_env(const struct config_option *table, void *target, char *err, size_t errlen)
{
	for (const struct config_option *o = table; o->name; o++)
		if (apply_env_one(o, target, err, errlen) < 0)
			return -EINVAL;
	return 0;
}

/* Walk --name value / --name=value flags; with files_only, set only CONFIG_FILE options (the first pass of
 * config_load, which must read the file before anything else is applied). */
static int parse_args(const struct config_option *table, void *target, int argc, char **argv, bool files_only,
    char *err, size_t errlen)
{
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i], *eq, *value;
		const struct config_option *o;
		size_t len;

		if (arg[0] == '-' && arg[1] != '-' && arg[1] != '\0') {
			snprintf(err, errlen, "unknown option '%s'", arg); /* no short options */
			return -EINVAL;
		}
		if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
			snprintf(err, errlen, "unexpected argument '%s'", arg);
			return -EINVAL;
		}
		arg += 2;
		eq = strchr(arg, '=');
		len = eq ? (size_t)(eq - arg) : strlen(arg);
		o = lookup(table, arg, len);
		if (o == NULL) {
			snprintf(err, errlen, "unknown option '--%.*s'", (int)len, arg);
			return -EINVAL;
		}
		if (eq)
			value = eq + 1;
		else if (o->type == CONFIG_BOOL || o->type == CONFIG_IGNORED)
			value = (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0 && o->type == CONFIG_IGNORED) ?
			    argv[++i] : "true";
		else if (i + 1 < argc)
			value = argv[++i];
		else {
			snprintf(err, errlen, "option --%s needs a value", o->name);
			return -EINVAL;
		}
		if (files_only && o->type != CONFIG_FILE)
			continue;
		if (set_value(o, target, value, err, errlen) < 0)
			return -EINVAL;
	}
	return 0;
}

int config_parse_args(const struct config_option *table, void *target, int argc, char **argv, char *err,
    size_t errlen)
{
	return parse_args(table, target, argc, argv, false, err, errlen);
}

/* Trim ASCII white space from both ends of s[0..*len) in place; returns the new start. */
static char *trim(char *s, size_t *len)
{
	while (*len > 0 && isspace((unsigned char)*s)) {
		s++;
		(*len)--;
	}
	while (*len > 0 && isspace((unsigned char)s[*len - 1]))
		(*len)--;
	s[*len] = '\0';
	return s;
}

/* Apply one line of a config file (already without its newline); 0, or -EINVAL with a message. */
static int file_line(const struct config_option *table, void *target, char *line, char *err, size_t errlen)
{
	char *eq = strchr(line, '='), *name, *value;
	size_t nlen, vlen;
	const struct config_option *o;

	if (eq == NULL) {
		snprintf(err, errlen, "expected 'name = value'");
		return -EINVAL;
	}
	nlen = (size_t)(eq - line);
	vlen = strlen(eq + 1);
	name = trim(line, &nlen);
	value = trim(eq + 1, &vlen);
	if (strncmp(name, "--", 2) == 0) {
		name += 2;
		nlen -= 2;
	}
	if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
		value[vlen - 1] = '\0';
		value++;
	}
	o = nlen > 0 ? lookup(table, name, nlen) : NULL;
	if (o == NULL) {
		snprintf(err, errlen, "unknown option '%s'", name);
		return -EINVAL;
	}
	if (o->type == CONFIG_FILE) {
		snprintf(err, errlen, "%s cannot be set in a config file", o->name);
		return -EINVAL;
	}
	return set_value(o, target, value, err, errlen);
}

#define CONFIG_FILE_MAX (1 << 20) /* bytes: a config file is a few dozen lines */

int config_load_text(const struct config_option *table, void *target, const char *label, const char *text,
    size_t len, char *err, size_t errlen)
{
	char msg[512], *copy = xmalloc(len + 1), *line, *next, *end = copy + len;
	int lineno = 1, rc = 0;

	memcpy(copy, text, len);
	copy[len] = '\0';
	for (line = copy; line < end; line = next, lineno++) {
		char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t n = (size_t)((nl ? nl : end) - line);
		char *l;

		next = nl ? nl + 1 : end;
		line[n] = '\0';
		if (memchr(line, '\0', n) != NULL) {
			snprintf(err, errlen, "%s:%d: NUL byte in the line", label, lineno);
			rc = -EINVAL;
			goto out;
		}
		l = trim(line, &n);
		if (n == 0 || l[0] == '#')
			continue;
		if (file_line(table, target, l, msg, sizeof(msg)) < 0) {
			snprintf(err, errlen, "%s:%d: %s", label, lineno, msg);
			rc = -EINVAL;
			goto out;
		}
	}
out:
	free(copy);
	return rc;
}

int config_load_file(const struct config_option *table, void *target, const char *path, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	int rc = 0;
	FILE *f = fopen(path, "rb");

	if (f == NULL) {
		snprintf(err, errlen, "--config: cannot read '%s': %s", path, strerror(errno));
		return -ENOENT;
	}
	text = xmalloc(CONFIG_FILE_MAX + 1);
	len = fread(text, 1, CONFIG_FILE_MAX + 1, f);
	if (ferror(f) || len > CONFIG_FILE_MAX) {
		snprintf(err, errlen, "--config: cannot read '%s': %s", path,
		    ferror(f) ? strerror(errno) : "larger than 1 MiB");
		rc = -EINVAL;
	} else {
		rc = config_load_text(table, target, path, text, len, err, errlen);
	}
	free(text);
	fclose(f);
	return rc;
}

int config_load(const struct config_option *table, void *target, int argc, char **argv, char *err, size_t errlen)
{
	const struct config_option *file = NULL;
	char *path;
	int rc;

	config_defaults(table, target);
	for (const struct config_option *o = table; o->name; o++)
		if (o->type == CONFIG_FILE)
			file = o;
	if (file != NULL) {
		/* The environment's file first, then the flags' (the last one set wins). */
		if ((rc = apply_env_one(file, target, err, errlen)) < 0 ||
		    (rc = parse_args(table, target, argc, argv, true, err, errlen)) < 0)
			return rc;
		memcpy(&path, (char *)target + file->offset, sizeof(path));
		if (path != NULL && path[0] != '\0') {
			char *copy = xstrdup(path);
			rc = config_load_file(table, target, copy, err, errlen);
			free(copy);
			if (rc < 0)
				return rc;
		}
	}
	if ((rc = config_apply_env(table, target, err, errlen)) < 0)
		return rc;
	return parse_args(table, target, argc, argv, false, err, errlen);
}

bool config_take_flag(int *argc, char **argv, const char *name)
{
	bool found = false;
	int n = 1;

	for (int i = 1; i < *argc; i++) {
		bool match = strncmp(argv[i], "--", 2) == 0 && name_equals(name, argv[i] + 2, strlen(argv[i] + 2));
		found = found || match;
		if (!match)
			argv[n++] = argv[i];
	}
	*argc = n;
	return found;
}

/* Write `name = value` as a file line that reads back as value: in double quotes when white space at either end
 * (which a line loses) or a pair of quotes around it (which a line strips) would otherwise change it. */
static void print_line(FILE *out, const char *prefix, const char *name, const char *value, int len)
{
	bool quote = len > 0 && (isspace((unsigned char)value[0]) || isspace((unsigned char)value[len - 1]) ||
	    (len >= 2 && value[0] == '"' && value[len - 1] == '"'));

	fprintf(out, "%s%s = %s%.*s%s\n", prefix, name, quote ? "\"" : "", len, value, quote ? "\"" : "");
}

void config_print(const struct config_option *table, const void *target, FILE *out)
{
	for (const struct config_option *o = table; o->name; o++) {
		const char *field = (const char *)target + o->offset;
		long long ll;
		double d;
		bool b;
		char *s;

		switch (o->type) {
		case CONFIG_INT:
		case CONFIG_SIZE:
			memcpy(&ll, field, sizeof(ll));
			fprintf(out, "%s = %lld\n", o->name, ll);
			break;
		case CONFIG_DOUBLE:
			memcpy(&d, field, sizeof(d));
			fprintf(out, "%s = %g\n", o->name, d);
			break;
		case CONFIG_BOOL:
			memcpy(&b, field, sizeof(b));
			fprintf(out, "%s = %s\n", o->name, b ? "true" : "false");
			break;
		case CONFIG_STRING:
		case CONFIG_FILE:
			memcpy(&s, field, sizeof(s));
			print_line(out, o->type == CONFIG_FILE ? "# " : "", o->name, s ? s : "", s ? (int)strlen(s) : 0);
			break;
		case CONFIG_SECRET:
			memcpy(&s, field, sizeof(s));
			fprintf(out, "%s = %s\n", o->name, s && *s ? "********" : "");
			break;
		case CONFIG_LIST: /* one line per item, as a file repeats it */
			memcpy(&s, field, sizeof(s));
			for (const char *p = s, *nl; p; p = nl ? nl + 1 : NULL) { /* an empty item too */
				nl = strchr(p, '\n');
				print_line(out, "", o->name, p, nl ? (int)(nl - p) : (int)strlen(p));
			}
			break;
		case CONFIG_IGNORED:
			break;
		}
	}
}

void config_print_help(const struct config_option *table, FILE *out)
{
	for (const struct config_option *o = table; o->name; o++) {
		if (o->type == CONFIG_IGNORED)
			continue;
		char left[64];
		snprintf(left, sizeof(left), "--%s%s", o->name,
		    o->type == CONFIG_BOOL ? "" : o->type == CONFIG_FILE ? " FILE" : o->type == CONFIG_LIST ? " STR..." :
		    is_string(o->type) ? " STR" : " N");
		fprintf(out, "  %-28s %s", left, o->help);
		if (o->def && *o->def)
			fprintf(out, " (default %s)", o->def);
		fputc('\n', out);
	}
}

void config_free(const struct config_option *table, void *target)
{
	for (const struct config_option *o = table; o->name; o++) {
		if (!is_string(o->type))
			continue;
		char *p;
		memcpy(&p, (char *)target + o->offset, sizeof(p));
		free(p);
		p = NULL;
		memcpy((char *)target + o->offset, &p, sizeof(p));
	}
}

int config_read_token_file(const char *path, size_t min_len, size_t max_len, char **out, char *err, size_t errlen)
{
	char *line = NULL, *start, *end;
	size_t cap = 0;
	ssize_t n;
	FILE *f = fopen(path, "re");

	*out = NULL;
	if (f == NULL) {
		int rc = -errno;
		snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
		return rc;
	}
	n = getline(&line, &cap, f);
	fclose(f);
	if (n < 0) {
		free(line);
		line = xstrdup("");
		n = 0;
	}
	if (strlen(line) != (size_t)n) {
		snprintf(err, errlen, "the first line of '%s' holds a NUL byte", path);
		free(line);
		return -EINVAL;
	}
	start = line;
	end = line + n;
	while (start < end && isspace((unsigned char)*start))
		start++;
	while (end > start && isspace((unsigned char)end[-1]))
		*--end = '\0';
	if ((size_t)(end - start) < min_len || (size_t)(end - start) > max_len) {
		snprintf(err, errlen, "the first line of '%s' must hold a token of %zu to %zu bytes (it has %td)", path,
		    min_len, max_len, end - start);
		free(line);
		return -EINVAL;
	}
	for (const char *p = start; p < end; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			snprintf(err, errlen, "the token in '%s' holds a control character", path);
			free(line);
			return -EINVAL;
		}
	}
	*out = xstrdup(start);
	free(line);
	return 0;
}

void config_print_actions(FILE *out)
{
	fprintf(out, "  %-28s %s\n  %-28s %s\n  %-28s %s\n", "--check-config",
	    "check the options (file, environment, flags), print the effective ones and exit (2: invalid)", "--help",
	    "show this help", "--version", "print the version");
}
