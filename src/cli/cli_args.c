#include "cli/cli_args.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_url.h"
#include "util/log.h"
#include "util/xmalloc.h"

/* getopt_long values: the global options, then one per family option (VAL_OPT + its index). Short options are
 * their letter. */
enum { VAL_SERVER = 256, VAL_JSON, VAL_HELP, VAL_TLS_CA, VAL_TOKEN, VAL_OPT = 512 };

const struct cli_opt cli_global_opts[] = {
    {"--server", NULL, "URL", "the gnomon server (default: $" CLI_SERVER_ENV ", else " CLI_URL_DEFAULT ")"},
    {"--tls-ca", NULL, "FILE", "PEM CA certificates an https:// server is verified with (default: $" CLI_TLS_CA_ENV
     ", else the system's)"},
    {"--token", NULL, "TOKEN", "the API token to send (default: $" CLI_TOKEN_ENV "), when the server has access control"},
    {"--json", NULL, NULL, "print JSON instead of text; errors as {\"error\": \"...\"} on stderr"},
    {"--help", "-h", NULL, "print this help"},
};
const size_t cli_n_global_opts = sizeof(cli_global_opts) / sizeof(cli_global_opts[0]);

static const struct option global_longopts[] = {
    {"server", required_argument, NULL, VAL_SERVER},
    {"tls-ca", required_argument, NULL, VAL_TLS_CA},
    {"token", required_argument, NULL, VAL_TOKEN},
    {"json", no_argument, NULL, VAL_JSON},
    {"help", no_argument, NULL, VAL_HELP},
};
#define N_GLOBAL_LONGOPTS (sizeof(global_longopts) / sizeof(global_longopts[0]))

/* The getopt_long tables for the global options plus opts[0..n). */
struct parser {
	struct option *longopts; /* terminated by a zero entry */
	char *optstring;
	size_t n_long;
	const struct cli_opt *opts;
	size_t n;
};

/* Add one spelling of an option: a long name to longopts, or a letter to optstring. */
static void add_spelling(struct parser *p, const char *spelling, int has_arg, int val)
{
	if (spelling == NULL)
		return;
	if (strncmp(spelling, "--", 2) == 0) {
		p->longopts[p->n_long++] = (struct option){spelling + 2, has_arg, NULL, val};
	} else if (spelling[0] == '-' && spelling[1] && !spelling[2]) {
		size_t len = strlen(p->optstring);
		p->optstring[len] = spelling[1];
		p->optstring[len + 1] = has_arg == required_argument ? ':' : '\0';
		p->optstring[len + 2] = '\0';
	}
}

/* Build the tables. prefix is "-:" (arguments in order, to take options after them) or "+:" (stop at the first
 * argument); ':' so that a missing value is told apart from an unknown option. */
static void parser_init(struct parser *p, const char *prefix, const struct cli_opt *opts, size_t n)
{
	p->longopts = xcalloc(N_GLOBAL_LONGOPTS + 2 * n + 1, sizeof(*p->longopts));
	p->optstring = xcalloc(strlen(prefix) + 2 + 2 * n + 1, 1);
	p->n_long = 0;
	p->opts = opts;
	p->n = n;
	strcpy(p->optstring, prefix);
	strcat(p->optstring, "h");
	for (size_t i = 0; i < N_GLOBAL_LONGOPTS; i++)
		p->longopts[p->n_long++] = global_longopts[i];
	for (size_t i = 0; i < n; i++) {
		int has_arg = opts[i].arg ? required_argument : no_argument;
		add_spelling(p, opts[i].name, has_arg, VAL_OPT + (int)i);
		add_spelling(p, opts[i].alias, has_arg, opts[i].alias && opts[i].alias[1] != '-' ? opts[i].alias[1] :
		    VAL_OPT + (int)i);
	}
}

static void parser_free(struct parser *p)
{
	free(p->longopts);
	free(p->optstring);
}

/* The spelling of the option with getopt value val: "--limit", or "-n" for a letter. */
static void val_name(const struct parser *p, int val, char *out, size_t len)
{
	if (val > 0 && val < 256) {
		snprintf(out, len, "-%c", val);
		return;
	}
	for (size_t i = 0; i < p->n_long; i++)
		if (p->longopts[i].val == val) {
			snprintf(out, len, "--%s", p->longopts[i].name);
			return;
		}
	snprintf(out, len, "?");
}

/* The message for getopt_long's '?': a value given to a flag, an unknown letter, or an unknown or ambiguous long
 * option (the argument just passed, argv[optind - 1]). */
static void bad_option(const struct parser *p, int argc, char **argv, char *err, size_t errlen)
{
	char name[64];
	const char *arg;
	size_t len, matches = 0;

	if (optopt >= 256) {
		val_name(p, optopt, name, sizeof(name));
		snprintf(err, errlen, "option '%s' takes no value", name);
		return;
	}
	if (optopt > 0) {
		snprintf(err, errlen, "unknown option '-%c'", optopt);
		return;
	}
	arg = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
	len = strcspn(arg, "=");
	for (size_t i = 0; len > 2 && i < p->n_long; i++)
		if (strncmp(p->longopts[i].name, arg + 2, len - 2) == 0)
			matches++;
	snprintf(err, errlen, "%s option '%.*s'", matches > 1 ? "ambiguous" : "unknown", (int)len, arg);
}

/* The index among the family's options of the one with getopt value val (its VAL_OPT value or its letter). */
static size_t family_index(const struct parser *p, int val)
{
	if (val >= VAL_OPT)
		return (size_t)(val - VAL_OPT);
	for (size_t i = 0; i < p->n; i++)
		if (p->opts[i].alias && p->opts[i].alias[0] == '-' && p->opts[i].alias[1] == val &&
		    !p->opts[i].alias[2])
			return i;
	fatalx("getopt_long returned an option value it was not given: %d", val);
}

/* Check one option's value: an empty --server is as good as none. */
static int check_value(const struct parser *p, int val, const char *value, char *err, size_t errlen)
{
	char name[64];

	if ((val != VAL_SERVER && val != VAL_TLS_CA) || (value && *value))
		return 0;
	val_name(p, val, name, sizeof(name));
	snprintf(err, errlen, "option '%s' needs a value", name);
	return -EINVAL;
}

/* Run getopt_long over argv with p's tables, setting the options in a (values indexed by VAL_OPT) and collecting
 * arguments, until the end, "--", or (with a "+" prefix) the first argument. Returns optind after the options, or
 * -EINVAL with a message in err. */
static int run_getopt(const struct parser *p, int argc, char **argv, struct cli_args *a, char *err, size_t errlen)
{
	int c;

	optind = 0; /* glibc: start over, reading the optstring's prefix again */
	opterr = 0;
	while ((c = getopt_long(argc, argv, p->optstring, p->longopts, NULL)) != -1) {
		char name[64];

		switch (c) {
		case 1:
			a->pos[a->npos++] = optarg;
			break;
		case 'h':
		case VAL_HELP:
			a->g.help = true;
			break;
		case VAL_JSON:
			a->g.json = true;
			break;
		case VAL_SERVER:
			if (check_value(p, c, optarg, err, errlen) < 0)
				return -EINVAL;
			a->g.server = optarg;
			break;
		case VAL_TLS_CA:
			if (check_value(p, c, optarg, err, errlen) < 0)
				return -EINVAL;
			a->g.tls_ca = optarg;
			break;
		case VAL_TOKEN:
			a->g.token = optarg;
			break;
		case ':':
			val_name(p, optopt, name, sizeof(name));
			snprintf(err, errlen, "option '%s' needs a value", name);
			return -EINVAL;
		case '?':
			bad_option(p, argc, argv, err, errlen);
			return -EINVAL;
		default:
			a->values[family_index(p, c)] = optarg ? optarg : "1";
			break;
		}
	}
	return optind;
}

int cli_globals_parse(int argc, char **argv, struct cli_globals *g, char *err, size_t errlen)
{
	struct cli_args a = {.npos = 0};
	struct parser p;
	int rc;

	parser_init(&p, "+:", NULL, 0);
	rc = run_getopt(&p, argc, argv, &a, err, errlen);
	parser_free(&p);
	*g = a.g;
	return rc;
}

int cli_args_parse(const struct cli_opt *opts, size_t n, const struct cli_globals *given, int argc, char **argv,
    struct cli_args *a, char *err, size_t errlen)
{
	struct parser p;
	int rc;

	memset(a, 0, sizeof(*a));
	if (given)
		a->g = *given;
	a->pos = xcalloc((size_t)(argc > 0 ? argc : 1), sizeof(*a->pos));
	a->values = xcalloc(n ? n : 1, sizeof(*a->values));
	parser_init(&p, "-:", opts, n);
	rc = run_getopt(&p, argc, argv, a, err, errlen);
	parser_free(&p);
	if (rc < 0)
		return rc;
	for (int i = rc; i < argc; i++)
		a->pos[a->npos++] = argv[i];
	return 0;
}

void cli_args_free(struct cli_args *a)
{
	free(a->pos);
	free(a->values);
	memset(a, 0, sizeof(*a));
}

int cli_opt_int(const char *name, const char *value, long long min, long long max, long long *out, char *err,
    size_t errlen)
{
	char *end;

	errno = 0;
	*out = strtoll(value, &end, 10);
	if (errno == 0 && *value >= '0' && *value <= '9' && *end == '\0' && *out >= min && *out <= max)
		return 0;
	snprintf(err, errlen, "option '%s' expects an integer from %lld to %lld, got '%s'", name, min, max, value);
	return -EINVAL;
}
