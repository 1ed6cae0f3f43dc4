#include "server/server.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "api/api.h"
#include "control/control.h"
#include "api/gnomon_events.h"
#include "api/auth.h"
#include "api/guard.h"
#include "api/http.h"
#include "api/prometheus.h"
#include "history/history_sqlite.h"
#include "history/run_output_files.h"
#include "exec/cgroup.h"
#include "exec/container.h"
#include "runner/agent_wire.h"
#include "runner/runner_local.h"
#include "runner/runner_remote.h"
#include "job/job.h"
#include "job/job_json.h"
#include "net/net.h"
#include "net/tls.h"
#include "notify/notify.h"
#include "schedule/schedule.h"
#include "scheduler/engine.h"
#include "scheduler/events.h"
#include "scheduler/registry.h"
#include "server/server_agent.h"
#include "server/server_cluster.h"
#include "server/server_config.h"
#include "server/server_load.h"
#include "server/server_pg.h"
#include "server/server_role.h"
#include "state/state.h"
#include "state/state_sqlite.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/clock_uv.h"
#include "util/container_rules.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/mkdirs.h"
#include "util/xmalloc.h"

struct server {
	struct server_config cfg;
	uv_loop_t loop;
	uv_signal_t sigint, sigterm;
	uv_signal_t sigusr1, sigusr2; /* step down from the scheduling role, take it again */
	uv_signal_t sighup;           /* read the TLS certificate and key again */
	struct store *store;         /* the SQLite database under the state and the history, or NULL: */
	struct server_pg *pg;        /* PostgreSQL's (--state postgres://...) */
	struct state *state;
	struct registry *reg;
	struct schedule_zones *zones;
	struct metrics *metrics;
	struct events *events;
	struct http_server *http;
	struct net_client *net;      /* the leader proxy's HTTP client (api/proxy.h) */
	struct api_guard *guard;
	struct api_auth *auth;
	struct prometheus *prom;
	struct server_role *role;    /* the scheduling role: the engine while this server leads */
	struct server_cluster *ha;   /* ZooKeeper's election driving the role (--zk-hosts), NULL standalone */
	struct control *control;     /* the API's commands (over the engine, registry and store) */
	struct notify *notify;
	struct history *history;
	struct run_output *output;
	struct runner *runner;       /* the fleet: the embedded agent and the remote ones */
	struct remote *fleet;
	struct server_agent *local;  /* HA's local agent, a process of its own (server_agent.h), or NULL */
	char *agent_token;           /* --agent-token-file's secret, or NULL */
	struct clock *clock;       /* the engine's: CLOCK_REALTIME and the loop's timers */
	struct job_defaults defaults;
	struct api_env api;
	char *leader;                /* this server's advertised address (server_advertise_address()) */
};

static void usage(FILE *out)
{
	fprintf(out, "usage: gnomon server [options]\n\nOptions (also from GNOMON_<NAME> environment variables;"
		     " Chronos's --underscore_spellings work too):\n");
	config_print_help(server_options, out);
	config_print_actions(out);
}

/* The notification settings, borrowing the strings of cfg. */
static void notify_settings(const struct server_config *c, struct notify_config *out)
{
	*out = (struct notify_config){
		.cluster_name = c->cluster_name,
		.hostname = c->hostname,
		.mail_server = c->mail_server,
		.mail_from = c->mail_from,
		.mail_user = c->mail_user,
		.mail_password = c->mail_password,
		.mail_ssl = c->mail_ssl,
		.mail_starttls = c->mail_starttls,
		.slack_url = c->slack_url,
		.mattermost_url = c->mattermost_url,
		.http_url = c->http_notification_url,
		.http_credentials = c->http_notification_credentials,
		.raven_dsn = c->raven_dsn,
		.queue_size = (int)c->notify_queue_size,
		.timeout_ms = c->notify_timeout,
		.retries = (int)c->notify_retries,
		.retry_delay_ms = c->notify_retry_delay,
		.tail_bytes = (size_t)c->notify_log_tail,
	};
}

/* A string option's value, NULL when unset or empty. */
static const char *given(const char *s)
{
	return s && s[0] ? s : NULL;
}

/* The TLS flags go together and name files that load; 0, or -1 with err naming the flag at fault. */
static int check_tls(const struct server_config *cfg, char *err, size_t errlen)
{
	static const struct tls_labels flags = {"--tls-cert", "--tls-key", "--tls-client-ca"};
	struct tls_ctx *ctx;

	if (given(cfg->tls_cert) == NULL && given(cfg->tls_key) == NULL) {
		if (given(cfg->tls_client_ca) == NULL)
			return 0;
		snprintf(err, errlen, "--tls-client-ca: needs --tls-cert and --tls-key (the server's TLS)");
		return -1;
	}
	if (given(cfg->tls_cert) == NULL || given(cfg->tls_key) == NULL) {
		snprintf(err, errlen, "%s: needs %s as well", given(cfg->tls_cert) ? "--tls-cert" : "--tls-key",
		    given(cfg->tls_cert) ? "--tls-key" : "--tls-cert");
		return -1;
	}
	if (tls_ctx_server_new(cfg->tls_cert, cfg->tls_key, given(cfg->tls_client_ca), &flags, &ctx, err, errlen) < 0)
		return -1;
	tls_ctx_free(ctx);
	return 0;
}

/* SIGHUP: the TLS certificate and key again; a pair that does not load is refused and the one in use kept. */
static void on_reload_signal(uv_signal_t *h, int signum)
{
	struct server *srv = h->data;
	char err[512];

	(void)signum;
	if (!http_server_tls(srv->http)) {
		log_info("received SIGHUP: nothing to reload (no --tls-cert)");
		return;
	}
	if (http_server_reload_tls(srv->http, err, sizeof(err)) < 0)
		log_warnx("received SIGHUP: the TLS certificate in use is kept: %s", err);
	else
		log_info("received SIGHUP: TLS certificate %s and key %s read again", srv->cfg.tls_cert, srv->cfg.tls_key);
}

/* srv's access rules from --http-credentials or --http-credentials-file: 0, or -1 after saying why. */
static int configure_auth(struct server *srv)
{
	struct server_config *cfg = &srv->cfg;
	char err[512], *from_file = NULL;
	const char *credentials = cfg->http_credentials;
	int rc;

	if (cfg->http_credentials_file && cfg->http_credentials_file[0]) {
		if (credentials && credentials[0]) {
			fprintf(stderr, "gnomon server: --http-credentials-file: give it or --http-credentials, not both\n");
			return -1;
		}
		if (config_read_token_file(cfg->http_credentials_file, 3, 4096, &from_file, err, sizeof(err)) < 0) {
			fprintf(stderr, "gnomon server: --http-credentials-file: %s\n", err);
			return -1;
		}
		credentials = from_file;
	}
	rc = api_auth_new(credentials, &srv->auth, err, sizeof(err));
	if (from_file) {
		explicit_bzero(from_file, strlen(from_file));
		free(from_file);
	}
	if (rc < 0) {
		fprintf(stderr, "gnomon server: %s%s\n", cfg->http_credentials_file && cfg->http_credentials_file[0] ?
		    "--http-credentials-file: " : "", err);
		return -1;
	}
	return 0;
}

/* Refuse to listen beyond loopback with access control off, unless --insecure-open: 0, or -1 after saying why. */
static int check_open(struct server *srv)
{
	if (srv->cfg.insecure_open || api_guard_loopback(srv->guard) || api_auth_on(srv->auth, srv->state))
		return 0;
	log_warnx("refusing to listen on %s without access control: anyone who reaches it could run any command. "
		  "Set --http-credentials (or --http-credentials-file), create an API token (gnomon token create NAME "
		  "--role admin --data-dir DIR), or pass --insecure-open to allow it on purpose",
	    srv->cfg.http_address);
	return -1;
}

/* Parse environment then flags into srv's configuration (and its guard); returns -1 to continue, or an exit
 * code. */
static int configure(struct server *srv, int argc, char **argv)
{
	struct server_config *cfg = &srv->cfg;
	char err[512];
	enum log_level level;
	enum workdirs_keep keep;
	struct notify_config ncfg;
	bool check = false;
	int n = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("gnomon %s\n", GNOMON_VERSION);
			return 0;
		}
	}
	/* --check-config is an action, not a setting: take it out before the options are read. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--check-config") == 0 || strcmp(argv[i], "--check_config") == 0)
			check = true;
		else
			argv[++n] = argv[i];
	}
	argc = n + 1;
	if (config_load(server_options, cfg, argc - 1, argv + 1, err, sizeof(err)) < 0) {
		fprintf(stderr, "gnomon server: %s (see gnomon server --help)\n", err);
		return 2;
	}
	if (log_level_parse(cfg->log_level, &level) < 0) {
		fprintf(stderr, "gnomon server: --log-level: invalid value '%s' (error, warn, info, debug)\n",
		    cfg->log_level);
		return 2;
	}
	if (!container_runtime_name_ok(cfg->container_runtime)) {
		fprintf(stderr, "gnomon server: --container-runtime: invalid value '%s' (auto, podman, docker, none)\n",
		    cfg->container_runtime);
		return 2;
	}
	if (!container_rules_host_paths_valid(cfg->container_host_paths)) {
		fprintf(stderr, "gnomon server: --container-host-paths: invalid value '%s' (absolute paths, "
		    "comma-separated, without ':')\n", cfg->container_host_paths);
		return 2;
	}
	if (workdirs_keep_parse(cfg->keep_work_dirs, &keep) < 0) {
		fprintf(stderr, "gnomon server: --keep-work-dirs: invalid value '%s' (never, failed, always)\n",
		    cfg->keep_work_dirs);
		return 2;
	}
	log_init(level, cfg->log_json);
	if (cfg->hostname[0] == '\0') {
		char host[256] = "localhost";
		if (gethostname(host, sizeof(host) - 1) < 0)
			log_warn("gethostname");
		free(cfg->hostname);
		cfg->hostname = xstrdup(host);
	}
	server_config_default_user(cfg);
	if (api_guard_new(cfg->cors_origins, cfg->http_address, cfg->hostname, &srv->guard, err, sizeof(err)) < 0) {
		fprintf(stderr, "gnomon server: %s (see gnomon server --help)\n", err);
		return 2;
	}
	notify_settings(cfg, &ncfg);
	if (notify_config_check(&ncfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "gnomon server: %s (see gnomon server --help)\n", err);
		return 2;
	}
	if (cfg->state && cfg->state[0] && strcmp(cfg->state, "sqlite") != 0 && !server_pg_wanted(cfg->state)) {
		fprintf(stderr, "gnomon server: --state: expected sqlite, a postgres:// URL or a libpq conninfo "
				"(key=value ...) (see gnomon server --help)\n");
		return 2;
	}
	if (server_cluster_check(cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "gnomon server: %s (see gnomon server --help)\n", err);
		return 2;
	}
	if (check_tls(cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "gnomon server: %s\n", err);
		return 2;
	}
	if (cfg->agent_token_file && cfg->agent_token_file[0] &&
	    config_read_token_file(cfg->agent_token_file, 16, 4096, &srv->agent_token, err, sizeof(err)) < 0) {
		fprintf(stderr, "gnomon server: --agent-token-file: %s\n", err);
		return 2;
	}
	if (configure_auth(srv) < 0)
		return 2;
	if (check) {
		config_print(server_options, cfg, stdout);
		return 0;
	}
	return -1;
}


static int load_jobs(struct server *srv)
{
	struct load_result lr;
	struct timespec t0, t1;
	size_t missing;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (server_load_jobs(srv->state, srv->reg, &srv->defaults, clock_now_ms(), &lr) < 0)
		return -EIO;
	missing = registry_relink(srv->reg);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (missing)
		log_warnx("store: %zu parent references name jobs that do not exist", missing);
	log_info("loaded %zu jobs in %.0f ms%s", lr.loaded,
	    (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
	    lr.failed ? " (some could not be read, see above)" : "");
	return 0;
}

/* GET /api/v1/cluster. */
static json_t *cluster_view(void *ctx)
{
	struct server *srv = ctx;
	return server_cluster_json(srv->ha, srv->role, srv->leader, server_pg_json(srv->pg));
}

/* Why the API knows no leader. */
static const char *no_leader(void *ctx)
{
	struct server *srv = ctx;
	const char *why = server_pg_no_leader(srv->pg);

	return why ? why : server_cluster_no_leader(srv->ha);
}

/* SIGUSR1: step down from the scheduling role (nothing is dispatched, running tasks go on, changes answer 503);
 * SIGUSR2: take it again, with the next epoch, reconciling with what ran meanwhile. */
static void on_role_signal(uv_signal_t *h, int signum)
{
	struct server *srv = h->data;
	int rc;

	if (srv->ha) {
		log_warnx("received signal %d: ignored, ZooKeeper's election decides who schedules (--zk-hosts)", signum);
		return;
	}
	if (srv->pg)
		server_pg_hold(srv->pg, signum == SIGUSR2); /* not taken again by itself after an outage while held */
	if (signum == SIGUSR1) {
		log_info("received signal %d: stepping down from the scheduling", signum);
		server_role_step_down(srv->role, "received SIGUSR1");
		return;
	}
	if (server_role_leading(srv->role))
		return;
	log_info("received signal %d: taking the scheduling role", signum);
	if ((rc = server_role_elect(srv->role, server_role_epoch(srv->role) + 1)) < 0)
		log_warnx("could not take the scheduling role (%s): send the signal again to retry", strerror(-rc));
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct server *srv = h->data;
	log_info("received signal %d, shutting down", signum);
	http_server_stop(srv->http);
	srv->http = NULL;
	event_stream_hub_close(srv->api.event_hub);
	notify_stop(srv->notify);
	srv->notify = NULL;
	server_cluster_free(srv->ha); /* first: its session closed, another server takes over at once */
	srv->ha = NULL;
	server_role_free(srv->role);
	srv->role = NULL;
	server_pg_close(srv->pg);
	runner_free(srv->runner); /* what still runs goes on under its executor, for the next start to adopt (or is
	                           * killed: --stop-tasks-on-exit) */
	srv->runner = NULL;
	server_agent_free(srv->local); /* the same for HA's local agent */
	srv->local = NULL;
	uv_close((uv_handle_t *)&srv->sigint, NULL);
	uv_close((uv_handle_t *)&srv->sigterm, NULL);
	uv_close((uv_handle_t *)&srv->sigusr1, NULL);
	uv_close((uv_handle_t *)&srv->sigusr2, NULL);
	uv_close((uv_handle_t *)&srv->sighup, NULL);
}

/* Tasks spawned at once when several start together: a spawn waits for its child's exec, mostly CPU work of the
 * kernel, so a couple per core keeps every core busy without piling up. */
static unsigned spawn_threads_default(void)
{
	unsigned n = 2 * uv_available_parallelism();
	return n > 8 ? 8 : n;
}

/* One line at start-up when the server runs as root: its jobs then run as root unless told otherwise. */
static void warn_if_root(const struct server_config *cfg)
{
	if (geteuid() != 0)
		return;
	if (strcmp(cfg->user, "root") == 0 || strcmp(cfg->user, "0") == 0)
		log_warnx("running as root: jobs without a runAsUser run as root (--user NAME sets another default)");
	else
		log_warnx("running as root: jobs without a runAsUser run as '%s' (--user), but a job may still ask for "
		    "runAsUser root", cfg->user);
}

/* The task id of a run by the name earlier releases gave its files, its row id (the start-up migrations). */
static int legacy_task_id(void *ctx, int64_t id, char **task_id)
{
	struct server *srv = ctx;
	if (srv->store == NULL)
		return -ENOENT; /* PostgreSQL's history never had them */
	return history_sqlite_legacy_task_id(srv->history, id, task_id);
}

/* What the history says of a run whose working directory a crash or a stop left behind (the embedded agent's
 * sweep at start-up). */
static int past_run(void *ctx, const char *task_id, struct runner_past *out)
{
	struct server *srv = ctx;
	struct run_record r;
	int rc;

	run_record_init(&r);
	if ((rc = history_get(srv->history, task_id, &r)) == -ENOENT)
		rc = state_get_open_run(srv->state, task_id, &r); /* open: its recovery handles it */
	if (rc == 0 && run_status_is_final(r.status)) {
		out->ended = true;
		out->outcome = r.status == RUN_SUCCEEDED ? RUNNER_OUTCOME_SUCCEEDED
		    : r.status == RUN_KILLED		 ? RUNNER_OUTCOME_KILLED
		    : r.status == RUN_LOST		 ? RUNNER_OUTCOME_LOST
						 : RUNNER_OUTCOME_FAILED;
		out->job = xstrdup(r.job);
		out->task_id = xstrdup(r.task_id);
	}
	run_record_clear(&r);
	return rc;
}

/* The embedded agent, which runs jobs on this machine (container jobs through ctr). */
static int start_local_agent(struct server *srv, const struct container_runtime *ctr, struct runner **out,
    char *err, size_t errlen)
{
	struct runner_local_config rcfg = {
		.data_dir = srv->cfg.data_dir,
		.hostname = srv->cfg.hostname,
		.agent_id = "embedded", /* its id in /api/v1/agents (runner_remote.c) */
		.spawn_threads = srv->cfg.spawn_threads > 0 ? (unsigned)srv->cfg.spawn_threads : spawn_threads_default(),
		.keep_work_dirs_max = srv->cfg.keep_work_dirs_max_size,
		.stop_tasks_on_exit = srv->cfg.stop_tasks_on_exit,
		.enforce_resources = srv->cfg.enforce_resources,
		.task_pids_max = (uint64_t)srv->cfg.task_pids_max,
		.past = past_run,
		.legacy = legacy_task_id,
		.past_ctx = srv,
		.containers = ctr,
	};

	if (workdirs_keep_parse(srv->cfg.keep_work_dirs, &rcfg.keep_work_dirs) < 0)
		rcfg.keep_work_dirs = WORKDIRS_KEEP_NEVER; /* configure() checked it */
	return runner_local_new(&srv->loop, &rcfg, out, err, errlen);
}

/* The fleet: the embedded agent (unless --local-agent=false) and the agents that connect. In a cluster the local
 * agent is a gnomon-agent process instead, whose tasks outlive this server (server_agent.h). */
static int start_runner(struct server *srv, char *err, size_t errlen)
{
	bool ha = srv->cfg.zk_hosts && srv->cfg.zk_hosts[0];
	int rc;
	struct runner_remote_config fcfg = {
		.local_name = srv->cfg.hostname,
		.local_hostname = srv->cfg.hostname,
		.data_dir = srv->cfg.data_dir,
		.output = srv->output,
		.agent_timeout_ms = (uint64_t)srv->cfg.agent_timeout * 1000,
		.leader = srv->leader,
		.agent_lost = events_agent_lost, /* notifications and the UI's event stream */
		.ctx = srv->events,
	};

	/* a poll is answered well within the timeout, so that an agent that polls is never taken for lost, and two
	 * (the renewals' gap at worst) within its tasks' lease (exec/exec_lease.h) */
	fcfg.poll_ms = fcfg.agent_timeout_ms / 4 < 10000 ? fcfg.agent_timeout_ms / 4 : 10000;
	remote_machine_resources(srv->cfg.data_dir, &fcfg.local_total);
	if (srv->cfg.local_agent && !ha) {
		struct container_runtime ctr;
		container_runtime_detect(srv->cfg.container_runtime, &ctr);
		ctr.host_paths = srv->cfg.container_host_paths;
		container_log(&ctr);
		if (start_local_agent(srv, &ctr, &fcfg.local, err, errlen) < 0)
			return -1;
		struct cgroup_host cg;
		runner_local_cgroups(fcfg.local, &cg);
		fcfg.local_cgroups = agent_wire_cgroups_json(&cg);
		fcfg.local_attributes = json_object();
		container_runtime_attributes(&ctr, fcfg.local_attributes);
	}
	rc = runner_remote_new(&srv->loop, &fcfg, &srv->runner, &srv->fleet, err, errlen);
	json_decref(fcfg.local_cgroups);
	json_decref(fcfg.local_attributes);
	if (rc < 0)
		return -1;
	if (srv->cfg.local_agent && ha)
		return server_agent_start(&srv->loop, &srv->cfg, http_server_port(srv->http), srv->leader, &srv->local, err,
		    errlen);
	return 0;
}

/* HA: an election leads only while this server's clock is right (server_clock.h). */
static bool clock_lets_lead(void *ctx, const char **why)
{
	return server_pg_clock_ok(ctx, why);
}

/* PostgreSQL stepped the role down (server_pg.h): in HA, let another server lead. */
static void pg_lost(void *ctx, const char *why)
{
	struct server *srv = ctx;

	server_role_step_down(srv->role, why);
	if (srv->ha)
		server_cluster_resign(srv->ha);
}

/* The state and the history: SQLite's in --data-dir, or PostgreSQL's (--state); the runs' output in
 * DATA_DIR/logs either way, and with PostgreSQL in the database too. */
static int open_stores(struct server *srv, char *err, size_t errlen)
{
	if (server_pg_wanted(srv->cfg.state)) {
		int rc;
		/* 0711: other users (runAsUser tasks) may pass through to their working directory, not list. */
		if ((rc = mkdirs(srv->cfg.data_dir, 0711)) < 0) {
			snprintf(err, errlen, "cannot create %s: %s", srv->cfg.data_dir, strerror(-rc));
			return -1;
		}
		struct server_pg_config pcfg = {
			.conninfo = srv->cfg.state,
			.timeout_ms = (uint64_t)srv->cfg.state_timeout,
			.load_timeout_ms = (uint64_t)srv->cfg.state_load_timeout,
			.reg = srv->reg,
			.defaults = &srv->defaults,
			.follow = srv->cfg.zk_hosts && srv->cfg.zk_hosts[0],
			.max_clock_offset_ms = srv->cfg.max_clock_offset,
		};
		if (server_pg_open(&srv->loop, &pcfg, &srv->pg, err, errlen) < 0)
			return -1;
		srv->state = server_pg_state(srv->pg);
		srv->history = server_pg_history(srv->pg);
		struct run_output *files;
		if (run_output_files_new(srv->cfg.data_dir, &files, err, errlen) < 0)
			return -1;
		/* and a durable copy in the database */
		return server_pg_output(srv->pg, files, &srv->output, err, errlen) < 0 ? -1 : 0;
	}
	if (store_open(srv->cfg.data_dir, &srv->store, err, errlen) < 0)
		return -1;
	srv->state = state_sqlite_new(srv->store);
	if (history_sqlite_new(store_connection(srv->store), &srv->history, err, errlen) < 0 ||
	    run_output_files_new(srv->cfg.data_dir, &srv->output, err, errlen) < 0)
		return -1;
	/* earlier releases' output files were named by row id */
	if (run_output_files_migrate(srv->cfg.data_dir, legacy_task_id, srv) < 0)
		log_warn("cannot read %s/logs to rename earlier releases' output files", srv->cfg.data_dir);
	return 0;
}

static int start(struct server *srv)
{
	char err[512];
	struct notify_config ncfg;
	struct http_server_options hopt = {
		.address = srv->cfg.http_address,
		.port = (int)srv->cfg.http_port,
		.max_body = (size_t)srv->cfg.max_body_size,
		.head = api_check,
		.done = api_done,
		.tls_cert = given(srv->cfg.tls_cert),
		.tls_key = given(srv->cfg.tls_key),
		.tls_client_ca = given(srv->cfg.tls_client_ca),
	};

	srv->defaults = (struct job_defaults){
		.cpus = srv->cfg.task_cpu,
		.mem = (double)srv->cfg.task_mem,
		.disk = (double)srv->cfg.task_disk,
		.user = srv->cfg.user,
		.epsilon_s = srv->cfg.task_epsilon,
	};
	if (uv_loop_init(&srv->loop) < 0)
		fatalx("cannot initialise the event loop");
	srv->loop.data = srv;
	srv->reg = registry_new();
	if (open_stores(srv, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		return -1;
	}
	srv->zones = schedule_zones_new();
	srv->metrics = metrics_new(clock_now_ms());
	srv->events = events_new();
	/* before the engine starts: the runs it recovers count */
	if (prometheus_new(srv->events, srv->cfg.metrics_per_job, &srv->prom) < 0) {
		log_warnx("events: too many subscribers for the Prometheus metrics");
		return -1;
	}
	if (load_jobs(srv) < 0 || check_open(srv) < 0)
		return -1;
	srv->clock = clock_uv_new(&srv->loop);
	/* A write to a client that went away must fail with EPIPE, and a write past a file size limit (ulimit -f)
	 * with EFBIG (a store write then answers 507), not kill the server; tasks get every signal's default
	 * disposition back when they are spawned. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	if (http_server_start(&srv->loop, &hopt, api_handle, &srv->api, &srv->http, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		return -1;
	}
	srv->leader = server_advertise_address(&srv->cfg, http_server_port(srv->http));
	if (start_runner(srv, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		return -1;
	}
	struct engine_config ecfg = {
		.hostname = srv->cfg.hostname,
		.max_running = srv->cfg.max_running > 0 ? (int)srv->cfg.max_running : 4 * (int)uv_available_parallelism(),
		.failure_retry_ms = srv->cfg.failure_retry,
		.disable_after_failures = (int)srv->cfg.disable_after_failures,
		.history_max_runs = (int)srv->cfg.history_max_runs,
		.history_max_age_ms = srv->cfg.history_max_age * 1000,
		.audit_max_age_ms = srv->cfg.audit_retention_days * 86400000LL,
		.prune_interval_ms = srv->cfg.prune_interval,
		.kill_grace_ms = srv->cfg.kill_grace,
		.log_cap = (size_t)srv->cfg.log_cap,
		.clock = srv->clock,
		.runner = srv->runner,
		.history = srv->history,
		.output = srv->output,
		.metrics = srv->metrics,
		.events = srv->events,
		.clock_trusted = srv->pg ? server_pg_clock_trusted : NULL,
		.clock_ctx = srv->pg,
	};
	notify_settings(&srv->cfg, &ncfg);
	ncfg.output = srv->output;
	srv->notify = notify_new(&srv->loop, &ncfg, srv->events, srv->metrics, err, sizeof(err));
	if (srv->notify == NULL) {
		log_warnx("%s", err);
		return -1;
	}
	srv->control = control_new(&(struct control_config){
		.reg = srv->reg,
		.state = srv->state,
		.zones = srv->zones,
		.defaults = &srv->defaults,
		.events = srv->events,
		.clock = srv->clock,
	});
	if (net_client_new(&srv->loop, &srv->net) < 0) {
		log_warnx("cannot start the HTTP client that proxies to the leader");
		return -1;
	}
	/* The leader proxy verifies the leader with --tls-ca; where the leader asks agents for client certificates,
	 * the proxy presents this server's own, for the agent traffic it forwards. */
	struct net_tls_options tls = {.ca = given(srv->cfg.tls_ca)};
	if (given(srv->cfg.tls_client_ca)) {
		tls.cert = srv->cfg.tls_cert;
		tls.key = srv->cfg.tls_key;
	}
	if (net_client_set_tls(srv->net, &tls, err, sizeof(err)) < 0) {
		log_warnx("the leader proxy's TLS: %s", err);
		return -1;
	}
	srv->api = (struct api_env){
		.reg = srv->reg,
		.state = srv->state,
		.zones = srv->zones,
		.defaults = &srv->defaults,
		.metrics = srv->metrics,
		.leader = srv->leader,
		.history = srv->history,
		.output = srv->output,
		.control = srv->control,
		.events = srv->events,
		.loop = &srv->loop,
		.job_history_limit = srv->cfg.job_history_limit,
		.guard = srv->guard,
		.auth = srv->auth,
		.prom = srv->prom,
		.fleet = srv->fleet,
		.agent_token = srv->agent_token,
		.tls = http_server_tls(srv->http),
		.agent_client_cert = given(srv->cfg.tls_client_ca) != NULL,
		.cluster_view = cluster_view,
		.cluster_ctx = srv,
		.self = srv->leader,
		.net = srv->net,
		.no_leader = no_leader,
		.sqlite_dir = srv->store ? srv->cfg.data_dir : NULL,
	};
	srv->api.event_hub = event_stream_hub_new(&srv->loop, srv->events, &srv->api);
	srv->role = server_role_new(&(struct server_role_config){.reg = srv->reg, .state = srv->state,
		.zones = srv->zones, .engine = ecfg, .control = srv->control, .api = &srv->api, .self = srv->leader,
		.load = srv->pg ? server_pg_load : NULL, .load_ctx = srv->pg});
	if (srv->pg) {
		/* standalone: it leads, and again by itself after an outage */
		server_pg_hold(srv->pg, srv->cfg.zk_hosts == NULL || !srv->cfg.zk_hosts[0]);
		server_pg_watch(srv->pg, srv->role, pg_lost, srv);
	}
	if (srv->cfg.zk_hosts && srv->cfg.zk_hosts[0]) {
		/* HA: a follower until ZooKeeper elects this server */
		if (server_cluster_new(&srv->loop, &srv->cfg, srv->leader, srv->role, &srv->ha, err, sizeof(err)) < 0) {
			log_warnx("%s", err);
			return -1;
		}
		if (srv->pg)
			server_cluster_gate(srv->ha, clock_lets_lead, srv->pg);
	} else if (server_role_elect(srv->role, 1) < 0) { /* standalone: the one server there is leads from the start */
		return -1;
	}
	uv_signal_init(&srv->loop, &srv->sigusr1);
	uv_signal_init(&srv->loop, &srv->sigusr2);
	srv->sigusr1.data = srv->sigusr2.data = srv;
	uv_signal_start(&srv->sigusr1, on_role_signal, SIGUSR1);
	uv_signal_start(&srv->sigusr2, on_role_signal, SIGUSR2);
	uv_signal_init(&srv->loop, &srv->sigint);
	uv_signal_init(&srv->loop, &srv->sigterm);
	srv->sigint.data = srv->sigterm.data = srv;
	uv_signal_start(&srv->sigint, on_signal, SIGINT);
	uv_signal_start(&srv->sigterm, on_signal, SIGTERM);
	uv_signal_init(&srv->loop, &srv->sighup);
	srv->sighup.data = srv;
	uv_signal_start(&srv->sighup, on_reload_signal, SIGHUP);
	warn_if_root(&srv->cfg);
	log_info("gnomon %s listening on %s://%s:%d/ (data in %s)", GNOMON_VERSION,
	    http_server_tls(srv->http) ? "https" : "http", srv->cfg.http_address,
	    http_server_port(srv->http), srv->cfg.data_dir);
	return 0;
}

/* Close what start() opened: after a failed start the handles are closed here; after a signal they already
 * are. Then let the loop finish the closing and free everything. */
static void stop(struct server *srv)
{
	if (srv->loop.data == srv) {
		http_server_stop(srv->http); /* first: the requests it proxies let go of theirs */
		net_client_close(srv->net);
		event_stream_hub_close(srv->api.event_hub);
		notify_stop(srv->notify);
		server_cluster_free(srv->ha);
		server_role_free(srv->role);
		server_pg_close(srv->pg);
		runner_free(srv->runner);
		server_agent_free(srv->local);
		srv->local = NULL;
		srv->ha = NULL;
		srv->http = NULL;
		srv->net = NULL;
		srv->notify = NULL;
		srv->role = NULL;
		srv->runner = NULL;
		uv_run(&srv->loop, UV_RUN_DEFAULT);
		if (uv_loop_close(&srv->loop) == UV_EBUSY)
			log_warnx("event loop closed with handles still open");
	}
	clock_uv_free(srv->clock);
	event_stream_hub_free(srv->api.event_hub);
	control_free(srv->control);
	prometheus_free(srv->prom);
	metrics_free(srv->metrics);
	events_free(srv->events);
	schedule_zones_free(srv->zones);
	registry_free(srv->reg);
	history_free(srv->history); /* before the store, whose connection it uses */
	state_free(srv->state);
	store_close(srv->store);
	server_pg_free(srv->pg); /* after its backends, and after the loop closed its connection */
	run_output_free(srv->output);
	api_guard_free(srv->guard);
	api_auth_free(srv->auth);
	free(srv->leader);
	config_free(server_options, &srv->cfg);
	free(srv->agent_token);
}

int server_main(int argc, char **argv)
{
	struct server srv;
	int rc;

	memset(&srv, 0, sizeof(srv));
	if ((rc = configure(&srv, argc, argv)) >= 0) {
		api_guard_free(srv.guard);
		api_auth_free(srv.auth);
		config_free(server_options, &srv.cfg);
		free(srv.agent_token);
		return rc;
	}
	rc = start(&srv);
	if (rc == 0)
		uv_run(&srv.loop, UV_RUN_DEFAULT); /* until SIGINT or SIGTERM */
	stop(&srv);
	return rc == 0 ? 0 : 1;
}
