/* Declarative configuration: one table of options (name, type, default, bounds, help) drives command-line
 * flags, GNOMON_* environment variables, a config file, --help and the effective-config listing (Redis
 * static_configs[]). Values land in a caller struct at each option's offset. */
#ifndef GNOMON_UTIL_CONFIG_H
#define GNOMON_UTIL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum config_type {
	CONFIG_INT,     /* long long, bounded by min/max */
	CONFIG_DOUBLE,  /* double, bounded by min/max */
	CONFIG_BOOL,    /* bool: a bare --flag means true */
	CONFIG_STRING,  /* char * owned by the target struct (freed by config_free) */
	CONFIG_SIZE,    /* long long bytes; accepts K, M, G suffixes (powers of 1024) */
	CONFIG_IGNORED, /* a Chronos/Mesos flag gnomon accepts and ignores with a warning */
	CONFIG_SECRET,  /* a string like CONFIG_STRING that config_print never shows (passwords, tokens) */
	CONFIG_FILE,    /* char *: a config file config_load reads before the environment and the flags */
	CONFIG_LIST,    /* char *: a repeatable string option; every occurrence (file, environment, flags together)
	                 * appends one item, the items separated by '\n' (none may hold one); NULL when there is none */
};

struct config_option {
	const char *name;      /* canonical spelling without dashes, e.g. "http-port" */
	enum config_type type;
	const char *def;       /* default as text; NULL: no default (empty string or 0) */
	long long min, max;    /* bounds for INT and SIZE (and DOUBLE when min < max) */
	size_t offset;         /* where the value goes in the target struct */
	const char *help;
};

/* Fill every option of the table with its default. */
void config_defaults(const struct config_option *table, void *target);
/* Apply GNOMON_<NAME> environment variables (dashes become underscores). Returns 0 or -EINVAL with err. */
int config_apply_env(const struct config_option *table, void *target, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Parse --name value and --name=value (underscores accepted for dashes, as Chronos spelled them). Positional
 * arguments are not allowed. Returns 0, or -EINVAL with a one-line message naming the option. */
int config_parse_args(const struct config_option *table, void *target, int argc, char **argv, char *err,
    size_t errlen) __attribute__((warn_unused_result));
/* Set one option by name from text; returns 0, -ENOENT (unknown) or -EINVAL with err. */
int config_set(const struct config_option *table, void *target, const char *name, const char *value, char *err,
    size_t errlen) __attribute__((warn_unused_result));
/* Read a config file: one `name = value` per line (the flag names without dashes, underscores accepted),
 * blank lines and lines starting with # ignored, a value may be wrapped in double quotes. Returns 0, or
 * -EINVAL (-ENOENT when it cannot be read) with "FILE:LINE: message" naming the line. */
int config_load_file(const struct config_option *table, void *target, const char *path, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* The same for a config file's text of len bytes (which may hold any byte: a NUL is refused), its messages
 * naming label and the line. */
int config_load_text(const struct config_option *table, void *target, const char *label, const char *text,
    size_t len, char *err, size_t errlen) __attribute__((warn_unused_result));
/* Defaults, then the file of the table's CONFIG_FILE option (--config FILE among the flags, else its GNOMON_
 * variable), then GNOMON_* variables, then the flags: each overrides what came before. Returns 0 or a negative
 * errno with a one-line message. */
int config_load(const struct config_option *table, void *target, int argc, char **argv, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Take every bare --name (an action such as --check-config, not a setting; underscores accepted for dashes) out
 * of argv[1..*argc), moving the rest down; true when there was one. */
bool config_take_flag(int *argc, char **argv, const char *name);
/* Print the effective values as config-file lines (`name = value`); secrets print as ******** when set. */
void config_print(const struct config_option *table, const void *target, FILE *out);
/* Print the options with defaults and help, one per line. */
void config_print_help(const struct config_option *table, FILE *out);
/* The help lines of the actions every daemon takes besides its options: --check-config, --help, --version. */
void config_print_actions(FILE *out);
/* Free the strings the table put into the target. */
void config_free(const struct config_option *table, void *target);
/* Read a shared secret: the first line of the file at path, without the white space around it, of min_len to
 * max_len bytes, with no NUL or control character. 0 with *out (the caller frees it), or a negative errno with
 * err naming the file and what is wrong. */
int config_read_token_file(const char *path, size_t min_len, size_t max_len, char **out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
