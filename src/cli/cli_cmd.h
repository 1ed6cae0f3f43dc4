/* The frame shared by every client command family (tmux cmd_entry style): a family is a table of command
 * descriptors plus the options its commands take; cli_cmd_main() takes those options out, parses the common ones,
 * finds the command, checks the argument count, and runs the handler with a context holding the server client.
 * Plus the output helpers all handlers use. */
#ifndef GNOMON_CLI_CLI_CMD_H
#define GNOMON_CLI_CLI_CMD_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "cli/cli_http.h"

struct cli_table;

enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAIL = 1,  /* the request failed, the server said no, or the input was bad */
	CLI_EXIT_USAGE = 2, /* unknown command or option, wrong argument count */
};

/* What a handler gets: the server, the common options, its positional arguments. */
struct cli_ctx {
	struct cli_http *http;
	bool json;   /* --json */
	int argc;    /* positional arguments after the command name */
	char **argv;
};

struct cli_cmd_entry {
	const char *name;  /* "add"; NULL for the one command of a family without command words (`gnomon runs NAME`) */
	const char *args;  /* argument synopsis for usage, "FILE|-" ("" for none) */
	const char *help;  /* one line for --help */
	int args_min;
	int args_max;      /* -1: no limit */
	int (*exec)(const struct cli_ctx *ctx); /* returns an enum cli_exit */
};

/* An option of a family's own (`--limit N`, `-n N`, `-f`), on top of the common ones. */
struct cli_opt {
	const char *name;  /* "--limit" */
	const char *alias; /* another spelling ("-n"), or NULL */
	const char *arg;   /* placeholder of the value for help ("N"); NULL for a flag */
	const char *help;  /* one line for --help */
};

struct cli_cmd_family {
	const char *name;  /* "job" */
	const char *help;  /* one line for --help; unused without command words */
	const struct cli_cmd_entry *entries; /* one entry with a NULL name: the family is that command */
	size_t n_entries;
	const struct cli_opt *opts; /* the family's own options, taken out of argv before anything else */
	size_t n_opts;
	/* Check and keep the values of opts (values[i] as cli_opt_extract sets it), before the common options are
	 * parsed. Returns 0, or -EINVAL with a message in err for a usage error. NULL: nothing to check. */
	int (*set_opts)(const char *const *values, char *err, size_t errlen);
};

/* The common options, parsed from anywhere among the arguments ("--" ends them). */
struct cli_args {
	const char *server; /* --server URL, NULL if absent */
	bool json;
	bool help;
	int npos;
	char **pos;         /* the non-option arguments (borrowed), in order */
};

/* Parse --server URL, --server=URL, --json, -h, --help and "--". Returns 0, or -EINVAL with a message in err.
 * Free with cli_args_free() either way. */
int cli_args_parse(int argc, char **argv, struct cli_args *a, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void cli_args_free(struct cli_args *a);

/* Take the options of opts[0..n) out of argv[1..argc) in place (argv[0], the family name, stays), stopping at
 * "--", which is kept with everything after it for the common parser. values[i] is set to the value of opts[i]
 * (the last one when repeated; "1" for a flag) or NULL when absent. An option with a value is written "--name
 * VALUE" or "--name=VALUE". Returns the new argc, or -EINVAL with "option '--limit' needs a value" or "option '-f'
 * takes no value" in err. */
int cli_opt_extract(const struct cli_opt *opts, size_t n, int argc, char **argv, const char **values, char *err,
    size_t errlen) __attribute__((warn_unused_result));
/* Parse the value of option name as a decimal integer in [min, max]. Returns 0, or -EINVAL with "option
 * '--limit' expects an integer from 1 to 1000, got 'x'" in err. */
int cli_opt_int(const char *name, const char *value, long long min, long long max, long long *out, char *err,
    size_t errlen) __attribute__((warn_unused_result));

/* Run a family, with or without command words; argv[0] is the family name. Returns the process exit code. */
int cli_cmd_main(const struct cli_cmd_family *family, int argc, char **argv);

/* Print "gnomon: <message>" on stderr; {"error": "<message>"} when the command was given --json. */
void cli_errorx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Send a request and require a 2xx answer. Returns 0 with resp filled (free it with cli_http_response_free), or
 * -1 with the one-line reason (transport failure or the server's error message) in err. */
int cli_request(const struct cli_ctx *ctx, const char *method, const char *path, const char *body,
    struct cli_http_response *resp, char *err, size_t errlen) __attribute__((warn_unused_result));
/* GET a path and require a 2xx answer, whose body goes to writer as it arrives (cli_http_stream). Returns 0, or -1
 * with the one-line reason in err (when writer refused data, the reason is the writer's to tell). */
int cli_get_stream(const struct cli_ctx *ctx, const char *path, unsigned flags, cli_http_write_fn writer, void *arg,
    char *err, size_t errlen) __attribute__((warn_unused_result));
/* GET a path and parse the 2xx answer as JSON. Returns a new reference, or NULL with the reason in err. */
json_t *cli_get_json(const struct cli_ctx *ctx, const char *path, char *err, size_t errlen);
/* GET a path and print the answer: indented JSON with --json, else as print_text does it (returning an exit
 * code). Errors are reported. Returns an exit code. */
int cli_show(const struct cli_ctx *ctx, const char *path,
    int (*print_text)(const struct cli_ctx *ctx, const json_t *answer));
/* Print a JSON value indented, followed by a newline, on stdout. */
void cli_print_json(const json_t *value);
/* Render a table on stdout and free it; "cannot render the <what> table" when that fails. Returns an exit code. */
int cli_print_table(struct cli_table *t, const char *what);

#endif
