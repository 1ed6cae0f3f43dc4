/* Client subcommands of the gnomon binary: one entry point per command family, each talking to a server over
 * the HTTP API. */
#ifndef GNOMON_CLI_CLI_H
#define GNOMON_CLI_CLI_H

/* Run `gnomon job ...`; argv[0] is "job". Returns the process exit code. */
int cli_job_main(int argc, char **argv);

#endif
