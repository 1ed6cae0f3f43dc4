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
	switch (toupper((unsigned char)*end)) {
	case 'K': v *= 1024LL; end++; break;
	case 'M': v *= 1024LL * 1024; end++; break;
	case 'G': v *= 1024LL * 1024 * 1024; end++; break;
	default: break;
	}
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
	case CONFIG_STRING: {
		char *old, *copy = xstrdup(value);
		memcpy(&old, field, sizeof(old));
		free(old);
		memcpy(field, &copy, sizeof(copy));
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

void config_defaults(const struct config_option *table, void *target)
{
	char err[256];
	for (const struct config_option *o = table; o->name; o++) {
		if (o->type == CONFIG_IGNORED)
			continue;
		if (o->def == NULL) {
			if (o->type == CONFIG_STRING) {
				char *empty = xstrdup("");
				memcpy((char *)target + o->offset, &empty, sizeof(empty));
			}
			continue;
		}
		if (o->type == CONFIG_STRING) {
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

int config_apply_env(const struct config_option *table, void *target, char *err, size_t errlen)
{
	char var[128];
	for (const struct config_option *o = table; o->name; o++) {
		size_t n = (size_t)snprintf(var, sizeof(var), "GNOMON_%s", o->name);
		for (size_t i = 7; i < n && i < sizeof(var); i++)
			var[i] = var[i] == '-' ? '_' : (char)toupper((unsigned char)var[i]);
		const char *v = getenv(var);
		if (v == NULL || o->type == CONFIG_IGNORED)
			continue;
		if (set_value(o, target, v, err, errlen) < 0) {
			size_t used = strlen(err);
			snprintf(err + used, errlen - used, " (from %s)", var);
			return -EINVAL;
		}
	}
	return 0;
}

int config_parse_args(const struct config_option *table, void *target, int argc, char **argv, char *err,
    size_t errlen)
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
		if (set_value(o, target, value, err, errlen) < 0)
			return -EINVAL;
	}
	return 0;
}

void config_print_help(const struct config_option *table, FILE *out)
{
	for (const struct config_option *o = table; o->name; o++) {
		if (o->type == CONFIG_IGNORED)
			continue;
		char left[64];
		snprintf(left, sizeof(left), "--%s%s", o->name,
		    o->type == CONFIG_BOOL ? "" : o->type == CONFIG_STRING ? " STR" : " N");
		fprintf(out, "  %-28s %s", left, o->help);
		if (o->def && *o->def)
			fprintf(out, " (default %s)", o->def);
		fputc('\n', out);
	}
}

void config_free(const struct config_option *table, void *target)
{
	for (const struct config_option *o = table; o->name; o++) {
		if (o->type != CONFIG_STRING)
			continue;
		char *p;
		memcpy(&p, (char *)target + o->offset, sizeof(p));
		free(p);
		p = NULL;
		memcpy((char *)target + o->offset, &p, sizeof(p));
	}
}
