#include "server/server_config.h"

#include <limits.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/xmalloc.h"

#define OPT(field) offsetof(struct server_config, field)
#define IGNORE(n) {n, CONFIG_IGNORED, NULL, 0, 0, 0, ""}

const struct config_option server_options[] = {
	{"http-port", CONFIG_INT, "4400", 0, 65535, OPT(http_port), "port of the API and web UI (0: any free port)"},
	{"http-address", CONFIG_STRING, "127.0.0.1", 0, 0, OPT(http_address),
	    "address to listen on; the API runs commands, so only loopback unless asked"},
	{"data-dir", CONFIG_STRING, "./gnomon-data", 0, 0, OPT(data_dir), "directory of the embedded SQLite store"},
	{"state", CONFIG_SECRET, NULL, 0, 0, OPT(state),
	    "where jobs, runs and history are kept: empty (or sqlite), the SQLite store in --data-dir; or a PostgreSQL "
	    "database, as a postgres:// URL or a libpq conninfo ('host=10.0.0.5 dbname=gnomon'), which the servers of "
	    "an HA cluster (--zk-hosts) share; give the host as an address. Runs' output is kept in DATA_DIR/logs, and with PostgreSQL in the "
	    "database too, so that any server serves it"},
	{"state-timeout", CONFIG_INT, "10000", 100, 600000, OPT(state_timeout),
	    "PostgreSQL: ms a write may take, waiting for the connection included (past it the leader steps down "
	    "until the database answers again)"},
	{"state-load-timeout", CONFIG_INT, "120000", 1000, 3600000, OPT(state_load_timeout),
	    "PostgreSQL: ms a load of the whole state may take (at start-up, at each election, a follower's refresh)"},
	{"max-clock-offset", CONFIG_INT, "2000", 0, 3600000, OPT(max_clock_offset),
	    "PostgreSQL: ms this server's wall clock may be off the database's (read every second) or step at once; "
	    "past it the server does not lead, and steps down if it does, until its clock is right (0: not "
	    "checked)"},
	{"hostname", CONFIG_STRING, NULL, 0, 0, OPT(hostname),
	    "advertised host name (default: this machine's); on loopback, also a Host name the API answers to"},
	{"cors-origins", CONFIG_STRING, NULL, 0, 0, OPT(cors_origins),
	    "origins (scheme://host[:port], comma-separated) whose web pages may use the API from a browser, "
	    "changes included; * lets any origin read (GET), never change (default: none)"},
	/* TLS (README, "TLS"). */
	{"tls-cert", CONFIG_STRING, NULL, 0, 0, OPT(tls_cert),
	    "PEM certificate (its chain after it) of the API, the UI and the agent protocol: with it and --tls-key the "
	    "port speaks HTTPS only (read again on SIGHUP)"},
	{"tls-key", CONFIG_STRING, NULL, 0, 0, OPT(tls_key), "PEM private key of --tls-cert"},
	{"tls-client-ca", CONFIG_STRING, NULL, 0, 0, OPT(tls_client_ca),
	    "PEM CA certificates: the agent routes then require a client certificate signed by one of them"},
	{"tls-ca", CONFIG_STRING, NULL, 0, 0, OPT(tls_ca),
	    "PEM CA certificates the server's own requests (the leader proxy, notifications) verify servers with "
	    "(default: the system's)"},
	/* Access (README, "Access"; api/auth.h); Chronos's --http_credentials spelling works as well. */
	{"http-credentials", CONFIG_SECRET, NULL, 0, 0, OPT(http_credentials),
	    "user:password for HTTP Basic auth, as Chronos's; they act as admin, and turn access control on"},
	{"http-credentials-file", CONFIG_STRING, NULL, 0, 0, OPT(http_credentials_file),
	    "file whose first line is user:password, as --http-credentials (kept out of the process list)"},
	{"insecure-open", CONFIG_BOOL, "false", 0, 0, OPT(insecure_open),
	    "allow listening beyond loopback without access control (no --http-credentials, no API token): whoever "
	    "reaches the port can run anything"},
	{"log-level", CONFIG_STRING, "info", 0, 0, OPT(log_level), "error, warn, info or debug"},
	{"log-json", CONFIG_BOOL, "false", 0, 0, OPT(log_json), "log JSON lines instead of text"},
	{"max-body-size", CONFIG_SIZE, "1M", 1024, 1LL << 30, OPT(max_body_size),
	    "largest accepted request body (bytes; K, M, G suffixes)"},
	{"mesos-task-cpu", CONFIG_DOUBLE, "0.1", 0, 0, OPT(task_cpu), "default cpus of a job"},
	{"mesos-task-mem", CONFIG_INT, "128", 0, LLONG_MAX, OPT(task_mem), "default mem (MiB) of a job"},
	{"mesos-task-disk", CONFIG_INT, "256", 0, LLONG_MAX, OPT(task_disk), "default disk (MiB) of a job"},
	{"user", CONFIG_STRING, NULL, 0, 0, OPT(user),
	    "default runAsUser of a job (default: the account the server runs as, root as in Chronos when root)"},
	{"task-epsilon", CONFIG_INT, "60", 0, 86400 * 365, OPT(task_epsilon),
	    "default epsilon (seconds): how late a missed run may still start"},
	{"job-history-limit", CONFIG_INT, "5", 0, 100000, OPT(job_history_limit),
	    "runs shown in /v1/scheduler/job/stat/{name}"},
	{"cluster-name", CONFIG_STRING, NULL, 0, 0, OPT(cluster_name), "cluster name shown in notifications"},
	{"max-running", CONFIG_INT, "0", 0, 100000, OPT(max_running),
	    "runs at once, more wait in the queue (0: 4 per core)"},
	{"failure-retry", CONFIG_INT, "60000", 0, 86400000LL * 7, OPT(failure_retry),
	    "delay before retrying a failed run (ms, as Chronos's --failure_retry)"},
	{"disable-after-failures", CONFIG_INT, "0", 0, 1000000, OPT(disable_after_failures),
	    "disable a job after this many failures since its last success (0: never)"},
	{"history-max-runs", CONFIG_INT, "1000", 0, 100000000, OPT(history_max_runs),
	    "runs kept in the history per job (0: no limit)"},
	{"history-max-age", CONFIG_INT, "2592000", 0, LLONG_MAX / 1000, OPT(history_max_age),
	    "seconds a finished run is kept in the history (0: no limit)"},
	{"audit-retention-days", CONFIG_INT, "90", 0, 1000000, OPT(audit_retention_days),
	    "days an audit entry is kept (0: no limit)"},
	{"prune-interval", CONFIG_INT, "3600000", 1, 86400000LL * 7, OPT(prune_interval),
	    "ms between two rounds of retention (history and audit)"},
	{"kill-grace", CONFIG_INT, "10000", 0, 3600000, OPT(kill_grace),
	    "ms between SIGTERM and SIGKILL when a run is killed or times out"},
	{"log-cap", CONFIG_SIZE, "64K", 0, 1LL << 30, OPT(log_cap),
	    "bytes of each output stream kept from its start, and as many from its end"},
	{"enforce-resources", CONFIG_BOOL, "true", 0, 0, OPT(enforce_resources),
	    "run each shell or argv task in a cgroup of its own, its job's mem a hard memory limit and cpus a CPU quota, "
	    "where the host allows (false: no cgroups)"},
	{"task-pids-max", CONFIG_INT, "4096", 0, 4194304, OPT(task_pids_max),
	    "processes and threads a task's cgroup may hold at once (0: no limit)"},
	{"stop-tasks-on-exit", CONFIG_BOOL, "false", 0, 0, OPT(stop_tasks_on_exit),
	    "kill the running tasks when the server stops (false: they go on under their executors, and the next start "
	    "adopts them and records how they ended)"},
	/* Agents (docs/agent-protocol.md). */
	{"local-agent", CONFIG_BOOL, "true", 0, 0, OPT(local_agent),
	    "run tasks on this machine too, through the embedded agent (false: only on gnomon agents)"},
	{"container-runtime", CONFIG_STRING, "auto", 0, 0, OPT(container_runtime),
	    "what runs container jobs on the embedded agent: auto (podman, else docker), podman, docker or none"},
	{"container-host-paths", CONFIG_STRING, "", 0, 0, OPT(container_host_paths),
	    "the host paths container volumes may mount on the embedded agent, comma-separated prefixes (default: any "
	    "absolute path but /, the runtimes' sockets and the directories that hold them)"},
	{"agent-timeout", CONFIG_INT, "30", 2, 86400, OPT(agent_timeout),
	    "seconds an agent may stay silent before it is lost and its runs are retried elsewhere (more than any "
	    "agent's --lease)"},
	{"agent-token-file", CONFIG_STRING, NULL, 0, 0, OPT(agent_token_file),
	    "file whose first line is the secret agents must present (without it, only agents on this machine may "
	    "connect)"},
	{"spawn-threads", CONFIG_INT, "0", 0, 64, OPT(spawn_threads),
	    "runs that start together are spawned this many at a time (0: 2 per core, at most 8; 1: one by one)"},
	/* Runs' working directories once they end (README, "Working directories"). */
	{"keep-work-dirs", CONFIG_STRING, "never", 0, 0, OPT(keep_work_dirs),
	    "which runs keep their working directory when they end: never, failed (failed or lost) or always"},
	{"keep-work-dirs-max-size", CONFIG_SIZE, "1G", 0, 1LL << 50, OPT(keep_work_dirs_max_size),
	    "disk space the kept working directories may use together; past it the oldest go first (0: no limit)"},
	{"metrics-per-job", CONFIG_BOOL, "true", 0, 0, OPT(metrics_per_job),
	    "GET /metrics/prometheus lists each job's last success and failure times (false: leave them out)"},
	/* HA (README, "High availability"); Chronos's --zk_hosts, --zk_path, --zk_timeout and --zk_auth spellings. */
	{"zk-hosts", CONFIG_STRING, NULL, 0, 0, OPT(zk_hosts),
	    "ZooKeeper ensemble host:port,host:port,... (or Chronos's zk://host:port,.../path): run as one of several "
	    "servers, the one ZooKeeper elects schedules (default: none, standalone)"},
	{"zk-path", CONFIG_STRING, NULL, 0, 0, OPT(zk_path),
	    "ZooKeeper node under which the servers hold their election and epoch (default: /gnomon, or the path of a "
	    "zk:// --zk-hosts)"},
	{"zk-timeout", CONFIG_INT, "10000", 1000, 600000, OPT(zk_timeout),
	    "ZooKeeper session timeout (ms): a leader that dies is replaced after about this long; a leader that "
	    "loses ZooKeeper stops dispatching at once, and gives up after a third of it"},
	{"zk-auth", CONFIG_SECRET, NULL, 0, 0, OPT(zk_auth),
	    "ZooKeeper digest credentials user:password; the nodes gnomon creates are then its own (CREATOR_ALL)"},
	{"advertise-address", CONFIG_STRING, NULL, 0, 0, OPT(advertise_address),
	    "host:port under which the other servers and clients reach this one's API, named as the leader (default: "
	    "--hostname and the port standalone; with --zk-hosts, --http-address (--hostname for 0.0.0.0 or ::) and "
	    "the port)"},
	{"config", CONFIG_FILE, NULL, 0, 0, OPT(config_file),
	    "read options from FILE, one 'name = value' a line; the environment and the flags override it"},
	/* Notifications (README, "Notifications"); Chronos's --mail_server ... spellings work as well. */
	{"mail-server", CONFIG_STRING, NULL, 0, 0, OPT(mail_server), "SMTP server host:port for mail to the jobs' owners"},
	{"mail-from", CONFIG_STRING, NULL, 0, 0, OPT(mail_from), "sender address of the mail"},
	{"mail-user", CONFIG_STRING, NULL, 0, 0, OPT(mail_user), "SMTP user name"},
	{"mail-password", CONFIG_SECRET, NULL, 0, 0, OPT(mail_password), "SMTP password"},
	{"mail-ssl", CONFIG_BOOL, "false", 0, 0, OPT(mail_ssl), "SMTP over SSL from the start (smtps, often port 465)"},
	{"mail-starttls", CONFIG_BOOL, "false", 0, 0, OPT(mail_starttls),
	    "require STARTTLS on the plain SMTP connection (often port 587); off: plain SMTP, as Chronos"},
	{"slack-url", CONFIG_SECRET, NULL, 0, 0, OPT(slack_url), "Slack incoming webhook URL"},
	{"mattermost-url", CONFIG_SECRET, NULL, 0, 0, OPT(mattermost_url), "Mattermost incoming webhook URL"},
	{"http-notification-url", CONFIG_SECRET, NULL, 0, 0, OPT(http_notification_url),
	    "URL each notification is POSTed to as JSON"},
	{"http-notification-credentials", CONFIG_SECRET, NULL, 0, 0, OPT(http_notification_credentials),
	    "user:password (Basic auth) for --http-notification-url"},
	{"raven-dsn", CONFIG_SECRET, NULL, 0, 0, OPT(raven_dsn), "Sentry DSN: notifications become Sentry events"},
	{"notify-queue-size", CONFIG_INT, "1000", 1, 1000000, OPT(notify_queue_size),
	    "notifications queued or being delivered at most; more are dropped and counted"},
	{"notify-timeout", CONFIG_INT, "10000", 100, 600000, OPT(notify_timeout), "ms one delivery attempt may take"},
	{"notify-retries", CONFIG_INT, "3", 0, 100, OPT(notify_retries), "attempts after a transient delivery error"},
	{"notify-retry-delay", CONFIG_INT, "1000", 0, 3600000, OPT(notify_retry_delay),
	    "ms before the first retry of a delivery, doubled for each next one"},
	{"notify-log-tail", CONFIG_SIZE, "2K", 0, 64 << 10, OPT(notify_log_tail),
	    "bytes of the end of a run's stdout and of its stderr put in a notification (0: none)"},
	/* Chronos options that only make sense with Mesos: accepted so existing init scripts keep working. */
	IGNORE("master"), IGNORE("mesos-role"), IGNORE("mesos-checkpoint"), IGNORE("mesos-framework-name"),
	IGNORE("mesos-authentication-principal"), IGNORE("mesos-authentication-secret-file"),
	IGNORE("failover-timeout"), IGNORE("webui-url"), IGNORE("reconciliation-interval"),
	IGNORE("revive-offers-for-new-jobs"), IGNORE("decline-offer-duration"), IGNORE("min-revive-offers-interval"),
	IGNORE("leader-max-idle-time"), IGNORE("schedule-horizon"),
	/* Chronos's Cassandra and Graphite options: gnomon keeps its history in SQLite. */
	IGNORE("cassandra-contact-points"), IGNORE("cassandra-port"), IGNORE("cassandra-user"),
	IGNORE("cassandra-password"), IGNORE("cassandra-keyspace"), IGNORE("cassandra-table"),
	IGNORE("cassandra-stat-count-table"), IGNORE("cassandra-consistency"), IGNORE("cassandra-ttl"),
	IGNORE("graphite-host-port"), IGNORE("graphite-reporting-interval"), IGNORE("graphite-group-prefix"),
	{NULL, CONFIG_INT, NULL, 0, 0, 0, NULL},
};

void server_config_default_user(struct server_config *cfg)
{
	struct passwd pw, *found = NULL;
	char buf[4096];

	if (cfg->user && cfg->user[0])
		return;
	free(cfg->user);
	if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &found) == 0 && found)
		cfg->user = xstrdup(pw.pw_name);
	else
		cfg->user = xasprintf("%u", (unsigned)geteuid());
}
