/* Options that belong to one command (`--limit N`, `-n N`, `-f`), on top of the common ones cli_cmd parses, and
 * the driver of a family that is a single command (`gnomon runs NAME`, no subcommand word). A family main takes
 * its command's options out of argv with cli_opt_extract(), then hands the rest to cli_cmd_main() or
 * cli_cmd_single_main(). */
#ifndef GNOMON_CLI_CLI_OPT_H
#define GNOMON_CLI_CLI_OPT_H

#include <stddef.h>

#include "cli/cli_cmd.h"

struct cli_opt {
	const char *name;  /* "--limit" */
	const char *alias; /* another spelling ("-n"), or NULL */
	const char *arg;   /* placeholder of the value for help ("N"); NULL for a flag */
	const char *help;  /* one line for --help */
};

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
/* Report a usage error: "gnomon: <msg>" and then "usage: gnomon <family> [<command>] [options] <args>" on stderr.
 * Returns CLI_EXIT_USAGE. */
int cli_opt_usage_error(const char *family, const struct cli_cmd_entry *entry, const char *msg);

/* Run a family made of one command, the entry (whose name is the family's, e.g. "runs"): argv[0] is the family
 * name. Same conventions as cli_cmd_main (common options, --help listing opts too, argument count, exit codes).
 * Returns the process exit code. */
int cli_cmd_single_main(const struct cli_cmd_entry *entry, const struct cli_opt *opts, size_t nopts, int argc,
    char **argv);

#endif
