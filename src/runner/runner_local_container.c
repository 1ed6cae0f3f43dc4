/* The embedded agent's container tasks (exec/container.h): the runtime's `run` is the task's process, run by its
 * executor like any command (attached, so its output is captured and capped and its exit code is the
 * container's). Beside the task's journal a .container file marks it, so that an agent restarted while it ran
 * knows it too. When such a task ends (exit, kill, timeout) its container is removed (`rm -f`) before its end is
 * reported: no container outlives its run. A reconciliation also removes the containers of this data directory
 * whose task this agent no longer holds (their executor is gone). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/container.h"
#include "history/run_output_files.h"
#include "runner/runner_local_internal.h"
#include "runner/workdirs.h"
#include "util/container_rules.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define PS_MAX ((size_t)1 << 20) /* bytes of `ps` output read, at most */

/* One `rm -f` or `ps` the loop waits for. */
struct ctr_proc {
	uv_process_t proc;
	uv_pipe_t out;               /* ps: its stdout */
	int open;                    /* handles not closed yet */
	struct local *l;             /* NULL once the runner is gone */
	struct local_task *t;        /* rm: the task whose end waits for it; NULL once the runner is gone */
	local_then_fn then;
	char *buf;                   /* ps: what it printed */
	size_t len;
	struct ctr_proc *prev, *next; /* in l->ctr_procs */
};

static void marker_path(const struct local *l, const char *task_id, char *out, size_t len)
{
	char journal[PATH_MAX];

	local_journal(l, task_id, journal, sizeof(journal));
	snprintf(out, len, "%s" WORKDIRS_CONTAINER_SUFFIX, journal);
}

int local_container_mark(const struct local *l, const char *task_id, char *err, size_t errlen)
{
	char path[PATH_MAX + 16];
	int fd, rc = 0;

	marker_path(l, task_id, path, sizeof(path));
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot write %.300s: %s", path, strerror(errno));
		return rc;
	}
	close(fd);
	return 0;
}

/* Whether the task runs a container (its marker is there). */
static bool is_container(const struct local *l, const char *task_id)
{
	char path[PATH_MAX + 16];

	marker_path(l, task_id, path, sizeof(path));
	return access(path, F_OK) == 0;
}

static void link_proc(struct local *l, struct ctr_proc *p)
{
	p->l = l;
	p->next = l->ctr_procs;
	if (l->ctr_procs)
		l->ctr_procs->prev = p;
	l->ctr_procs = p;
}

static void unlink_proc(struct ctr_proc *p)
{
	if (p->l == NULL)
		return;
	*(p->prev ? &p->prev->next : &p->l->ctr_procs) = p->next;
	if (p->next)
		p->next->prev = p->prev;
	p->l = NULL;
}

static void on_closed(uv_handle_t *h)
{
	struct ctr_proc *p = h->data;

	if (--p->open > 0)
		return;
	unlink_proc(p);
	if (p->t && p->then)
		p->then(p->t);
	free(p->buf);
	free(p);
}

static void close_all(struct ctr_proc *p)
{
	uv_close((uv_handle_t *)&p->proc, on_closed);
	if (p->out.data && !uv_is_closing((uv_handle_t *)&p->out))
		uv_close((uv_handle_t *)&p->out, on_closed);
}

static void on_rm_exit(uv_process_t *proc, int64_t status, int sig)
{
	struct ctr_proc *p = proc->data;

	/* docker has no --ignore: its rm of a container --rm removed already exits 1 */
	if ((status != 0 && (p->l == NULL || p->l->ctr.kind == CONTAINER_PODMAN || status != 1)) || sig != 0)
		log_warnx("task %s: removing its container failed (status %d, signal %d)", p->t ? p->t->task_id : "?",
		    (int)status, sig);
	close_all(p);
}

/* Spawn argv; 0, or a negative errno (p's handles then closed: then still follows). */
static int spawn(struct local *l, struct ctr_proc *p, char **argv, uv_exit_cb on_exit, bool read_out)
{
	uv_stdio_container_t io[3] = {{.flags = UV_IGNORE}, {.flags = UV_IGNORE}, {.flags = UV_IGNORE}};
	uv_process_options_t o = {.exit_cb = on_exit, .file = argv[0], .args = argv, .stdio = io, .stdio_count = 3};
	int rc;

	p->proc.data = p;
	if (read_out) {
		uv_pipe_init(l->loop, &p->out, 0);
		p->out.data = p;
		p->open++;
		io[1] = (uv_stdio_container_t){.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&p->out};
	}
	p->open++;
	link_proc(l, p);
	if ((rc = uv_spawn(l->loop, &p->proc, &o)) < 0) {
		log_warnx("cannot run %s: %s", argv[0], uv_strerror(rc));
		close_all(p);
	}
	return rc;
}

int local_container_host_paths(const struct local *l, const char *container, char *err, size_t errlen)
{
	json_t *c = json_loads(container ? container : "", 0, NULL), *v;
	char real[PATH_MAX];
	size_t i;
	int rc = 0;

	json_array_foreach(json_object_get(c, "volumes"), i, v) {
		const char *host = json_string_value(json_object_get(v, "hostPath"));
		if (host == NULL || host[0] == '\0' || realpath(host, real) == NULL || strcmp(real, host) == 0 ||
		    container_rules_host_path_ok(real, l->ctr.host_paths))
			continue;
		snprintf(err, errlen, "container.volumes[%zu].hostPath: '%.200s' is '%.200s', which may not be mounted on "
		    "this agent (--container-host-paths %.200s)", i, host, real, l->ctr.host_paths && l->ctr.host_paths[0] ?
		    l->ctr.host_paths : "not given: " CONTAINER_RULES_DEFAULT);
		rc = -EACCES;
		break;
	}
	json_decref(c);
	return rc;
}

/* Whether a variable of the task's environment goes into its container: all but the defaults that describe the
 * agent's account (PATH, HOME, USER, LOGNAME, LANG), unless the job sets them. */
static bool into_container(const struct runner_spec *s, const char *name, size_t len)
{
	static const char *const host[] = {"PATH", "HOME", "USER", "LOGNAME", "LANG"};

	for (size_t i = 0; i < s->n_env; i++)
		if (strlen(s->env[i].name) == len && strncmp(s->env[i].name, name, len) == 0)
			return true;
	for (size_t i = 0; i < sizeof(host) / sizeof(host[0]); i++)
		if (strlen(host[i]) == len && strncmp(host[i], name, len) == 0)
			return false;
	return true;
}

/* The variable name= of envp, or NULL. */
static const char *env_of(char *const *envp, const char *name)
{
	size_t len = strlen(name);

	for (char *const *e = envp; e && *e; e++)
		if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
			return *e;
	return NULL;
}

/* The runtime's environment, in one allocation: the entries of v (n of them, NULLs skipped). */
static char **pack_env(const char *const *v, size_t n)
{
	size_t bytes = (n + 1) * sizeof(char *), k = 0;
	char **out, *p;

	for (size_t i = 0; i < n; i++)
		bytes += v[i] ? strlen(v[i]) + 1 : 0;
	out = xmalloc(bytes);
	p = (char *)(out + n + 1);
	for (size_t i = 0; i < n; i++) {
		if (v[i] == NULL)
			continue;
		out[k++] = memcpy(p, v[i], strlen(v[i]) + 1);
		p += strlen(v[i]) + 1;
	}
	out[k] = NULL;
	return out;
}

int local_container_env(const struct runner_spec *s, const struct exec_account *account, char *const *envp,
    const char *path, char ***clean, char *err, size_t errlen)
{
	const char *path_var = getenv("PATH"), *lang = getenv("LANG"), *xdg = getenv("XDG_RUNTIME_DIR");
	char path_e[4096], home_e[PATH_MAX + 8], lang_e[256], xdg_e[PATH_MAX + 32];
	FILE *f = NULL;
	int fd, rc = 0;

	*clean = NULL;
	for (char *const *e = envp; e && *e; e++) {
		if (strchr(*e, '\n') != NULL && into_container(s, *e, strcspn(*e, "="))) {
			snprintf(err, errlen, "environment variable %.*s: a value with a newline cannot be given to a "
			    "container", (int)strcspn(*e, "="), *e);
			return -EINVAL;
		}
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0 ||
	    (account->launcher && fchown(fd, account->user.uid, account->user.gid) < 0) ||
	    (f = fdopen(fd, "w")) == NULL)
		rc = -errno;
	for (char *const *e = envp; rc == 0 && e && *e; e++)
		if (into_container(s, *e, strcspn(*e, "=")) && fprintf(f, "%s\n", *e) < 0)
			rc = -errno;
	if (f != NULL) {
		if (fclose(f) != 0 && rc == 0)
			rc = -errno;
	} else if (fd >= 0) {
		close(fd);
	}
	if (rc < 0) {
		snprintf(err, errlen, "cannot write %.300s: %s", path, strerror(-rc));
		return rc;
	}
	snprintf(path_e, sizeof(path_e), "PATH=%s", path_var && path_var[0] ? path_var : "/usr/local/bin:/usr/bin:/bin");
	snprintf(home_e, sizeof(home_e), "HOME=%s", account->user.home);
	snprintf(lang_e, sizeof(lang_e), "LANG=%s", lang ? lang : "");
	snprintf(xdg_e, sizeof(xdg_e), "XDG_RUNTIME_DIR=%s", xdg ? xdg : "");
	const char *v[] = {path_e, home_e, lang ? lang_e : NULL, xdg ? xdg_e : NULL, env_of(envp, "GNOMON_TASK_ID"),
		env_of(envp, "GNOMON_DATA_DIR")};
	*clean = pack_env(v, sizeof(v) / sizeof(v[0]));
	return 0;
}

/* The runtime's own message, from the end of the task's stderr, when the runtime failed (not the command). */
static void runtime_reason(const struct local *l, struct local_task *t)
{
	struct run_output_key key = {t->task_id};
	char path[PATH_MAX], tail[1024];
	ssize_t n = 0;
	off_t size;
	struct stat st;
	bool printed;
	int fd;

	if (t->result.end != RUNNER_END_EXITED || t->result.exit_code < 125)
		return;
	run_output_files_path(l->data_dir, &key, RUN_STDOUT, path, sizeof(path));
	printed = stat(path, &st) == 0 && st.st_size > 0;
	run_output_files_path(l->data_dir, &key, RUN_STDERR, path, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	if ((size = lseek(fd, 0, SEEK_END)) >= 0) {
		off_t from = size > (off_t)sizeof(tail) ? size - (off_t)sizeof(tail) : 0;
		n = pread(fd, tail, sizeof(tail), from);
	}
	close(fd);
	if (n > 0)
		container_failure_reason(&l->ctr, t->result.exit_code, printed, tail, (size_t)n, t->result.reason,
		    sizeof(t->result.reason));
}

bool local_container_ended(struct local *l, struct local_task *t, local_then_fn then)
{
	char name[CONTAINER_NAME_MAX], **argv;
	struct ctr_proc *p;

	if (l->ctr.kind == CONTAINER_NONE || !is_container(l, t->task_id))
		return false;
	runtime_reason(l, t);
	container_name(t->task_id, name);
	argv = container_rm_argv(&l->ctr, name);
	p = xcalloc(1, sizeof(*p));
	p->t = t;
	p->then = then;
	(void)spawn(l, p, argv, on_rm_exit, false); /* a failure is logged; then follows either way */
	free(argv);
	return true;
}

/* Remove one container nobody holds, without waiting. */
static void remove_orphan(struct local *l, const char *name)
{
	char **argv = container_rm_argv(&l->ctr, name);
	struct ctr_proc *p = xcalloc(1, sizeof(*p));

	log_info("container %s: its task is not running here any more: removed", name);
	(void)spawn(l, p, argv, on_rm_exit, false);
	free(argv);
}

/* The names ps printed, each removed unless one of the agent's tasks owns it. */
static void sweep_names(struct local *l, char *buf)
{
	char name[CONTAINER_NAME_MAX];
	size_t listed = 0, removed = 0;

	for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		bool held = false;
		for (struct local_task *t = l->tasks; t && !held; t = t->next) {
			container_name(t->task_id, name);
			held = strcmp(name, line) == 0;
		}
		listed++;
		if (!held && strncmp(line, "gnomon-", 7) == 0) {
			remove_orphan(l, line);
			removed++;
		}
	}
	log_debug("container sweep: %zu containers of this data directory, %zu removed", listed, removed);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	(void)h;
	b->base = xmalloc(suggested);
	b->len = suggested;
}

static void on_ps_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct ctr_proc *p = s->data;

	if (n > 0 && p->len + (size_t)n >= PS_MAX) { /* a list cut short could miss names: no sweep this time */
		log_warnx("container ps printed more than %zu bytes: containers not swept", PS_MAX);
		free(b->base);
		uv_close((uv_handle_t *)&p->out, on_closed);
		return;
	}
	if (n > 0) {
		p->buf = xrealloc(p->buf, p->len + (size_t)n + 1);
		memcpy(p->buf + p->len, b->base, (size_t)n);
		p->len += (size_t)n;
		p->buf[p->len] = '\0';
	}
	free(b->base);
	if (n < 0) {
		if (p->l)
			sweep_names(p->l, p->buf ? p->buf : (char[]){""});
		uv_close((uv_handle_t *)&p->out, on_closed);
	}
}

static void on_ps_exit(uv_process_t *proc, int64_t status, int sig)
{
	struct ctr_proc *p = proc->data;

	(void)status;
	(void)sig;
	uv_close((uv_handle_t *)&p->proc, on_closed);
}

void local_container_sweep(struct local *l)
{
	char **argv;
	struct ctr_proc *p;

	if (l->ctr.kind == CONTAINER_NONE)
		return;
	argv = container_ps_argv(&l->ctr, l->data_dir_abs);
	p = xcalloc(1, sizeof(*p));
	if (spawn(l, p, argv, on_ps_exit, true) == 0 && uv_read_start((uv_stream_t *)&p->out, on_alloc, on_ps_read) < 0)
		uv_close((uv_handle_t *)&p->out, on_closed);
	free(argv);
}

void local_container_forget(struct local *l)
{
	for (struct ctr_proc *p = l->ctr_procs, *next; p; p = next) {
		next = p->next;
		p->t = NULL;
		p->l = NULL;
	}
	l->ctr_procs = NULL;
}
