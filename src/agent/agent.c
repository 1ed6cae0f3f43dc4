/* `gnomon agent`: start-up (options, the data directory and its lock, the runner, the journal reconciled with
 * it), the loop, and the stop at SIGTERM or SIGINT, which leaves the running tasks to their executors. */
#include "agent/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent_internal.h"
#include "net/net.h"
#include "runner/runner_local.h"
#include "runner/workdirs.h"
#include "util/log.h"
#include "util/strmap.h"
#include "util/xmalloc.h"

/* What runner_local's sweep asks of a working directory it finds: a task of the journal is open (reconciled
 * next), anything else was released before a crash let its directory go (kept as a lost one's, if at all). */
static int past_task(void *ctx, const char *task_id, struct runner_past *out)
{
	struct agent *a = ctx;

	if (strmap_get(a->by_id, task_id))
		return 0;
	out->ended = true;
	out->outcome = RUNNER_OUTCOME_LOST;
	out->job = xstrdup("");
	out->task_id = xstrdup(task_id);
	return 0;
}

static unsigned spawn_threads(const struct agent *a)
{
	unsigned n = 2 * uv_available_parallelism();

	if (a->cfg.spawn_threads > 0)
		return (unsigned)a->cfg.spawn_threads;
	return n > 8 ? 8 : n;
}

/* The data directory, its subdirectories and its lock: one agent per data directory. fd: the lock's. */
static int open_data_dir(struct agent *a, int *fd, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int rc;

	/* 0711 as the server's: runAsUser tasks pass through to their working directory under work/, not list */
	if (mkdir(a->cfg.data_dir, 0711) < 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "cannot create the data directory %s: %s", a->cfg.data_dir, strerror(errno));
		return rc;
	}
	snprintf(path, sizeof(path), "%s/logs", a->cfg.data_dir);
	if (mkdir(path, 0750) < 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "cannot create %.300s: %s", path, strerror(errno));
		return rc;
	}
	snprintf(path, sizeof(path), "%s/agent.lock", a->cfg.data_dir);
	if ((*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 || flock(*fd, LOCK_EX | LOCK_NB) < 0) {
		rc = -errno;
		snprintf(err, errlen, rc == -EWOULDBLOCK ? "another agent uses the data directory %.300s" : "cannot lock %.300s: %s",
		    rc == -EWOULDBLOCK ? a->cfg.data_dir : path, strerror(errno));
		return rc;
	}
	/* the pid, for whoever looks for the agent of this directory (a server's local agent: server_agent.c) */
	if (ftruncate(*fd, 0) < 0 || dprintf(*fd, "%ld\n", (long)getpid()) < 0)
		log_warn("cannot write the pid into %s", path);
	return 0;
}

/* The lease its tasks' executors check (exec_lease.h), in the data directory, by its absolute path. */
static int open_lease(struct agent *a, char *path, size_t len, char *err, size_t errlen)
{
	char *dir = realpath(a->cfg.data_dir, NULL);
	int rc;

	if (dir == NULL) {
		rc = -errno;
		snprintf(err, errlen, "cannot resolve the data directory %.300s: %s", a->cfg.data_dir, strerror(errno));
		return rc;
	}
	snprintf(path, len, "%s/%s", dir, LEASE_FILE);
	free(dir);
	return lease_open_writer(&a->lease, path, err, errlen);
}

static int start_runner(struct agent *a, char *err, size_t errlen)
{
	char lease_path[PATH_MAX];
	struct runner_local_config rcfg = {
		.data_dir = a->cfg.data_dir,
		.hostname = a->hostname,
		.agent_id = a->id,
		.spawn_threads = spawn_threads(a),
		.keep_work_dirs_max = a->cfg.keep_work_dirs_max_size,
		/* by default they go on under their executors: the next start adopts them */
		.stop_tasks_on_exit = a->cfg.stop_tasks_on_exit,
		.enforce_resources = a->cfg.enforce_resources,
		.task_pids_max = (uint64_t)a->cfg.task_pids_max,
		.past = past_task,
		.past_ctx = a,
	};
	struct runner_listener l;
	int rc;

	if ((rc = open_lease(a, lease_path, sizeof(lease_path), err, errlen)) < 0)
		return rc;
	rcfg.lease_file = lease_path;
	if (workdirs_keep_parse(a->cfg.keep_work_dirs, &rcfg.keep_work_dirs) < 0)
		rcfg.keep_work_dirs = WORKDIRS_KEEP_NEVER; /* agent_configure() checked it */
	container_runtime_detect(a->cfg.container_runtime, &a->ctr);
	a->ctr.host_paths = a->cfg.container_host_paths;
	container_log(&a->ctr);
	container_runtime_attributes(&a->ctr, a->attributes);
	rcfg.containers = &a->ctr;
	if ((rc = runner_local_new(a->loop, &rcfg, &a->runner, err, errlen)) < 0)
		return rc;
	agent_listener(a, &l);
	runner_attach(a->runner, &l);
	return 0;
}

/* Stop polling and sending; the tasks go on under their executors. The loop ends once the handles are closed. */
static void stop(struct agent *a)
{
	if (a->stopping)
		return;
	a->stopping = true;
	net_client_close(a->net); /* what is in flight is cancelled */
	a->net = NULL;
	runner_free(a->runner);
	a->runner = NULL;
	while (a->tasks) {
		a->tasks->out_call = NULL; /* cancelled with the client */
		agent_task_free(a->tasks);
	}
	uv_close((uv_handle_t *)&a->session_timer, NULL);
	uv_close((uv_handle_t *)&a->retry_timer, NULL);
	uv_close((uv_handle_t *)&a->sigint, NULL);
	uv_close((uv_handle_t *)&a->sigterm, NULL);
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct agent *a = h->data;

	log_info("received signal %d: stopping (%s)", signum, a->cfg.stop_tasks_on_exit ? "its running tasks are "
	    "killed: --stop-tasks-on-exit" : "running tasks go on under their executors");
	stop(a);
}

/* A string option's value, NULL when unset or empty. */
static const char *given(const char *s)
{
	return s && s[0] ? s : NULL;
}

/* Everything before the first registration. 0, or -1 (logged). */
static int start(struct agent *a, int *lock_fd)
{
	struct agent_journal_entry *e = NULL;
	char err[1024];
	size_t n = 0;
	int rc;

	if (open_data_dir(a, lock_fd, err, sizeof(err)) < 0 || agent_id_load(a->cfg.data_dir, a->id, err, sizeof(err)) < 0 ||
	    agent_epoch_load(a->cfg.data_dir, &a->epoch, err, sizeof(err)) < 0 ||
	    agent_journal_load(a->cfg.data_dir, &e, &n, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		return -1;
	}
	agent_default_resources(a);
	agent_servers_restore(a);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	a->by_id = strmap_new();
	a->events = json_array();
	for (size_t i = 0; i < n; i++) /* before the runner's sweep, which asks whose directories these are */
		agent_task_add(a, e[i].task_id, e[i].job, e[i].task);
	if ((rc = net_client_new(a->loop, &a->net)) < 0) {
		log_warnx("cannot start the HTTP client: %s", strerror(-rc));
		agent_journal_entries_free(e, n);
		return -1;
	}
	if (net_client_set_tls(a->net, &(struct net_tls_options){.ca = given(a->cfg.tls_ca),
		.cert = given(a->cfg.tls_cert), .key = given(a->cfg.tls_key)}, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		agent_journal_entries_free(e, n);
		return -1;
	}
	uv_timer_init(a->loop, &a->session_timer);
	uv_timer_init(a->loop, &a->retry_timer);
	a->session_timer.data = a->retry_timer.data = a;
	uv_signal_init(a->loop, &a->sigint);
	uv_signal_init(a->loop, &a->sigterm);
	a->sigint.data = a->sigterm.data = a;
	uv_signal_start(&a->sigint, on_signal, SIGINT);
	uv_signal_start(&a->sigterm, on_signal, SIGTERM);
	if (start_runner(a, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		agent_journal_entries_free(e, n);
		return -1;
	}
	agent_tasks_recover(a, e, n);
	agent_journal_entries_free(e, n);
	log_info("gnomon agent %s: %s (id %s, epoch %" PRIu64 ", %.3g cpus, %" PRId64 " MiB memory, %" PRId64 " MiB disk, "
	    "data in %s, %zu task%s in its journal)", GNOMON_VERSION, a->cfg.name, a->id, a->epoch, a->cpus, a->mem, a->disk,
	    a->cfg.data_dir, n, n == 1 ? "" : "s");
	agent_register(a);
	return 0;
}

int agent_main(int argc, char **argv)
{
	struct agent a;
	uv_loop_t loop;
	int rc, lock_fd = -1;

	memset(&a, 0, sizeof(a));
	a.lease.fd = -1;
	if ((rc = agent_configure(&a, argc, argv)) < 0) {
		if (uv_loop_init(&loop) < 0)
			fatalx("cannot initialise the event loop");
		a.loop = &loop;
		rc = start(&a, &lock_fd);
		if (rc < 0 && a.net) /* a failed start: close what it opened */
			stop(&a);
		uv_run(&loop, UV_RUN_DEFAULT); /* until SIGINT or SIGTERM */
		if (uv_loop_close(&loop) == UV_EBUSY)
			log_warnx("event loop closed with handles still open");
		rc = rc < 0 ? 1 : 0;
	}
	while (a.tasks) /* a start that failed before the client was there */
		agent_task_free(a.tasks);
	agent_servers_free(&a);
	free(a.auth_header);
	free(a.session);
	free(a.leader);
	json_decref(a.attributes);
	json_decref(a.events);
	json_decref(a.sending);
	if (a.by_id)
		strmap_free(a.by_id);
	lease_close(&a.lease);
	if (lock_fd >= 0)
		close(lock_fd);
	config_free(agent_options, &a.cfg);
	return rc;
}
