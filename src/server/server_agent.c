/* HA's local agent as a process of its own (server_agent.h). */
#include "server/server_agent.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/server_config.h"
#include "util/log.h"
#include "util/mkdirs.h"
#include "util/self_path.h"
#include "util/xmalloc.h"

#define CHECK_MS 3000         /* how often the agent is looked for */
#define CHECK_MAX_MS 300000   /* between starts of an agent that keeps exiting, at most */
#define ARGS_MAX 32

extern char **environ;

struct server_agent {
	uv_timer_t timer;
	char *program;            /* gnomon-agent beside this binary */
	char *dir, *lock, *log;   /* DATA_DIR/agent, its lock, DATA_DIR/agent.log */
	char *argv[ARGS_MAX];     /* its command line (allocated from argv[1]) */
	char **env;               /* the server's environment but GNOMON_CONFIG (the server's options file) */
	uint64_t wait_ms;         /* until the next check */
	bool started;             /* started at the last check */
	bool stop;                /* --stop-tasks-on-exit */
};

/* The pid in the agent's lock file when an agent holds the lock (it runs), 0 when none does, or a negative errno. */
static int running(const struct server_agent *sa, pid_t *pid)
{
	char text[32];
	ssize_t n;
	int fd, rc = 0;

	*pid = 0;
	if ((fd = open(sa->lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		close(fd); /* free: no agent; closing lets the lock go */
		return 0;
	}
	if (errno != EWOULDBLOCK)
		rc = -errno;
	else if ((n = pread(fd, text, sizeof(text) - 1, 0)) > 0) {
		text[n] = '\0';
		*pid = (pid_t)strtol(text, NULL, 10);
		rc = 1;
	} else
		rc = 1; /* held, its pid not written yet */
	close(fd);
	return rc;
}

/* Start the agent detached: a child that starts a session of its own, forks the agent and exits, so that the
 * agent is nobody's child and no signal of the server's session reaches it. Only async-signal-safe calls between
 * fork and exec (the server has threads). The wait for the middle child is the time of a fork. */
static int spawn(struct server_agent *sa)
{
	int in = open("/dev/null", O_RDONLY | O_CLOEXEC), out, status, rc = 0;
	long max_fd = sysconf(_SC_OPEN_MAX);
	sigset_t none;
	pid_t mid;

	if (in < 0)
		return -errno;
	if ((out = open(sa->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640)) < 0) {
		rc = -errno;
		close(in);
		return rc;
	}
	sigemptyset(&none);
	if (max_fd < 3 || max_fd > 65536)
		max_fd = 65536;
	if ((mid = fork()) < 0) {
		rc = -errno;
	} else if (mid == 0) {
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (setsid() < 0)
			_exit(127);
		pid_t agent = fork();
		if (agent != 0)
			_exit(agent < 0 ? 127 : 0);
		if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
			_exit(127);
		/* the server's sockets and files are not the agent's (the working directory stays: relative paths) */
		if (close_range(3, ~0U, 0) < 0) {
			for (long fd = 3; fd < max_fd; fd++)
				close((int)fd);
		}
		execve(sa->program, sa->argv, sa->env);
		_exit(127);
	} else {
		while (waitpid(mid, &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			rc = -ECHILD;
	}
	close(in);
	close(out);
	return rc;
}

/* Look for the agent; start it when it is gone (again later when it keeps exiting). */
static void check(struct server_agent *sa)
{
	pid_t pid;
	int rc = running(sa, &pid);

	if (rc > 0) {
		sa->started = false;
		sa->wait_ms = CHECK_MS;
	} else if (rc < 0) {
		log_warnx("local agent: cannot read %s: %s", sa->lock, strerror(-rc));
	} else {
		if (sa->started) /* it exited since the last check: not at once again */
			sa->wait_ms = sa->wait_ms * 2 > CHECK_MAX_MS ? CHECK_MAX_MS : sa->wait_ms * 2;
		if ((rc = spawn(sa)) < 0)
			log_warnx("local agent: cannot start %s: %s", sa->program, strerror(-rc));
		else
			log_info("local agent: started %s --name %s (data in %s, log in %s)%s", sa->program, sa->argv[6],
			    sa->dir, sa->log, sa->started ? ": it had exited (see its log)" : "");
		sa->started = rc == 0;
	}
}

static void on_timer(uv_timer_t *h)
{
	struct server_agent *sa = h->data;

	check(sa);
	uv_timer_start(&sa->timer, on_timer, sa->wait_ms, 0);
}

/* The agent's command line (see server_agent.h), into sa->argv. */
static void command(struct server_agent *sa, const struct server_config *cfg, int port, const char *address)
{
	const char *http = cfg->http_address;
	bool v6 = strchr(http, ':') != NULL;
	size_t n = 0;

	if (strcmp(http, "0.0.0.0") == 0 || http[0] == '\0')
		http = "127.0.0.1";
	else if (strcmp(http, "::") == 0)
		http = "::1";
	sa->argv[n++] = xstrdup("gnomon-agent");
	sa->argv[n++] = xstrdup("--server");
	if (cfg->tls_cert && cfg->tls_cert[0]) /* by the advertised name, which the certificate is for */
		sa->argv[n++] = xasprintf("https://%s", address);
	else
		sa->argv[n++] = xasprintf(v6 ? "http://[%s]:%d" : "http://%s:%d", http, port);
	sa->argv[n++] = xstrdup("--data-dir");
	sa->argv[n++] = xstrdup(sa->dir);
	sa->argv[n++] = xstrdup("--name");
	sa->argv[n++] = xasprintf("%s:%d", cfg->hostname, port); /* argv[6], logged */
	sa->argv[n++] = xasprintf("--attribute=server=%s", address);
	sa->argv[n++] = xasprintf("--log-level=%s", cfg->log_level);
	sa->argv[n++] = xasprintf("--log-json=%s", cfg->log_json ? "true" : "false");
	sa->argv[n++] = xasprintf("--keep-work-dirs=%s", cfg->keep_work_dirs);
	sa->argv[n++] = xasprintf("--keep-work-dirs-max-size=%lld", cfg->keep_work_dirs_max_size);
	sa->argv[n++] = xasprintf("--spawn-threads=%lld", cfg->spawn_threads);
	sa->argv[n++] = xasprintf("--stop-tasks-on-exit=%s", cfg->stop_tasks_on_exit ? "true" : "false");
	sa->argv[n++] = xasprintf("--container-runtime=%s", cfg->container_runtime);
	sa->argv[n++] = xasprintf("--enforce-resources=%s", cfg->enforce_resources ? "true" : "false");
	sa->argv[n++] = xasprintf("--task-pids-max=%lld", cfg->task_pids_max);
	if (cfg->container_host_paths && cfg->container_host_paths[0])
		sa->argv[n++] = xasprintf("--container-host-paths=%s", cfg->container_host_paths);
	if (cfg->agent_token_file && cfg->agent_token_file[0])
		sa->argv[n++] = xasprintf("--agent-token-file=%s", cfg->agent_token_file);
	if (cfg->tls_ca && cfg->tls_ca[0])
		sa->argv[n++] = xasprintf("--tls-ca=%s", cfg->tls_ca);
	if (cfg->tls_client_ca && cfg->tls_client_ca[0]) { /* the server's own certificate as the agent's */
		sa->argv[n++] = xasprintf("--tls-cert=%s", cfg->tls_cert);
		sa->argv[n++] = xasprintf("--tls-key=%s", cfg->tls_key);
	}
	sa->argv[n] = NULL;
}

static void environment(struct server_agent *sa)
{
	size_t n = 0;

	while (environ[n])
		n++;
	sa->env = xcalloc(n + 1, sizeof(*sa->env));
	n = 0;
	for (char **e = environ; *e; e++) {
		if (strncmp(*e, "GNOMON_CONFIG=", 14) != 0)
			sa->env[n++] = xstrdup(*e);
	}
}

static void on_close(uv_handle_t *h)
{
	struct server_agent *sa = h->data;

	for (size_t i = 0; sa->argv[i]; i++)
		free(sa->argv[i]);
	for (size_t i = 0; sa->env && sa->env[i]; i++)
		free(sa->env[i]);
	free(sa->env);
	free(sa->program);
	free(sa->dir);
	free(sa->lock);
	free(sa->log);
	free(sa);
}

int server_agent_start(uv_loop_t *loop, const struct server_config *cfg, int port, const char *address,
    struct server_agent **out, char *err, size_t errlen)
{
	struct server_agent *sa = xcalloc(1, sizeof(*sa));
	int rc;

	uv_timer_init(loop, &sa->timer);
	sa->timer.data = sa;
	sa->dir = xasprintf("%s/agent", cfg->data_dir);
	sa->lock = xasprintf("%s/agent.lock", sa->dir);
	sa->log = xasprintf("%s/agent.log", cfg->data_dir);
	sa->stop = cfg->stop_tasks_on_exit;
	sa->wait_ms = CHECK_MS;
	command(sa, cfg, port, address);
	environment(sa);
	if ((rc = self_path_beside("gnomon-agent", &sa->program, err, errlen)) < 0 ||
	    ((rc = mkdirs(sa->dir, 0711)) < 0 && snprintf(err, errlen, "cannot create %s: %s", sa->dir,
	    strerror(-rc)) > 0)) {
		uv_close((uv_handle_t *)&sa->timer, on_close);
		return rc;
	}
	if (access(sa->program, X_OK) < 0) {
		rc = -errno;
		snprintf(err, errlen, "the local agent's program %s: %s (--local-agent=false runs none)", sa->program,
		    strerror(errno));
		uv_close((uv_handle_t *)&sa->timer, on_close);
		return rc;
	}
	log_info("local agent: a gnomon-agent process of its own in a cluster (--zk-hosts), whose tasks outlive this "
	    "server; data in %s, log in %s", sa->dir, sa->log);
	if (cfg->agent_token_file == NULL || cfg->agent_token_file[0] == '\0')
		log_warnx("local agent: no --agent-token-file: a leader on another machine refuses the agents that reach "
		    "it through another server (this one's local agent too, while this server follows): give every server "
		    "of the cluster the same --agent-token-file");
	check(sa);
	uv_timer_start(&sa->timer, on_timer, sa->wait_ms, 0);
	*out = sa;
	return 0;
}

void server_agent_free(struct server_agent *sa)
{
	pid_t pid;

	if (sa == NULL)
		return;
	if (sa->stop && running(sa, &pid) > 0 && pid > 0) {
		log_info("local agent: stopping it (pid %ld) and its tasks (--stop-tasks-on-exit)", (long)pid);
		if (kill(pid, SIGTERM) < 0)
			log_warn("kill %ld", (long)pid);
	}
	uv_timer_stop(&sa->timer);
	uv_close((uv_handle_t *)&sa->timer, on_close);
}
