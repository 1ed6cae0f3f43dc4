/* Command-line options of the client commands, parsed with getopt_long. The global options (--server URL, --token,
 * --json, --help) go before the command word (`gnomon --json runs x`) or anywhere after it (`gnomon runs x --json`), as do
 * a command family's own options (`--limit N`, `-f`); "--" ends the options. */
#ifndef GNOMON_CLI_CLI_ARGS_H
#define GNOMON_CLI_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#define CLI_SERVER_ENV "GNOMON_SERVER" /* the server when --server is not given */
#define CLI_TLS_CA_ENV "GNOMON_TLS_CA" /* the CA file when --tls-ca is not given */
#define CLI_TOKEN_ENV "GNOMON_TOKEN"   /* the API token when --token is not given */

/* An option of a family's own (`--limit N`, `-n N`, `-f`), on top of the global ones. */
struct cli_opt {
	const char *name;  /* "--limit" */
	const char *alias; /* another spelling: one letter ("-n") or a long name ("--lines"); NULL for none */
	const char *arg;   /* placeholder of the value for help ("N"); NULL for a flag */
	const char *help;  /* one line for --help */
};

/* The options every client command takes, for --help. */
extern const struct cli_opt cli_global_opts[];
extern const size_t cli_n_global_opts;

struct cli_globals {
	const char *server; /* --server URL (borrowed), NULL if absent */
	const char *tls_ca; /* --tls-ca FILE (borrowed), NULL if absent */
	const char *token;  /* --token TOKEN (borrowed), NULL if absent */
	bool json;          /* --json */
	bool help;          /* -h, --help */
};

/* The arguments of one command family. */
struct cli_args {
	struct cli_globals g;
	int npos;
	char **pos;          /* the non-option arguments (borrowed), in order */
	const char **values; /* per family option: its value (the last one when repeated; "1" for a flag) or NULL */
};

/* Parse the global options before the command word; argv[0] is the program. Returns the index of the command
 * word (argc when there is none), or -EINVAL with a message such as "unknown option '--bogus'" in err. */
int cli_globals_parse(int argc, char **argv, struct cli_globals *g, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Parse a family's arguments (argv[0] is the family name): the global options and opts[0..n) anywhere, values
 * written "--limit N", "--limit=N", "-n N", "-nN", unambiguous prefixes of long names accepted; "--" ends the
 * options, and "-" is an argument. a->g starts as *given (the options before the command word; NULL: none), which
 * later ones override. Returns 0, or -EINVAL with a message such as "option '--limit' needs a value", "option
 * '--json' takes no value" or "unknown option '-x'" in err. Free a with cli_args_free() either way. */
int cli_args_parse(const struct cli_opt *opts, size_t n, const struct cli_globals *given, int argc, char **argv,
    struct cli_args *a, char *err, size_t errlen) __attribute__((warn_unused_result));
void cli_args_free(struct cli_args *a);

/* Parse the value of option name as a decimal integer in [min, max]. Returns 0, or -EINVAL with "option
 * '--limit' expects an integer from 1 to 1000, got 'x'" in err. */
int cli_opt_int(const char *name, const char *value, long long min, long long max, long long *out, char *err,
    size_t errlen) __attribute__((warn_unused_result));

#endif
