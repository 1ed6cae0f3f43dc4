/* Client subcommands of the gnomon binary: one entry point per command family, each talking to a server over
 * the HTTP API. */
#ifndef GNOMON_CLI_CLI_H
#define GNOMON_CLI_CLI_H

/* Run `gnomon job ...`; argv[0] is "job". Returns the process exit code. */
int cli_job_main(int argc, char **argv);
/* Run `gnomon runs NAME ...`; argv[0] is "runs". */
int cli_runs_main(int argc, char **argv);
/* Run `gnomon logs TASKID ...`; argv[0] is "logs". */
int cli_logs_main(int argc, char **argv);
/* Run `gnomon schedule preview ...`; argv[0] is "schedule". */
int cli_schedule_main(int argc, char **argv);

#endif
