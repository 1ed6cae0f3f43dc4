/* A crontab as gnomon jobs (`gnomon import crontab`): pure, no I/O. Lines as Vixie cron and cronie read them:
 * blank lines and `#` comments skipped; `NAME = VALUE` sets an environment variable for the lines after it
 * (VALUE optionally in single or double quotes); a job line is five time fields or an @macro, then (the system
 * format, /etc/crontab and /etc/cron.d) the user, then the command, in which an unescaped `%` ends the command
 * and the rest, each further `%` a newline, is its standard input (`\%` is a `%`).
 *
 * Each job line becomes a Chronos job: name PREFIX-LINENUMBER, the command (a shell job; standard input fed from
 * printf, a SHELL other than /bin/sh running it), the schedule (checked here: a cron expression gnomon
 * reads), the environment set before it, `owner` from MAILTO (none when empty), `scheduleTimeZone` from CRON_TZ,
 * `runAsUser` from the line's user (system format) or opts->user, and a description naming the line. */
#ifndef GNOMON_CLI_CLI_CRONTAB_H
#define GNOMON_CLI_CLI_CRONTAB_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct cli_crontab_opts {
	bool system;        /* a user field after the time fields */
	const char *prefix; /* of the jobs' names: letters, digits, '_', '.', '-' */
	const char *user;   /* runAsUser of a user crontab's jobs; NULL: the server's default */
	const char *label;  /* the file, for the descriptions ("stdin" for standard input) */
};

#define CLI_CRONTAB_LINE_MAX 4096 /* a line's bytes, at most (cron's own limit is lower) */

/* The jobs of a crontab's text (len bytes, NUL bytes refused), a new JSON array in line order; or NULL when a line
 * is refused, with every refused line in err ("line 7: '@reboot' is not supported ...; line 9: ..."), as many as
 * fit. A crontab without a job line gives an empty array. */
json_t *cli_crontab_jobs(const char *text, size_t len, const struct cli_crontab_opts *opts, char *err,
    size_t errlen);
/* The default prefix of the jobs of the file at path: its base name without its extension, characters a job name
 * does not take made '-'; "crontab" for "-" (standard input). Into out[len]. */
void cli_crontab_prefix(const char *path, char *out, size_t len);

#endif
