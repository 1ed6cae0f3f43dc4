#include "api/gnomon_backup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "api/http.h"
#include "util/log.h"
#include "util/tar.h"
#include "util/xmalloc.h"

#define CHUNK ((size_t)64 * 1024) /* bytes read from a file per piece of the streamed answer */
#define BUSY_TIMEOUT_MS 5000

struct backup {
	uv_work_t work;
	struct api_env *env;
	struct http_request *req; /* until answered, or NULL when the client went away */
	char *dir;                /* the data dir */
	/* the worker's results */
	int db_fd;                /* the copy of the store (its file already unlinked), -1 before */
	int rc;
	char err[512];
	char **logs;              /* the names in DATA_DIR/logs */
	size_t nlogs, caplogs;
	/* the stream */
	size_t next;              /* the next file: 0 the store, then logs[next - 1] */
	int fd;                   /* the file being sent, -1 between files */
	uint64_t left;            /* its bytes still to send */
	uint64_t size;            /* its size as its header gave it */
	const char *name;         /* its name in the archive, for messages */
	char *chunk;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the regular files in DATA_DIR/logs (none when it is missing), sorted. */
static int list_logs(struct backup *b)
{
	char *path = xasprintf("%s/logs", b->dir);
	DIR *d = opendir(path);
	struct dirent *de;
	int rc = 0;

	if (d == NULL) {
		rc = errno == ENOENT ? 0 : -errno;
		if (rc < 0)
			snprintf(b->err, sizeof(b->err), "cannot read %s: %s", path, strerror(-rc));
		free(path);
		return rc;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		if (de->d_name[0] == '.' || strlen("logs/") + strlen(de->d_name) >= TAR_NAME_MAX)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (b->nlogs == b->caplogs) {
			b->caplogs = b->caplogs ? 2 * b->caplogs : 64;
			b->logs = xrealloc(b->logs, b->caplogs * sizeof(*b->logs));
		}
		b->logs[b->nlogs++] = xstrdup(de->d_name);
	}
	closedir(d);
	free(path);
	if (b->nlogs > 1) /* qsort of NULL is undefined, even for none */
		qsort(b->logs, b->nlogs, sizeof(*b->logs), by_name);
	return 0;
}

/* The store as of one moment into an unlinked file of the data dir (same file system, the server's own). */
static int copy_store(struct backup *b)
{
	char *src = xasprintf("%s/gnomon.db", b->dir), *dst = xasprintf("%s/.backup-XXXXXX", b->dir);
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = -EIO;

	if ((b->db_fd = mkostemp(dst, O_CLOEXEC)) < 0) {
		rc = -errno;
		snprintf(b->err, sizeof(b->err), "cannot create %s: %s", dst, strerror(errno));
		goto out;
	}
	if (sqlite3_open_v2(src, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "VACUUM INTO ?1", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, dst, -1, SQLITE_STATIC) != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE) {
		snprintf(b->err, sizeof(b->err), "copying %s: %s", src, sqlite3_errmsg(db));
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (b->db_fd >= 0 && unlink(dst) < 0 && rc == 0) {
		rc = -errno;
		snprintf(b->err, sizeof(b->err), "cannot remove %s: %s", dst, strerror(errno));
	}
	free(src);
	free(dst);
	return rc;
}

/* On a thread of the pool: nothing here touches the loop's state. */
static void work(uv_work_t *w)
{
	struct backup *b = w->data;

	if ((b->rc = copy_store(b)) == 0)
		b->rc = list_logs(b);
}

static void backup_free(void *arg)
{
	struct backup *b = arg;

	b->env->backups--;
	if (b->fd >= 0 && b->fd != b->db_fd)
		close(b->fd);
	if (b->db_fd >= 0)
		close(b->db_fd);
	for (size_t i = 0; i < b->nlogs; i++)
		free(b->logs[i]);
	free(b->logs);
	free(b->chunk);
	free(b->dir);
	free(b);
}

/* Open the next file and put its header out; 0 when there is none left. */
static int next_file(struct backup *b, struct buf *out)
{
	unsigned char header[TAR_BLOCK];
	char path[PATH_MAX + 8], name[TAR_NAME_MAX];
	struct stat st;

	while (b->next <= b->nlogs) {
		size_t i = b->next++;
		if (i == 0) {
			b->fd = b->db_fd;
			snprintf(name, sizeof(name), "gnomon.db");
		} else {
			snprintf(path, sizeof(path), "%s/logs/%s", b->dir, b->logs[i - 1]);
			snprintf(name, sizeof(name), "logs/%s", b->logs[i - 1]);
			if ((b->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
				continue; /* gone since it was listed: the history's retention removed it */
		}
		if (fstat(b->fd, &st) < 0 || tar_header(header, name, 0640, (uint64_t)st.st_size,
		    st.st_mtim.tv_sec) < 0) {
			log_warn("backup: %s", name);
			return -1;
		}
		b->name = i == 0 ? "gnomon.db" : b->logs[i - 1];
		b->size = b->left = (uint64_t)st.st_size;
		return buf_append(out, header, sizeof(header)) < 0 ? -1 : 1;
	}
	return 0;
}

/* The archive, a piece at a time: a header, the file's bytes as of its header (a run's output may grow
 * meanwhile), the padding; then two blocks of zeros. */
static int backup_next(void *arg, struct buf *out)
{
	static const unsigned char zeros[2 * TAR_BLOCK];
	struct backup *b = arg;

	if (b->fd < 0) {
		int rc = next_file(b, out);
		if (rc == 0)
			return buf_append(out, zeros, sizeof(zeros)) < 0 ? -1 : 0;
		return rc;
	}
	if (b->left > 0) {
		size_t want = b->left < CHUNK ? (size_t)b->left : CHUNK;
		ssize_t n = pread(b->fd, b->chunk, want, (off_t)(b->size - b->left));
		if (n < 0) {
			log_warn("backup: reading %s", b->name);
			return -1;
		}
		if (n == 0) { /* truncated since: its header's size is kept, in zeros */
			memset(b->chunk, 0, want);
			n = (ssize_t)want;
		}
		b->left -= (uint64_t)n;
		return buf_append(out, b->chunk, (size_t)n) < 0 ? -1 : 1;
	}
	if (b->fd != b->db_fd)
		close(b->fd);
	b->fd = -1;
	return buf_append(out, zeros, tar_padding(b->size)) < 0 ? -1 : 1;
}

static void after_work(uv_work_t *w, int status)
{
	struct backup *b = w->data;
	struct http_request *req = b->req;

	if (req == NULL) { /* the client went away */
		backup_free(b);
		return;
	}
	b->req = NULL;
	if (status < 0 || b->rc < 0) {
		log_warnx("backup: %s", status < 0 ? uv_strerror(status) : b->err);
		http_respond_error(req, 500, "backup: %s", status < 0 ? uv_strerror(status) : b->err);
		backup_free(b);
		return;
	}
	b->chunk = xmalloc(CHUNK);
	http_add_header(req, "Content-Disposition", "attachment; filename=\"gnomon-backup.tar\"");
	(void)http_respond_stream(req, 200, BACKUP_CONTENT_TYPE, backup_next, b, backup_free);
}

static void on_defer_end(void *ctx, struct http_request *req, enum http_defer_end why)
{
	struct backup *b = ctx;
	(void)req;
	(void)why; /* no timeout was set: the client went away */
	b->req = NULL;
}

void gnomon_backup(struct api_env *env, struct http_request *req, const char *const *args)
{
	struct backup *b;
	int rc;

	(void)args;
	if (env->sqlite_dir == NULL) {
		http_respond_error(req, 409, "backup: this server keeps its state in PostgreSQL (--state): back the "
					     "database up with pg_dump");
		return;
	}
	if (env->backups > 0) {
		http_respond_error(req, 409, "backup: another backup is under way; try again when it is done");
		return;
	}
	b = xcalloc(1, sizeof(*b));
	b->env = env;
	b->req = req;
	b->dir = xstrdup(env->sqlite_dir);
	b->db_fd = b->fd = -1;
	b->work.data = b;
	env->backups++;
	if ((rc = uv_queue_work(env->loop, &b->work, work, after_work)) < 0) {
		http_respond_error(req, 500, "backup: cannot start: %s", uv_strerror(rc));
		backup_free(b);
		return;
	}
	http_request_defer(req, 0, on_defer_end, b);
}
