/* Pure decisions the job commands make before talking to the server: which endpoint takes a job, and in which
 * order a batch of jobs must be sent so that parents exist before their children. No I/O. */
#ifndef GNOMON_CLI_CLI_JOB_UTIL_H
#define GNOMON_CLI_CLI_JOB_UTIL_H

#include <stddef.h>

#include <jansson.h>

#define CLI_PATH_ISO8601 "/v1/scheduler/iso8601"
#define CLI_PATH_DEPENDENCY "/v1/scheduler/dependency"
#define CLI_PATH_JOBS "/v1/scheduler/jobs"
#define CLI_PATH_JOBS_SUMMARY "/v1/scheduler/jobs/summary"
#define CLI_PATH_JOB "/v1/scheduler/job/"

/* The endpoint to POST a job to, decided by key presence as Chronos does: a "parents" key (whatever its value)
 * makes a dependent job, else it is schedule-based. */
const char *cli_job_endpoint(const json_t *job);
/* Order a batch for adding: schedule-based jobs first in file order, then dependent jobs in file order except
 * that a parent defined in the batch comes before its children. Every element must be an object with a
 * non-empty string "name", names must be unique, and parents within the batch must not form a cycle. Returns a
 * new array (the caller decrefs) or NULL with a message like "job #3 has no \"name\"" in err. */
json_t *cli_job_order(const json_t *jobs, char *err, size_t errlen);
/* Join the arguments of `job run` into the one arguments string the server takes, each shell-quoted: an argument
 * of only letters, digits and @%+=:,./-_ stays as it is, any other goes in single quotes with ' written '\''
 * ("a b", "c" -> "'a b' c"; "" -> "''"). Returns a string the caller frees. */
char *cli_job_join_args(int argc, const char *const argv[]);

#endif
