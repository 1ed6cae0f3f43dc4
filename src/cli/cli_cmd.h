/* The frame shared by every client command family (tmux cmd_entry style): a family is a table of command
 * descriptors; cli_cmd_main() parses the common options, checks the argument count, and runs the handler with a
 * context holding the server client. Plus the output helpers all handlers use. */
#ifndef GNOMON_CLI_CLI_CMD_H
#define GNOMON_CLI_CLI_CMD_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "cli/cli_http.h"

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
	const char *name;  /* "add" */
	const char *args;  /* argument synopsis for usage, "FILE|-" ("" for none) */
	const char *help;  /* one line for --help */
	int args_min;
	int args_max;      /* -1: no limit */
	int (*exec)(const struct cli_ctx *ctx); /* returns an enum cli_exit */
};

struct cli_cmd_family {
	const char *name;  /* "job" */
	const char *help;  /* one line for --help */
	const struct cli_cmd_entry *entries;
	size_t n_entries;
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

/* Run a family; argv[0] is the family name. Returns the process exit code. */
int cli_cmd_main(const struct cli_cmd_family *family, int argc, char **argv);

/* Print "gnomon: <message>" on stderr. */
void cli_errorx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Send a request and require a 2xx answer. Returns 0 with resp filled (free it with cli_http_response_free), or
 * -1 with the one-line reason (transport failure or the server's error message) in err. */
int cli_request(const struct cli_ctx *ctx, const char *method, const char *path, const char *body,
    struct cli_http_response *resp, char *err, size_t errlen) __attribute__((warn_unused_result));
/* GET a path and parse the 2xx answer as JSON. Returns a new reference, or NULL with the reason in err. */
json_t *cli_get_json(const struct cli_ctx *ctx, const char *path, char *err, size_t errlen);
/* Print a JSON value indented, followed by a newline, on stdout. */
void cli_print_json(const json_t *value);

#endif
