/* The frame shared by every client command family (tmux cmd_entry style): a family is a table of command
 * descriptors plus the options its commands take; cli_cmd_main() parses the global and the family's options
 * (cli_args.h), finds the command, checks the argument count, and runs the handler with a context holding the
 * server client. Plus the output helpers all handlers use. */
#ifndef GNOMON_CLI_CLI_CMD_H
#define GNOMON_CLI_CLI_CMD_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "cli/cli_args.h"
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

struct cli_cmd_family {
	const char *name;  /* "job" */
	const char *help;  /* one line for `gnomon --help` and the family's --help */
	const struct cli_cmd_entry *entries; /* one entry with a NULL name: the family is that command */
	size_t n_entries;
	const struct cli_opt *opts; /* the family's own options, besides the global ones */
	size_t n_opts;
	/* Check and keep the values of opts (values[i] as cli_args_parse sets it). Returns 0, or -EINVAL with a
	 * message in err for a usage error. NULL: nothing to check. */
	int (*set_opts)(const char *const *values, char *err, size_t errlen);
	/* The command run when no command word is given (`gnomon agents` is `gnomon agents list`); NULL: a command
	 * word is required. */
	const char *bare;
};

/* The client command families, one per cli_<family>.c. */
extern const struct cli_cmd_family cli_job_family, cli_runs_family, cli_logs_family, cli_schedule_family,
    cli_agents_family, cli_export_family, cli_import_family, cli_backup_family, cli_token_family;

/* Run a family, with or without command words; argv[0] is the family name, given the global options that came
 * before it (NULL: none). Returns the process exit code. */
int cli_cmd_main(const struct cli_cmd_family *family, const struct cli_globals *given, int argc, char **argv);

/* Whether cli_errorx prints {"error": ...} lines; cli_cmd_main sets it from --json. */
void cli_set_json_errors(bool on);
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
