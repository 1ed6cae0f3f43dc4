/* Server URLs for the client: choosing the base URL and building request paths. Pure string work. */
#ifndef GNOMON_CLI_CLI_URL_H
#define GNOMON_CLI_CLI_URL_H

#define CLI_URL_DEFAULT "http://127.0.0.1:4400"

/* Pick the server base URL: the --server value, else the environment value, else CLI_URL_DEFAULT (NULL or empty
 * strings count as unset). Adds "http://" when no scheme is given and drops trailing slashes. Returns a string
 * the caller frees. */
char *cli_url_base(const char *option, const char *env);
/* Join a base URL and a path that starts with '/'. Returns a string the caller frees. */
char *cli_url_join(const char *base, const char *path);
/* Percent-escape one path segment (curl_easy_escape). Returns a string the caller frees. */
char *cli_url_escape(const char *segment);
/* Build prefix + escaped name, e.g. ("/v1/scheduler/job/", "a b") -> "/v1/scheduler/job/a%20b". Returns a
 * string the caller frees. */
char *cli_url_path(const char *prefix, const char *name);

#endif
