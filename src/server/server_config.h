/* The options of `gnomon server`: one declarative table shared by flags, GNOMON_* variables, the config file
 * (--config) and --help. */
#ifndef GNOMON_SERVER_SERVER_CONFIG_H
#define GNOMON_SERVER_SERVER_CONFIG_H

#include <stdbool.h>

#include "util/config.h"

struct server_config {
	long long http_port;
	char *http_address;
	char *data_dir;
	char *state;                 /* "" or "sqlite": the SQLite store in data_dir; else PostgreSQL (server_pg.h) */
	long long state_timeout;
	long long state_load_timeout;
	long long max_clock_offset;
	char *hostname;
	char *cors_origins;
	char *http_credentials;
	char *http_credentials_file;
	bool insecure_open;
	char *log_level;
	bool log_json;
	long long max_body_size;
	double task_cpu;
	long long task_mem;
	long long task_disk;
	char *user;
	long long task_epsilon;
	long long job_history_limit;
	char *cluster_name;
	long long max_running;
	long long failure_retry;
	long long disable_after_failures;
	long long history_max_runs;
	long long history_max_age;
	long long audit_retention_days;
	long long prune_interval;
	long long kill_grace;
	long long log_cap;
	long long spawn_threads;
	bool stop_tasks_on_exit;
	bool enforce_resources;     /* --enforce-resources */
	long long task_pids_max;    /* --task-pids-max */
	/* Agents. */
	bool local_agent;
	char *container_runtime;   /* auto, podman, docker or none */
	char *container_host_paths; /* what container volumes may mount: prefixes, comma-separated ("": default) */
	long long agent_timeout;
	char *agent_token_file;
	/* Runs' working directories. */
	char *keep_work_dirs;
	long long keep_work_dirs_max_size;
	bool metrics_per_job;
	char *config_file;
	/* HA (src/cluster): ZooKeeper's election. */
	char *zk_hosts;
	char *zk_path;
	long long zk_timeout;
	char *zk_auth;
	char *advertise_address;
	char *tls_cert, *tls_key, *tls_client_ca, *tls_ca;
	/* Notifications (src/notify). */
	char *mail_server;
	char *mail_from;
	char *mail_user;
	char *mail_password;
	bool mail_ssl;
	bool mail_starttls;
	char *slack_url;
	char *mattermost_url;
	char *http_notification_url;
	char *http_notification_credentials;
	char *raven_dsn;
	long long notify_queue_size;
	long long notify_timeout;
	long long notify_retries;
	long long notify_retry_delay;
	long long notify_log_tail;
};

extern const struct config_option server_options[];

/* An empty --user (the default) becomes the account the server runs as: jobs run as it unless they ask. */
void server_config_default_user(struct server_config *cfg);

#endif
