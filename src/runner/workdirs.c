#include "runner/workdirs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "util/log.h"
#include "util/rmtree.h"
#include "util/strmap.h"
#include "util/xmalloc.h"

enum op_kind { OP_ENDED, OP_REMOVE };

/* What the loop posted, oldest first. */
struct op {
	enum op_kind kind;
	char name[WORKDIRS_NAME_MAX]; /* the directory's, in work_dir */
	bool failed;         /* OP_ENDED: the run ended failed or lost */
	char *job, *task_id; /* for the log; NULL for OP_REMOVE */
	struct op *next;
};

/* A kept directory, in the order kept (the oldest first). Only the thread touches these. */
struct kept {
	char key[WORKDIRS_NAME_MAX]; /* the directory's name and the map's key */
	int64_t bytes;
	char *job, *task_id;
	struct kept *prev, *next;
};

struct workdirs {
	uv_thread_t thread;
	uv_mutex_t lock;   /* guards head, tail and stop */
	uv_cond_t posted;
	struct op *head, *tail;
	bool stop;
	/* The thread's own. */
	int dirfd;         /* work_dir */
	char *path;        /* work_dir, for measuring */
	enum workdirs_keep keep;
	int64_t max_bytes;
	struct strmap *by_id;
	struct kept *oldest, *newest;
	int64_t kept_bytes;
};

int workdirs_keep_parse(const char *name, enum workdirs_keep *out)
{
	static const char *const names[] = {"never", "failed", "always"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i]) == 0) {
			*out = (enum workdirs_keep)i;
			return 0;
		}
	}
	return -EINVAL;
}

static bool keeps(const struct workdirs *w, bool failed)
{
	return w->keep == WORKDIRS_KEEP_ALWAYS || (w->keep == WORKDIRS_KEEP_FAILED && failed);
}

/* Remove the files beside a run's directory: its executor's journal (its run is recorded: nobody reads it any
 * more), and with the directory its task file. */
static void remove_beside(struct workdirs *w, const char *name, bool task_file)
{
	static const char *const beside[] = {WORKDIRS_PID_SUFFIX, WORKDIRS_RESULT_SUFFIX, WORKDIRS_STOPPED_SUFFIX,
		WORKDIRS_CONTAINER_SUFFIX, WORKDIRS_TASK_SUFFIX};
	char file[WORKDIRS_NAME_MAX + 16];

	for (size_t i = 0; i < sizeof(beside) / sizeof(beside[0]) - !task_file; i++) {
		snprintf(file, sizeof(file), "%s%s", name, beside[i]);
		if (unlinkat(w->dirfd, file, 0) < 0 && errno != ENOENT)
			log_warn("cannot remove work/%s", file);
	}
}

/* Remove a directory; failures are logged with the run (a directory that is already gone is fine). */
static void remove_dir(struct workdirs *w, const char *name, const char *job, const char *task_id)
{
	char err[512];
	int rc = rmtree_at(w->dirfd, name, err, sizeof(err));

	remove_beside(w, name, true);

	if (rc < 0 && rc != -ENOENT)
		log_warnx_kv(LOG_FIELDS(.event = "workdir.error", .job = job, .task_id = task_id),
		    "run %s: could not remove all of its working directory: work/%s", task_id ? task_id : name, err);
}

static void unlink_kept(struct workdirs *w, struct kept *k)
{
	strmap_remove(w->by_id, k->key);
	*(k->prev ? &k->prev->next : &w->oldest) = k->next;
	*(k->next ? &k->next->prev : &w->newest) = k->prev;
	w->kept_bytes -= k->bytes;
}

static void kept_free(struct kept *k)
{
	free(k->job);
	free(k->task_id);
	free(k);
}

/* Past the cap, the oldest kept directories go until the rest fits (the newest too, when it alone is over). */
static void apply_cap(struct workdirs *w)
{
	while (w->max_bytes > 0 && w->kept_bytes > w->max_bytes && w->oldest) {
		struct kept *k = w->oldest;
		unlink_kept(w, k);
		remove_dir(w, k->key, k->job, k->task_id);
		log_info_kv(LOG_FIELDS(.event = "workdir.removed", .job = k->job, .task_id = k->task_id),
		    "run %s: its kept working directory (%" PRId64 " bytes) was removed, the oldest while the kept ones "
		    "used more than --keep-work-dirs-max-size (%" PRId64 " bytes)", k->task_id, k->bytes, w->max_bytes);
		kept_free(k);
	}
}

/* Keep a run's directory, measured; one that does not exist (the run never got that far) is forgotten. */
static void keep_dir(struct workdirs *w, struct op *op)
{
	struct kept *k = xcalloc(1, sizeof(*k));
	char path[4096];

	snprintf(k->key, sizeof(k->key), "%s", op->name);
	snprintf(path, sizeof(path), "%s/%s", w->path, k->key);
	if (strmap_get(w->by_id, k->key) != NULL || tree_disk_usage(path, &k->bytes) < 0) {
		free(k);
		return;
	}
	k->job = op->job;
	k->task_id = op->task_id;
	op->job = op->task_id = NULL;
	k->prev = w->newest;
	*(w->newest ? &w->newest->next : &w->oldest) = k;
	w->newest = k;
	w->kept_bytes += k->bytes;
	strmap_put(w->by_id, k->key, k);
	log_debug_kv(LOG_FIELDS(.event = "workdir.kept", .job = k->job, .task_id = k->task_id),
	    "run %s: working directory kept (%" PRId64 " bytes; %" PRId64 " kept in all)", k->task_id, k->bytes,
	    w->kept_bytes);
	apply_cap(w);
}

static void run_op(struct workdirs *w, struct op *op)
{
	const char *name = op->name;
	struct kept *k;

	if (op->kind == OP_ENDED && keeps(w, op->failed)) {
		remove_beside(w, name, false);
		keep_dir(w, op);
		return;
	}
	if ((k = strmap_get(w->by_id, name)) != NULL) {
		unlink_kept(w, k);
		kept_free(k);
	}
	remove_dir(w, name, op->job, op->task_id);
}

static void op_free(struct op *op)
{
	free(op->job);
	free(op->task_id);
	free(op);
}

static void worker(void *arg)
{
	struct workdirs *w = arg;

	uv_mutex_lock(&w->lock);
	for (;;) {
		struct op *op;
		while (!w->stop && w->head == NULL)
			uv_cond_wait(&w->posted, &w->lock);
		if (w->stop)
			break;
		op = w->head;
		if ((w->head = op->next) == NULL)
			w->tail = NULL;
		uv_mutex_unlock(&w->lock);
		run_op(w, op);
		op_free(op);
		uv_mutex_lock(&w->lock);
	}
	uv_mutex_unlock(&w->lock);
}

int workdirs_new(const char *work_dir, enum workdirs_keep keep, int64_t max_bytes, struct workdirs **out)
{
	struct workdirs *w = xcalloc(1, sizeof(*w));
	int rc;

	*out = NULL;
	w->keep = keep;
	w->max_bytes = max_bytes;
	w->path = xstrdup(work_dir);
	if ((w->dirfd = open(work_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = -errno;
		log_warn("cannot open %s", work_dir);
		free(w->path);
		free(w);
		return rc;
	}
	w->by_id = strmap_new();
	uv_mutex_init(&w->lock);
	uv_cond_init(&w->posted);
	if ((rc = uv_thread_create(&w->thread, worker, w)) < 0) {
		log_warnx("cannot start the thread that removes runs' working directories: %s", uv_strerror(rc));
		uv_cond_destroy(&w->posted);
		uv_mutex_destroy(&w->lock);
		strmap_free(w->by_id);
		close(w->dirfd);
		free(w->path);
		free(w);
		return rc;
	}
	*out = w;
	return 0;
}

void workdirs_free(struct workdirs *w)
{
	struct op *op, *next;

	if (w == NULL)
		return;
	uv_mutex_lock(&w->lock);
	w->stop = true;
	uv_cond_signal(&w->posted);
	uv_mutex_unlock(&w->lock);
	uv_thread_join(&w->thread);
	for (op = w->head; op; op = next) {
		next = op->next;
		op_free(op);
	}
	while (w->oldest) {
		struct kept *k = w->oldest;
		unlink_kept(w, k);
		kept_free(k);
	}
	strmap_free(w->by_id);
	uv_cond_destroy(&w->posted);
	uv_mutex_destroy(&w->lock);
	close(w->dirfd);
	free(w->path);
	free(w);
}

static void post(struct workdirs *w, struct op *op)
{
	uv_mutex_lock(&w->lock);
	*(w->tail ? &w->tail->next : &w->head) = op;
	w->tail = op;
	uv_cond_signal(&w->posted);
	uv_mutex_unlock(&w->lock);
}

void workdirs_ended(struct workdirs *w, const char *name, bool failed, const char *job, const char *task_id)
{
	struct op *op = xcalloc(1, sizeof(*op));

	*op = (struct op){.kind = OP_ENDED, .failed = failed, .job = xstrdup(job), .task_id = xstrdup(task_id)};
	snprintf(op->name, sizeof(op->name), "%s", name);
	post(w, op);
}

void workdirs_remove(struct workdirs *w, const char *name)
{
	struct op *op = xcalloc(1, sizeof(*op));

	*op = (struct op){.kind = OP_REMOVE};
	snprintf(op->name, sizeof(op->name), "%s", name);
	post(w, op);
}
