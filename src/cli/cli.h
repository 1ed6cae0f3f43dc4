/* The client commands of the gnomon binary (job, runs, logs, schedule), each talking to a server over the HTTP
 * API. */
#ifndef GNOMON_CLI_CLI_H
#define GNOMON_CLI_CLI_H

#include <stdio.h>

/* Run `gnomon [global options] COMMAND [ARGS...]`; argv[0] is the program. usage prints the program's usage
 * (for `gnomon --json --help`). Returns the process exit code. */
int cli_main(int argc, char **argv, void (*usage)(FILE *out));
/* Print the client commands, one "  NAME  HELP" line each, and the global options, for the program's usage. */
void cli_print_usage(FILE *out);

#endif
